"""`gillint deps` reports: a text table, JSON, and a SARIF document with one result per dependency worth a look."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

from .. import __version__, document_header
from ..verify.report import interpreter_line
from . import (BLOCKED, GIL_ABI_ONLY, IMPORT_FAILED, NOT_LOADABLE, NOT_PROBED, PURE_PYTHON, REENABLES_GIL, STATUSES,
               SUPPORTED, DepsReport, Dependency)

FORMATS = ("text", "json", "sarif")
DOCS = "docs/free-threading.md"

# What each status means and what to do about it; the same words as docs/free-threading.md.
ADVICE = {
    REENABLES_GIL: "ask for (or check for a newer release with) free-threading support; until then the GIL is on "
                   "for the whole program, or set PYTHON_GIL=0 if you have checked the module is thread-safe",
    NOT_LOADABLE: "install a build for this interpreter (pip picks cp313t/cp314t wheels on a free-threaded "
                  "Python; without one it builds from source)",
    IMPORT_FAILED: "import it yourself under this interpreter to see why; it was not judged",
    BLOCKED: "judged again once the dependency that turned the GIL on is fixed",
    GIL_ABI_ONLY: "run `gillint deps --python PATH/python3.13t` in an environment with the same requirements",
    NOT_PROBED: "run without --no-import to find out",
    SUPPORTED: "",
    PURE_PYTHON: "",
}
SARIF_LEVEL = {REENABLES_GIL: "error", NOT_LOADABLE: "error", IMPORT_FAILED: "warning", BLOCKED: "warning",
               GIL_ABI_ONLY: "note", NOT_PROBED: "note"}
SARIF_TEXT = {
    REENABLES_GIL: "Importing it turns the GIL back on in a free-threaded interpreter",
    NOT_LOADABLE: "Its extension modules are built for another ABI and cannot be imported here",
    IMPORT_FAILED: "Its extension modules could not be imported, so free-threading support was not judged",
    BLOCKED: "Not judged: importing it imported another dependency that turned the GIL on first",
    GIL_ABI_ONLY: "Built for the GIL build; free-threading support unknown on this interpreter",
    NOT_PROBED: "Built for the free-threaded ABI; not imported, so support is unknown",
}


def summary(report: DepsReport) -> str:
    counts = {s: sum(1 for d in report.dependencies if d.status == s) for s in STATUSES}
    return ", ".join("%d %s" % (n, s) for s, n in counts.items() if n) or "none"


def render_text(report: DepsReport) -> str:
    out: List[str] = []
    compiled = [d for d in report.dependencies if d.status != PURE_PYTHON]
    out.append("gillint deps: %s at %s; %d distribution%s with compiled extension modules" % (
        interpreter_line(report.interpreter, gil_state=False), report.interpreter.get("executable", "?"), len(compiled),
        "" if len(compiled) == 1 else "s"))
    if report.probe.get("ran"):
        out.append("import probe: each distribution's extension modules imported in a sandboxed child (%s), %.1fs"
                   % (report.probe.get("isolation"), report.probe.get("seconds", 0.0)))
    else:
        out.append("import probe: not run (%s)" % report.probe.get("why_not", "-"))
    for problem in report.problems:
        out.append("  %s" % problem)
    if report.dependencies:
        rows = [(d.name, d.version, str(len(d.extensions)), ",".join(d.abis) or "-", d.status)
                for d in report.dependencies]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(
            ("distribution", "version", "ext", "built for", "free-threading"))]
        widths = [min(w, 40) for w in widths]
        header = "  ".join("%-*s" % (w, h) for w, h in zip(widths, ("distribution", "version", "ext", "built for",
                                                                    "free-threading")))
        out.extend(["", header, "-" * len(header)])
        for row in rows:
            out.append("  ".join("%-*s" % (w, cell) for w, cell in zip(widths, row)).rstrip())
        # Per distribution where it says something of its own; what to do once per status.
        notes = [d for d in report.dependencies if d.status not in (PURE_PYTHON, GIL_ABI_ONLY, NOT_PROBED)]
        if notes:
            out.append("")
        for dependency in notes:
            out.append("%s %s: %s" % (dependency.name, dependency.version, dependency.status))
            out.append("  %s" % dependency.detail)
        present = [s for s in STATUSES if ADVICE.get(s) and any(d.status == s for d in report.dependencies)]
        if present:
            out.append("")
            out.append("what to do (%s):" % DOCS)
        for status in present:
            text = SARIF_TEXT[status]
            out.append("  %s: %s; %s" % (status, text[:1].lower() + text[1:], ADVICE[status]))
    else:
        out.append("")
        out.append("no distribution with compiled extension modules is installed for this interpreter")
    out.append("")
    out.append("dependencies: %s" % summary(report))
    if report.reenabling:
        out.append("%d dependenc%s turn%s the GIL back on: the program runs with the GIL (see %s)" % (
            len(report.reenabling), "y" if len(report.reenabling) == 1 else "ies",
            "s" if len(report.reenabling) == 1 else "", DOCS))
    return "\n".join(out) + "\n"


def document(report: DepsReport) -> Dict[str, Any]:
    return {
        **document_header(),
        "interpreter": report.interpreter,
        "import_probe": report.probe,
        "problems": report.problems,
        "dependencies": [d.to_dict() for d in report.dependencies],
        "summary": {s: sum(1 for d in report.dependencies if d.status == s) for s in STATUSES},
    }


def _location(dependency: Dependency) -> Dict[str, Any]:
    extension = next((e for e in dependency.extensions if e.module == dependency.enabled_by), None) or \
        (dependency.extensions[0] if dependency.extensions else None)
    path = Path(dependency.location) / extension.file if extension is not None else Path(dependency.location)
    return {"physicalLocation": {"artifactLocation": {"uri": path.resolve().as_uri()}}}


def sarif(report: DepsReport) -> Dict[str, Any]:
    """SARIF 2.1.0: a rule per status that needs a look, a result per such dependency at its extension file."""
    rules = [{"id": status, "name": status, "shortDescription": {"text": SARIF_TEXT[status]},
              "help": {"text": ADVICE[status]}, "defaultConfiguration": {"level": SARIF_LEVEL[status]}}
             for status in SARIF_LEVEL]
    results = []
    for dependency in report.dependencies:
        if dependency.status not in SARIF_LEVEL:
            continue
        results.append({
            "ruleId": dependency.status,
            "ruleIndex": list(SARIF_LEVEL).index(dependency.status),
            "level": SARIF_LEVEL[dependency.status],
            "message": {"text": "%s %s: %s" % (dependency.name, dependency.version, dependency.detail)},
            "locations": [_location(dependency)],
            "properties": {"distribution": dependency.name, "version": dependency.version, "abis": dependency.abis,
                           "wheelTags": dependency.wheel_tags, "enabledBy": dependency.enabled_by},
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gillint-deps", "version": __version__,
                                "informationUri": "https://github.com/gillint/gillint/blob/main/%s" % DOCS,
                                "rules": rules}},
            "results": results,
            "properties": {"interpreter": report.interpreter, "importProbe": report.probe},
        }],
    }


def render(fmt: str, report: DepsReport) -> str:
    if fmt == "json":
        return json.dumps(document(report), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif(report), indent=2) + "\n"
    return render_text(report)
