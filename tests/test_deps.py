"""`gillint deps`: compiled dependencies, the ABI each is built for, and whether importing it turns the GIL on.

The free-threaded half runs a real 3.13t/3.14t interpreter (see free_threaded_support.py)
with C extensions compiled for it in a temporary virtual environment: one that declares
free-threading support, one that does not, and a package that imports the second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from free_threaded_support import (NO_INTERPRETER, build_extension, build_info, compiler_problem,
                                   free_threaded_python, install_distribution)

RUNNING_FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _json(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout)


def _by_name(document: dict) -> dict:
    return {d["name"]: d for d in document["dependencies"]}


# ----------------------------------------------------------------------------- this environment

def test_the_environments_compiled_distributions_are_listed_with_their_abi(run_gillint, tmp_path: Path) -> None:
    done = run_gillint("deps", "--format", "json", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    document = _json(done)
    assert document["interpreter"]["version"].startswith("%d.%d" % sys.version_info[:2])
    libcst = _by_name(document)["libcst"]  # gillint's own dependency ships a compiled parser
    assert any(e["module"] and e["module"].startswith("libcst.") for e in libcst["extensions"])
    if not RUNNING_FREE_THREADED:
        assert libcst["status"] == "gil-build-only"
        assert all(e["abi"] in ("cp%d%d" % sys.version_info[:2], "abi3", "") for e in libcst["extensions"])
        assert document["import_probe"] == {"ran": False, "why_not": "not a free-threaded interpreter, the GIL is "
                                                                     "always on here; give one with --python"}
    assert "flake8" not in _by_name(document)  # pure Python: listed only with --all


def test_all_lists_pure_python_distributions_too(run_gillint, tmp_path: Path) -> None:
    done = run_gillint("deps", "--all", "--no-import", "--format", "json", cwd=str(tmp_path))
    assert _by_name(_json(done))["flake8"]["status"] == "pure-python"


def test_text_report_is_a_table_with_what_to_do(run_gillint, tmp_path: Path) -> None:
    done = run_gillint("deps", "libcst", "--no-import", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gillint deps: CPython %d.%d" % sys.version_info[:2])
    header = next(line for line in lines if line.startswith("distribution"))
    assert header.split() == ["distribution", "version", "ext", "built", "for", "free-threading"]
    assert any(line.startswith("libcst ") for line in lines)
    assert "what to do (docs/free-threading.md):" in done.stdout


# ----------------------------------------------------------------------------- what the files say

@pytest.fixture
def odd_site(tmp_path: Path) -> Path:
    """Distributions the files alone judge: built for another ABI, no file list, files found by top_level.txt."""
    site = tmp_path / "site"
    other_abi = "cpython-311-x86_64-linux-gnu" if RUNNING_FREE_THREADED else "cpython-313t-x86_64-linux-gnu"
    install_distribution(site, "elsewhere", {"elsewhere/__init__.py": "", "elsewhere/_speed.%s.so" % other_abi: ""},
                         "cp313-cp313t-manylinux_2_17_x86_64")
    (site / "nolist-1.0.dist-info").mkdir()
    (site / "nolist-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: nolist\nVersion: 1.0\n")
    old = site / "oldstyle-2.0.egg-info"
    old.mkdir()
    (old / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: oldstyle\nVersion: 2.0\n")
    (old / "top_level.txt").write_text("oldstyle\n")
    (site / "oldstyle").mkdir()
    (site / "oldstyle" / ("_c.%s.so" % other_abi)).write_text("")
    return site


def test_extensions_built_for_another_abi_cannot_be_loaded(run_gillint, odd_site: Path, tmp_path: Path) -> None:
    done = run_gillint("deps", "elsewhere", "oldstyle", "nolist", "missing-one", "--format", "json",
                       cwd=str(tmp_path), env={"PYTHONPATH": str(odd_site)})
    assert done.returncode == 0, done.stderr  # nothing is known to turn the GIL on
    found = _by_name(_json(done))
    assert found["elsewhere"]["status"] == "not-loadable"
    assert found["elsewhere"]["wheel_tags"] == ["cp313-cp313t-manylinux_2_17_x86_64"]
    assert "which this interpreter cannot load" in found["elsewhere"]["detail"]
    assert found["oldstyle"]["status"] == "not-loadable"  # its files found through top_level.txt
    assert [e["module"] for e in found["oldstyle"]["extensions"]] == ["oldstyle._c"]
    assert found["nolist"]["files_known"] is False and "no file list" in found["nolist"]["detail"]
    assert "missing-one: no such distribution is installed for this interpreter" in done.stderr


def test_sarif_report_validates_and_points_at_the_extension(run_gillint, odd_site: Path, tmp_path: Path,
                                                           sarif_schema) -> None:
    import jsonschema

    done = run_gillint("deps", "elsewhere", "--format", "sarif", cwd=str(tmp_path), env={"PYTHONPATH": str(odd_site)})
    document = _json(done)
    jsonschema.validate(document, sarif_schema)
    result = document["runs"][0]["results"][0]
    assert result["ruleId"] == "not-loadable" and result["level"] == "error"
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file://") and uri.endswith(".so") and "/elsewhere/_speed." in uri


@pytest.mark.parametrize("arguments, message", [
    (["--python", "/no/such/python"], "--python: no such interpreter: /no/such/python"),
    (["--timeout", "0"], "--timeout must be from 0.5 to 3600 seconds"),
    (["--python", "/bin/true"], "did not list its distributions"),
    (["--python", "/bin/false"], "cannot list the distributions of /bin/false"),
])
def test_mistakes_are_one_line_usage_errors(run_gillint, tmp_path: Path, arguments, message) -> None:
    done = run_gillint("deps", *arguments, cwd=str(tmp_path))
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_output_file(run_gillint, tmp_path: Path) -> None:
    done = run_gillint("deps", "libcst", "--no-import", "-o", str(tmp_path / "deps.txt"), cwd=str(tmp_path))
    assert done.returncode == 0 and done.stdout == ""
    assert "libcst" in (tmp_path / "deps.txt").read_text(encoding="utf-8")
    done = run_gillint("deps", "--no-import", "-o", str(tmp_path / "no" / "such" / "dir.txt"), cwd=str(tmp_path))
    assert done.returncode == 2 and "cannot write" in done.stderr


# ----------------------------------------------------------------------------- a free-threaded interpreter

@pytest.fixture(scope="module")
def free_threaded_env(tmp_path_factory) -> dict:
    python = free_threaded_python()
    if python is None:
        pytest.skip(NO_INTERPRETER)
    problem = compiler_problem(python)
    if problem:
        pytest.skip(problem)
    base = tmp_path_factory.mktemp("ftenv")
    subprocess.run([python, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    venv_python = str(base / "venv" / "bin" / "python")
    site = Path(build_info(venv_python)["purelib"])
    objects = base / "objects"
    objects.mkdir()
    supported = build_extension(venv_python, "modern_ext", objects, declares_support=True)
    legacy = build_extension(venv_python, "legacy_ext", objects, declares_support=False)
    inner = build_extension(venv_python, "_core", objects, declares_support=True)
    tag = "cp313-cp313t-linux_x86_64"
    install_distribution(site, "modern-ext", {supported.name: supported}, tag)
    install_distribution(site, "legacy-ext", {legacy.name: legacy}, tag)
    install_distribution(site, "wrapper", {"wrapper/__init__.py": "import legacy_ext\n", "wrapper/" + inner.name: inner})
    install_distribution(site, "broken", {"broken/__init__.py": "raise RuntimeError('no config')\n",
                                          "broken/" + inner.name: inner})
    install_distribution(site, "stuck", {"stuck/__init__.py": "import time\nwhile True:\n    time.sleep(1)\n",
                                         "stuck/" + inner.name: inner})
    return {"python": venv_python, "site": site}


@pytest.mark.slow
def test_a_dependency_that_turns_the_gil_back_on_is_found_by_importing_it(run_gillint, free_threaded_env,
                                                                         tmp_path: Path) -> None:
    done = run_gillint("deps", "--python", free_threaded_env["python"], "--timeout", "3", "--format", "json",
                       cwd=str(tmp_path))
    assert done.returncode == 1, done.stderr  # one dependency turns the GIL on
    document = _json(done)
    assert document["interpreter"]["free_threaded_build"] is True
    assert document["import_probe"]["ran"] is True and document["import_probe"]["isolation"]
    found = _by_name(document)
    assert found["modern-ext"]["status"] == "supported" and found["modern-ext"]["imported"] == ["modern_ext"]
    assert found["legacy-ext"]["status"] == "reenables-gil"
    assert found["legacy-ext"]["enabled_by"] == "legacy_ext"
    assert found["wrapper"]["status"] == "blocked"  # its own extension is fine; what it imports is not
    assert "imported legacy_ext (from legacy-ext)" in found["wrapper"]["detail"]
    assert found["broken"]["status"] == "import-failed" and "RuntimeError: no config" in found["broken"]["detail"]
    assert found["stuck"]["status"] == "import-failed" and "timed out" in found["stuck"]["detail"]
    assert [d["status"] for d in document["dependencies"]][:1] == ["reenables-gil"]  # worst first


def test_the_text_report_says_which_module_and_what_to_do(run_gillint, free_threaded_env, tmp_path: Path) -> None:
    done = run_gillint("deps", "legacy-ext", "modern-ext", "--python", free_threaded_env["python"], cwd=str(tmp_path))
    assert done.returncode == 1
    assert "free-threaded build" in done.stdout.splitlines()[0]
    assert "importing legacy_ext turned the GIL back on" in done.stdout
    assert "1 dependency turns the GIL back on" in done.stdout
    assert "reenables-gil: importing it turns the GIL back on" in done.stdout


def test_dependencies_that_keep_the_gil_off_exit_clean(run_gillint, free_threaded_env, tmp_path: Path) -> None:
    done = run_gillint("deps", "modern-ext", "--python", free_threaded_env["python"], "--format", "json",
                       cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert _by_name(_json(done))["modern-ext"]["status"] == "supported"


def test_no_import_reports_only_what_the_files_say(run_gillint, free_threaded_env, tmp_path: Path) -> None:
    done = run_gillint("deps", "legacy-ext", "--no-import", "--python", free_threaded_env["python"], "--format",
                       "json", cwd=str(tmp_path))
    assert done.returncode == 0
    document = _json(done)
    assert document["import_probe"] == {"ran": False, "why_not": "--no-import"}
    assert _by_name(document)["legacy-ext"]["status"] == "not-probed"


def test_importing_happens_in_the_sandbox(run_gillint, free_threaded_env, tmp_path: Path) -> None:
    marker = "deps-import-marker.txt"
    inner = next(free_threaded_env["site"].glob("wrapper/_core*"))
    install_distribution(free_threaded_env["site"], "marker", {
        "marker/__init__.py": "open(%r, 'w').write('imported')\n" % marker, "marker/" + inner.name: inner})
    try:
        done = run_gillint("deps", "marker", "--python", free_threaded_env["python"], "--format", "json",
                           cwd=str(tmp_path))
        assert _by_name(_json(done))["marker"]["status"] == "supported"
        assert not (tmp_path / marker).exists() and not Path(os.path.expanduser("~"), marker).exists()
    finally:
        import shutil

        shutil.rmtree(free_threaded_env["site"] / "marker")
        shutil.rmtree(free_threaded_env["site"] / "marker-1.0.dist-info")
