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
    assert "not literals" in job.not_runnable and "line 6" in job.not_runnable
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


def test_second_opinion_disagreement_is_noted_never_decisive() -> None:
    assert "1.90x" in V.disagreement(V.GIL_BOUND, {"thread_speedup": 1.9})
    assert V.disagreement(V.GIL_BOUND, {"thread_speedup": 1.05}) == ""
    assert "memory bandwidth" in V.disagreement(V.RELEASES, {"thread_speedup": 1.0})


def test_scaling_needs_every_thread_running_without_extra_cpu_per_call() -> None:
    assert V.scales({"run_fracs": [0.97, 0.95], "cpu_per_call_alone": 0.01, "cpu_per_call_together": 0.011})
    assert not V.scales({"run_fracs": [0.5, 0.52]})
    assert V.scales({"run_fracs": [0.6, 0.9], "blocks_per_second": [0.0, 2.5]})
    assert not V.scales({"run_fracs": [0.9, 0.9], "blocks_per_second": [215.0, 210.0]})
    assert not V.scales({"run_fracs": [0.97, 0.95], "cpu_per_call_alone": 0.01, "cpu_per_call_together": 0.03})
    assert V.scales({}) is None


def test_concurrent_measurements_get_two_disjoint_cores_each() -> None:
    assert core_slots(1, [0, 1, 2, 3]) == [None]
    assert core_slots(2, [0, 1]) == [None]  # two cores: one measurement at a time
    assert core_slots(2, [0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert core_slots(8, [0, 1, 2, 3, 4, 5]) == [[0, 1], [2, 3], [4, 5]]
    assert core_slots(2, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3]]
