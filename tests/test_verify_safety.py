"""Only `gillint verify` runs user code, and when it does the code is contained.

Real child interpreters, real process groups, real signals.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import gillint_command
from gillint.diagnostics import VerifyTarget
from gillint.verify import verdict as V
from gillint.verify.runner import Verifier
from gillint.verify.sandbox import AUDIT_HOOK, NAMESPACE, namespace_available, run_child
from gillint.verify.settings import from_table
from gillint.verify.targets import Job, prepare


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _job(module: Path, qualname: str, args_source: str = None, table=None) -> Job:
    settings = from_table(table or {}, "pyproject.toml", root=module.parent)
    job = Job(VerifyTarget(str(module), qualname, "thread", 1, args_source), code="GIL101")
    prepare(job, settings, "")
    return job


def _measure(job: Job, table=None) -> V.VerifyResult:
    settings = from_table(table or {}, "pyproject.toml")
    return Verifier(settings).measure(job)


CRUNCH_AND_DIGEST = '''
    import hashlib, threading

    BUFFER = bytes(8_000_000)

    def crunch(n):
        total = 0
        for i in range(n):
            total += i * i
        return total

    def digest():
        return hashlib.sha256(BUFFER).hexdigest()
'''


def _process_gone(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


# ----------------------------------------------------------------------------- static never imports

MARKED_PACKAGE = '''
    from pathlib import Path
    Path({marker!r}).write_text("imported")
    import threading

    def crunch(n):
        total = 0
        for i in range(n):
            total += i * i
        return total

    def main():
        threading.Thread(target=crunch, args=(200_000,)).start()
'''


@pytest.fixture
def marked_package(tmp_path: Path):
    marker = tmp_path / "IMPORTED"
    package = tmp_path / "project" / "importmarker_pkg"
    _write(package / "__init__.py", MARKED_PACKAGE.format(marker=str(marker)))
    return package, marker


def test_check_never_imports_the_code_it_reads(marked_package, run_gillint) -> None:
    package, marker = marked_package
    done = run_gillint("check", str(package), "--no-config")
    assert done.returncode == 1 and "GIL101" in done.stdout, done.stdout + done.stderr
    assert not marker.exists()
    from gillint.engine import lint_paths

    assert lint_paths([package]).diagnostics
    assert not marker.exists() and "importmarker_pkg" not in sys.modules


def test_flake8_plugin_never_imports_the_code_it_reads(marked_package) -> None:
    pytest.importorskip("flake8")
    package, marker = marked_package
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GIL", str(package / "__init__.py")],
                          capture_output=True, text=True, timeout=120)
    assert "GIL101" in done.stdout, done.stdout + done.stderr
    assert not marker.exists()


def test_verify_does_import_it_so_the_marker_test_can_fail(marked_package, run_gillint) -> None:
    package, marker = marked_package
    done = run_gillint("verify", str(package), "--no-config", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert marker.exists()
    assert json.loads(done.stdout)["results"][0]["verdict"] == "gil-bound"


# ----------------------------------------------------------------------------- containment

def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    module = _write(tmp_path / "spawner.py", '''
        import itertools, subprocess, sys

        def spawn_and_hang(pid_file):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
            with open(pid_file, "w") as handle:
                handle.write(str(child.pid))
            return sum(itertools.repeat(1))  # never returns, never lets the probe run
    ''')
    began = time.perf_counter()
    result = _measure(_job(module, "spawn_and_hang", "(%r,)" % str(pid_file)), {"timeout": 1.5})
    assert result.verdict == V.TIMEOUT and "process group was killed" in result.reason
    assert time.perf_counter() - began < 10
    grandchild = int(pid_file.read_text())
    deadline = time.time() + 5
    while not _process_gone(grandchild) and time.time() < deadline:
        time.sleep(0.05)
    assert _process_gone(grandchild)


def test_file_size_limit_stops_runaway_writes(tmp_path: Path) -> None:
    module = _write(tmp_path / "writer.py", '''
        def fill(megabytes):
            with open("big.bin", "wb") as handle:
                for _ in range(megabytes):
                    handle.write(b"x" * 1024 * 1024)
    ''')
    result = _measure(_job(module, "fill", "(50,)"), {"file-size-mb": 1})
    assert result.verdict == V.ERROR
    assert "File too large" in result.reason
    assert result.limits["file_size"] == 1024 * 1024
    assert not (tmp_path / "big.bin").exists()


def test_a_crash_in_native_code_is_an_error_and_the_run_goes_on(tmp_path: Path) -> None:
    module = _write(tmp_path / "crasher.py", '''
        import ctypes

        def crash(address):
            return ctypes.string_at(address)

        def fine(n):
            return sum(i * i for i in range(n))
    ''')
    verifier = Verifier(from_table({}, "pyproject.toml"))
    run = verifier.run([_job(module, "crash", "(0,)"), _job(module, "fine", "(100_000,)")])
    crashed, fine = run.results
    assert crashed.verdict == V.ERROR and "crashed (SIGSEGV)" in crashed.reason
    assert fine.verdict == V.GIL_BOUND and not run.interrupted


def test_audit_hook_blocks_the_network_when_chosen(tmp_path: Path) -> None:
    module = _write(tmp_path / "netuser.py", '''
        import socket

        def lookup(host):
            return socket.getaddrinfo(host, 80)

        def connect(host):
            return socket.create_connection((host, 80), timeout=3)
    ''')
    table = {"network": "audit-hook"}
    for name, host in (("lookup", "example.org"), ("connect", "192.0.2.1")):
        result = _measure(_job(module, name, "(%r,)" % host), table)
        assert result.verdict == V.NOT_RUNNABLE, result
        assert "network access is blocked by gillint verify" in result.reason
        assert result.isolation == AUDIT_HOOK


def test_network_namespace_is_used_where_it_works(tmp_path: Path) -> None:
    if not namespace_available(sys.executable):
        pytest.skip("unshare -rn does not work on this machine")
    module = _write(tmp_path / "netns.py", '''
        import socket

        def interfaces():
            return socket.if_nameindex()
    ''')
    result = _measure(_job(module, "interfaces"))
    assert result.isolation == NAMESPACE
    assert result.verdict in V.MEASURED


def test_interrupt_stops_the_child_and_prints_results_so_far(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '''
        [tool.gillint.verify]
        timeout = 60
    ''')
    _write(tmp_path / "interrupt_me.py", '''
        import itertools, threading

        def crunch(n):
            total = 0
            for i in range(n):
                total += i * i
            return total

        def stuck():
            return sum(itertools.repeat(1))

        def main():
            threading.Thread(target=crunch, args=(200_000,)).start()  # GIL101
            threading.Thread(target=stuck).start()  # gillint: verify
    ''')
    # A test run started in the background of a shell without job control inherits SIGINT ignored, and
    # a Python started with SIGINT ignored never turns it into KeyboardInterrupt: give gillint the
    # disposition a terminal user's Ctrl-C meets.
    process = subprocess.Popen(gillint_command() + ["verify", str(tmp_path), "--progress", "always"],
                               cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    children = []
    try:
        for line in process.stderr:
            if "running" in line and "stuck" in line:
                break
        deadline = time.time() + 10
        while not children and time.time() < deadline:
            time.sleep(0.1)
            children = _children_of(process.pid)
        assert children, "no measuring child found"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "crunch" in stdout and "gil-bound" in stdout
    assert "interrupted: 1 of 2 not measured" in stdout
    for pid in children:
        assert _process_gone(pid)


def _children_of(parent: int):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry))
    return found


# ----------------------------------------------------------------------------- jobs and interpreters

def test_jobs_measure_at_the_same_time_on_separate_cores(tmp_path: Path, run_gillint) -> None:
    _write(tmp_path / "pair.py", CRUNCH_AND_DIGEST + '''
    def main():
        threading.Thread(target=crunch, args=(200_000,)).start()
        threading.Thread(target=digest).start()  # gillint: verify
    ''')
    done = run_gillint("verify", str(tmp_path), "--no-config", "--jobs", "2", "--format", "json", "--progress",
                       "always", cwd=str(tmp_path))
    results = {r["qualname"]: r for r in json.loads(done.stdout)["results"]}
    assert results["crunch"]["verdict"] == "gil-bound"
    assert results["digest"]["verdict"] == "releases-gil"
    cores = [results[name]["cpus"] for name in ("crunch", "digest")]
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) >= 4:  # two at a time, two cores each, never shared
        assert all(len(c) == 2 for c in cores) and not set(cores[0]) & set(cores[1])
    else:  # too few cores to give each its own two: one at a time, and the user is told
        assert cores == [usable, usable]
        assert "measuring 1 at a time, not 2" in done.stderr


def _other_interpreter():
    given = os.environ.get("GILLINT_OTHER_PYTHON")
    if given:
        return given
    here = "%d.%d" % sys.version_info[:2]
    for version in ("3.9", "3.10", "3.12", "3.13", "3.11", "3.14"):
        if version == here:
            continue
        found = shutil.which("python%s" % version)
        if found:
            done = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2] >= (3, 9))"],
                                  capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.strip() == "True":
                return found
    return None


def test_python_option_measures_under_another_interpreter(tmp_path: Path, run_gillint) -> None:
    other = _other_interpreter()
    if other is None:
        pytest.skip("no other Python 3.9+ on PATH")
    module = _write(tmp_path / "loop.py", '''
        def crunch(n):
            total = 0
            for i in range(n):
                total += i * i
            return total
    ''')
    done = run_gillint("verify", "--snippet", "%s::crunch" % module, "--args", "200_000", "--python", other,
                       "--format", "json", "--no-config", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    result = document["results"][0]
    expected = subprocess.run([other, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True).stdout.strip()
    assert result["interpreter"]["version"] == expected
    assert result["verdict"] == "gil-bound"
    assert result["code"] == "snippet" and result["arguments"] == "--args"


def test_two_worker_scaling_probe_tells_gil_bound_from_releasing(tmp_path: Path) -> None:
    """The GIL-off half of a free-threaded measurement, run here on a GIL build where the answer is known."""
    module = _write(tmp_path / "scaling.py", CRUNCH_AND_DIGEST)
    from gillint.verify.runner import gil_off_summary

    verifier = Verifier(from_table({}, "pyproject.toml"))
    summaries = {}
    for name, args in (("crunch", "(100_000,)"), ("digest", None)):
        job = _job(module, name, args)
        spec = verifier.spec_for(job, None, "scaling", 10.0)
        summaries[name] = gil_off_summary(run_child(spec, sys.executable, 10.0, verifier.isolation))
    assert summaries["crunch"]["scales"] is False, summaries["crunch"]
    # Releasing the GIL, the two workers can run at once: True, or not judged when the machine gives them
    # one core between them; never "does not scale".
    assert summaries["digest"]["scales"] is not False, summaries["digest"]
