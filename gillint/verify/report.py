"""`gillint verify` reports: a text table, JSON, and SARIF with each verdict in the result's properties."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from .. import document_header
from .runner import VerifyRun
from .verdict import MEASURED, VERDICTS, VerifyResult, duration

FORMATS = ("text", "json", "sarif")


def _fraction(value: Optional[float]) -> str:
    return "-" if value is None else "%.2f" % value


def _speedup(result: VerifyResult, name: str) -> str:
    """A shown speed-up with its spread, "noise" for one measured but not shown, the bound, or "-"."""
    entry = result.speedups.get(name)
    if entry is not None and entry.get("shown"):
        half = (entry["max"] - entry["min"]) / 2
        return "%.2fx%s" % (entry["median"], "!" if entry.get("disagrees") else "") + ("±%.2f" % half if half >= 0.005
                                                                                         else "")
    if name == "threads" and result.speedup_bound is not None:
        return "<=%.1fx" % result.speedup_bound
    if entry is not None:
        return "noise"
    return "-"


def _per_call(result: VerifyResult) -> str:
    if result.verdict not in MEASURED or result.call_seconds is None:
        return "-"
    return duration(result.call_seconds).replace(" ", "")


def interpreter_line(info: Dict[str, Any], gil_state: bool = True) -> str:
    """``CPython 3.13.1 (free-threaded build, GIL disabled)`` from an interpreter's description
    (``gillint.verify.sandbox.describe_interpreter``); ``gil_state=False`` leaves the GIL's state out."""
    if not info:
        return "unknown interpreter"
    name = {"cpython": "CPython", "pypy": "PyPy"}.get(info.get("implementation", ""), info.get("implementation", "?"))
    details = ["free-threaded build" if info.get("free_threaded_build") else "GIL build"]
    if gil_state:
        enabled = info.get("gil_enabled_after_import", info.get("gil_enabled"))
        details.append("GIL enabled" if enabled else "GIL disabled")
    return "%s %s (%s)" % (name, info.get("version", "?"), ", ".join(details))


def render_text(run: VerifyRun) -> str:
    out: List[str] = []
    results = run.results
    out.append("gillint verify: %d of %d measured with %s; network isolation: %s"
               % (len(results), run.planned, interpreter_line(run.interpreter), run.isolation or "-"))
    if run.recording is not None:
        recorded = run.recording.get("targets", {})
        out.append("arguments recorded with `%s` (exit status %s, %.1fs): %d of %d targets called by the tests, "
                   "%d with arguments that pickle" % (
                       run.recording.get("command"), run.recording.get("returncode"), run.recording.get("seconds", 0),
                       sum(1 for t in recorded.values() if t["calls"]), len(recorded),
                       sum(1 for t in recorded.values() if t["samples"])))
        for problem in run.recording.get("problems", []):
            out.append("  " + problem)
    if not results:
        out.append("nothing to measure: no finding carries a runnable target")
    else:
        labels = [r.label for r in results]
        width = min(max(len("finding"), *(len(label) for label in labels)), 72)
        header = "%-*s  %-16s  %8s  %8s  %9s  %11s  %11s  %6s" % (
            width, "finding", "verdict", "gil_frac", "run_frac", "per_call", "threads", "processes", "time")
        out.append("")
        out.append(header)
        out.append("-" * len(header))
        for result in results:
            label = result.label if len(result.label) <= width else "..." + result.label[-(width - 3):]
            out.append("%-*s  %-16s  %8s  %8s  %9s  %11s  %11s  %5.1fs" % (
                width, label, result.verdict, _fraction(result.gil_frac), _fraction(result.run_frac),
                _per_call(result), _speedup(result, "threads"), _speedup(result, "processes"), result.seconds))
        out.extend(free_threaded_table(results))
        notes = [r for r in results if _notes(r)]
        if notes:
            out.append("")
        for result in notes:
            out.append("%s: %s" % (result.label, result.verdict))
            for note in _notes(result):
                out.append("  " + note)
    counts = {v: sum(1 for r in results if r.verdict == v) for v in VERDICTS}
    summary = ", ".join("%d %s" % (n, v) for v, n in counts.items() if n)
    outcomes = {}
    for result in results:
        if result.outcome:
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    out.append("")
    out.append("verdicts: %s" % (summary or "none"))
    if outcomes:
        out.append("findings: %s" % ", ".join("%d %s" % (n, o) for o, n in sorted(outcomes.items())))
    if run.interrupted:
        out.append("interrupted: %d of %d not measured" % (run.planned - len(results), run.planned))
    return "\n".join(out) + "\n"


def _notes(result: VerifyResult) -> List[str]:
    notes: List[str] = []
    if result.meaning:
        notes.append(result.meaning)
    if result.reason:
        notes.append(result.reason)
    if result.outcome:
        notes.append("the finding is %s" % result.outcome)
    for name in ("threads", "processes", "gil_off"):
        entry = result.speedups.get(name)
        if entry is not None and entry.get("note"):
            notes.append(entry["note"])
    if result.timing.get("skipped"):
        notes.append("speed-ups not measured: %s" % result.timing["skipped"])
    if result.growth:
        notes.append("size ladder: %s" % result.growth)
    if result.gil_off is not None:
        notes.extend(gil_off_notes(result.gil_off))
    if result.arguments:
        notes.append("arguments: %s" % result.arguments)
    notes.extend("| " + line for line in result.traceback)
    return notes


def gil_off_notes(gil_off: Dict[str, Any]) -> List[str]:
    """What the run with the GIL off (free-threaded builds) showed, in words."""
    notes = []
    if gil_off.get("gil_enabled_after_import"):
        culprits = gil_off.get("gil_enabled_by") or []
        notes.append("the GIL came back on: importing %s turned it on (an extension that does not declare "
                     "free-threading support; `gillint deps` lists them), so threads run one at a time as with the "
                     "GIL" % (", ".join("`%s`" % c for c in culprits) if culprits else "the module"))
    scales = gil_off.get("scales")
    if scales is not None:
        state = "with the GIL back on" if gil_off.get("gil_enabled_after_import") else "with the GIL off"
        notes.append("%s: %s" % (state, "scales on two threads" if scales else "does not scale on two threads"))
    elif gil_off.get("error"):
        notes.append("with the GIL off: %s" % gil_off["error"])
    elif gil_off.get("scaling"):
        notes.append("with the GIL off: scaling not judged: the two workers did not run at the same time, and nothing "
                     "showed them waiting for each other (on a busy machine they may have shared one core); measure "
                     "again when a core is free")
    return notes


def _median_seconds(timing: Dict[str, Any], name: str) -> Optional[float]:
    values = [v for v in (timing.get("seconds") or {}).get(name) or [] if v]
    return sorted(values)[len(values) // 2] if values else None


def _time_and_speedup(seconds: Optional[float], entry: Optional[Dict[str, Any]]) -> str:
    if seconds is None:
        return "-"
    text = duration(seconds).replace(" ", "")
    if entry is None:
        return text
    return "%s %s" % (text, "%.2fx" % entry["median"] if entry.get("shown") else "(noise)")


def free_threaded_table(results: List[VerifyResult]) -> List[str]:
    """Serial, two threads with the GIL on and two with it off, side by side (the same work each time)."""
    rows = [r for r in results if r.gil_off is not None and (r.timing.get("seconds") or
                                                             (r.gil_off.get("timing") or {}).get("seconds"))]
    if not rows:
        return []
    width = min(max(len("finding"), *(len(r.label) for r in rows)), 60)
    header = "%-*s  %10s  %18s  %18s  %s" % (width, "finding", "serial", "2 threads GIL on", "2 threads GIL off",
                                           "GIL off")
    out = ["", "free-threaded build: the same work serially, on two threads with the GIL on, on two threads with it "
               "off (median of the rounds; speed-up over serial, shown when the rounds agree and a core was free)",
           header, "-" * len(header)]
    for result in rows:
        label = result.label if len(result.label) <= width else "..." + result.label[-(width - 3):]
        off = result.gil_off or {}
        off_timing = off.get("timing") or {}
        state = {True: "scales", False: "does not scale"}.get(off.get("scales"), "-")
        if off.get("gil_enabled_after_import"):
            state += " (GIL re-enabled by an import)"
        out.append("%-*s  %10s  %18s  %18s  %s" % (
            width, label, _time_and_speedup(_median_seconds(result.timing, "serial"), None),
            _time_and_speedup(_median_seconds(result.timing, "threads"), result.speedups.get("threads")),
            _time_and_speedup(_median_seconds(off_timing, "threads"), result.speedups.get("gil_off")), state))
    return out


def document(run: VerifyRun) -> Dict[str, Any]:
    return {
        **document_header(),
        "interpreter": run.interpreter,
        "isolation": run.isolation,
        "interrupted": run.interrupted,
        "planned": run.planned,
        "results": [result.to_dict() for result in run.results],
        "recording": run.recording,
    }


def render_json(run: VerifyRun) -> str:
    return json.dumps(document(run), indent=2, default=str) + "\n"


def verify_properties(result: VerifyResult) -> Dict[str, Any]:
    return {
        "verdict": result.verdict,
        "outcome": result.outcome,
        "reason": result.reason,
        "gilFrac": result.gil_frac,
        "runFrac": result.run_frac,
        "threadSpeedup": result.thread_speedup,
        "processSpeedup": result.process_speedup,
        "speedups": result.speedups,
        "callSeconds": result.call_seconds,
        "loopBlockSeconds": result.loop_block_seconds,
        "magnitude": result.magnitude,
        "meaning": result.meaning,
        "growth": result.growth,
        "arguments": result.arguments,
        "speedupBound": result.speedup_bound,
        "seconds": result.seconds,
        "interpreter": result.interpreter,
        "isolation": result.isolation,
        "gilOff": result.gil_off,
    }


def sarif(run: VerifyRun) -> Dict[str, Any]:
    """The `gillint check` SARIF document, each measured finding's result carrying ``properties.verify``."""
    from ..engine import LintResult
    from ..report.sarif import sarif_document

    lint = run.lint if run.lint is not None else LintResult()
    doc = sarif_document(lint)
    by_diagnostic: Dict[int, VerifyResult] = {}
    for job, result in zip(run.jobs, run.results):
        for diagnostic in job.diagnostics:
            by_diagnostic[id(diagnostic)] = result
    for diagnostic, entry in zip(lint.diagnostics, doc["runs"][0]["results"]):
        result = by_diagnostic.get(id(diagnostic))
        if result is not None:
            entry.setdefault("properties", {})["verify"] = verify_properties(result)
    doc["runs"][0].setdefault("properties", {})["verify"] = {
        "interpreter": run.interpreter, "isolation": run.isolation, "interrupted": run.interrupted}
    return doc


def render(fmt: str, run: VerifyRun) -> str:
    if fmt == "json":
        return render_json(run)
    if fmt == "sarif":
        return json.dumps(sarif(run), indent=2, default=str) + "\n"
    return render_text(run)
