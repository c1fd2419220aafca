"""`gillint check --fix`, `--unsafe-fixes` and `--diff` on example programs, through the real command.

The examples in fixtures/_fixes are programs: each runs and prints deterministic output.  The tests
fix copies of them with the installed `gillint`, compare the results with the committed `fixed/` and
`unsafe/` files, run every program before and after, and compare what they print.
"""

from __future__ import annotations

import collections
import difflib
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gillint.config import Config
from gillint.engine import lint_paths

from conftest import FIXTURES

EXAMPLES = FIXTURES / "_fixes"
PROGRAMS = sorted(EXAMPLES.glob("*.py"))
FIXED = {p.name: p for p in (EXAMPLES / "fixed").glob("*.py")}
UNSAFE = {p.name: p for p in (EXAMPLES / "unsafe").glob("*.py")}
EXPECT = re.compile(r"^# expect-fix: (.*)$", re.M)


def _expected_fixes(path: Path) -> collections.Counter:
    found = EXPECT.search(path.read_text(encoding="utf-8"))
    assert found, "%s has no `# expect-fix:` line" % path.name
    return collections.Counter(tuple(item.split()) for item in found.group(1).split(","))


def _copy(tmp_path: Path) -> Path:
    work = tmp_path / "examples"
    work.mkdir()
    for program in PROGRAMS:
        shutil.copy(program, work / program.name)
    return work


def _run_program(path: Path) -> str:
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=str(path.parent))
    assert done.returncode == 0, "%s failed:\n%s" % (path, done.stderr)
    return done.stdout


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_each_example_has_the_fixes_it_declares(program: Path) -> None:
    result = lint_paths([program], Config(root=EXAMPLES), fixes=True)
    found = collections.Counter((d.code, d.fix.applicability) for d in result.diagnostics if d.fix is not None)
    assert found == _expected_fixes(program)
    for diagnostic in result.diagnostics:
        if diagnostic.fix is not None and diagnostic.fix.applicability != "safe":
            assert diagnostic.fix.reason, "an unsafe fix or a missing one must say why"


@pytest.fixture(scope="module")
def fixed_copies(tmp_path_factory):
    """The examples after `gillint check --fix` and after `--fix --unsafe-fixes`, run for real."""
    from conftest import gillint_command

    results = {}
    for label, extra in (("safe", []), ("unsafe", ["--unsafe-fixes"])):
        work = _copy(tmp_path_factory.mktemp(label))
        done = subprocess.run(gillint_command() + ["check", "--no-cache", "--fix"] + extra + ["."], cwd=str(work),
                              capture_output=True, text=True, timeout=300)
        results[label] = (work, done)
    return results


def test_fix_rewrites_the_examples_into_the_committed_after_files(fixed_copies) -> None:
    work, done = fixed_copies["safe"]
    assert done.returncode == 1, done.stderr  # the findings without a safe fix are still reported
    for program in PROGRAMS:
        expected = FIXED.get(program.name, program).read_text(encoding="utf-8")
        assert (work / program.name).read_text(encoding="utf-8") == expected, program.name
    applied = sum(n for p in PROGRAMS for (code, how), n in _expected_fixes(p).items() if how == "safe")
    assert "Fixed %d findings in %d files" % (applied, len(FIXED)) in done.stderr
    assert "1 more fix available with --unsafe-fixes" in done.stderr
    # what is left: the finding with an unsafe fix and the one without a fix, each saying so
    assert "shared_tally.py:20:23: GIL102" in done.stdout and "fix available (unsafe:" in done.stdout
    assert "pool_on_an_attribute.py:19:21: GIL102" in done.stdout
    assert "no automatic fix: the pool `self.pool` is created elsewhere" in done.stdout


def test_unsafe_fixes_apply_the_rest(fixed_copies) -> None:
    work, done = fixed_copies["unsafe"]
    for program in PROGRAMS:
        expected = UNSAFE.get(program.name) or FIXED.get(program.name) or program
        assert (work / program.name).read_text(encoding="utf-8") == expected.read_text(encoding="utf-8"), program.name
    assert "pool_on_an_attribute.py:19:21: GIL102" in done.stdout and done.returncode == 1


@pytest.mark.parametrize("name", sorted(FIXED), ids=sorted(FIXED))
def test_a_safe_fix_keeps_what_the_program_prints(name: str, fixed_copies) -> None:
    work, _ = fixed_copies["safe"]
    assert _run_program(work / name) == _run_program(EXAMPLES / name)


def test_the_unsafe_fix_is_unsafe_for_the_reason_it_gives(fixed_copies) -> None:
    """TALLY is appended to in the worker processes: the parent's list stays empty."""
    work, _ = fixed_copies["unsafe"]
    before, after = _run_program(EXAMPLES / "shared_tally.py"), _run_program(work / "shared_tally.py")
    assert before.splitlines()[0] == after.splitlines()[0]  # the result itself is the same
    assert before != after and "tally entries: 0" in after
    result = lint_paths([EXAMPLES / "shared_tally.py"], Config(root=EXAMPLES), fixes=True)
    (finding,) = result.diagnostics
    assert "`TALLY`, state shared with the caller" in finding.fix.reason


def test_fixes_keep_every_comment(fixed_copies) -> None:
    work, _ = fixed_copies["safe"]
    for name in FIXED:
        comments = [line.strip() for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines()
                    if line.strip().startswith("#")]
        assert all(c in (work / name).read_text(encoding="utf-8") for c in comments), name


def test_fixing_again_changes_nothing(run_gillint, fixed_copies) -> None:
    work, _ = fixed_copies["safe"]
    before = {p.name: p.read_bytes() for p in work.glob("*.py")}
    again = run_gillint("check", "--no-cache", "--fix", ".", cwd=work)
    assert {p.name: p.read_bytes() for p in work.glob("*.py")} == before
    assert "Fixed 0 findings in 0 files" in again.stderr
    diff = run_gillint("check", "--no-cache", "--diff", ".", cwd=work)
    assert diff.returncode == 0 and diff.stdout == ""


def test_diff_prints_the_fixes_writes_nothing_and_exits_1(run_gillint, tmp_path: Path) -> None:
    work = _copy(tmp_path)
    before = {p.name: p.read_bytes() for p in work.glob("*.py")}
    done = run_gillint("check", "--no-cache", "--diff", ".", cwd=work)
    assert done.returncode == 1, done.stderr
    assert {p.name: p.read_bytes() for p in work.glob("*.py")} == before
    expected = "".join(
        "".join(difflib.unified_diff((EXAMPLES / name).read_text(encoding="utf-8").splitlines(keepends=True),
                                     FIXED[name].read_text(encoding="utf-8").splitlines(keepends=True),
                                     fromfile="a/%s" % name, tofile="b/%s" % name))
        for name in sorted(FIXED))
    assert done.stdout == expected
    assert "Would fix" in done.stderr


def test_unsafe_fixes_needs_fix_or_diff(run_gillint, tmp_path: Path) -> None:
    done = run_gillint("check", "--unsafe-fixes", str(tmp_path))
    assert done.returncode == 2 and "--unsafe-fixes needs --fix or --diff" in done.stderr


BROKEN = "def broken(:\n    pass\n"


def test_a_file_with_a_syntax_error_is_never_touched_and_the_others_are_fixed(run_gillint, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "thread_pool_scores.py", tmp_path / "scores.py")
    (tmp_path / "broken.py").write_text("from concurrent.futures import ThreadPoolExecutor\n" + BROKEN, encoding="utf-8")
    raw = (tmp_path / "broken.py").read_bytes()
    done = run_gillint("check", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert (tmp_path / "broken.py").read_bytes() == raw
    assert (tmp_path / "scores.py").read_text(encoding="utf-8") == FIXED["thread_pool_scores.py"].read_text(encoding="utf-8")
    not_fixed = [line for line in done.stderr.splitlines() if "not fixed" in line]
    assert len(not_fixed) == 1 and "broken.py" in not_fixed[0], done.stderr
    assert done.returncode == 1 and "GIL000" in done.stdout


def test_json_report_carries_each_fix(run_gillint) -> None:
    done = run_gillint("check", "--no-cache", "--format", "json", str(EXAMPLES / "thread_pool_scores.py"),
                       str(EXAMPLES / "pool_on_an_attribute.py"))
    findings = {Path(d["path"]).name: d for d in json.loads(done.stdout)["diagnostics"]}
    fix = findings["thread_pool_scores.py"]["fix"]
    assert fix["applicability"] == "safe" and fix["title"] == "use a ProcessPoolExecutor"
    source = (EXAMPLES / "thread_pool_scores.py").read_text(encoding="utf-8").splitlines(keepends=True)
    from gillint.diagnostics import Edit
    from gillint.fixes.apply import apply_edits

    edits = [Edit(**e) for e in fix["edits"]]
    assert apply_edits("".join(source), edits) == FIXED["thread_pool_scores.py"].read_text(encoding="utf-8")
    missing = findings["pool_on_an_attribute.py"]["fix"]
    assert missing["applicability"] == "none" and missing["edits"] == [] and "self.pool" in missing["reason"]


def test_sarif_report_has_fixes_that_rebuild_the_fixed_file(run_gillint, sarif_schema) -> None:
    import jsonschema

    done = run_gillint("check", "--no-cache", "--format", "sarif", str(EXAMPLES / "async_report_service.py"),
                       str(EXAMPLES / "pool_on_an_attribute.py"))
    document = json.loads(done.stdout)
    jsonschema.validate(document, sarif_schema)
    results = document["runs"][0]["results"]
    with_fixes = [r for r in results if "fixes" in r]
    assert len(with_fixes) == 3
    assert all(r["properties"]["fix"]["applicability"] == "safe" for r in with_fixes)
    without = [r for r in results if "fixes" not in r]
    assert len(without) == 1 and without[0]["properties"]["fix"]["applicability"] == "none"
    # the first fix, applied to the original lines through its SARIF regions, gives a file that compiles
    lines = (EXAMPLES / "async_report_service.py").read_text(encoding="utf-8").splitlines(keepends=True)
    replacements = with_fixes[0]["fixes"][0]["artifactChanges"][0]["replacements"]
    for replacement in sorted(replacements, key=lambda r: r["deletedRegion"]["startLine"], reverse=True):
        region = replacement["deletedRegion"]
        text = replacement.get("insertedContent", {}).get("text", "")
        lines[region["startLine"] - 1:region["endLine"] - 1] = text.splitlines(keepends=True)
    compile("".join(lines), "fixed.py", "exec")
    assert "run_in_executor(_process_pool()" in "".join(lines)


def test_text_report_says_a_fix_is_available(run_gillint) -> None:
    done = run_gillint("check", "--no-cache", str(EXAMPLES / "thread_pool_scores.py"))
    assert "fix available: use a ProcessPoolExecutor (run with --fix)" in done.stdout
    assert "1 fixable with --fix." in done.stdout
    quiet = run_gillint("check", "--no-cache", "-q", str(EXAMPLES / "thread_pool_scores.py"))
    assert quiet.stdout.rstrip().endswith("[fix available]")


@pytest.mark.slow
def test_verify_sees_the_fixed_pool_leave_the_callers_gil_free(run_gillint) -> None:
    """`gillint verify` on `rank` before and after the fix.  Before, its worker threads hold the GIL
    (gil-bound; on a machine so loaded that the child barely gets a CPU, io-bound); after, the work runs
    in processes and the caller waits with the GIL free (releases-gil, or io-bound under load): never
    gil-bound.  The GIL share the probe measured falls with it.  No timing decides the outcome."""
    found = {}
    for label, path in (("before", EXAMPLES / "thread_pool_scores.py"), ("after", FIXED["thread_pool_scores.py"])):
        done = run_gillint("verify", "--snippet", "%s::rank" % path, "--args", "400", "--progress", "never",
                           "--format", "json", timeout=600)
        (result,) = json.loads(done.stdout)["results"]
        found[label] = (result["verdict"], result["gil_frac"])
    assert found["before"][0] in ("gil-bound", "io-bound") and found["after"][0] in ("releases-gil", "io-bound"), found
    assert found["before"][1] > found["after"][1], found


@pytest.mark.slow
def test_every_fixture_fixed_with_unsafe_fixes_still_compiles_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """Copies of all the rule fixtures (the realistic ones included), fixed in one run with every fix."""
    from gillint.fixes.apply import fix_paths, write_fixed

    work = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, work, ignore=shutil.ignore_patterns("_*", "verify", "__pycache__"))
    outcome = fix_paths([work], Config(root=work), unsafe=True)
    assert outcome.changed, "the fixtures have fixable findings"
    for path in outcome.changed:
        compile(outcome.fixed[path], path, "exec")
    unplanned = [d.fix.reason for d in outcome.result.diagnostics if d.fix is not None and "could not plan" in d.fix.reason]
    assert unplanned == []
    write_fixed(outcome)
    again = fix_paths([work], Config(root=work), unsafe=True)
    assert again.applied == 0 and again.changed == []


@pytest.mark.parametrize("name", sorted(FIXED), ids=sorted(FIXED))
def test_a_safe_fix_keeps_the_output_under_the_spawn_start_method(name: str, tmp_path: Path) -> None:
    """The spawn condition in practice: each worker process imports the fixed module again (the default
    on macOS and Windows, and on Linux from Python 3.14).  The fixed program, started with spawn, prints
    what the original printed."""
    text = FIXED[name].read_text(encoding="utf-8")
    spawned = tmp_path / name
    spawned.write_text('import multiprocessing\nmultiprocessing.set_start_method("spawn", force=True)\n' + text,
                       encoding="utf-8")
    assert _run_program(spawned) == _run_program(EXAMPLES / name)


def test_an_unpicklable_argument_beside_the_target_has_no_automatic_fix(tmp_path: Path) -> None:
    """GIL203 on a callable in ``args`` (the original of a decorated function): moving the target would
    not help, so the fixer says why it offers nothing, and the file is left as it was."""
    from conftest import gillint_command

    source = textwrap.dedent('''
        import multiprocessing


        def _call(function, *args):
            return function(*args)


        def in_process(function):
            def wrapper(*args):
                multiprocessing.Process(target=_call, args=(function,) + args).start()
            return wrapper
    ''').lstrip()
    (tmp_path / "deco.py").write_text(source, encoding="utf-8")
    done = subprocess.run(gillint_command() + ["check", "--no-cache", "--no-config", "--fix", "deco.py"],
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert "deco.py:10:9: GIL203 `function` is the original of a function that the decorator `in_process` wraps" \
        in done.stdout, done.stdout + done.stderr
    assert "no automatic fix: what cannot be pickled is an argument sent beside the target" in done.stdout
    assert (tmp_path / "deco.py").read_text(encoding="utf-8") == source
