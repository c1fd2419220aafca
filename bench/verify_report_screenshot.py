"""Render a `gillint verify --html` page the way a user sees it: headless Chromium, a PNG screenshot.

    python bench/verify_report_screenshot.py [--html verify-report.html] [--png docs/verify-report.png]
        [--from-json verify.json]  # render an existing `--format json` document instead of measuring

Without --from-json it measures the sample project `tests/verify_projects/shop` with
`--from-tests "python -m pytest -q"` (arguments recorded from its tests) and writes the page.
Needs Debian's `chromium` package (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no chromium on PATH: apt-get install -y chromium")


def screenshot(html: Path, png: Path, width: int = 1100, height: int = 1400) -> None:
    """Headless Chromium, a fresh profile, no network needed (the page is self-contained)."""
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as profile:
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   "--user-data-dir=%s" % profile, "--window-size=%d,%d" % (width, height),
                   "--screenshot=%s" % png, html.resolve().as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not png.exists():
        raise SystemExit("chromium failed (%d): %s" % (done.returncode, done.stderr.strip()[-400:]))


def measure(html: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "shop"
        shutil.copytree(ROOT / "tests" / "verify_projects" / "shop", project)
        # `python` found on PATH (this interpreter's directory first), so the page shows the command as typed.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        done = subprocess.run([sys.executable, "-m", "gillint", "verify", ".", "--html", str(html.resolve()),
                               "--from-tests", "python -m pytest -q -p no:cacheprovider",
                               "--progress", "never"], cwd=str(project), capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT), PATH=path))
        if done.returncode not in (0, 1):
            raise SystemExit("gillint verify failed (%d): %s" % (done.returncode, done.stderr))
        print(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", default=str(Path(tempfile.gettempdir()) / "gillint-verify-report.html"))
    parser.add_argument("--png", default=str(ROOT / "docs" / "verify-report.png"))
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument("--no-measure", action="store_true", help="only screenshot an existing --html page")
    args = parser.parse_args()
    html = Path(args.html)
    if not args.no_measure:
        measure(html)
    screenshot(html, Path(args.png), args.width, args.height)
    print("wrote %s" % args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
