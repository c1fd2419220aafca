"""Each rule's VALID / INVALID examples are run; docs pages match the rule classes."""

from __future__ import annotations

import re

import pytest

from gillint import docgen
from gillint.checks.base import all_rules
from gillint.config import Config
from gillint.engine import lint_source

from conftest import ROOT

RULES = all_rules()
SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Options", "## References")


def _only(rule) -> Config:
    return Config(select=(rule.code,))


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_invalid_examples_report_at_the_stated_positions(rule) -> None:
    assert rule.INVALID, "%s has no INVALID example" % rule.code
    for example in rule.INVALID:
        found = [(d.line, d.column) for d in lint_source(example.source, "example.py", _only(rule))]
        assert found == list(example.expected), example.source


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_valid_examples_are_not_reported(rule) -> None:
    assert rule.VALID, "%s has no VALID example" % rule.code
    for example in rule.VALID:
        assert lint_source(example.source, "example.py", _only(rule)) == [], example.source


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_metadata(rule) -> None:
    assert re.fullmatch(r"GIL\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", rule.name), "kebab-case name"
    doc = rule.documentation()
    positions = [doc.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), "missing sections in %s" % rule.code
    assert positions == sorted(positions), "sections out of order in %s" % rule.code


def test_rule_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_generated_rule_pages_are_up_to_date() -> None:
    directory = ROOT / "docs" / "rules"
    for name, text in docgen.pages().items():
        page = directory / name
        assert page.exists(), "docs/rules/%s is missing: run python -m gillint.docgen" % name
        assert page.read_text(encoding="utf-8") == text, "docs/rules/%s is out of date: run python -m gillint.docgen" % name
    stale = {p.name for p in directory.glob("*.md")} - set(docgen.pages())
    assert not stale, "pages for rules that no longer exist: %s" % stale


def test_docgen_writes_pages(tmp_path) -> None:
    assert docgen.main([str(tmp_path)]) == 0
    assert (tmp_path / "GIL101.md").read_text(encoding="utf-8") == docgen.pages()["GIL101.md"]


def test_every_code_is_documented_in_the_user_docs() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    for rule in RULES:
        assert rule.code in text


def test_codes_agree_across_code_readme_changelog_and_fixtures() -> None:
    """Like flake8-async's check: a code exists everywhere or nowhere."""
    from fixture_format import expectations

    codes = {rule.code for rule in RULES}
    readme = set(re.findall(r"\bGIL\d{3}\b", (ROOT / "README.md").read_text(encoding="utf-8"))) - {"GIL000"}
    changelog = set(re.findall(r"\bGIL\d{3}\b", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))) - {"GIL000"}
    pages = {p.stem for p in (ROOT / "docs" / "rules").glob("GIL*.md")} - {"GIL000"}
    in_fixtures = set()
    for path in (ROOT / "fixtures").rglob("*.py"):
        if "_pending" in path.parts:
            continue
        found, _ = expectations(path, path.read_text(encoding="utf-8", errors="replace"))
        in_fixtures.update(code for _, _, code, _ in found)
    in_fixtures.discard("GIL000")
    assert readme == codes, "README rule table"
    assert changelog == codes, "CHANGELOG"
    assert pages == codes, "docs/rules pages"
    assert in_fixtures == codes, "fixtures"


def test_docgen_treats_an_option_as_a_mistake_not_a_folder(tmp_path, capsys) -> None:
    assert docgen.main(["--check"]) == 2
    assert docgen.main(["--help"]) == 0
    assert "usage: python -m gillint.docgen" in capsys.readouterr().err
    assert docgen.main([str(tmp_path / "pages")]) == 0 and len(list((tmp_path / "pages").glob("GIL*.md"))) >= 12
