"""The knowledge base ships in the wheel and loads the same way installed and editable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from gillint import knowledge

from conftest import FIXTURES, ROOT


def test_editable_install_reads_rules_from_the_checkout() -> None:
    assert knowledge.rules_dir() == ROOT / "rules"
    names = {p.name for p in knowledge.bundled_files()}
    assert {"stdlib.toml", "workers.toml", "methods.toml"} <= names
    kb = knowledge.load()
    assert kb.starters["threading.Thread"].worker == "thread"


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_finds_the_same_rules(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
                   check=True, timeout=600)
    (wheel,) = wheel_dir.glob("gillint-*.whl")
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("gillint/rules/")}
    assert {"gillint/rules/%s" % p.name for p in knowledge.bundled_files()} == shipped

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=900)
    probe = subprocess.run(
        [str(python), "-c", "import gillint.knowledge as k, json; kb = k.load(); "
         "print(json.dumps([str(k.rules_dir()), sorted(kb.calls), sorted(kb.starters)]))"],
        capture_output=True, text=True, check=True, cwd=str(tmp_path))
    rules_dir, calls, starters = json.loads(probe.stdout)
    assert "site-packages" in rules_dir and rules_dir.endswith(os.path.join("gillint", "rules"))
    here = knowledge.load()
    assert calls == sorted(here.calls) and starters == sorted(here.starters)
    result = subprocess.run([str(bindir / "gillint"), "check", "--quiet", "--no-config", str(FIXTURES / "thread_targets.py")],
                            capture_output=True, text=True, cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "GIL101" in result.stdout
