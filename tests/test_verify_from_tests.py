"""`gillint verify --from-tests CMD`: the recorder in the user's test run, and what the verifier makes of it.

The recorder runs in real test processes (``python -c`` and ``python -m pytest`` children with
the sitecustomize on PYTHONPATH), on real threads, pool workers and event loops; a few tests
drive it in this process to reach its error paths.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from gillint.verify import recorder_site
from gillint.verify import verdict as V
from gillint.verify.recording import Recording, TargetRecording, gather, load_sample, record

SHOP = ROOT / "tests" / "verify_projects" / "shop"

WORK = """\
import asyncio
import threading


def crunch(items, scale=1):
    total = 0
    for item in items:
        total += item * scale
    return total


class Model:
    def __init__(self, weight):
        self.weight = weight

    def run(self, steps):
        return sum(i * self.weight for i in range(steps))


class Locked:
    def __init__(self):
        self.lock = threading.Lock()

    def run(self, steps):
        with self.lock:
            return steps


async def serve(rows):
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return len(rows)


def gen(count):
    for i in range(count):
        yield i
"""

TARGETS = [
    {"module": "work", "qualname": "crunch", "is_method": False},
    {"module": "work", "qualname": "Model.run", "is_method": True},
    {"module": "work", "qualname": "Locked.run", "is_method": True},
    {"module": "work", "qualname": "serve", "is_method": False},
    {"module": "work", "qualname": "gen", "is_method": False},
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "work.py").write_text(WORK, encoding="utf-8")
    return tmp_path


def _targets(project: Path):
    return [dict(t, path=str(project / "work.py")) for t in TARGETS]


def _python(code: str) -> str:
    return "%s -c %s" % (sys.executable, _quote(textwrap.dedent(code)))


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _payload(path: str):
    return pickle.loads(load_sample(path))


def test_the_largest_calls_are_kept_from_threads_and_methods_and_coroutines(project: Path) -> None:
    command = _python("""
        import asyncio, sys, threading
        sys.path.insert(0, ".")
        import work
        for n in (3, 500, 40, 7000, 12):
            work.crunch(list(range(n)), scale=2)
        thread = threading.Thread(target=work.crunch, args=(list(range(90000)),))
        thread.start(); thread.join()
        work.Model(3).run(2000)
        work.Locked().run(5)
        asyncio.run(work.serve(list(range(300))))
        list(work.gen(4))
    """)
    recording = record(command, _targets(project), cwd=project, calls=3)
    sys.path.insert(0, str(project))  # to unpickle the recorded instances here
    try:
        assert recording.returncode == 0 and recording.problems == []
        crunch = recording.for_key("work:crunch")
        assert crunch.calls == 6
        # The largest (from a thread too); the size counts every argument, `scale` included.
        assert [s.size for s in crunch.samples] == [90001, 7002, 502]
        assert _payload(crunch.samples[1].path) == {"args": (list(range(7000)), 2), "kwargs": {}}
        model = recording.for_key("work:Model.run")
        sample = _payload(model.samples[0].path)
        assert sample["args"] == (2000,) and sample["self"].weight == 3 and model.samples[0].method
        locked = recording.for_key("work:Locked.run")
        assert locked.calls == 1 and not locked.samples
        assert "the instance" in locked.why_none(8 << 20) and "does not pickle" in locked.why_none(8 << 20)
        serve = recording.for_key("work:serve")
        assert serve.calls == 1  # three resumes, one call
        assert _payload(serve.samples[0].path)["args"] == (list(range(300)),)
        assert recording.for_key("work:gen").calls == 1
        assert str(project) in recording.sys_path  # the test process's import roots, for the sandbox
    finally:
        recording.cleanup()
        sys.path.remove(str(project))
        sys.modules.pop("work", None)
    assert recording.directory is None


def test_targets_whose_arguments_do_not_pickle_are_still_timed_in_the_tests(project: Path) -> None:
    command = _python("""
        import asyncio, sys, time
        sys.path.insert(0, ".")
        import work
        work.Locked().run(5)
        work.Locked().run(6)
        asyncio.run(work.serve(list(range(10))))
    """)
    recording = record(command, _targets(project), cwd=project)
    try:
        locked = recording.for_key("work:Locked.run")
        assert not locked.samples and locked.in_tests()["steps"] == 2
        assert 0 < locked.in_tests()["step_max"] < 1 and 0 <= locked.in_tests()["cpu_share"] <= 1.5
        serve = recording.for_key("work:serve")
        assert serve.calls == 1 and serve.in_tests()["steps"] == 3  # a coroutine: three runs between awaits
        assert recording.for_key("work:crunch").in_tests() is None
        summary = recording.summary()["targets"]["work:Locked.run"]
        assert summary["in_tests"]["steps"] == 2 and summary["samples"] == 0
    finally:
        recording.cleanup()
    result = V.VerifyResult(label="x", path="work.py", line=1, code="GIL301", qualname="serve",
                            verdict=V.NOT_RUNNABLE, recorded={"in_tests": {"steps": 3, "step_max": 0.025,
                                                                           "step_mean": 0.01, "step_cpu_max": 0.02,
                                                                           "cpu_share": 0.1}})
    meaning = V.in_tests_meaning(["GIL301"], result)
    assert "one step between awaits kept the event loop for up to 25 ms, 20 ms of it on a CPU (mean 10 ms over 3 " \
           "steps; 10 % of the time on a CPU: it mostly waits" in meaning
    assert "one call ran for up to" in V.in_tests_meaning(["GIL101"], result)
    assert V.in_tests_meaning(["GIL101"], V.VerifyResult("x", "x", 1, "", "f", V.NOT_RUNNABLE)) == ""


def test_calls_in_forked_pool_workers_are_recorded(project: Path) -> None:
    command = _python("""
        import multiprocessing, sys
        sys.path.insert(0, ".")
        import work
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(pool.map(work.crunch, [list(range(100)), list(range(2000))]))
    """)
    recording = record(command, _targets(project)[:1], cwd=project)
    try:
        crunch = recording.for_key("work:crunch")
        assert recording.returncode == 0, recording.problems
        assert crunch.calls == 2 and sorted(s.size for s in crunch.samples) == [101, 2001]
    finally:
        recording.cleanup()


def test_a_missing_command_is_one_line_and_nothing_is_recorded(project: Path) -> None:
    recording = record("no-such-test-runner-xyz -q", _targets(project), cwd=project)
    assert recording.problems == ["--from-tests: command not found: no-such-test-runner-xyz"]
    assert all(t.calls == 0 for t in recording.targets.values())
    assert recording.for_key("work:crunch").why_none(8 << 20) == "the tests never called it"
    recording.cleanup()
    assert record("", _targets(project)).problems == ["--from-tests: the test command is empty"]
    assert "cannot read the command" in record("pytest 'unclosed", _targets(project)).problems[0]
    assert record("true", []).problems == []  # nothing to watch: nothing is run


def test_a_failing_test_command_keeps_what_was_recorded_before_it_ended(project: Path) -> None:
    command = _python("""
        import sys
        sys.path.insert(0, ".")
        import work
        work.crunch(list(range(50)))
        print("1 failed, 3 passed")
        sys.exit(1)
    """)
    recording = record(command, _targets(project), cwd=project)
    try:
        assert recording.returncode == 1
        assert len(recording.problems) == 1
        assert recording.problems[0].startswith("--from-tests: the test command exited with status 1 (1 failed, 3 passed)")
        assert recording.for_key("work:crunch").samples
    finally:
        recording.cleanup()


def test_a_test_command_that_runs_too_long_is_stopped(project: Path) -> None:
    command = _python("""
        import sys, time
        sys.path.insert(0, ".")
        import work
        work.crunch([1, 2, 3])
        time.sleep(60)
    """)
    recording = record(command, _targets(project), cwd=project, timeout=2)
    try:
        assert "still running after 2s and was stopped" in recording.problems[0]
        assert recording.for_key("work:crunch").calls == 1
    finally:
        recording.cleanup()


def test_a_recorder_that_cannot_start_says_so_and_the_tests_still_run(project: Path) -> None:
    # A broken configuration makes the recorder fail at start-up, in every process.
    out = project / "out"
    out.mkdir()
    spec = json.dumps([dict(t, path=str(project / "work.py")) for t in TARGETS])
    done = subprocess.run([sys.executable, "-c", "import work; work.crunch([1]); print('tests ran')"], cwd=str(project),
                          env=dict(os.environ, PYTHONPATH=str(_site_dir(project)), GILLINT_RECORD_TARGETS=spec,
                                   GILLINT_RECORD_DIR=str(out), GILLINT_RECORD_CALLS="many"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "tests ran" in done.stdout
    errors = list(out.glob("recorder-error-*.txt"))
    assert len(errors) == 1 and "ValueError" in errors[0].read_text(encoding="utf-8")
    gathered = Recording("x")
    gathered.targets = {"work:crunch": TargetRecording("work:crunch")}
    gather(gathered, [dict(TARGETS[0], index=0, key="work:crunch")], out)
    assert len(gathered.problems) == 1
    assert gathered.problems[0].startswith("--from-tests: the recorder failed in process ")
    assert "ValueError" in gathered.problems[0]


def _site_dir(project: Path) -> Path:
    site = project / "site"
    site.mkdir(exist_ok=True)
    shutil.copyfile(recorder_site.__file__, site / "sitecustomize.py")
    return site


def test_a_shadowed_sitecustomize_still_runs(project: Path) -> None:
    other = project / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.OTHER_SITE = 'ran'\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(other)]))
    command = _python("""
        import builtins, sys
        sys.path.insert(0, ".")
        import work
        work.crunch([1, 2])
        assert builtins.OTHER_SITE == 'ran'
    """)
    recording = record(command, _targets(project)[:1], cwd=project, env=env)
    try:
        assert recording.returncode == 0, recording.problems
        assert recording.for_key("work:crunch").calls == 1
    finally:
        recording.cleanup()


def test_arguments_over_the_byte_cap_are_counted_not_kept(project: Path) -> None:
    command = _python("""
        import sys
        sys.path.insert(0, ".")
        import work
        work.crunch(list(range(100000)))
    """)
    recording = record(command, _targets(project)[:1], cwd=project, max_bytes=1000)
    try:
        crunch = recording.for_key("work:crunch")
        assert crunch.calls == 1 and crunch.too_large == 1 and not crunch.samples
        assert "over the 0 MiB cap" in crunch.why_none(1000) or "cap" in crunch.why_none(1000)
    finally:
        recording.cleanup()


# ---------------------------------------------------------------------- in this process

def _in_process(tmp_path: Path, targets, calls=3, max_bytes=8 << 20):
    out = tmp_path / "rec"
    out.mkdir()
    environ = {"GILLINT_RECORD_TARGETS": json.dumps(targets), "GILLINT_RECORD_DIR": str(out),
               "GILLINT_RECORD_CALLS": str(calls), "GILLINT_RECORD_BYTES": str(max_bytes),
               "GILLINT_RECORD_HOOK": "profile"}
    return out, recorder_site.start(environ)


def test_the_recorder_stops_itself_on_its_own_error(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(tmp_path))
    (tmp_path / "rec_target.py").write_text("def busy(n):\n    return n * 2\n", encoding="utf-8")
    try:
        import rec_target

        out, recorder = _in_process(tmp_path, [{"module": "rec_target", "qualname": "busy",
                                                "path": str(tmp_path / "rec_target.py")}])

        def broken():
            raise RuntimeError("disk full")

        try:
            monkeypatch.setattr(recorder, "write_stats", broken)
            assert rec_target.busy(21) == 42  # the call itself is untouched
            assert rec_target.busy(22) == 44
        finally:
            recorder_site.stop()
        errors = list(out.glob("recorder-error-*.txt"))
        assert len(errors) == 1 and "RuntimeError: disk full" in errors[0].read_text(encoding="utf-8")
        assert recorder.failed and sys.getprofile() is None
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("rec_target", None)


def test_the_recorder_is_off_without_its_configuration() -> None:
    assert recorder_site.start({}) is None


@pytest.mark.parametrize("value, size", [
    (None, 1), (True, 1), (12345, 12345), (2.5, 1), ("abcd", 4), (b"xy", 2), (memoryview(b"abc"), 3),
    ([], 1), ([[1, 2], [3, 4], [5, 6]], 6), ({"a": "xyz"}, 3), ((1, 2, 3), 3), (range(10), 10),
])
def test_the_size_of_an_argument_is_cheap_and_rough(value, size) -> None:
    assert recorder_site.cheap_size(value) == size


def test_the_size_of_an_object_is_the_size_of_its_attributes() -> None:
    class Holder:
        def __init__(self):
            self.rows = list(range(50))
            self.name = "n"

    assert recorder_site.cheap_size(Holder()) == 1 + 50 + 1

    class Broken:
        def __len__(self):
            raise RuntimeError("no")

    assert recorder_site.cheap_size(Broken()) >= 1


def test_matching_without_co_qualname_resolves_through_the_module(tmp_path: Path) -> None:
    namespace = {"__name__": "fake_mod"}
    exec("class C:\n    def go(self, n):\n        return n\n\ndef go(n):\n    return n\n", namespace)

    class Frame:
        f_globals = namespace

    recorder = recorder_site.Recorder([{"module": "fake_mod", "qualname": "C.go", "key": "k", "index": 0}],
                                      str(tmp_path), 3, 1 << 20)
    method_code = namespace["C"].go.__code__
    assert recorder._resolves_to(Frame, "C.go", method_code)
    assert not recorder._resolves_to(Frame, "C.go", namespace["go"].__code__)
    assert not recorder._resolves_to(Frame, "Missing.go", method_code)


FREE_THREADED = os.environ.get("GILLINT_FREE_THREADED_PYTHON")


@pytest.mark.skipif(not FREE_THREADED and sys.version_info < (3, 12),
                    reason="sys.monitoring needs 3.12+: set GILLINT_FREE_THREADED_PYTHON to a 3.13t interpreter")
def test_sys_monitoring_records_on_312_and_later(project: Path) -> None:
    python = FREE_THREADED if sys.version_info < (3, 12) else sys.executable
    code = textwrap.dedent("""
        import asyncio, sys, threading
        sys.path.insert(0, ".")
        import work
        assert sys.monitoring.get_tool(sys.monitoring.PROFILER_ID) == "gillint-recorder"
        work.crunch(list(range(10)))
        thread = threading.Thread(target=work.crunch, args=(list(range(300)),))
        thread.start(); thread.join()
        asyncio.run(work.serve([1, 2, 3]))
        work.Model(2).run(30)
    """)
    import shlex

    recording = record("%s -c %s" % (shlex.quote(python), shlex.quote(code)), _targets(project), cwd=project)
    try:
        assert recording.returncode == 0, (recording.problems, recording.log.read_text())
        assert recording.for_key("work:crunch").calls == 2
        assert recording.for_key("work:crunch").samples[0].size == 301  # 300 items and scale=1
        assert recording.for_key("work:serve").calls == 1
        assert recording.for_key("work:serve").in_tests()["steps"] == 3  # PY_START/PY_RESUME to PY_YIELD/PY_RETURN
        assert recording.for_key("work:Model.run").samples
    finally:
        recording.cleanup()


# ---------------------------------------------------------------------- gillint verify --from-tests

SMALL_PROJECT = {
    "pyproject.toml": "[tool.gillint]\n\n[tool.gillint.verify]\ntiming-rounds = 0\nladder = false\n",
    "app/__init__.py": "",
    "app/jobs.py": textwrap.dedent("""\
        import threading


        def load():
            return list(range(10))


        def crunch(items):
            total = 0
            for item in items:
                total += item * item
            return total


        def start():
            threading.Thread(target=crunch, args=(load(),)).start()
        """),
    "tests/test_jobs.py": textwrap.dedent("""\
        from app import jobs


        def test_crunch():
            assert jobs.crunch(list(range(300_000))) > 0
        """),
}


def _write(root: Path, files) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_verify_measures_what_the_tests_call_where_the_start_site_has_no_literals(run_gillint, tmp_path: Path) -> None:
    _write(tmp_path, SMALL_PROJECT)
    before = run_gillint("verify", ".", "--format", "json", cwd=str(tmp_path))
    assert json.loads(before.stdout)["results"][0]["verdict"] == "not-runnable"
    done = run_gillint("verify", ".", "--format", "json", "--from-tests",
                       "%s -m pytest -q -p no:cacheprovider" % sys.executable, cwd=str(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "runs with your rights, outside the sandbox" in done.stderr
    assert "the tests called 1 of 1 targets" in done.stderr
    document = json.loads(done.stdout)
    (result,) = document["results"]
    assert result["verdict"] == "gil-bound" and result["outcome"] == "confirmed"
    assert result["arguments"].startswith("recorded from the tests (largest of 1 call, size 300000")
    assert result["call_seconds"] > 1e-3  # the tests' 300 000 items, not the start site's ten
    assert result["recorded"]["calls"] == 1
    assert document["recording"]["returncode"] == 0


def test_a_configured_test_command_that_fails_is_one_line_and_verify_goes_on(run_gillint, tmp_path: Path) -> None:
    files = dict(SMALL_PROJECT)
    files["pyproject.toml"] += 'from-tests = "no-such-runner-xyz"\n'
    _write(tmp_path, files)
    done = run_gillint("verify", ".", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "gillint verify: --from-tests: command not found: no-such-runner-xyz" in done.stderr
    assert "not-runnable" in done.stdout and "from the tests: the tests never called it" in done.stdout
    skipped = run_gillint("verify", ".", "--no-from-tests", cwd=str(tmp_path))
    assert "recording" not in skipped.stderr and "not-runnable" in skipped.stdout


@pytest.mark.slow
def test_the_sample_shop_gets_the_right_verdict_for_every_target_the_tests_reach(run_gillint, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    done = run_gillint("verify", ".", "--format", "json", "--from-tests",
                       "%s -m pytest -q -p no:cacheprovider" % sys.executable, cwd=str(project))
    assert done.returncode == 1, done.stderr
    results = {(r["qualname"], r["line"]): r for r in json.loads(done.stdout)["results"]}
    by_name = {}
    for (name, _), result in results.items():
        by_name.setdefault(name, []).append(result)
    for result in by_name["score_document"] + by_name["PriceModel.simulate"]:
        assert result["verdict"] == "gil-bound" and result["outcome"] == "confirmed", result
        assert result["arguments"].startswith("recorded from the tests")
    (fingerprint,) = by_name["fingerprint"]
    assert fingerprint["verdict"] == "releases-gil", fingerprint
    (handle,) = by_name["handle_rank"]
    assert handle["verdict"] == "gil-bound" and handle["call_kind"] == "coroutine"
    assert handle["loop_block_seconds"] > 0.010 and handle["outcome"] == "confirmed"
    assert "blocks the event loop for" in handle["meaning"]
    (drain,) = by_name["drain"]
    assert drain["verdict"] == "not-runnable" and "do not pickle" in drain["reason"]
    (never,) = by_name["never_tested"]
    assert "the tests never called it" in never["reason"]
    simulate = by_name["PriceModel.simulate"][0]
    assert simulate["ladder"]["mode"] == "samples" and len(simulate["ladder"]["rungs"]) >= 2
    assert "linearly" in simulate["growth"]


def test_a_target_called_very_often_is_not_pickled_every_time(project: Path) -> None:
    command = _python("""
        import sys, threading
        sys.path.insert(0, ".")
        import work
        for _ in range(3000):
            work.Locked().run(5)
        work.Locked().run(10 ** 6)
    """)
    recording = record(command, _targets(project), cwd=project)
    try:
        locked = recording.for_key("work:Locked.run")
        assert locked.calls == 3001
        # 50 attempts, then only the call a million times larger: each attempt is one unpicklable count.
        assert sum(locked.unpicklable.values()) == recorder_site.PICKLE_ATTEMPTS + 1
    finally:
        recording.cleanup()


def test_recording_inside_an_event_loop_that_forbids_blocking_calls(project: Path) -> None:
    # Like blockbuster in aiohttp's tests: file-system calls inside a running loop raise.
    command = _python("""
        import asyncio, builtins, os, os.path, sys
        sys.path.insert(0, ".")
        import work

        def guard(function):
            def wrapper(*args, **kwargs):
                if asyncio._get_running_loop() is not None:
                    raise RuntimeError("blocking call to %s inside the loop" % function.__name__)
                return function(*args, **kwargs)
            return wrapper

        builtins.open = guard(builtins.open)
        os.replace = guard(os.replace)
        os.path.realpath = guard(os.path.realpath)
        os.path.abspath = guard(os.path.abspath)

        async def main():
            return await work.serve(list(range(50)))

        assert asyncio.run(main()) == 50
    """)
    recording = record(command, _targets(project), cwd=project)
    try:
        assert recording.problems == [] and recording.returncode == 0, (recording.problems, recording.log.read_text())
        serve = recording.for_key("work:serve")
        assert serve.calls == 1 and serve.samples and serve.in_tests()["steps"] == 3
    finally:
        recording.cleanup()


def test_a_fork_while_another_thread_records_does_not_hang_the_child(project: Path) -> None:
    command = _python("""
        import os, sys, threading, time
        sys.path.insert(0, ".")
        import work
        from sitecustomize import _recorder
        _recorder.lock.acquire()  # as if another thread were recording at the moment of the fork
        pid = os.fork()
        if pid == 0:
            work.crunch(list(range(10)))  # would wait for ever on the inherited lock
            os._exit(0)
        _recorder.lock.release()
        deadline = time.time() + 20
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                sys.exit(0 if status == 0 else 3)
            time.sleep(0.05)
        os.kill(pid, 9)
        sys.exit(4)
    """)
    recording = record(command, _targets(project)[:1], cwd=project)
    try:
        assert recording.returncode == 0, recording.problems
        assert recording.for_key("work:crunch").calls == 1
    finally:
        recording.cleanup()


def test_from_tests_with_a_snippet_is_a_usage_error(run_gillint, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(n):\n    return n\n", encoding="utf-8")
    done = run_gillint("verify", "--snippet", "m.py::f", "--args", "3", "--from-tests", "pytest", cwd=str(tmp_path))
    assert done.returncode == 2 and "--from-tests records the arguments of findings" in done.stderr


def test_the_recorder_in_this_process_keeps_the_largest_calls_of_each_kind(tmp_path: Path) -> None:
    """The same recorder, driven here (with sys.setprofile) so that every branch is exercised under coverage."""
    module = tmp_path / "inproc_work.py"
    module.write_text(WORK.replace("import threading\n", "import threading\n\n\nclass Plain:\n    pass\n"),
                      encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        import asyncio as aio

        import inproc_work as w

        targets = [dict(t, module="inproc_work", path=str(module)) for t in TARGETS]
        out, recorder = _in_process(tmp_path, targets, calls=2, max_bytes=4000)
        try:
            for n in (5, 50, 500, 3, 5000):  # 5000 items pickle to more than 4000 bytes
                w.crunch(list(range(n)))
            w.crunch(list(range(50)))  # a duplicate of a kept call
            thread = threading.Thread(target=w.crunch, args=(list(range(40)),))
            thread.start()
            thread.join()
            w.Model(2).run(7)
            w.Locked().run(3)
            aio.run(w.serve([1, 2]))
            list(w.gen(3))
        finally:
            recorder_site.stop()
            recorder.drain()
        recorder.write_stats()
        stats = json.loads(next(out.glob("stats-*.json")).read_text(encoding="utf-8"))["targets"]
        crunch = stats["inproc_work:crunch"]
        assert crunch["calls"] == 7 and crunch["kept"] == 2 and crunch["too_large"] == 1
        assert sorted(k[0] for k in recorder.kept["inproc_work:crunch"]) == [51, 501]  # items, and scale=1
        assert len(list((out / "t0").glob("*.pkl"))) == 2  # the smaller ones were removed
        assert stats["inproc_work:Model.run"]["kept"] == 1
        assert list(stats["inproc_work:Locked.run"]["unpicklable"])[0].startswith("the instance: TypeError")
        assert stats["inproc_work:serve"]["calls"] == 1 and stats["inproc_work:serve"]["steps"] == 3
        assert stats["inproc_work:gen"]["calls"] == 1 and stats["inproc_work:gen"]["steps"] == 4
        assert sys.getprofile() is None
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("inproc_work", None)


def test_the_recorders_writes_move_to_a_thread_inside_an_event_loop(tmp_path: Path) -> None:
    import asyncio as aio

    recorder = recorder_site.Recorder([], str(tmp_path), 3, 1 << 20)
    written = []

    def note():
        written.append(threading.current_thread().name)

    async def inside():
        recorder.io(note)

    aio.run(inside())
    recorder.drain()
    recorder.io(note)
    assert written == ["gillint-recorder-writer", threading.current_thread().name]
    recorder.queue.put((lambda: 1 / 0, ()))
    recorder.drain()
    assert recorder.failed and "ZeroDivisionError" in next(tmp_path.glob("recorder-error-*.txt")).read_text()
    recorder_site.write_file(str(tmp_path / "sub" / "x.bin"), b"abc")
    assert (tmp_path / "sub" / "x.bin").read_bytes() == b"abc"
    recorder_site.remove_file(str(tmp_path / "missing"))  # no error
    assert str(tmp_path) in recorder_site.import_roots([str(tmp_path), ""])


# ---------------------------------------------------------------------- the command, in this process

@pytest.mark.parametrize("argv, message", [
    (["verify", "--args", "3"], "--args needs --snippet"),
    (["verify", "x.py", "--snippet", "x.py::f"], "give either paths or --snippet, not both"),
    (["verify", "--jobs", "0"], "--jobs must be 1 or more"),
    (["verify", "--timeout", "0.1"], "--timeout must be from 0.5 to 3600 seconds"),
    (["verify", ".", "--python", "/no/such/python"], "--python: no such interpreter"),
    (["verify", "--snippet", "nofile.py::f"], "--snippet: no such file"),
])
def test_verify_usage_errors(argv, message, capsys, tmp_path: Path, monkeypatch) -> None:
    from gillint.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--no-config"]) == 2
    assert message in capsys.readouterr().err


def test_verify_in_this_process_from_tests_to_html(capsys, tmp_path: Path, monkeypatch) -> None:
    from gillint.cli import main

    _write(tmp_path, SMALL_PROJECT)
    (tmp_path / "pyproject.toml").write_text("[tool.gillint]\n\n[tool.gillint.verify]\ntiming-rounds = 2\n"
                                             "timing-unit = 0.03\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status = main(["verify", ".", "--from-tests", "%s -m pytest -q -p no:cacheprovider" % sys.executable,
                   "--html", "report.html", "--progress", "always"])
    captured = capsys.readouterr()
    assert status == 1, captured.err
    assert "arguments recorded with" in captured.out and "gil-bound" in captured.out
    assert "[1/1] running app/jobs.py:16 GIL101 crunch" in captured.err
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "recorded from the tests" in page and "<svg" in page


def test_verify_a_snippet_in_this_process(capsys, tmp_path: Path, monkeypatch) -> None:
    from gillint.cli import main

    (tmp_path / "m.py").write_text("import time\n\n\ndef nap(seconds):\n    time.sleep(seconds)\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.gillint]\n\n[tool.gillint.verify]\ntiming-rounds = 2\n"
                                             "timing-unit = 0.02\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "--snippet", "m.py::nap", "--args", "0.002", "--format", "json", "-o", "out.json"]) == 0
    (result,) = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["results"]
    assert result["verdict"] == "io-bound" and result["arguments"] == "--args"
    assert result["ladder"] == {"skipped": "no argument is a sized value (int, str, bytes, list or tuple)"}  # a float
    assert result["growth"] == "no argument is a sized value (int, str, bytes, list or tuple)"
    assert main(["verify", "--snippet", "m.py::nap", "--args", "x y"]) == 2
    assert "--args" in capsys.readouterr().err


def _frame_of(function, *args, **kwargs):
    """The frame of one finished call (its arguments still in f_locals), as a profile hook would see it."""
    seen = {}

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is function.__code__:
            seen["frame"] = frame

    sys.setprofile(hook)
    try:
        function(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return seen["frame"]


def test_the_recorders_bookkeeping_called_directly(tmp_path: Path) -> None:
    """Coverage cannot follow code run inside a profile hook: the same methods, called directly."""
    namespace = {"__name__": "direct_mod"}
    exec(textwrap.dedent("""
        import threading

        def crunch(items, *more, scale=1, **options):
            return len(items)

        class Box:
            def __init__(self):
                self.lock = threading.Lock()

            def fill(self, n):
                return n

        class Kept:
            def fill(self, n):
                return n

        async def serve(rows):
            return rows
    """), namespace)
    targets = [{"module": "direct_mod", "qualname": name, "key": "direct_mod:" + name, "index": i, "paths": set(),
                "is_method": "." in name} for i, name in enumerate(["crunch", "Box.fill", "Kept.fill", "serve"])]
    recorder = recorder_site.Recorder(targets, str(tmp_path), 2, 1 << 20)
    frame = _frame_of(namespace["crunch"], [1, 2, 3], "x", scale=2, mode="fast")
    target = recorder.match(frame.f_code, frame)
    assert target["qualname"] == "crunch" and recorder.match(frame.f_code, frame) is target  # cached
    recorder.record(target, frame)
    recorder.step_began(frame)
    recorder.step_ended(target, frame)
    recorder.step_ended(target, frame)  # a second end without a start is ignored
    (kept,) = recorder.kept["direct_mod:crunch"]
    payload = pickle.loads(load_sample(kept[2]))
    assert payload == {"args": ([1, 2, 3], "x"), "kwargs": {"scale": 2, "mode": "fast"}}  # *more, keyword-only, **
    box = namespace["Box"]()
    box_frame = _frame_of(box.fill, 4)
    recorder.record(recorder.match(box_frame.f_code, box_frame), box_frame)
    stats = recorder.stats["direct_mod:Box.fill"]
    assert list(stats["unpicklable"])[0].startswith("the instance: ")  # a lock, or a class pickle cannot find
    serve_frame = _frame_of(lambda: namespace["serve"]([1]).close())
    assert recorder.match(serve_frame.f_code, serve_frame) is None  # the lambda is not a target
    assert recorder.is_first_start(frame.f_code, frame)
    assert recorder.stats["direct_mod:crunch"]["steps"] == 1
    recorder.write_stats()
    written = json.loads((tmp_path / ("stats-%d.json" % os.getpid())).read_text(encoding="utf-8"))
    assert written["targets"]["direct_mod:crunch"]["kept"] == 1 and written["sys_path"]
    recorder.fail(RuntimeError("boom"))
    recorder.fail(RuntimeError("twice"))  # only the first is reported
    assert "RuntimeError: boom" in (tmp_path / ("recorder-error-%d.txt" % os.getpid())).read_text(encoding="utf-8")
