"""A free-threaded interpreter for the tests, and tiny C extensions built against it.

The interpreter is $GILLINT_FREE_THREADED_PYTHON, else the one
scripts/build-free-threaded-python.sh built into its cache folder; tests that need it
skip, saying so, when there is none (CI builds or reuses it: see .ci/run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Dict, Optional

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build-free-threaded-python.sh"
NO_INTERPRETER = ("no free-threaded interpreter: set GILLINT_FREE_THREADED_PYTHON or run "
                  "scripts/build-free-threaded-python.sh (CI does)")

# An extension module that declares it runs without the GIL, and one that does not.
EXTENSION_SOURCE = """\
#include <Python.h>

static PyObject *spin(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg), total = 0;
    for (long i = 0; i < n; i++) total += i %% 7;
    return PyLong_FromLong(total);
}

static PyMethodDef methods[] = {{"spin", spin, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static PyModuleDef_Slot slots[] = {
%(gil_slot)s    {0, NULL}
};
static struct PyModuleDef definition = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, 0, methods, slots};

PyMODINIT_FUNC PyInit_%(name)s(void) { return PyModuleDef_Init(&definition); }
"""
DECLARES_SUPPORT = "#ifdef Py_GIL_DISABLED\n    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n#endif\n"

_found: Dict[str, Optional[str]] = {}


def free_threaded_python() -> Optional[str]:
    """The path of a working free-threaded interpreter, or None."""
    if "python" not in _found:
        candidate = os.environ.get("GILLINT_FREE_THREADED_PYTHON")
        if not candidate and BUILD_SCRIPT.exists():
            done = subprocess.run(["bash", str(BUILD_SCRIPT), "--check"], capture_output=True, text=True)
            candidate = done.stdout.strip() if done.returncode == 0 else None
        if candidate:
            check = subprocess.run([candidate, "-c", "import sysconfig; print(sysconfig.get_config_var("
                                                     "'Py_GIL_DISABLED'))"], capture_output=True, text=True)
            if check.returncode != 0 or check.stdout.strip() != "1":
                candidate = None
        _found["python"] = candidate
    return _found["python"]


def build_info(python: str) -> Dict[str, str]:
    done = subprocess.run([python, "-c", "import json, sysconfig; print(json.dumps({'include': "
                                         "sysconfig.get_paths()['include'], 'suffix': sysconfig.get_config_var("
                                         "'EXT_SUFFIX'), 'purelib': sysconfig.get_paths()['purelib']}))"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def compiler_problem(python: str) -> str:
    """Why C extensions cannot be built for ``python`` here, or ""."""
    if shutil.which("cc") is None:
        return "no C compiler (cc) to build a test extension"
    if not (Path(build_info(python)["include"]) / "Python.h").exists():
        return "the free-threaded interpreter has no headers (built without `make install`?)"
    return ""


def build_extension(python: str, name: str, folder: Path, declares_support: bool) -> Path:
    """Compile module ``name`` into ``folder`` for ``python``; returns the file."""
    info = build_info(python)
    source = folder / ("%s.c" % name)
    source.write_text(EXTENSION_SOURCE % {"name": name, "gil_slot": DECLARES_SUPPORT if declares_support else ""},
                      encoding="utf-8")
    target = folder / (name + info["suffix"])
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", info["include"], str(source), "-o", str(target)],
                   check=True, capture_output=True)
    source.unlink()
    return target


def install_distribution(site: Path, name: str, files: Dict[str, object], wheel_tag: str = "") -> None:
    """A minimal installed distribution: its files (text, or a Path to copy) and a dist-info with RECORD."""
    for relative, content in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(textwrap.dedent(str(content)), encoding="utf-8")
    info = site / ("%s-1.0.dist-info" % name.replace("-", "_"))
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name, encoding="utf-8")
    if wheel_tag:
        (info / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: %s\n" % wheel_tag,
                                    encoding="utf-8")
    record = list(files) + ["%s/METADATA" % info.name, "%s/RECORD" % info.name]
    (info / "RECORD").write_text("".join("%s,,\n" % r for r in record), encoding="utf-8")
