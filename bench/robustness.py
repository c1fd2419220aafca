#!/usr/bin/env python3
"""Crash-free runs over real code: the standard library (tests included) and popular PyPI packages.

    python bench/robustness.py            # writes bench/robustness.md

Every file must be either checked or reported with its reason (GIL000); a traceback, an
"internal error" or a crashed worker fails the run.  The packages are installed into a
virtual environment of their own under the user's cache directory (as for bench/run.py).
The long property-based run is separate:

    GILLINT_HYPOTHESIS_EXAMPLES=2000 python -m pytest tests/test_hypothesis.py
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import tools_dir  # noqa: E402

# Popular packages with much pure-Python source (a mix of web, data, tooling, async and C-backed ones).
PACKAGES = (
    "requests", "urllib3", "idna", "charset-normalizer", "certifi", "six", "python-dateutil", "pyyaml", "attrs",
    "click", "jinja2", "markupsafe", "packaging", "setuptools", "pytest", "pluggy", "rich", "pygments", "django",
    "flask", "werkzeug", "sqlalchemy", "tornado", "aiohttp", "numpy", "pandas", "botocore", "boto3", "cryptography",
    "pydantic", "httpx", "anyio", "sphinx", "docutils", "black", "mypy", "networkx", "sympy",
)


def ensure_packages(directory: Path) -> Path:
    venv = directory / ("corpus-%d.%d" % sys.version_info[:2])
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = venv / "installed.json"
    if not marker.exists() or json.loads(marker.read_text()) != list(PACKAGES):
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + list(PACKAGES),
                       check=True)
        marker.write_text(json.dumps(list(PACKAGES)))
    done = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True)
    return Path(done.stdout.strip())


def check(paths: Sequence[Path], label: str) -> Dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="gillint-robust-") as scratch:
        report = Path(scratch) / "report.json"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "gillint", "check", "--no-config", "--no-cache", "--format", "json",
                               "-o", str(report)] + [str(p) for p in paths], cwd=scratch, capture_output=True, text=True)
        wall = time.perf_counter() - started
        problems: List[str] = []
        if done.returncode not in (0, 1):
            problems.append("exit status %d: %s" % (done.returncode, done.stderr[-500:]))
        if "Traceback" in done.stderr:
            problems.append("traceback: %s" % done.stderr[-500:])
        document = json.loads(report.read_text()) if report.exists() else {"diagnostics": [], "files_checked": 0}
    errors = [d for d in document["diagnostics"] if d["code"] == "GIL000"]
    for error in errors:
        if "internal error" in error["message"] or "crashed" in error["message"] or "worker" in error["message"]:
            problems.append("%s: %s" % (error["path"], error["message"]))
    size = sum(_python_bytes(p) for p in paths)
    reasons = collections.Counter(_reason(e["message"]) for e in errors)
    return {"label": label, "files": document.get("files_checked", 0), "mb": size / 1e6, "errors": len(errors),
            "findings": len(document["diagnostics"]) - len(errors), "reasons": reasons, "problems": problems, "wall": wall}


def _python_bytes(top: Path) -> int:
    """Bytes of the .py files gillint walks (its default excludes, such as site-packages, apply)."""
    from gillint.config import DEFAULT_EXCLUDE

    total = 0
    for directory, dirnames, filenames in os.walk(str(top)):
        dirnames[:] = [d for d in dirnames if d not in DEFAULT_EXCLUDE and d != "dist-packages"]
        total += sum(os.path.getsize(os.path.join(directory, f)) for f in filenames if f.endswith(".py"))
    return total


def _reason(message: str) -> str:
    message = message.replace("could not check file: ", "")
    for cut in (":", " ("):
        if cut in message and not message.startswith("syntax error"):
            message = message.split(cut, 1)[0]
    return message[:70]


def main() -> int:
    rows = [check([Path(sysconfig.get_paths()["stdlib"])], "standard library %d.%d, tests included" % sys.version_info[:2])]
    site = ensure_packages(tools_dir(None))
    for name in sorted(os.listdir(str(site))):
        path = site / name
        if not path.is_dir() or name.endswith((".dist-info", ".egg-info", ".data")) or name.startswith(("_", ".")):
            continue
        if not any(path.rglob("*.py")):
            continue
        rows.append(check([path], name))
    lines = ["# Crash-free corpora", "", "Produced by `python bench/robustness.py` with Python %s. Each corpus is checked "
             "with `gillint check --no-cache` (all cores); crash-free means: exit status 0 or 1, no traceback, no "
             "internal error and no crashed worker, and every file either checked or reported (GIL000) with its reason."
             % sys.version.split()[0], "",
             "| corpus | files | MB | GIL000 (reported, with reason) | findings | crash-free | wall s |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    total_files = total_mb = 0.0
    for row in rows:
        lines.append("| %s | %d | %.1f | %d | %d | %s | %.1f |" % (row["label"], row["files"], row["mb"], row["errors"],
                                                                   row["findings"], "yes" if not row["problems"] else
                                                                   "**no**", row["wall"]))
        total_files += row["files"]  # type: ignore[operator]
        total_mb += row["mb"]  # type: ignore[operator]
    lines += ["| total | %d | %.1f | | | | |" % (total_files, total_mb), "", "## Why files were not checked", ""]
    for row in rows:
        if row["reasons"]:
            lines.append("- %s: %s" % (row["label"], "; ".join("%s (%d)" % item for item in row["reasons"].most_common())))  # type: ignore[attr-defined]
    problems = [(row["label"], p) for row in rows for p in row["problems"]]  # type: ignore[attr-defined]
    lines += ["", "## Problems", ""] + (["- %s: %s" % item for item in problems] or ["None."]) + [""]
    (HERE / "robustness.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
