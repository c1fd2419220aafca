"""--jobs: worker processes give the same results as one process; a slow or crashing file costs only itself."""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from pathlib import Path
from typing import List

import pytest

from gillint.config import Config
from conftest import CPU_BOUND_SCRIPT
from gillint.engine import Engine, lint_paths, read_paths
from gillint.parallel import FILE_TIME_LIMIT, FileRecord, Settings, Task, available_cores, do_task

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

GOOD = CPU_BOUND_SCRIPT

fork_only = pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(),
                               reason="work defined in a test module reaches workers started by a fork server, "
                                      "which can import it; spawned workers start elsewhere")


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


# Work handed to the engine's pool instead of do_task (module-level, as a spawned worker needs).

def stalling_work(task: Task, settings: Settings) -> FileRecord:
    if "STALL" in task.text:
        time.sleep(60)
    return do_task(task, settings)


def spinning_work(task: Task, settings: Settings) -> FileRecord:
    if "STALL" in task.text:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # Python code: the timer interrupts it
            pass
    return do_task(task, settings)


def crashing_work(task: Task, settings: Settings) -> FileRecord:
    if "CRASH" in task.text:
        faulthandler.disable()  # the test runner's handler would print the expected fault
        os.kill(os.getpid(), signal.SIGSEGV)  # what a fault in native parser code looks like
    return do_task(task, settings)


def broken_work(task: Task, settings: Settings) -> FileRecord:
    raise KeyError("bug")


def _diagnostics_with(work, jobs: int, cwd: Path, time_limit: float = FILE_TIME_LIMIT) -> List[tuple]:  # type: ignore[no-untyped-def]
    old = os.getcwd()
    os.chdir(cwd)
    try:
        engine = Engine(Config(), jobs=jobs)
        engine.work, engine.time_limit = work, time_limit
        result = engine.run(read_paths(["."], engine.config))
    finally:
        os.chdir(old)
    return [(d.path, d.line, d.column, d.code, d.message) for d in result.diagnostics]


@fork_only
def test_a_file_over_the_time_limit_is_reported_and_the_rest_checked(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "stall.py").write_text("# STALL\n" + GOOD)
    for index in range(3):
        (tmp_path / ("other%d.py" % index)).write_text(GOOD)
    started = time.monotonic()
    # a worker's start (it imports this module to get the work) counts against its first file: 5 s leaves
    # room for that under coverage and a busy machine, and is still far below the 60 s stall
    found = _diagnostics_with(stalling_work, 2, tmp_path, time_limit=5.0)
    assert time.monotonic() - started < 50
    by_file = {(Path(d[0]).name, d[3]) for d in found}
    assert ("stall.py", "GIL000") in by_file
    assert {("good.py", "GIL101"), ("other0.py", "GIL101"), ("other1.py", "GIL101"), ("other2.py", "GIL101")} <= by_file
    message = [d[4] for d in found if d[3] == "GIL000"][0]
    assert "took longer than 5 s to analyse (the per-file time limit)" in message


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers on this platform")
def test_the_time_limit_also_holds_in_one_process(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "stall.py").write_text("# STALL\n" + GOOD)
    found = _diagnostics_with(spinning_work, 1, tmp_path, time_limit=1.0)
    assert [(Path(d[0]).name, d[3]) for d in found] == [("good.py", "GIL101"), ("stall.py", "GIL000")]
    assert "per-file time limit" in found[1][4]


@fork_only
def test_a_crash_in_a_worker_costs_only_that_file(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "crash.py").write_text("# CRASH\n" + GOOD)
    (tmp_path / "later.py").write_text(GOOD)
    found = _diagnostics_with(crashing_work, 2, tmp_path)
    assert [(Path(d[0]).name, d[3]) for d in found] == [("crash.py", "GIL000"), ("good.py", "GIL101"),
                                                          ("later.py", "GIL101")]
    assert "crashed its worker process (SIGSEGV)" in found[0][4]


@fork_only
def test_an_internal_error_in_a_worker_costs_only_that_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    found = _diagnostics_with(broken_work, 2, tmp_path)
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
