"""The `gillint` hook of .pre-commit-hooks.yaml, through the real `pre-commit try-repo`.

try-repo installs gillint from this checkout (its uncommitted changes included) into
pre-commit's own virtualenv, with dependencies from the package index, exactly as a user's
`pre-commit install` would.  That environment is built once per test session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict

import pytest
import yaml

from conftest import ROOT, CPU_BOUND_THREAD

HOOKS = ROOT / ".pre-commit-hooks.yaml"

CPU_BOUND = CPU_BOUND_THREAD

CLEAN = textwrap.dedent("""\
    import threading
    import time


    def nap():
        time.sleep(1)


    def start():
        threading.Thread(target=nap).start()
    """)

WORKER_MODULE = textwrap.dedent("""\
    def checksum(rows):
        total = 0
        for row in rows:
            total = (total * 31 + row) % 65521
        return total
    """)

STARTER_MODULE = textwrap.dedent("""\
    import threading

    from app.work import checksum


    def start(rows):
        threading.Thread(target=checksum, args=(rows,)).start()
    """)


def test_hook_manifest_declares_the_gillint_hook() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    by_id = {hook["id"]: hook for hook in hooks}
    hook = by_id["gillint"]
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["entry"].split() == ["gillint", "check"]
    assert hook.get("pass_filenames", True) is True


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    """One pre-commit cache for the session: the hook environment is installed once."""
    if shutil.which("git") is None:  # pragma: no cover - git comes with every CI image we use
        pytest.skip("git is not installed; pre-commit needs it")
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=str(repo), check=True, capture_output=True, text=True, timeout=120)


def _make_repo(repo: Path, files: Dict[str, str]) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.name", "gillint tests")
    _git(repo, "config", "user.email", "tests@gillint.invalid")
    _git(repo, "config", "commit.gpgsign", "false")
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return repo


def _try_repo(repo: Path, home: Path, *args: str, hook: str = "gillint") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update({"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1"})
    env.pop("PRE_COMMIT", None)
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--verbose", *args]
    return subprocess.run(command, cwd=str(repo), env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_hook_fails_on_a_gil_bound_file_and_passes_on_a_clean_one(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = _make_repo(tmp_path / "repo", {"bound.py": CPU_BOUND, "clean.py": CLEAN})
    _git(repo, "add", "bound.py", "clean.py")

    bound = _try_repo(repo, pre_commit_home, "--files", "bound.py")
    assert bound.returncode == 1, bound.stdout + bound.stderr
    assert "bound.py:12:5: GIL101" in bound.stdout, bound.stdout
    assert "Failed" in bound.stdout

    clean = _try_repo(repo, pre_commit_home, "--files", "clean.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "GIL" not in clean.stdout.replace("gillint", "")
    assert "Passed" in clean.stdout

    staged = _try_repo(repo, pre_commit_home)  # no --files: the staged files, as on `git commit`
    assert staged.returncode == 1 and "bound.py:12:5: GIL101" in staged.stdout, staged.stdout


@pytest.mark.slow
def test_hook_on_one_staged_file_still_follows_targets_into_unstaged_modules(tmp_path: Path,
                                                                             pre_commit_home: Path) -> None:
    """pre-commit names only the changed files; the engine reads the modules they import from disk."""
    repo = _make_repo(tmp_path / "repo", {
        "pyproject.toml": "[tool.gillint]\nmin-iterations = 10000\n",
        "app/__init__.py": "",
        "app/work.py": WORKER_MODULE,
        "app/jobs.py": STARTER_MODULE,
    })
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "the target module, committed and unchanged")
    with open(repo / "app" / "jobs.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef start_twice(rows):\n    start(rows)\n    start(rows)\n")
    _git(repo, "add", "app/jobs.py")

    result = _try_repo(repo, pre_commit_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/jobs.py:7:5: GIL101" in result.stdout, result.stdout
    assert "checksum" in result.stdout and "work.py" in result.stdout


def test_hook_reports_a_broken_config_and_fails(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = _make_repo(tmp_path / "repo", {"pyproject.toml": "[tool.gillint]\nselct = [\"GIL1\"]\n", "clean.py": CLEAN})
    _git(repo, "add", ".")
    result = _try_repo(repo, pre_commit_home, "--files", "clean.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unknown key 'selct'" in result.stdout


@pytest.mark.slow
def test_fix_hook_applies_the_safe_fix_fails_once_then_passes(tmp_path: Path, pre_commit_home: Path) -> None:
    """`gillint-fix`: the first run rewrites the file and fails (pre-commit: files were modified); the
    second run finds nothing left and passes.  A file with a syntax error is left as it was."""
    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    assert hooks["gillint-fix"]["entry"].split() == ["gillint", "check", "--fix"]
    scores = (ROOT / "fixtures" / "_fixes" / "thread_pool_scores.py").read_text(encoding="utf-8")
    fixed = (ROOT / "fixtures" / "_fixes" / "fixed" / "thread_pool_scores.py").read_text(encoding="utf-8")
    broken = "def broken(:\n    pass\n"
    repo = _make_repo(tmp_path / "repo", {"scores.py": scores, "broken.py": broken})
    _git(repo, "add", "scores.py")

    first = _try_repo(repo, pre_commit_home, "--files", "scores.py", hook="gillint-fix")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert (repo / "scores.py").read_text(encoding="utf-8") == fixed

    _git(repo, "add", "scores.py")
    second = _try_repo(repo, pre_commit_home, "--files", "scores.py", hook="gillint-fix")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout

    untouched = _try_repo(repo, pre_commit_home, "--files", "broken.py", hook="gillint-fix")
    assert untouched.returncode == 1 and "broken.py: not fixed" in untouched.stdout, untouched.stdout
    assert (repo / "broken.py").read_text(encoding="utf-8") == broken
