"""The flake8 plugin, through the real `flake8`: the same findings as `gillint check`, and flake8's own
selection, ignores and `# noqa` applied to them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional, Set, Tuple

import pytest

from conftest import FIXTURES, ROOT, gillint_command, CPU_BOUND_THREAD
from fixture_format import expectations, fixture_units

FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"
Finding = Tuple[str, int, int, str, str]  # resolved path, line, 1-based column, code, message

THREADED = CPU_BOUND_THREAD


def run_flake8(*args: str, cwd: Path, input: Optional[str] = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "flake8", "--isolated", "--format", FORMAT, *args]
    return subprocess.run(command, cwd=str(cwd), input=input, capture_output=True, text=True, timeout=300)


def flake8_findings(result: subprocess.CompletedProcess, cwd: Path) -> Set[Finding]:
    found = set()
    for line in result.stdout.splitlines():
        path, row, col, code, text = line.split("|", 4)
        message = text.split(" ", 1)[1] if text.startswith(code + " ") else text
        found.add((str((cwd / path).resolve()), int(row), int(col), code, message))
    return found


def gillint_findings(*paths: str, cwd: Path, extra: Tuple[str, ...] = ()) -> Set[Finding]:
    result = subprocess.run(gillint_command() + ["check", "--format", "json", *extra, *paths], cwd=str(cwd),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return {(str((cwd / d["path"]).resolve()), d["line"], d["column"], d["code"], d["message"])
            for d in json.loads(result.stdout)["diagnostics"]}


def codes_by_line(findings: Set[Finding]) -> Set[Tuple[str, int, str]]:
    return {(Path(path).name, line, code) for path, line, _, code, _ in findings}


def write_project(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


# ---------------------------------------------------------------- registration


def test_flake8_loads_the_plugin_under_the_GIL_prefix() -> None:
    result = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "gillint:" in result.stdout
    help_text = subprocess.run([sys.executable, "-m", "flake8", "--help"], capture_output=True, text=True, timeout=120)
    assert "--gillint-config" in help_text.stdout


# ---------------------------------------------------------------- same findings as the CLI


@pytest.mark.slow
def test_flake8_reports_exactly_what_gillint_check_reports_on_every_fixture() -> None:
    """Each fixture is its own `gillint check` run, as in test_fixtures.py; flake8 checks them all at once.

    (A run-wide fact such as `loop.set_default_executor(ProcessPoolExecutor())` is taken from the
    files of the run, and flake8 hands the plugin one file at a time: so the CLI is run per fixture.)
    """
    expected: Set[Finding] = set()
    for unit in fixture_units(FIXTURES):
        expected |= gillint_findings(str(unit.relative_to(ROOT)), cwd=ROOT)
    result = run_flake8("--select", "GIL", "fixtures", cwd=ROOT)
    assert "Traceback" not in result.stderr, result.stderr
    actual = flake8_findings(result, ROOT)
    assert len(expected) >= 60  # the fixtures are not empty
    assert sorted(expected - actual) == [] and sorted(actual - expected) == []


def test_editor_run_on_one_file_finds_targets_in_other_modules_of_the_project(tmp_path: Path) -> None:
    """An editor runs flake8 on the saved file only, from anywhere: the plugin still reads the
    package's other modules and its pyproject.toml (knowledge additions, per-file-ignores)."""
    package = FIXTURES / "crossmodule_pkg"
    jobs = package / "shop" / "jobs.py"
    wanted = {(jobs.name, line, code) for _, line, code, _ in expectations(jobs, jobs.read_text(encoding="utf-8"))[0]}
    assert len(wanted) == 4
    result = run_flake8("--select", "GIL", str(jobs), cwd=tmp_path)
    assert codes_by_line(flake8_findings(result, tmp_path)) == wanted
    cli = gillint_findings(str(jobs), cwd=tmp_path)
    assert flake8_findings(result, tmp_path) == cli


def test_editor_run_on_unsaved_text_from_stdin_uses_the_display_name(tmp_path: Path) -> None:
    jobs = FIXTURES / "crossmodule_pkg" / "shop" / "jobs.py"
    text = jobs.read_text(encoding="utf-8")
    result = run_flake8("--select", "GIL", "--stdin-display-name", str(jobs), "-", cwd=tmp_path, input=text)
    assert codes_by_line(flake8_findings(result, tmp_path)) == {
        ("jobs.py", 11, "GIL101"), ("jobs.py", 12, "GIL101"), ("jobs.py", 14, "GIL101"), ("jobs.py", 16, "GIL102")}
    edited = text.replace("    threading.Thread(target=pricing.reprice", "    # threading.Thread(target=pricing.reprice")
    result = run_flake8("--select", "GIL", "--stdin-display-name", str(jobs), "-", cwd=tmp_path, input=edited)
    assert ("jobs.py", 11, "GIL101") not in codes_by_line(flake8_findings(result, tmp_path))


def test_pyproject_options_reach_the_plugin_like_the_cli(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "pyproject.toml": """\
            [tool.gillint]
            target-version = "3.13t"
            extend-exclude = ["generated"]
            per-file-ignores = { "legacy.py" = ["GIL101"] }
            """,
        "app.py": THREADED,
        "legacy.py": THREADED,
        "generated/app_pb.py": THREADED,
    })
    cli = gillint_findings(".", cwd=tmp_path)
    result = run_flake8("--select", "GIL", ".", cwd=tmp_path)
    flake8 = flake8_findings(result, tmp_path)
    assert flake8 == cli
    assert codes_by_line(flake8) == {("app.py", 12, "GIL101")}
    default = gillint_findings("app.py", cwd=tmp_path, extra=("--no-config",))
    assert {f[4] for f in flake8} != {f[4] for f in default}, "target-version 3.13t changes the message"


# ---------------------------------------------------------------- flake8's own selection and noqa


def test_noqa_is_flake8s_and_agrees_with_the_cli(tmp_path: Path) -> None:
    write_project(tmp_path, {"app.py": THREADED + textwrap.dedent("""\


        def more():
            threading.Thread(target=crunch, args=(1,)).start()  # noqa: GIL101
            threading.Thread(target=crunch, args=(2,)).start()  # noqa: E501
            threading.Thread(target=crunch, args=(3,)).start()  # noqa
            threading.Thread(target=crunch, args=(4,)).start()  # noqa:GIL1
            threading.Thread(  # noqa: GIL101
                target=crunch, args=(5,),
            ).start()
        """)})
    result = run_flake8("--select", "GIL", "app.py", cwd=tmp_path)
    flake8 = flake8_findings(result, tmp_path)
    assert codes_by_line(flake8) == {("app.py", 12, "GIL101"), ("app.py", 17, "GIL101")}
    assert flake8 == gillint_findings("app.py", cwd=tmp_path)
    everything = flake8_findings(run_flake8("--select", "GIL", "--disable-noqa", "app.py", cwd=tmp_path), tmp_path)
    assert len(everything) == 6


def test_noqa_on_a_later_line_of_a_statement_counts_only_for_the_cli(tmp_path: Path) -> None:
    """flake8 looks for `# noqa` on the reported line only; `gillint check` on every line of the
    statement.  docs/integrations.md says so and advises the reported (first) line, which both honour."""
    write_project(tmp_path, {"app.py": THREADED.replace(
        "    threading.Thread(target=crunch, args=(10,)).start()\n",
        "    threading.Thread(\n        target=crunch, args=(10,),\n    ).start()  # noqa: GIL101\n")})
    assert codes_by_line(flake8_findings(run_flake8("--select", "GIL", "app.py", cwd=tmp_path), tmp_path)) == {
        ("app.py", 12, "GIL101")}
    assert gillint_findings("app.py", cwd=tmp_path) == set()


def test_extend_ignore_and_per_file_ignores_apply_to_GIL_codes(tmp_path: Path) -> None:
    write_project(tmp_path, {"a.py": THREADED, "b.py": THREADED})
    both = codes_by_line(flake8_findings(run_flake8("--select", "GIL", ".", cwd=tmp_path), tmp_path))
    assert both == {("a.py", 12, "GIL101"), ("b.py", 12, "GIL101")}
    assert flake8_findings(run_flake8("--extend-ignore", "GIL", ".", cwd=tmp_path), tmp_path) == set()
    assert flake8_findings(run_flake8("--extend-ignore", "GIL101,E,W,F,C", ".", cwd=tmp_path), tmp_path) == set()
    result = run_flake8("--select", "GIL", "--per-file-ignores", "a.py:GIL101", ".", cwd=tmp_path)
    assert codes_by_line(flake8_findings(result, tmp_path)) == {("b.py", 12, "GIL101")}
    # Default selection (pycodestyle, pyflakes and every plugin): GIL findings come with flake8's own.
    default = flake8_findings(run_flake8("a.py", cwd=tmp_path), tmp_path)
    assert ("a.py", 12, "GIL101") in codes_by_line(default)


def test_syntax_error_is_flake8s_E999_only(tmp_path: Path) -> None:
    write_project(tmp_path, {"broken.py": "import threading\n\ndef f(:\n    threading.Thread(target=f).start()\n"})
    result = run_flake8("broken.py", cwd=tmp_path)
    assert "Traceback" not in result.stderr and result.stderr.strip() == "", result.stderr
    codes = [code for _, _, _, code, _ in flake8_findings(result, tmp_path)]
    assert codes == ["E999"]


# ---------------------------------------------------------------- configuration


def test_broken_config_is_reported_once_and_does_not_crash_flake8(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "pyproject.toml": "[tool.gillint]\nselct = [\"GIL1\"]\n",
        "a.py": THREADED,
        "b.py": THREADED,
        "c.py": "x = 1\n",
    })
    result = run_flake8("--select", "GIL", "--jobs", "1", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    findings = flake8_findings(result, tmp_path)
    assert [(line, code) for _, line, _, code, _ in findings] == [(1, "GIL000")]
    message = next(iter(findings))[4]
    assert "unknown key 'selct'" in message and "pyproject.toml" in message
    assert result.stderr.count("unknown key 'selct'") == 1
    assert result.returncode == 1


def test_gillint_config_option_names_the_pyproject_from_flake8s_own_config(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "pyproject.toml": "[tool.gillint]\nselct = [\"GIL1\"]\n",  # broken, and overridden below
        "conf/gillint.toml": "[tool.gillint]\nignore = [\"GIL101\"]\n",
        "setup.cfg": "[flake8]\nselect = GIL\ngillint-config = conf/gillint.toml\n",
        "app.py": THREADED + "\n\ndef spin(flag):\n    while not flag.done:\n        pass\n",
    })
    command = [sys.executable, "-m", "flake8", "--format", FORMAT, "app.py"]
    result = subprocess.run(command, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert codes_by_line(flake8_findings(result, tmp_path)) == {("app.py", 16, "GIL103")}
    cli = gillint_findings("app.py", cwd=tmp_path, extra=("--config", "conf/gillint.toml"))
    assert flake8_findings(result, tmp_path) == cli
    missing = run_flake8("--select", "GIL", "--gillint-config", "nowhere.toml", "app.py", cwd=tmp_path)
    assert "nowhere.toml" in missing.stdout and "GIL000" in missing.stdout, missing.stdout


@pytest.mark.slow
def test_plugin_lints_gillints_own_source_without_crashing() -> None:
    result = run_flake8("--select", "GIL", "gillint", cwd=ROOT)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    assert all(code != "GIL000" for _, _, _, code, _ in flake8_findings(result, ROOT))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_serial_and_parallel_flake8_runs_agree(jobs: str) -> None:
    package = "fixtures/crossmodule_pkg"
    result = run_flake8("--select", "GIL", "--jobs", jobs, package, cwd=ROOT)
    assert flake8_findings(result, ROOT) == gillint_findings(package, cwd=ROOT)


# ---------------------------------------------------------------- cost on an editor's save

PLUGIN_PROBE = textwrap.dedent("""\
    import sys
    from gillint.flake8_plugin import GillintChecker
    path = sys.argv[1]
    lines = open(path, encoding="utf-8").read().splitlines(True)
    found = [r[2].split(" ", 1)[0] for r in GillintChecker(None, lines, path).run()]
    print(found, "gillint.engine" in sys.modules, "libcst" in sys.modules)
    """)


def _probe_plugin(path: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-c", PLUGIN_PROBE, path], cwd=str(cwd), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_file_without_thread_code_never_loads_the_engine(tmp_path: Path) -> None:
    write_project(tmp_path, {"plain.py": "def add(a, b):\n    return sum(x * x for x in range(a, b))\n"})
    assert _probe_plugin("plain.py", tmp_path) == "[] False False"


def test_a_free_threaded_target_still_checks_every_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": '[tool.gillint]\ntarget-version = "3.14t"\n',
                             "plain.py": "def add(a, b):\n    return a + b\n"})
    assert _probe_plugin("plain.py", tmp_path) == "[] True True"  # the race rules need every module's summary


def test_after_gillint_check_the_plugin_reads_the_projects_records(tmp_path: Path) -> None:
    write_project(tmp_path, {"job.py": THREADED})
    cli = gillint_findings("job.py", cwd=tmp_path)
    assert (tmp_path / ".gillint_cache" / "CACHEDIR.TAG").is_file()
    codes = sorted(code for _, _, _, code, _ in cli)
    # unchanged since the check: its record is read, libcst is never imported
    assert _probe_plugin("job.py", tmp_path) == "%s True False" % codes
    # a save: the summary is made again and the finding is the same
    (tmp_path / "job.py").write_text(textwrap.dedent(THREADED) + "\n# edited\n", encoding="utf-8")
    assert _probe_plugin("job.py", tmp_path) == "%s True True" % codes


def test_without_a_project_cache_the_plugin_writes_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"job.py": THREADED})
    result = run_flake8("--select", "GIL", "job.py", cwd=tmp_path)
    assert flake8_findings(result, tmp_path)
    assert not (tmp_path / ".gillint_cache").exists()
