"""The installed `gillint` command, run as a subprocess."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

CRUNCH = textwrap.dedent(
    """
    import threading

    def crunch(n):
        total = 0
        for i in range(n):
            total += i * i
        return total

    threading.Thread(target=crunch, args=(1000,)).start()
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(CRUNCH, encoding="utf-8")
    (tmp_path / "good.py").write_text("import time\ntime.sleep(0)\n", encoding="utf-8")
    return tmp_path


def test_text_output_exit_status_and_remedy(run_gillint, project: Path) -> None:
    result = run_gillint("check", ".", "--no-config", cwd=project)
    assert result.returncode == 1, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("bad.py:10:1: GIL101 thread target `crunch` is CPU-bound")
    assert "crunch (loop over range(n) doing arithmetic work at bad.py:6)" in first
    assert "   | ^^^^" in result.stdout  # the marker under the span
    assert "help: vectorise the arithmetic with numpy" in result.stdout
    assert "Found 1 finding in 2 files checked." in result.stdout
    assert "\033[" not in result.stdout  # no colour when not on a terminal


def test_clean_run_exits_zero(run_gillint, project: Path) -> None:
    result = run_gillint("check", "good.py", cwd=project)
    assert result.returncode == 0
    assert "no findings" in result.stdout


def test_exit_zero_and_quiet(run_gillint, project: Path) -> None:
    result = run_gillint("check", "--exit-zero", "--quiet", cwd=project)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        line for line in result.stdout.splitlines() if line.startswith("bad.py:10:1: GIL101 ")
    ] and result.stdout


def test_color_always_and_no_color(run_gillint, project: Path) -> None:
    coloured = run_gillint("check", "--color", "always", cwd=project)
    assert "\033[" in coloured.stdout
    plain = run_gillint("check", "--color", "auto", cwd=project, env={"NO_COLOR": "1"})
    assert "\033[" not in plain.stdout


def test_statistics(run_gillint, project: Path) -> None:
    result = run_gillint("check", "--statistics", cwd=project)
    assert "    1  GIL101  cpu-bound-thread-target" in result.stdout


def test_select_and_ignore(run_gillint, project: Path) -> None:
    assert run_gillint("check", "--ignore", "GIL1", cwd=project).returncode == 0
    assert run_gillint("check", "--select", "GIL102", cwd=project).returncode == 0
    assert run_gillint("check", "--select", "GIL102", "--extend-select", "GIL101", cwd=project).returncode == 1


def test_unknown_code_is_a_usage_error(run_gillint, project: Path) -> None:
    result = run_gillint("check", "--select", "GIL777", cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip() == "gillint: error: --select: unknown rule code 'GIL777' (see `gillint rules`)"


def test_bad_config_exits_2_with_one_line(run_gillint, project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.gillint]\nselct = []\n", encoding="utf-8")
    result = run_gillint("check", ".", cwd=project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "pyproject.toml [tool.gillint]: unknown key 'selct'" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_and_no_config(run_gillint, project: Path) -> None:
    other = project / "conf.toml"
    other.write_text("[tool.gillint]\nignore = [\"GIL101\"]\n", encoding="utf-8")
    assert run_gillint("check", "--config", str(other), cwd=project).returncode == 0
    (project / "pyproject.toml").write_text("[tool.gillint]\nignore = [\"GIL1\"]\n", encoding="utf-8")
    assert run_gillint("check", cwd=project).returncode == 0
    assert run_gillint("check", "--no-config", cwd=project).returncode == 1
    both = run_gillint("check", "--config", str(other), "--no-config", cwd=project)
    assert both.returncode == 2 and "cannot be used together" in both.stderr


def test_json_output_has_every_field(run_gillint, project: Path) -> None:
    result = run_gillint("check", "--format", "json", cwd=project)
    document = json.loads(result.stdout)
    assert document["version"] == 1 and document["files_checked"] == 2
    assert document["tool"]["name"] == "gillint"
    (diagnostic,) = document["diagnostics"]
    assert set(diagnostic) == {
        "code", "name", "message", "path", "line", "column", "end_line", "end_column", "remedy", "remedy_text",
        "confidence", "evidence", "target", "properties", "fix",
    }
    assert diagnostic["fix"] is None  # GIL101 has no fix
    assert (diagnostic["path"], diagnostic["line"], diagnostic["column"]) == ("bad.py", 10, 1)
    assert diagnostic["end_column"] == 46
    step = diagnostic["evidence"][0]
    assert step["function"] == "bad.crunch" and step["location"]["line"] == 6
    assert diagnostic["target"] == {
        "module_path": "bad.py", "qualname": "crunch", "kind": "thread", "start_line": 10,
        "args_source": "(1000,)", "kwargs_source": None, "is_method": False,
    }


def test_sarif_of_a_small_project_validates_against_the_schema(run_gillint, sarif_schema, project: Path) -> None:
    import jsonschema

    (project / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    result = run_gillint("check", "--format", "sarif", ".", cwd=project)
    document = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert {"GIL101", "GIL000"} <= set(rule_ids)
    assert {r["ruleId"] for r in run["results"]} == {"GIL101", "GIL000"}
    assert all(r["ruleId"] == rule_ids[r["ruleIndex"]] for r in run["results"])


@pytest.mark.slow  # every fixture: CI's slow step; the small project above runs by default
def test_sarif_validates_against_the_schema(run_gillint, sarif_schema) -> None:
    import jsonschema

    result = run_gillint("check", "--format", "sarif", str(FIXTURES), cwd=ROOT)
    document = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert "GIL101" in rule_ids and "GIL000" in rule_ids
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["helpUri"].endswith("/docs/rules/%s.md" % rule["id"])
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    results = run["results"]
    assert results and all(r["ruleId"] == rule_ids[r["ruleIndex"]] for r in results)
    with_evidence = [r for r in results if r.get("relatedLocations")]
    assert with_evidence and all(loc["physicalLocation"]["region"]["startLine"] >= 1
                                 for r in with_evidence for loc in r["relatedLocations"])


def test_github_format(run_gillint, project: Path) -> None:
    result = run_gillint("check", "--format", "github", cwd=project)
    (line,) = result.stdout.splitlines()
    assert line.startswith("::warning title=gillint GIL101 (cpu-bound-thread-target),file=bad.py,line=10,col=1,endLine=10,endColumn=46::GIL101 ")
    assert "%0A" in line  # the remedy on its own line


def test_output_file(run_gillint, project: Path) -> None:
    result = run_gillint("check", "--format", "json", "--output", "report.json", cwd=project)
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads((project / "report.json").read_text(encoding="utf-8"))["diagnostics"]
    unwritable = run_gillint("check", "--output", str(project / "missing" / "r.txt"), cwd=project)
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


def test_rules_and_rule(run_gillint) -> None:
    listing = run_gillint("rules")
    assert listing.returncode == 0
    assert "GIL101  cpu-bound-thread-target" in listing.stdout
    page = run_gillint("rule", "GIL101")
    assert page.returncode == 0 and "## Why is this bad?" in page.stdout
    assert run_gillint("rule", "cpu-bound-thread-target").returncode == 0
    missing = run_gillint("rule", "GIL999")
    assert missing.returncode == 2 and "unknown rule 'GIL999'" in missing.stderr


def test_usage_errors(run_gillint) -> None:
    assert run_gillint().returncode == 2
    bad = run_gillint("check", "--format", "xml")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_python_dash_m(project: Path) -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "gillint", "check", "--quiet"], cwd=project,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "GIL101" in result.stdout


def test_bad_files_are_reported_and_the_rest_still_checked(run_gillint, project: Path) -> None:
    (project / "broken.py").write_text("def f(:\n", encoding="utf-8")
    (project / "latin.py").write_bytes(b"x = '\xe9'\n")
    result = run_gillint("check", ".", "missing.py", cwd=project)
    assert result.returncode == 1
    lines = [l for l in result.stdout.splitlines() if ": GIL" in l]
    assert any(l.startswith("broken.py:1:7: GIL000 could not check file: syntax error") for l in lines), lines
    assert any(l.startswith("latin.py:1:1: GIL000 could not check file: cannot decode as utf-8: byte 0xe9 at line 1") for l in lines), lines
    assert any(l.startswith("missing.py:1:1: GIL000 could not check file: no such file or directory") for l in lines), lines
    assert any(l.startswith("bad.py:10:1: GIL101") for l in lines)
    assert "Traceback" not in result.stderr
