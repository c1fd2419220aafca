from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"

# A module whose thread runs a CPU-bound loop: GIL101 at its last line.
CPU_BOUND_THREAD = """\
import threading


def crunch(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def start():
    threading.Thread(target=crunch, args=(10,)).start()
"""
# A script whose thread runs a large CPU-bound loop: GIL101 at line 11.
CPU_BOUND_SCRIPT = """\
import threading


def work():
    total = 0
    for i in range(10_000_000):
        total += i * i
    return total


threading.Thread(target=work).start()
"""


def gillint_command() -> list:
    """The installed console script if present (proves the entry point), else `python -m gillint`."""
    script = Path(sys.executable).with_name("gillint")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "gillint"]  # pragma: no cover


@pytest.fixture
def run_gillint():
    def run(*args: str, cwd=None, env=None, input=None, timeout: float = 300) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env.pop("NO_COLOR", None)
        if env:
            full_env.update(env)
        return subprocess.run(gillint_command() + list(args), cwd=cwd, env=full_env, input=input,
                              capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def sarif_schema():
    import json

    path = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if not path.exists():
        pytest.skip("the SARIF schema is not beside the project")
    return json.loads(path.read_text(encoding="utf-8"))


# Sample projects that `gillint verify --from-tests` runs the tests of: not this suite's tests.
collect_ignore_glob = ["verify_projects/*"]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (or set GILLINT_SLOW=1)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("GILLINT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or GILLINT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
