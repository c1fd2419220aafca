from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"


def gillint_command() -> list:
    """The installed console script if present (proves the entry point), else `python -m gillint`."""
    script = Path(sys.executable).with_name("gillint")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "gillint"]  # pragma: no cover


@pytest.fixture
def run_gillint():
    def run(*args: str, cwd=None, env=None, input=None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env.pop("NO_COLOR", None)
        if env:
            full_env.update(env)
        return subprocess.run(gillint_command() + list(args), cwd=cwd, env=full_env, input=input,
                              capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture
def sarif_schema():
    import json

    path = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if not path.exists():
        pytest.skip("the SARIF schema is not beside the project")
    return json.loads(path.read_text(encoding="utf-8"))
