"""`gillint verify --python` on a real free-threaded build (3.13t/3.14t): the GIL on, the GIL off, and an import
that turns it back on.

The interpreter comes from free_threaded_support.py (CI builds or reuses it; without one
these tests skip and say why; all but the import test are marked slow).  Timings decide nothing here: the verdict with the GIL
forced on, whether the GIL came back on and which module did it are checked; scaling
only where the figures are robust on a busy machine (a "does not scale" with the GIL
back on), otherwise only that it is not judged wrongly.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from free_threaded_support import NO_INTERPRETER, build_extension, compiler_problem, free_threaded_python

CRUNCH = """\
def crunch(n):
    total = 0
    for i in range(n):
        total += i * i
    return total
"""


@pytest.fixture(scope="module")
def free_threaded() -> str:
    python = free_threaded_python()
    if python is None:
        pytest.skip(NO_INTERPRETER)
    return python


def _verify(run_gillint, cwd: Path, module: Path, args: str, python: str, fmt: str = "json"):
    return run_gillint("verify", "--snippet", "%s::crunch" % module, "--args", args, "--python", python,
                       "--format", fmt, "--no-config", cwd=str(cwd))


@pytest.mark.slow
def test_pure_python_holds_the_gil_when_forced_on_and_keeps_it_off_otherwise(run_gillint, free_threaded,
                                                                            tmp_path: Path) -> None:
    module = tmp_path / "loop.py"
    module.write_text(CRUNCH, encoding="utf-8")
    done = _verify(run_gillint, tmp_path, module, "100_000", free_threaded)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert result["interpreter"]["free_threaded_build"] is True
    assert result["verdict"] == "gil-bound"  # measured with -X gil=1
    off = result["gil_off"]
    assert off["gil_enabled_after_import"] is False and "gil_enabled_by" not in off
    assert off["scales"] is not False  # True, or not judged when the machine gives both workers one core
    assert set(off["timing"].get("seconds", {"serial": 0, "threads": 0})) == {"serial", "threads"}


@pytest.mark.slow
def test_an_extension_without_free_threading_support_turns_the_gil_back_on(run_gillint, free_threaded,
                                                                          tmp_path: Path) -> None:
    problem = compiler_problem(free_threaded)
    if problem:
        pytest.skip(problem)
    build_extension(free_threaded, "legacy_ext", tmp_path, declares_support=False)
    module = tmp_path / "uses_legacy.py"
    module.write_text("import legacy_ext\n\n\n" + CRUNCH, encoding="utf-8")
    done = _verify(run_gillint, tmp_path, module, "100_000", free_threaded)
    assert done.returncode == 0, done.stderr
    off = json.loads(done.stdout)["results"][0]["gil_off"]
    assert off["gil_enabled_after_import"] is True
    assert off["gil_enabled_by"] == ["legacy_ext"]
    assert off["scales"] is not True  # the GIL is back: two threads take turns

    text = _verify(run_gillint, tmp_path, module, "100_000", free_threaded, "text").stdout
    assert "importing `legacy_ext` turned it on" in text
    header = next(line for line in text.splitlines() if "2 threads GIL off" in line)
    assert header.split()[:2] == ["finding", "serial"] and "2 threads GIL on" in header
    assert "(GIL re-enabled by an import)" in text


@pytest.mark.slow
def test_an_extension_that_declares_support_keeps_the_gil_off(run_gillint, free_threaded, tmp_path: Path) -> None:
    problem = compiler_problem(free_threaded)
    if problem:
        pytest.skip(problem)
    build_extension(free_threaded, "modern_ext", tmp_path, declares_support=True)
    module = tmp_path / "uses_modern.py"
    module.write_text("import modern_ext\n\n\ndef crunch(n):\n    return modern_ext.spin(n)\n", encoding="utf-8")
    done = _verify(run_gillint, tmp_path, module, "3_000_000", free_threaded)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert result["verdict"] == "gil-bound"  # a C loop that never releases the GIL, measured with it forced on
    assert result["gil_off"]["gil_enabled_after_import"] is False
    assert result["gil_off"]["scales"] is not False


@pytest.mark.slow
def test_a_lock_held_through_every_call_is_never_called_scaling(run_gillint, free_threaded, tmp_path: Path) -> None:
    module = tmp_path / "locked.py"
    module.write_text(textwrap.dedent("""\
        import threading

        LOCK = threading.Lock()


        def crunch(n):
            with LOCK:
                total = 0
                for i in range(n):
                    total += i * i
                return total
    """), encoding="utf-8")
    done = _verify(run_gillint, tmp_path, module, "100_000", free_threaded)
    assert done.returncode == 0, done.stderr
    off = json.loads(done.stdout)["results"][0]["gil_off"]
    assert off["gil_enabled_after_import"] is False
    assert off["scales"] is not True, off["scaling"]  # serialised: False, or not judged on a crowded machine


@pytest.mark.slow
def test_the_build_script_finds_the_interpreter_it_built(free_threaded) -> None:
    from free_threaded_support import BUILD_SCRIPT

    done = subprocess.run(["bash", str(BUILD_SCRIPT), "--check"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("the interpreter was given by GILLINT_FREE_THREADED_PYTHON, not built by the script")
    assert Path(done.stdout.strip()).name == "python3.13t"
    check = subprocess.run([done.stdout.strip(), "-c", "import sys; print(sys._is_gil_enabled())"],
                           capture_output=True, text=True)
    assert check.stdout.strip() == "False"
