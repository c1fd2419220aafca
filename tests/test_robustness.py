"""The whole standard library of the running Python, tests included, is checked without a crash."""

from __future__ import annotations

import json
import os
import sysconfig
from pathlib import Path

import pytest

from gillint.config import DEFAULT_EXCLUDE

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _python_files(top: Path) -> int:
    count = 0
    for directory, dirnames, filenames in os.walk(str(top)):
        # gillint's default excludes (venv, build, ...) apply to the standard library too.
        dirnames[:] = [d for d in dirnames if d not in DEFAULT_EXCLUDE and d not in ("site-packages", "dist-packages")]
        count += sum(1 for name in filenames if name.endswith(".py"))
    return count


@pytest.mark.slow
@pytest.mark.skipif(not (STDLIB / "os.py").is_file(), reason="the standard library is not available as source")
def test_the_whole_standard_library_is_checked_without_a_crash(tmp_path: Path, run_gillint) -> None:
    report = tmp_path / "report.json"
    done = run_gillint("check", "--no-config", "--no-cache", "--jobs", "2", "--exclude", "site-packages",
                       "--exclude", "dist-packages", "--format", "json", "-o", str(report), str(STDLIB), cwd=str(tmp_path),
                       timeout=1200)  # about 1,800 files, tests included: minutes on a loaded 2-core machine
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr[-3000:]
    document = json.loads(report.read_text())
    findings = document["diagnostics"] if isinstance(document, dict) else document
    errors = [d for d in findings if d["code"] == "GIL000"]
    for error in errors:  # every file that could not be checked says why; none for a bug of ours
        assert error["message"].startswith("could not check file:"), error
        assert "internal error" not in error["message"] and "crashed" not in error["message"], error
    # The deliberately invalid test files (bad encodings, syntax errors) are among the reported ones.
    reported = {Path(e["path"]).name for e in errors}
    assert "badsyntax_3131.py" in reported or "bad_coding.py" in reported or not (STDLIB / "test").is_dir()
    checked = document.get("files_checked") if isinstance(document, dict) else None
    if checked is not None:
        assert checked == _python_files(STDLIB)
