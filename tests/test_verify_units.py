"""The verifier's pure parts: configuration, comments, argument order, probe bands, outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gillint.config import ConfigError
from gillint.diagnostics import VerifyTarget
from gillint.verify import verdict as V
from gillint.verify.pragma import PragmaError, find_pragma, parse_arguments
from gillint.verify.runner import core_slots
from gillint.verify.settings import from_table
from gillint.verify.targets import Job, prepare, snippet_job


# ----------------------------------------------------------------------------- settings

def test_settings_defaults_and_values_are_read() -> None:
    settings = from_table({"timeout": 4, "repeat": 5, "memory-mb": 0, "network": "audit-hook",
                           "targets": {"pkg.mod.f": {"args": [1, "x"], "kwargs": {"n": 2}, "timeout": 3}}},
                          "pyproject.toml")
    assert (settings.timeout, settings.repeat, settings.memory_mb, settings.network) == (4.0, 5, 0, "audit-hook")
    target = settings.targets["pkg.mod.f"]
    assert (target.args, target.kwargs, target.timeout) == ((1, "x"), {"n": 2}, 3.0)


@pytest.mark.parametrize("table, message", [
    ({"timeout": 0}, "pyproject.toml [tool.gillint.verify]: timeout must be a number"),
    ({"repeat": True}, "repeat must be a whole number"),
    ({"network": "off"}, "network must be one of auto, namespace, audit-hook"),
    ({"colour": 1}, "unknown key 'colour'"),
    ({"targets": {"m.f": {"args": "1"}}}, "targets.m.f: args must be a list"),
    ({"targets": {"m.f": {"factory": "nocolon"}}}, "factory must be \"module:function\""),
    ({"targets": {"m.f": {"kwarg": {}}}}, "targets.m.f: unknown key 'kwarg'"),
    ({"targets": {"m.f": {"args": [float("inf")]}}}, "args must be a list of strings, numbers"),
])
def test_settings_mistakes_name_the_file_and_key(table, message) -> None:
    with pytest.raises(ConfigError) as error:
        from_table(table, "pyproject.toml")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_bad_verify_table_is_a_usage_error_on_the_command_line(tmp_path: Path, run_gillint) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.gillint.verify]\nrepeat = 0\n", encoding="utf-8")
    (tmp_path / "mod.py").write_text("x = 1\n", encoding="utf-8")
    done = run_gillint("verify", str(tmp_path))
    assert done.returncode == 2
    assert "[tool.gillint.verify]: repeat must be a whole number from 1 to 50" in done.stderr


# ----------------------------------------------------------------------------- comments

def test_pragma_gives_literal_arguments_and_ignores_later_comments() -> None:
    pragma = find_pragma('Thread(target=f, args=(rows,)).start()  # gillint: verify(250_000, mode=")")  # GIL101')
    assert pragma is not None and pragma.arguments is not None
    assert pragma.arguments.args_source == "(250_000,)"
    assert pragma.arguments.kwargs_source == "{'mode': \")\"}"


def test_bare_pragma_only_asks_for_a_measurement() -> None:
    pragma = find_pragma("Thread(target=f).start()  # gillint: verify  # negative: why")
    assert pragma is not None and pragma.arguments is None
    assert find_pragma("Thread(target=f).start()  # gillint: verify()").arguments.args_source == "()"
    assert find_pragma("Thread(target=f).start()  # GIL101") is None


@pytest.mark.parametrize("text", ["open('x')", "n", "*rows", "**options", "1,, 2"])
def test_arguments_that_are_not_literals_are_refused(text: str) -> None:
    with pytest.raises(PragmaError):
        parse_arguments(text)


# ----------------------------------------------------------------------------- argument order

def _job(tmp_path: Path, args_source=None, kwargs_source=None, pragma: str = "", targets=None) -> Job:
    module = tmp_path / "work.py"
    module.write_text("import threading\n\ndef f(n, m=0):\n    return n\n\nthreading.Thread(target=f)%s\n" % pragma,
                      encoding="utf-8")
    settings = from_table({"targets": targets or {}}, "pyproject.toml", root=tmp_path)
    job = Job(VerifyTarget(str(module), "f", "thread", 6, args_source, kwargs_source))
    prepare(job, settings, module.read_text(encoding="utf-8").splitlines()[5])
    return job


def test_literal_arguments_at_the_start_site_come_first(tmp_path: Path) -> None:
    job = _job(tmp_path, "(5,)", None, "  # gillint: verify(7)", {"work.f": {"args": [6]}})
    assert (job.args_source, job.args_json, job.arguments) == ("(5,)", None, "literals at the start site")
    assert job.module == "work" and job.sys_path[0] == str(tmp_path)


def test_configuration_comes_before_the_comment(tmp_path: Path) -> None:
    job = _job(tmp_path, "(rows,)", None, "  # gillint: verify(7)", {"work.f": {"args": [6], "kwargs": {"m": 1}}})
    assert (job.args_source, job.args_json, job.kwargs_json) == (None, [6], {"m": 1})
    assert job.arguments == "[tool.gillint.verify] targets.work.f"


def test_path_style_configuration_keys_match(tmp_path: Path) -> None:
    job = _job(tmp_path, "(rows,)", None, "", {"work.py::f": {"factory": "helpers:make"}})
    assert job.factory == "helpers:make" and not job.not_runnable


def test_comment_is_used_when_the_start_site_has_no_literals(tmp_path: Path) -> None:
    job = _job(tmp_path, "(rows,)", None, "  # gillint: verify(7, m=2)")
    assert (job.args_source, job.kwargs_source) == ("(7,)", "{'m': 2}")


def test_non_literal_arguments_without_help_are_not_runnable_and_never_evaluated(tmp_path: Path) -> None:
    job = _job(tmp_path, "(open('/etc/passwd').read(),)")
    assert "not constant expressions" in job.not_runnable and "line 6" in job.not_runnable
    assert "open(...) calls open, which is not evaluated" in job.not_runnable or "calls open" in job.not_runnable
    assert job.args_source is None and job.args_json is None


def test_a_start_site_without_arguments_calls_with_none(tmp_path: Path) -> None:
    job = _job(tmp_path)
    assert (job.args_source, job.not_runnable, job.arguments) == (None, "", "none at the start site")


def test_snippet_arguments_come_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "snip.py").write_text("def f(n):\n    return n\n", encoding="utf-8")
    job = snippet_job("%s::f" % (tmp_path / "snip.py"), "3, n2=[1]", from_table({}, "x"))
    assert (job.target.args_source, job.target.kwargs_source, job.arguments) == ("(3,)", "{'n2': [1]}", "--args")
    with pytest.raises(ValueError):
        snippet_job(str(tmp_path / "snip.py"), None, from_table({}, "x"))


# ----------------------------------------------------------------------------- verdicts

@pytest.mark.parametrize("gil, run, expected", [
    (0.9, 0.05, V.IO_BOUND), (0.0, 0.29, V.IO_BOUND),
    (0.84, 1.0, V.GIL_BOUND), (0.6, 0.3, V.GIL_BOUND),
    (0.15, 1.0, V.RELEASES), (0.0, 0.99, V.RELEASES),
    (0.45, 0.5, V.PARTLY), (0.59, 1.0, V.PARTLY), (0.16, 1.0, V.PARTLY),
])
def test_probe_bands(gil: float, run: float, expected: str) -> None:
    assert V.classify(gil, run) == expected


def test_partly_bound_gives_the_speedup_bound() -> None:
    assert V.speedup_bound(0.4) == 2.5


@pytest.mark.parametrize("code, verdict, expected", [
    ("GIL101", V.GIL_BOUND, "confirmed"), ("GIL102", V.PARTLY, "partly confirmed"),
    ("GIL101", V.RELEASES, "refuted"), ("GIL101", V.IO_BOUND, "refuted"),
    ("GIL202", V.IO_BOUND, "confirmed"), ("GIL202", V.GIL_BOUND, "refuted"),
    ("GIL301", V.RELEASES, "confirmed"), ("GIL301", V.IO_BOUND, "refuted"),
    ("GIL101", V.TIMEOUT, "inconclusive"), ("", V.GIL_BOUND, ""),
])
def test_verdicts_confirm_or_refute_what_each_rule_claims(code: str, verdict: str, expected: str) -> None:
    assert V.outcome(code, verdict) == expected


def _timing(threads, processes=None, free=1.9):
    def figures(values):
        ordered = sorted(values)
        return {"median": ordered[len(ordered) // 2], "min": ordered[0], "max": ordered[-1], "rounds": values}

    timing = {"free_cores": free, "threads_speedup": figures(threads)}
    if processes:
        timing["processes_speedup"] = figures(processes)
    return timing


def test_a_stable_speedup_that_contradicts_the_probe_says_so_and_never_decides() -> None:
    judged = V.judge_speedups(V.GIL_BOUND, None, _timing([1.88, 1.9, 1.93]))
    assert judged["threads"]["shown"] and judged["threads"]["disagrees"]
    assert "1.90x" in judged["threads"]["note"] and "the probe decides" in judged["threads"]["note"]
    consistent = V.judge_speedups(V.GIL_BOUND, None, _timing([1.0, 1.02, 1.05], [1.9, 1.95, 2.0]))
    assert consistent["threads"]["shown"] and "note" not in consistent["threads"]
    assert consistent["processes"]["shown"] and consistent["processes"]["median"] == 1.95
    slow = V.judge_speedups(V.RELEASES, None, _timing([1.0, 1.05, 1.1]))
    assert "memory bandwidth" in slow["threads"]["note"]
    capped = V.judge_speedups(V.PARTLY, 1.5, _timing([1.9, 1.95, 2.0]))
    assert capped["threads"]["disagrees"] and "1.5x" in capped["threads"]["note"]


def test_a_noisy_or_crowded_speedup_is_not_shown() -> None:
    spread_out = V.judge_speedups(V.GIL_BOUND, None, _timing([0.83, 1.31, 1.95]))
    assert not spread_out["threads"]["shown"] and "within the noise" in spread_out["threads"]["note"]
    assert "0.83-1.95x over 3 rounds" in spread_out["threads"]["note"]
    crowded = V.judge_speedups(V.RELEASES, None, _timing([1.9, 1.92, 1.95], free=0.6))
    assert not crowded["threads"]["shown"] and "0.6 cores idle" in crowded["threads"]["note"]
    unknown = V.judge_speedups(V.RELEASES, None, _timing([1.9, 1.92, 1.95], free=None))
    assert not unknown["threads"]["shown"]
    gil_off = V.judge_speedups(V.GIL_BOUND, None, {}, _timing([1.9, 2.0, 2.05]))
    assert gil_off["gil_off"]["shown"] and "threads" not in gil_off
    assert V.judge_speedups(V.GIL_BOUND, None, {"skipped": "no call finished"}) == {}


def _measured(verdict, per_call, kind="function", block=None, bound=None):
    return V.VerifyResult(label="x", path="x.py", line=1, code="", qualname="f", verdict=verdict,
                          call_seconds=per_call, call_kind=kind, loop_block_seconds=block, speedup_bound=bound)


@pytest.mark.parametrize("codes, verdict, per_call, kind, block, level, phrase", [
    (["GIL101"], V.GIL_BOUND, 2e-6, "function", None, "negligible", "negligible per call (2 µs) unless called in a tight loop"),
    (["GIL101"], V.GIL_BOUND, 0.0032, "function", None, "moderate", "3.2 ms per call"),
    (["GIL101"], V.GIL_BOUND, 0.12, "function", None, "large", "other threads wait"),
    (["GIL101"], V.RELEASES, 0.04, "function", None, "large", "releases the GIL: 40 ms"),
    (["GIL101"], V.IO_BOUND, 0.1, "function", None, "large", "mostly waits"),
    (["GIL101"], V.PARTLY, 0.01, "function", None, "large", "at most about 2.0x"),
    (["GIL301"], V.GIL_BOUND, 0.2, "coroutine", 0.042, "large", "blocks the event loop for 42 ms"),
    (["GIL301"], V.GIL_BOUND, 3e-4, "coroutine", 2e-4, "negligible", "only 200 µs per call at this size"),
    (["GIL301"], V.GIL_BOUND, 0.004, "function", None, "moderate", "4 ms per call"),
    (["GIL301"], V.IO_BOUND, 0.5, "coroutine", 1e-4, "negligible", "mostly waits"),
    ([], V.GIL_BOUND, 0.5, "coroutine", 0.5, "large", "blocks the event loop"),
])
def test_every_verdict_says_what_it_means_at_the_size_measured(codes, verdict, per_call, kind, block, level,
                                                               phrase) -> None:
    result = _measured(verdict, per_call, kind, block, bound=2.0 if verdict == V.PARTLY else None)
    got_level, meaning = V.magnitude(codes, result)
    assert got_level == level
    assert phrase in meaning, meaning
    assert V.magnitude(codes, _measured(V.ERROR, None)) == ("", "")


@pytest.mark.parametrize("block, expected", [(0.2, "confirmed"), (0.0004, "refuted"), (0.004, "partly confirmed"),
                                             (None, "confirmed")])
def test_how_long_a_call_blocks_the_loop_decides_gil301(block, expected) -> None:
    assert V.outcome("GIL301", V.GIL_BOUND, block) == expected
    assert V.outcome("GIL301", V.IO_BOUND, block) == "refuted"


def test_the_size_ladder_in_words() -> None:
    linear = {"rungs": [{"size": 100, "seconds": 0.001}, {"size": 1000, "seconds": 0.0101},
                        {"size": 10000, "seconds": 0.099}]}
    assert "grows about linearly" in V.growth(linear) and "x10 size: 10.1 ms" in V.growth(linear)
    square = {"rungs": [{"size": 10, "seconds": 0.001}, {"size": 100, "seconds": 0.1},
                        {"size": 1000, "skipped": "would take about 10s per call"}]}
    assert "quadratically" in V.growth(square) and "stopped: would take about 10s" in V.growth(square)
    flat = {"rungs": [{"size": 10, "seconds": 0.001}, {"size": 1000, "seconds": 0.0011}]}
    assert "hardly grows" in V.growth(flat)
    faster = {"rungs": [{"size": 10, "seconds": 0.001}, {"size": 100, "seconds": 0.03}]}
    assert "faster than linearly" in V.growth(faster)
    cubic = {"rungs": [{"size": 10, "seconds": 0.001}, {"size": 100, "seconds": 1.0}]}
    assert "faster than quadratically" in V.growth(cubic)
    assert "only one size" in V.growth({"rungs": [{"size": 1, "seconds": 0.1}, {"size": 10, "cut_off": True}]})
    assert V.growth({"skipped": "no argument is a sized value"}) == "no argument is a sized value"
    assert V.growth(None) == ""
    same = {"rungs": [{"size": 10, "seconds": 0.001}, {"size": 10, "seconds": 0.0012}]}
    assert "x1 size" in V.growth(same)


def test_scaling_needs_every_thread_running_without_extra_cpu_per_call() -> None:
    assert V.scales({"run_fracs": [0.97, 0.95], "cpu_per_call_alone": 0.01, "cpu_per_call_together": 0.011})
    assert not V.scales({"run_fracs": [0.5, 0.52]})
    assert V.scales({"run_fracs": [0.6, 0.9], "blocks_per_second": [0.0, 1.5]})
    assert not V.scales({"run_fracs": [0.9, 0.9], "blocks_per_second": [215.0, 210.0]})
    assert not V.scales({"run_fracs": [0.97, 0.95], "cpu_per_call_alone": 0.01, "cpu_per_call_together": 0.03})
    assert V.scales({}) is None


def test_scaling_is_judged_by_whether_the_workers_ran_at_once() -> None:
    free = {"run_fracs": [1.0, 1.0], "blocks_per_second": [0.0, 0.0]}
    # Independent threads progress together about as often as chance allows; serialised ones never do.
    assert V.scales(dict(free, overlap={"both": 0.12, "expected": 0.13})) is True
    assert V.scales(dict(free, blocks_per_second=[120.0, 90.0], overlap={"both": 0.005, "expected": 0.09})) is False
    # Never ran at once, and nothing proves they waited for each other: perhaps one core between them.
    assert V.scales(dict(free, overlap={"both": 0.0, "expected": 0.13})) is None
    assert V.scales(dict(free, blocks_per_second=[12.0, 9.0], overlap={"both": 0.005, "expected": 0.09})) is None
    # Too little CPU to tell, and they did wait for something: not judged.
    assert V.scales(dict(free, blocks_per_second=[12.0, 9.0], overlap={"both": 0.0, "expected": 0.01})) is None
    # A lock held through each long call: rare blocks per second, but about one per call.
    assert V.scales(dict(free, blocks_per_second=[20.0, 22.0], blocks_per_call=[0.9, 0.8])) is False
    assert V.ran_together(None) is None and V.ran_together({"both": 0.1, "expected": 0.2}) == 0.5


def test_concurrent_measurements_get_two_disjoint_cores_each() -> None:
    assert core_slots(1, [0, 1, 2, 3]) == [None]
    assert core_slots(2, [0, 1]) == [None]  # two cores: one measurement at a time
    assert core_slots(2, [0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert core_slots(8, [0, 1, 2, 3, 4, 5]) == [[0, 1], [2, 3], [4, 5]]
    assert core_slots(2, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3]]


def test_gil301_findings_are_measured_at_the_coroutine_that_contains_them(tmp_path: Path) -> None:
    from gillint.verify.targets import coroutine_target

    source = tmp_path / "service.py"
    source.write_text("import asyncio\n\n\nasync def handle(rows):\n    return sorted(rows)\n\n\nclass Api:\n"
                      "    async def get(self, rows):\n        return sorted(rows)\n\n    @staticmethod\n"
                      "    async def ping(rows):\n        return rows\n\n\ndef plain():\n    return 1\n",
                      encoding="utf-8")
    handle = coroutine_target(str(source), 5)
    assert (handle.qualname, handle.kind, handle.is_method, handle.args_source) == ("handle", "event-loop", False, None)
    method = coroutine_target(str(source), 10)
    assert (method.qualname, method.is_method) == ("Api.get", True)
    assert coroutine_target(str(source), 14).is_method is False  # a staticmethod needs no instance
    assert coroutine_target(str(source), 18) is None  # not in a coroutine
    broken = tmp_path / "broken.py"
    broken.write_text("async def (:\n", encoding="utf-8")
    assert coroutine_target(str(broken), 1) is None
    assert coroutine_target(str(tmp_path / "missing.py"), 1) is None


def test_a_probe_starved_of_cpu_makes_a_low_gil_frac_inconclusive() -> None:
    starved = [{"probe_queued": 0.15, "wall": 0.2}, {"probe_queued": 0.16, "wall": 0.2}, {"probe_queued": 0.02, "wall": 0.2}]
    assert V.cpu_starved(starved) == pytest.approx(0.75)
    assert V.cpu_starved([{"probe_queued": 0.01, "wall": 0.2}]) is None
    assert V.cpu_starved([{"gil_frac": 0.1}]) is None


def test_interpret_marks_a_starved_releases_verdict_unreliable() -> None:
    from gillint.verify.runner import Verifier, interpret
    from gillint.verify.sandbox import ChildOutcome
    from gillint.verify.settings import VerifySettings

    def outcome(queued):
        windows = [{"event": "window", "gil_frac": 0.01, "run_frac": 0.99, "wakes": 20, "queue_corrected": True,
                    "probe_queued": queued, "wall": 0.2} for _ in range(3)]
        return ChildOutcome(events=[{"event": "started"}, {"event": "imported"}] + windows +
                            [{"event": "done", "call_seconds": 0.3, "returned": True}])

    for queued, reliable in ((0.15, False), (0.01, True)):
        result = V.VerifyResult(label="x", path="x.py", line=1, code="GIL101", qualname="fib", verdict=V.NOT_RUNNABLE)
        interpret(outcome(queued), result)
        Verifier._finish(None, result, 0.0)  # type: ignore[arg-type]
        assert result.verdict == V.RELEASES
        assert result.unreliable is (not reliable)
        assert result.outcome == ("refuted" if reliable else "inconclusive")
        assert ("waiting for a CPU" in result.reason) is (not reliable)


def _child(*events, **fields):
    from gillint.verify.sandbox import ChildOutcome

    return ChildOutcome(events=[dict(e) for e in events], **fields)


WINDOW = {"event": "window", "gil_frac": 0.9, "run_frac": 1.0, "wakes": 150, "queue_corrected": True,
          "probe_queued": 0.0, "wall": 0.2}


def test_interpret_keeps_the_verdict_when_the_time_limit_cuts_the_timing_or_the_ladder() -> None:
    from gillint.verify.runner import interpret

    cut = _child({"event": "started"}, {"event": "imported"}, WINDOW, WINDOW, WINDOW,
                 {"event": "done", "call_seconds": 0.05, "returned": True, "call_kind": "coroutine",
                  "loop_block_seconds": 0.04}, timed_out=True, seconds=10.0)
    result = V.VerifyResult("x", "x.py", 1, "GIL301", "f", V.NOT_RUNNABLE)
    interpret(cut, result)
    assert result.verdict == V.GIL_BOUND and result.loop_block_seconds == 0.04 and result.call_kind == "coroutine"
    assert result.timing == {"skipped": "cut off by the time limit"}
    assert result.ladder == {"skipped": "cut off by the time limit"} and result.growth == "cut off by the time limit"
    ladder = {"event": "ladder", "mode": "scale", "rungs": [{"size": 10, "seconds": 0.001}, {"size": 100, "seconds": 0.01}]}
    timing = {"event": "timing", "free_cores": 1.9, "threads_speedup": {"median": 1.0, "min": 0.98, "max": 1.02,
                                                                      "rounds": [1.0, 0.98, 1.02]}}
    full = _child({"event": "started"}, {"event": "imported"}, WINDOW, WINDOW, WINDOW,
                  {"event": "done", "call_seconds": 0.05, "returned": False}, timing, ladder)
    result = V.VerifyResult("x", "x.py", 1, "GIL101", "f", V.NOT_RUNNABLE)
    interpret(full, result)
    assert result.thread_speedup == 1.0 and result.speedups["threads"]["shown"]
    assert result.ladder["mode"] == "scale" and "grows about linearly" in result.growth
    assert "cut off" in result.reason
    empty = _child({"event": "started"}, {"event": "imported"}, {"event": "done", "returned": True})
    result = V.VerifyResult("x", "x.py", 1, "GIL101", "f", V.NOT_RUNNABLE)
    interpret(empty, result)
    assert result.verdict == V.ERROR and result.reason == "no probe window was completed"


@pytest.mark.parametrize("kind, verdict, phrase", [
    ("import", V.NOT_RUNNABLE, "import failed: boom"), ("resource", V.NOT_RUNNABLE, "needs a resource"),
    ("not-runnable", V.NOT_RUNNABLE, "boom"), ("arguments", V.ERROR, "building the arguments failed"),
    ("error", V.ERROR, "the call raised boom"),
])
def test_interpret_names_how_the_child_failed(kind, verdict, phrase) -> None:
    from gillint.verify.runner import interpret

    result = V.VerifyResult("x", "x.py", 1, "GIL101", "f", V.NOT_RUNNABLE)
    interpret(_child({"event": "started"}, {"event": "failed", "kind": kind, "message": "boom"}), result)
    assert result.verdict == verdict and phrase in result.reason


@pytest.mark.parametrize("code, imported, phrase", [
    (-9, True, "killed (SIGKILL)"), (-24, True, "CPU-time limit"), (-11, True, "crashed (SIGSEGV)"),
    (-200, True, "signal 200"), (70, True, "a gillint bug"), (3, False, "status 3 while importing the module"),
])
def test_a_child_that_ends_without_reporting_says_how(code, imported, phrase) -> None:
    from gillint.verify.runner import ended_without_report

    assert phrase in ended_without_report(_child(returncode=code), imported)


def test_the_gil_off_run_summary() -> None:
    from gillint.verify.runner import gil_off_summary

    scaling = {"run_fracs": [0.97, 0.96], "blocks_per_second": [1.0, 2.0]}
    good = gil_off_summary(_child({"event": "started", "interpreter": {"version": "3.13.5"}},
                                  {"event": "imported", "gil_enabled": False},
                                  {"event": "done", "scaling": scaling, "timing": {"rounds": 3}}))
    assert good["scales"] is True and good["timing"] == {"rounds": 3} and good["gil_enabled_after_import"] is False
    assert gil_off_summary(_child(timed_out=True))["error"] == "timed out"
    assert gil_off_summary(_child({"event": "failed", "message": "ImportError: x"}))["error"] == "ImportError: x"
    assert "status 5" in gil_off_summary(_child(returncode=5))["error"]
    reenabled = gil_off_summary(_child({"event": "imported", "gil_enabled": True, "gil_enabled_by": ["legacy_ext"]},
                                       {"event": "done", "scaling": {"run_fracs": [0.5, 0.5],
                                                                     "blocks_per_second": [180.0, 190.0]}}))
    assert reenabled["gil_enabled_by"] == ["legacy_ext"] and reenabled["scales"] is False


def test_the_text_report_puts_serial_and_two_threads_with_the_gil_on_and_off_side_by_side() -> None:
    from gillint.verify.report import free_threaded_table, gil_off_notes

    def timed(serial, threads):
        return {"seconds": {"serial": serial, "threads": threads}, "free_cores": 1.8,
                "threads_speedup": {"median": serial[1] / threads[1], "min": serial[0] / threads[0],
                                    "max": serial[2] / threads[2], "rounds": [1, 1, 1]}}

    result = V.VerifyResult(label="m.py:3 GIL101 crunch", path="m.py", line=3, code="GIL101", qualname="crunch",
                            verdict=V.GIL_BOUND, timing=timed([0.2, 0.2, 0.2], [0.21, 0.2, 0.2]))
    result.gil_off = {"scales": True, "gil_enabled_after_import": False,
                      "timing": timed([0.2, 0.2, 0.2], [0.105, 0.1, 0.1])}
    result.speedups = V.judge_speedups(result.verdict, None, result.timing, result.gil_off["timing"])
    lines = free_threaded_table([result])
    header = next(line for line in lines if line.startswith("finding"))
    assert "serial" in header and "2 threads GIL on" in header and "2 threads GIL off" in header
    row = next(line for line in lines if line.startswith("m.py:3"))
    assert row.split()[3:] == ["200ms", "200ms", "1.00x", "100ms", "2.00x", "scales"]
    assert free_threaded_table([V.VerifyResult(label="x", path="x", line=1, code="", qualname="x",
                                               verdict=V.GIL_BOUND)]) == []
    notes = gil_off_notes({"gil_enabled_after_import": True, "gil_enabled_by": ["legacy_ext"], "scales": False})
    assert notes == ["the GIL came back on: importing `legacy_ext` turned it on (an extension that does not declare "
                     "free-threading support; `gillint deps` lists them), so threads run one at a time as with the GIL",
                     "with the GIL back on: does not scale on two threads"]
    assert gil_off_notes({"error": "timed out"}) == ["with the GIL off: timed out"]
    assert "scaling not judged" in gil_off_notes({"scales": None, "scaling": {"run_fracs": [1.0, 1.0]}})[0]
