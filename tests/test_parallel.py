"""--jobs: worker processes give the same results as one process; a slow or crashing file costs only itself."""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from pathlib import Path
from typing import List

import pytest

from gillint import engine, filework, parallel
from gillint.config import Config
from conftest import CPU_BOUND_SCRIPT
from gillint.engine import lint_paths
from gillint.parallel import available_cores

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

GOOD = CPU_BOUND_SCRIPT

fork_only = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                               reason="the patched analysis reaches workers only when they are forked")


def _diagnostics(paths: List[str], jobs: int, cwd: Path) -> List[tuple]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = lint_paths(paths, Config(), jobs=jobs)
    finally:
        os.chdir(old)
    return [(d.path, d.line, d.column, d.code, d.message, tuple(d.evidence) if hasattr(d, "evidence") else ())
            for d in result.diagnostics]


def test_jobs_gives_the_same_findings_as_one_process_on_the_fixtures() -> None:
    one = _diagnostics(["fixtures"], 1, ROOT)
    assert one, "the fixtures have findings"
    assert _diagnostics(["fixtures"], 2, ROOT) == one
    assert _diagnostics(["fixtures"], 3, ROOT) == one


def test_jobs_gives_the_same_findings_across_modules(tmp_path: Path) -> None:
    """Targets in modules not given on the command line are prefetched by the workers, with the same result."""
    package = tmp_path / "app"
    (package / "deep").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "deep" / "__init__.py").write_text("")
    (package / "main.py").write_text("import threading\nfrom app.middle import step\n\n"
                                     "threading.Thread(target=step).start()\n")
    (package / "middle.py").write_text("from app.deep.leaf import crunch\n\n\ndef step():\n    return crunch()\n")
    (package / "deep" / "leaf.py").write_text("def crunch():\n    total = 0\n    for i in range(10_000_000):\n"
                                              "        total += i * i\n    return total\n")
    one = _diagnostics(["app/main.py"], 1, tmp_path)
    assert [d[3] for d in one] == ["GIL101"]
    assert _diagnostics(["app/main.py"], 2, tmp_path) == one


@fork_only
def test_a_file_over_the_time_limit_is_reported_and_the_rest_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = filework._summarise_guarded

    def slow(text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "STALL" in text:
            time.sleep(60)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(filework, "_summarise_guarded", slow)
    monkeypatch.setattr(parallel, "FILE_TIME_LIMIT", 1.0)
    monkeypatch.setattr(engine, "FILE_TIME_LIMIT", 1.0)
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "stall.py").write_text("# STALL\n" + GOOD)
    for index in range(3):
        (tmp_path / ("other%d.py" % index)).write_text(GOOD)
    started = time.monotonic()
    found = _diagnostics(["."], 2, tmp_path)
    assert time.monotonic() - started < 50
    by_file = {(Path(d[0]).name, d[3]) for d in found}
    assert ("stall.py", "GIL000") in by_file
    assert {("good.py", "GIL101"), ("other0.py", "GIL101"), ("other1.py", "GIL101"), ("other2.py", "GIL101")} <= by_file
    message = [d[4] for d in found if d[3] == "GIL000"][0]
    assert "took longer than 1 s to analyse (the per-file time limit)" in message


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers on this platform")
def test_the_time_limit_also_holds_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = filework._summarise_guarded

    def slow(text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "STALL" in text:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # Python code: the timer interrupts it
                pass
        return real(text, *args, **kwargs)

    monkeypatch.setattr(filework, "_summarise_guarded", slow)
    monkeypatch.setattr(engine, "FILE_TIME_LIMIT", 1.0)
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "stall.py").write_text("# STALL\n" + GOOD)
    found = _diagnostics(["."], 1, tmp_path)
    assert [(Path(d[0]).name, d[3]) for d in found] == [("good.py", "GIL101"), ("stall.py", "GIL000")]
    assert "per-file time limit" in found[1][4]


@fork_only
def test_a_crash_in_a_worker_costs_only_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = filework._summarise_guarded

    def crashing(text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "CRASH" in text:
            faulthandler.disable()  # the test runner's handler would print the expected fault
            os.kill(os.getpid(), signal.SIGSEGV)  # what a fault in native parser code looks like
        return real(text, *args, **kwargs)

    monkeypatch.setattr(filework, "_summarise_guarded", crashing)
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "crash.py").write_text("# CRASH\n" + GOOD)
    (tmp_path / "later.py").write_text(GOOD)
    found = _diagnostics(["."], 2, tmp_path)
    assert [(Path(d[0]).name, d[3]) for d in found] == [("crash.py", "GIL000"), ("good.py", "GIL101"),
                                                          ("later.py", "GIL101")]
    assert "crashed its worker process (SIGSEGV)" in found[0][4]


@fork_only
def test_an_internal_error_in_a_worker_costs_only_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args):  # type: ignore[no-untyped-def]
        raise KeyError("bug")

    monkeypatch.setattr(filework, "needs_summary", broken)
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    found = _diagnostics(["."], 2, tmp_path)
    assert [(Path(d[0]).name, d[3]) for d in found] == [("a.py", "GIL000"), ("b.py", "GIL000")]
    assert "internal error while analysing this file (KeyError" in found[0][4]


def test_available_cores_is_positive() -> None:
    assert available_cores() >= 1
    if hasattr(os, "sched_getaffinity"):
        assert available_cores() == len(os.sched_getaffinity(0))


def test_cli_jobs_option(tmp_path: Path, run_gillint) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    one = run_gillint("check", "--no-config", "--no-cache", "--jobs", "1", ".", cwd=str(tmp_path))
    two = run_gillint("check", "--no-config", "--no-cache", "-j", "2", ".", cwd=str(tmp_path))
    assert one.returncode == two.returncode == 1 and one.stdout == two.stdout
    bad = run_gillint("check", "--jobs", "0", ".", cwd=str(tmp_path))
    assert bad.returncode == 2 and "at least 1" in bad.stderr
    bad = run_gillint("check", "--jobs", "many", ".", cwd=str(tmp_path))
    assert bad.returncode == 2 and "whole number" in bad.stderr
