"""`gillint deps`: which installed distributions ship compiled extensions, and whether each keeps the GIL off.

Two steps, both under the interpreter inspected (``--python``, default the one running gillint):

1. **Inventory** (``inventory_child.py``): every distribution the interpreter sees, its
   wheel tags and its extension modules with the ABI each file is built for (``cp313t``
   free-threaded, ``cp313`` GIL build, ``abi3`` stable ABI).  Metadata only: nothing the
   distributions contain is imported.
2. **Import probe** (``import_child.py``), on a free-threaded build only: each
   distribution's extension modules are imported in a sandboxed child (the verifier's:
   time and memory limits, no network, scratch directories), and ``sys._is_gil_enabled()``
   after each import says whether the GIL came back on.  This runs the distributions' code.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

INVENTORY_SCRIPT = Path(__file__).with_name("inventory_child.py")
IMPORT_SCRIPT = Path(__file__).with_name("import_child.py")

# One status per distribution, worst first (the order the report sorts by).
REENABLES_GIL = "reenables-gil"  # importing it turned the GIL on (free-threaded interpreter)
NOT_LOADABLE = "not-loadable"  # its extensions are built for another ABI: they cannot be imported here
IMPORT_FAILED = "import-failed"  # the import raised, crashed or timed out: not judged
BLOCKED = "blocked"  # importing it imported another distribution that turned the GIL on first
GIL_ABI_ONLY = "gil-build-only"  # GIL interpreter: built for the GIL ABI (cp3XX or abi3), free-threading unknown
NOT_PROBED = "not-probed"  # free-threaded interpreter, --no-import: built for it, not imported
SUPPORTED = "supported"  # imported on a free-threaded interpreter and the GIL stayed off
PURE_PYTHON = "pure-python"  # no compiled extension modules (listed with --all)
STATUSES = (REENABLES_GIL, NOT_LOADABLE, IMPORT_FAILED, BLOCKED, GIL_ABI_ONLY, NOT_PROBED, SUPPORTED, PURE_PYTHON)

MODULES_PER_DISTRIBUTION = 200


class DepsError(Exception):
    """The interpreter could not be inspected (one line, for the user)."""


@dataclass
class Extension:
    module: Optional[str]
    file: str
    abi: str  # cp313t, cp313, abi3, "" (untagged)
    loadable: bool  # its file name matches one of the interpreter's extension suffixes


@dataclass
class Dependency:
    name: str
    version: str
    location: str
    wheel_tags: List[str] = field(default_factory=list)
    extensions: List[Extension] = field(default_factory=list)
    files_known: bool = True
    status: str = ""
    detail: str = ""
    enabled_by: Optional[str] = None  # the module named by the interpreter when it turned the GIL on
    imported: List[str] = field(default_factory=list)  # modules imported with the GIL still off
    error: Optional[str] = None

    @property
    def abis(self) -> List[str]:
        return sorted({e.abi or "untagged" for e in self.extensions})

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class DepsReport:
    interpreter: Dict[str, Any]
    dependencies: List[Dependency]
    probe: Dict[str, Any]  # ran (bool), why_not, isolation, seconds
    problems: List[str] = field(default_factory=list)

    @property
    def reenabling(self) -> List[Dependency]:
        return [d for d in self.dependencies if d.status == REENABLES_GIL]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def inventory(python: str, timeout: float = 120.0) -> Dict[str, Any]:
    """Run the inventory script under ``python`` (metadata only) and return its document."""
    try:
        done = subprocess.run([python, str(INVENTORY_SCRIPT)], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DepsError("cannot run %s: %s" % (python, exc)) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]
        raise DepsError("cannot list the distributions of %s: %s" % (python, last))
    try:
        document = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise DepsError("%s did not list its distributions (is it a Python 3.9+ interpreter?)" % python) from None
    return document


def compiled(document: Dict[str, Any], wanted: Sequence[str] = (), include_pure: bool = False) -> List[Dependency]:
    """The inventory's distributions as Dependency records: those with extensions (all with ``include_pure``)."""
    names = {normalise(n) for n in wanted}
    found = []
    for entry in document.get("distributions", []):
        if names and normalise(entry["name"]) not in names:
            continue
        dependency = Dependency(entry["name"], entry["version"], entry["location"], list(entry["wheel_tags"]),
                                [Extension(**e) for e in entry["extensions"]], entry["files_known"])
        if dependency.extensions or include_pure or names or not dependency.files_known:
            found.append(dependency)
    return found


def judge_statically(dependency: Dependency, interpreter: Dict[str, Any]) -> None:
    """A status from the files alone: what can be said without importing anything."""
    if not dependency.files_known:
        dependency.status = IMPORT_FAILED if interpreter.get("free_threaded_build") else GIL_ABI_ONLY
        dependency.detail = "no file list (no RECORD, no top_level.txt): its extension modules are unknown"
        return
    if not dependency.extensions:
        dependency.status, dependency.detail = PURE_PYTHON, "no compiled extension modules"
        return
    unloadable = [e for e in dependency.extensions if not e.loadable]
    if len(unloadable) == len(dependency.extensions):
        dependency.status = NOT_LOADABLE
        dependency.detail = "its extension modules are built for %s, which this interpreter cannot load: install " \
                            "a build for this interpreter (%s)" % (", ".join(dependency.abis), wheel_hint(interpreter))
        return
    if not interpreter.get("free_threaded_build"):
        dependency.status = GIL_ABI_ONLY
        dependency.detail = "built for the GIL build (%s); on a free-threaded interpreter it needs a %s build, and " \
                            "whether that one keeps the GIL off is only known by importing it there (--python)" % (
                                ", ".join(dependency.abis), free_threaded_tags(interpreter))
        return
    dependency.status = NOT_PROBED
    dependency.detail = "built for this free-threaded interpreter (%s); not imported, so whether it keeps the GIL off " \
                        "is unknown" % ", ".join(dependency.abis)


def free_threaded_tags(interpreter: Dict[str, Any]) -> str:
    major, minor = (interpreter.get("version_info") or [3, 13])[:2]
    if (major, minor) >= (3, 13):
        return "cp%d%dt" % (major, minor)
    return "cp313t or cp314t"


def wheel_hint(interpreter: Dict[str, Any]) -> str:
    major, minor = (interpreter.get("version_info") or [3, 13])[:2]
    return "a wheel tagged cp%d%d%s" % (major, minor, "t" if interpreter.get("free_threaded_build") else "")


def probe_imports(dependencies: Sequence[Dependency], document: Dict[str, Any], python: str, timeout: float,
                  network: str = "auto", memory_mb: int = 2048) -> Dict[str, Any]:
    """Import each candidate's extension modules in a sandboxed child; fill in status and detail."""
    import time

    from ..verify.sandbox import AUDIT_HOOK, NAMESPACE, choose_isolation, run_child

    isolation = choose_isolation(network, python)
    began = time.perf_counter()
    owners = {e.module: d for d in dependencies for e in d.extensions if e.module}
    for entry in document.get("distributions", []):
        for extension in entry["extensions"]:
            if extension["module"] and extension["module"] not in owners:
                owners[extension["module"]] = Dependency(entry["name"], entry["version"], entry["location"])
    for dependency in dependencies:
        if dependency.status != NOT_PROBED:
            continue
        modules = sorted({e.module for e in dependency.extensions if e.module and e.loadable})
        modules = modules[:MODULES_PER_DISTRIBUTION]
        spec = {"modules": modules, "sys_path": document.get("sys_path", []),
                "limits": {"cpu_seconds": int(math.ceil(timeout * 2)) + 2,
                           "address_space": memory_mb * 2**20 if memory_mb else None, "file_size": 64 * 2**20,
                           "open_files": 256, "core": 0}}
        outcome = run_child(spec, python, timeout, isolation, script=IMPORT_SCRIPT)
        judge_imports(dependency, outcome, owners)
    return {"ran": True, "isolation": NAMESPACE if isolation == "namespace" else AUDIT_HOOK,
            "seconds": round(time.perf_counter() - began, 2)}


def judge_imports(dependency: Dependency, outcome: Any, owners: Dict[str, Dependency]) -> None:
    """The import child's lines -> the dependency's status."""
    from ..verify.runner import ended_without_report

    modules = outcome.all("module")
    failures = [m for m in modules if m.get("error")]
    dependency.imported = [m["module"] for m in modules if not m.get("error") and not m.get("gil_enabled")]
    turned_on = next((m for m in modules if m.get("gil_enabled")), None)
    if turned_on is not None:
        culprit = (turned_on.get("enabled_by") or [turned_on["module"]])[-1]
        dependency.enabled_by = culprit
        owner = owners.get(culprit) or owners.get(culprit.rsplit(".", 1)[0])
        if owner is not None and normalise(owner.name) != normalise(dependency.name):
            dependency.status = BLOCKED
            dependency.detail = "importing %s imported %s (from %s), which turned the GIL on first: judge %s " \
                                "again once %s supports free-threading" % (turned_on["module"], culprit, owner.name,
                                                                           dependency.name, owner.name)
        else:
            dependency.status = REENABLES_GIL
            dependency.detail = "importing %s turned the GIL back on: %s does not declare that it can run without " \
                                "the GIL (no Py_mod_gil slot)" % (turned_on["module"], culprit)
        return
    if outcome.timed_out or outcome.last("done") is None:
        dependency.status = IMPORT_FAILED
        reason = "timed out after %.3gs" % outcome.seconds if outcome.timed_out else \
            ended_without_report(outcome, bool(modules))
        last = modules[-1]["module"] if modules else "the first module"
        dependency.error = reason
        dependency.detail = "the import child stopped after %s: %s" % (last, reason)
        return
    if failures and len(failures) == len(modules):
        dependency.status = IMPORT_FAILED
        dependency.error = failures[0]["error"]
        dependency.detail = "no extension module imported (%s: %s)" % (failures[0]["module"], failures[0]["error"])
        return
    dependency.status = SUPPORTED
    dependency.detail = "%d extension module%s imported, the GIL stayed off" % (
        len(dependency.imported), "" if len(dependency.imported) == 1 else "s")
    if failures:
        dependency.detail += " (%d did not import: %s: %s)" % (len(failures), failures[0]["module"],
                                                                failures[0]["error"])


def inspect(python: str, wanted: Sequence[str] = (), include_pure: bool = False, run_imports: bool = True,
            timeout: float = 30.0, network: str = "auto") -> DepsReport:
    """The API under `gillint deps`."""
    document = inventory(python)
    interpreter = document.get("interpreter", {})
    dependencies = compiled(document, wanted, include_pure)
    missing = sorted({normalise(n) for n in wanted} - {normalise(d.name) for d in dependencies})
    problems = list(document.get("problems", []))
    problems.extend("%s: no such distribution is installed for this interpreter" % name for name in missing)
    for dependency in dependencies:
        judge_statically(dependency, interpreter)
    probe: Dict[str, Any] = {"ran": False}
    if not interpreter.get("free_threaded_build"):
        probe["why_not"] = "not a free-threaded interpreter, the GIL is always on here; give one with --python"
    elif not run_imports:
        probe["why_not"] = "--no-import"
    elif not any(d.status == NOT_PROBED for d in dependencies):
        probe["why_not"] = "no distribution to import"
    else:
        try:
            probe = probe_imports(dependencies, document, python, timeout, network)
        except OSError as exc:
            probe["why_not"] = str(exc)
    dependencies.sort(key=lambda d: (STATUSES.index(d.status), normalise(d.name)))
    return DepsReport(interpreter, dependencies, probe, problems)
