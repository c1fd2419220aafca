"""Every fixture yields exactly the findings its comments expect: nothing missing, nothing extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gillint.checks.base import all_rules
from gillint.config import Config, from_table
from gillint.engine import lint_paths

from conftest import FIXTURES
from fixture_format import expectations, fixture_units, header_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

UNITS = fixture_units(FIXTURES)
CODES = [rule.code for rule in all_rules()] + ["GIL000"]


def _config_for(unit: Path) -> Config:
    if unit.is_dir():
        pyproject = unit / "pyproject.toml"
        if pyproject.exists():
            from gillint.config import load

            return load(pyproject, CODES)
        return Config(root=unit)
    table = tomllib.loads(header_config(unit.read_text(encoding="utf-8", errors="replace")))
    return from_table(table, str(unit), CODES, root=unit.parent)


def _expected(unit: Path):
    files = [unit] if unit.is_file() else sorted(unit.rglob("*.py"))
    expected, negatives = [], 0
    for path in files:
        found, count = expectations(path, path.read_text(encoding="utf-8", errors="replace"))
        expected += found
        negatives += count
    return expected, negatives


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_fixture_findings_match_expectations(unit: Path) -> None:
    expected, _ = _expected(unit)
    result = lint_paths([unit], _config_for(unit))
    actual = {(str(Path(d.path).resolve()), d.line, d.code) for d in result.diagnostics}
    wanted = {(str(Path(p).resolve()), line, code) for p, line, code, _ in expected}
    missing = sorted(wanted - actual)
    extra = sorted((p, l, c, d.message) for d in result.diagnostics for (p, l, c) in [(str(Path(d.path).resolve()), d.line, d.code)] if (p, l, c) not in wanted)
    assert not missing and not extra, "missing: %s\nextra: %s" % (missing, extra)
    columns = {(str(Path(d.path).resolve()), d.line, d.code): d.column for d in result.diagnostics}
    for path, line, code, column in expected:
        if column is not None:
            assert columns[(str(Path(path).resolve()), line, code)] == column, (path, line, code)


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    seen = set()
    for unit in UNITS:
        expected, _ = _expected(unit)
        seen.update(code for _, _, code, _ in expected)
    missing = [rule.code for rule in all_rules() if rule.code not in seen]
    assert not missing, "rules without a fixture: %s" % missing


def fixture_counts():
    positives = negatives = 0
    for unit in UNITS:
        expected, count = _expected(unit)
        positives += len(expected)
        negatives += count
    return positives, negatives


def test_fixture_counts_meet_the_minimum() -> None:
    positives, negatives = fixture_counts()
    assert positives >= 15 and negatives >= 15, (positives, negatives)
