"""`gillint verify fixtures/verify`: every runnable fixture gets its known verdict, bad ones contained.

One real run (child interpreters, real threads) is shared by the tests of this module.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

# Measures every fixture target with the real verifier (about a minute): CI's slow step runs it.
pytestmark = pytest.mark.slow

VERIFY_FIXTURES = FIXTURES / "verify"
HAS_NUMPY = importlib.util.find_spec("numpy") is not None

# (file, target) -> verdict, and a phrase the reason must contain where it matters.
EXPECTED = {
    ("pure_python.py", "count_primes"): ("gil-bound", ""),
    ("pure_python.py", "checksum"): ("gil-bound", ""),
    ("pure_python.py", "word_lengths"): ("gil-bound", ""),
    ("regex_and_json.py", "find_errors"): ("gil-bound", ""),
    ("regex_and_json.py", "parse_rows"): ("gil-bound", ""),
    ("gil_releasing.py", "digest"): ("releases-gil", ""),
    ("gil_releasing.py", "deflate"): ("releases-gil", ""),
    ("gil_releasing.py", "bzip"): ("releases-gil", ""),
    ("gil_releasing.py", "xz"): ("releases-gil", ""),
    ("numpy_vectors.py", "scale_and_sum"): ("releases-gil", "") if HAS_NUMPY
    else ("not-runnable", "import failed: ModuleNotFoundError: No module named 'numpy'"),
    ("waiting.py", "poll_status"): ("io-bound", ""),
    ("waiting.py", "wait_for_reply"): ("io-bound", ""),
    ("mixed_work.py", "spin_then_sleep"): ("partly-gil-bound", "at most about"),
    ("import_side_effects.py", "histogram"): ("gil-bound", ""),
    ("arguments.py", "score_rows"): ("gil-bound", ""),
    ("arguments.py", "rank"): ("gil-bound", ""),
    ("arguments.py", "spread"): ("gil-bound", ""),
    ("arguments.py", "Scorer.run"): ("gil-bound", ""),
    ("arguments.py", "Tokenizer.count"): ("not-runnable", "is a method: it needs an instance"),
    ("arguments.py", "tally"): ("not-runnable", "the start site's arguments are not constant expressions "
                                                "((load_items(),): load_items() calls load_items, which is not "
                                                "evaluated"),
    ("arguments.py", "char_codes"): ("gil-bound", ""),
    ("misbehaving.py", "spin_forever"): ("gil-bound", "cut off"),
    ("misbehaving.py", "hold_gil_forever"): ("timeout", "its process group was killed"),
    ("misbehaving.py", "hoard"): ("error", "MemoryError"),
    ("misbehaving.py", "reject"): ("error", "the call raised ValueError: unknown setting 'turbo'"),
    ("misbehaving.py", "bail_out"): ("error", "exited with status 3 during the call before reporting"),
    ("misbehaving.py", "fetch"): ("not-runnable", "needs a resource"),
}

ARGUMENT_SOURCES = {
    "count_primes": "literals at the start site",
    "score_rows": "[tool.gillint.verify] targets.arguments.score_rows",
    "rank": "[tool.gillint.verify] targets.arguments.rank",
    "spread": "`# gillint: verify(...)` comment",
    "Scorer.run": "literals at the start site",
    "char_codes": "literals at the start site",  # a constant expression: "word " * 40_000
}


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    """One `gillint verify fixtures/verify --format json` run, from a scratch working directory."""
    import subprocess
    import sys

    from conftest import gillint_command

    home = tmp_path_factory.mktemp("home")
    cwd = tmp_path_factory.mktemp("cwd")
    output = cwd / "verify.json"
    env = dict(os.environ, HOME=str(home))
    done = subprocess.run(gillint_command() + ["verify", str(VERIFY_FIXTURES), "--format", "json", "-o", str(output),
                                               "--progress", "always"],
                          cwd=str(cwd), env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode in (0, 1), done.stderr
    return {"done": done, "document": json.loads(output.read_text(encoding="utf-8")), "home": home, "cwd": cwd,
            "python": sys.executable}


def _results(fixture_run):
    return {(Path(r["path"]).name, r["qualname"]): r for r in fixture_run["document"]["results"]}


def test_every_fixture_target_is_measured_and_nothing_else(fixture_run) -> None:
    assert set(_results(fixture_run)) == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=["%s::%s" % key for key in sorted(EXPECTED)])
def test_fixture_verdict(fixture_run, key) -> None:
    result = _results(fixture_run)[key]
    verdict, phrase = EXPECTED[key]
    assert result["verdict"] == verdict, result
    assert phrase in result["reason"], result["reason"]


def test_measured_results_carry_their_figures(fixture_run) -> None:
    for result in _results(fixture_run).values():
        if result["verdict"] in ("gil-bound", "partly-gil-bound", "releases-gil", "io-bound"):
            assert len(result["windows"]) == 3
            assert 0 <= result["gil_frac"] <= 1 and 0 <= result["run_frac"] <= 1
            assert result["seconds"] > 0


def test_every_result_reports_the_interpreter_and_isolation(fixture_run) -> None:
    import platform

    for result in _results(fixture_run).values():
        interpreter = result["interpreter"]
        assert interpreter["version"] == platform.python_version()
        assert interpreter["implementation"] == "cpython"
        assert interpreter["free_threaded_build"] in (True, False)
        if result["verdict"] in ("gil-bound", "releases-gil", "io-bound", "partly-gil-bound"):
            assert interpreter["gil_enabled_after_import"] is True  # a GIL build
            assert result["isolation"]
            assert result["limits"]["address_space"] > 0


def test_arguments_come_from_the_documented_places(fixture_run) -> None:
    results = {qualname: r for (_, qualname), r in _results(fixture_run).items()}
    for qualname, source in ARGUMENT_SOURCES.items():
        assert results[qualname]["arguments"] == source


def test_errors_keep_the_childs_last_traceback_lines(fixture_run) -> None:
    reject = _results(fixture_run)[("misbehaving.py", "reject")]
    assert reject["traceback"][-1] == "ValueError: unknown setting 'turbo'"
    assert any("misbehaving.py" in line and "in reject" in line for line in reject["traceback"])


def test_import_side_effects_stay_in_the_sandbox(fixture_run) -> None:
    # The module writes imported-marker.txt into its working directory and HOME at import.
    assert not (fixture_run["cwd"] / "imported-marker.txt").exists()
    assert not (fixture_run["home"] / "imported-marker.txt").exists()
    assert not (ROOT / "imported-marker.txt").exists()
    assert not (VERIFY_FIXTURES / "imported-marker.txt").exists()
    assert "import_side_effects was imported" not in fixture_run["done"].stdout


def test_findings_are_confirmed_or_inconclusive_and_exit_status_says_so(fixture_run) -> None:
    results = _results(fixture_run)
    assert results[("pure_python.py", "checksum")]["outcome"] == "confirmed"
    assert results[("misbehaving.py", "hold_gil_forever")]["outcome"] == "inconclusive"
    assert results[("gil_releasing.py", "digest")]["outcome"] == ""  # measured on request: no claim
    assert fixture_run["done"].returncode == 1  # at least one finding confirmed


def test_progress_names_each_finding_and_how_many_are_left(fixture_run) -> None:
    lines = [line for line in fixture_run["done"].stderr.splitlines() if line.startswith("[")]
    total = len(EXPECTED)
    assert len(lines) == total
    assert lines[0].startswith("[1/%d] running " % total) and lines[0].endswith("(%d left)" % (total - 1))
    assert lines[-1].endswith("(0 left)")


def test_sarif_report_carries_each_verdict(run_gillint, tmp_path: Path, sarif_schema) -> None:
    import jsonschema

    done = run_gillint("verify", str(VERIFY_FIXTURES / "pure_python.py"), "--format", "sarif", "--no-config",
                       cwd=str(tmp_path))
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, sarif_schema)
    results = document["runs"][0]["results"]
    assert len(results) == 3
    for result in results:
        verify = result["properties"]["verify"]
        assert verify["verdict"] == "gil-bound" and verify["outcome"] == "confirmed"
        assert verify["interpreter"]["version"]
    assert document["runs"][0]["properties"]["verify"]["isolation"]


def test_text_report_is_a_table(run_gillint, tmp_path: Path) -> None:
    done = run_gillint("verify", str(VERIFY_FIXTURES / "waiting.py"), "--no-config", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr  # nothing confirmed: both were measured on request
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("finding"))
    assert header.split() == ["finding", "verdict", "gil_frac", "run_frac", "per_call", "threads", "processes", "time"]
    rows = [line for line in lines if "waiting.py:" in line and "io-bound" in line and not line.endswith(": io-bound")]
    assert len(rows) == 2
    assert "verdicts: 2 io-bound" in done.stdout


def test_nothing_to_measure_is_said_and_exits_clean(run_gillint, tmp_path: Path) -> None:
    (tmp_path / "quiet.py").write_text("import threading\n\nthreading.Thread(target=print).start()\n",
                                       encoding="utf-8")
    done = run_gillint("verify", str(tmp_path), "--no-config", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "nothing to measure: no finding carries a runnable target" in done.stdout
