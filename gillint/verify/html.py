"""`gillint verify --html FILE`: one self-contained page, a card per finding with small inline SVG charts.

No scripts, no external styles or fonts: the page opens from disk, in a CI artefact viewer or
an e-mail.  Each card shows the verdict and what it means at the size measured, the evidence
path of the static finding, a bar chart of the same work run serially, on two threads, on two
processes (and on two threads with the GIL off, on a free-threaded build) with the spread of
the interleaved rounds, and the size ladder where there is one.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import __version__
from .report import interpreter_line
from .runner import VerifyRun
from .verdict import MEASURED, VerifyResult, duration

COLOURS = {
    "gil-bound": "#c0392b", "partly-gil-bound": "#d68910", "releases-gil": "#1e8449", "io-bound": "#2471a3",
    "not-runnable": "#7f8c8d", "timeout": "#6c3483", "error": "#6c3483",
}
BARS = (("serial", "serial", "#5d6d7e"), ("threads", "2 threads", "#c0392b"), ("processes", "2 processes", "#1e8449"),
        ("gil_off", "2 threads, GIL off", "#2471a3"))

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1c2833;background:#f4f6f7}
h1{font-size:20px;margin:0 0 4px} .sub{color:#566573;margin-bottom:16px}
.summary span{display:inline-block;margin:0 8px 8px 0;padding:2px 10px;border-radius:10px;color:#fff;font-size:12px}
.card{background:#fff;border:1px solid #d5d8dc;border-radius:8px;padding:14px 18px;margin:0 0 14px}
.card h2{font-size:15px;margin:0 0 6px;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 9px;border-radius:9px;color:#fff;font-size:12px;margin-right:6px}
.outcome{font-size:12px;color:#566573}
.meaning{margin:6px 0;font-weight:600}
.figures{color:#2c3e50;font-size:13px;margin:4px 0}
.figures b{font-weight:600}
.evidence{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#566573;margin:4px 0}
.notes{font-size:12px;color:#566573;margin:6px 0 0;padding-left:18px}
.charts{display:flex;flex-wrap:wrap;gap:18px;margin-top:8px}
.chart-title{font-size:12px;color:#566573;margin-bottom:2px}
svg text{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
"""


def _bar_chart(result: VerifyResult) -> Optional[str]:
    """Seconds for the same work (two units of calls): serial, two threads, two processes, GIL off."""
    timing = result.timing or {}
    seconds = timing.get("seconds") or {}
    serial = _median(seconds.get("serial"))
    rows: List[Tuple[str, str, float, float, float, Dict[str, Any]]] = []
    if serial:
        rows.append(("serial", "serial", serial, min(seconds["serial"]), max(seconds["serial"]), {"shown": True}))
    for key, label, _ in BARS[1:]:
        source = timing if key != "gil_off" else ((result.gil_off or {}).get("timing") or {})
        values = (source.get("seconds") or {}).get("threads" if key == "gil_off" else key)
        values = [v for v in values or [] if v]
        base = serial if key != "gil_off" else _median((source.get("seconds") or {}).get("serial"))
        if not values or not base:
            continue
        # Scaled to this run's serial time, so GIL off (its own serial run) compares on the same axis.
        scale = serial / base if serial else 1.0
        rows.append((key, label, _median(values) * scale, min(values) * scale, max(values) * scale,
                     result.speedups.get(key, {})))
    if not rows:
        return None
    width, left, bar_h, gap = 500, 130, 18, 8
    top = 6
    height = top + len(rows) * (bar_h + gap) + 18
    longest = max(r[4] for r in rows) * 1.08
    span = width - left - 150

    def x(value: float) -> float:
        return left + span * value / longest

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="timing">'
             % (width, height)]
    for index, (key, label, middle, low, high, judged) in enumerate(rows):
        y = top + index * (bar_h + gap)
        colour = dict((k, c) for k, _, c in BARS)[key]
        shown = judged.get("shown", False) or key == "serial"
        opacity = "1" if shown else "0.35"
        parts.append('<text x="%d" y="%.1f" font-size="12" text-anchor="end" fill="#2c3e50">%s</text>'
                     % (left - 8, y + bar_h - 5, escape(label)))
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" rx="2" fill="%s" fill-opacity="%s"/>'
                     % (left, y, max(1.0, x(middle) - left), bar_h, colour, opacity))
        # The spread of the interleaved rounds.
        parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#1c2833" stroke-width="1.2"/>'
                     % (x(low), x(high), y + bar_h / 2, y + bar_h / 2))
        for end in (low, high):
            parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#1c2833" stroke-width="1.2"/>'
                         % (x(end), x(end), y + 4, y + bar_h - 4))
        if key == "serial":
            text = "%s" % duration(middle)
        elif shown:
            text = "%s  %.2fx%s" % (duration(middle), serial / middle if middle else 0,
                                    " (disagrees)" if judged.get("disagrees") else "")
        else:
            text = "noise, not shown"
        parts.append('<text x="%.1f" y="%.1f" font-size="11" fill="#2c3e50">%s</text>'
                     % (x(high) + 6, y + bar_h - 5, escape(text)))
    parts.append('<text x="%d" y="%d" font-size="10" fill="#7f8c8d">time for the same work; whiskers: '
                 'min-max of %d interleaved rounds</text>' % (left, height - 3, len(seconds.get("serial") or [])))
    parts.append("</svg>")
    return "".join(parts)


def _ladder_chart(result: VerifyResult) -> Optional[str]:
    """Seconds per call against the argument's size, both on log scales."""
    rungs = [r for r in (result.ladder or {}).get("rungs", []) if r.get("seconds") and r.get("size")]
    if len(rungs) < 2:
        return None
    width, height, left, bottom, top, right = 300, 150, 56, 28, 10, 14
    sizes = [math.log10(max(r["size"], 1)) for r in rungs]
    times = [math.log10(r["seconds"]) for r in rungs]
    low_x, high_x = min(sizes), max(sizes) if max(sizes) > min(sizes) else min(sizes) + 1
    low_y, high_y = math.floor(min(times)), math.ceil(max(times))
    if high_y == low_y:
        high_y += 1

    def px(value: float) -> float:
        return left + (width - left - right) * (value - low_x) / (high_x - low_x)

    def py(value: float) -> float:
        return height - bottom - (height - bottom - top) * (value - low_y) / (high_y - low_y)

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="size ladder">'
             % (width, height)]
    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#fbfcfc" stroke="#d5d8dc"/>'
                 % (left, top, width - left - right, height - bottom - top))
    for decade in range(int(low_y), int(high_y) + 1):
        y = py(decade)
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eaeded"/>' % (left, width - right, y, y))
        parts.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end" fill="#566573">%s</text>'
                     % (left - 4, y + 3, escape(duration(10.0 ** decade))))
    points = " ".join("%.1f,%.1f" % (px(s), py(t)) for s, t in zip(sizes, times))
    parts.append('<polyline points="%s" fill="none" stroke="#c0392b" stroke-width="2"/>' % points)
    for rung, s, t in zip(rungs, sizes, times):
        parts.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="#c0392b"/>' % (px(s), py(t)))
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#566573">%s</text>'
                     % (px(s), height - bottom + 13, escape(_size(rung["size"]))))
    parts.append('<text x="%d" y="%d" font-size="10" fill="#7f8c8d">argument size (%s)</text>'
                 % (left, height - 3, "recorded calls" if (result.ladder or {}).get("mode") == "samples"
                    else "x1, x10, x100"))
    parts.append("</svg>")
    return "".join(parts)


def _size(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return "%.3g%s" % (value / scale, unit)
    return "%g" % value


def _median(values: Optional[Sequence[Optional[float]]]) -> Optional[float]:
    clean = sorted(v for v in values or [] if v)
    if not clean:
        return None
    middle = len(clean) // 2
    return clean[middle] if len(clean) % 2 else (clean[middle - 1] + clean[middle]) / 2


def _card(result: VerifyResult, evidence: str) -> str:
    colour = COLOURS.get(result.verdict, "#7f8c8d")
    out = ['<section class="card">', "<h2>%s</h2>" % escape(result.label)]
    out.append('<div><span class="badge" style="background:%s">%s</span>' % (colour, escape(result.verdict)))
    if result.outcome:
        out.append('<span class="outcome">the finding is <b>%s</b></span>' % escape(result.outcome))
    out.append("</div>")
    if result.meaning:
        out.append('<div class="meaning">%s</div>' % escape(result.meaning))
    elif result.reason:
        out.append('<div class="meaning">%s</div>' % escape(result.reason))
    if result.verdict in MEASURED:
        figures = ["gil_frac <b>%.2f</b>" % result.gil_frac if result.gil_frac is not None else "",
                   "run_frac <b>%.2f</b>" % result.run_frac if result.run_frac is not None else "",
                   "per call <b>%s</b>" % escape(duration(result.call_seconds)) if result.call_seconds else "",
                   "blocks the loop <b>%s</b>" % escape(duration(result.loop_block_seconds))
                   if result.loop_block_seconds is not None else ""]
        out.append('<div class="figures">%s</div>' % " &middot; ".join(f for f in figures if f))
    if evidence:
        out.append('<div class="evidence">evidence: %s</div>' % escape(evidence))
    charts = []
    bars = _bar_chart(result)
    if bars:
        charts.append('<div><div class="chart-title">serial vs two threads vs two processes</div>%s</div>' % bars)
    ladder = _ladder_chart(result)
    if ladder:
        charts.append('<div><div class="chart-title">cost per call as the argument grows</div>%s</div>' % ladder)
    if charts:
        out.append('<div class="charts">%s</div>' % "".join(charts))
    notes = []
    if result.meaning and result.reason:
        notes.append(result.reason)
    for key in ("threads", "processes", "gil_off"):
        note = result.speedups.get(key, {}).get("note")
        if note:
            notes.append(note)
    if result.timing.get("skipped"):
        notes.append("speed-ups not measured: %s" % result.timing["skipped"])
    if result.growth:
        notes.append("size ladder: %s" % result.growth)
    if result.arguments:
        notes.append("arguments: %s" % result.arguments)
    if notes:
        out.append('<ul class="notes">%s</ul>' % "".join("<li>%s</li>" % escape(n) for n in notes))
    out.append("</section>")
    return "\n".join(out)


def render_html(run: VerifyRun) -> str:
    evidence: Dict[int, str] = {}
    for job, result in zip(run.jobs, run.results):
        if job.diagnostics:
            evidence[id(result)] = job.diagnostics[0].evidence_path()
    counts: Dict[str, int] = {}
    for result in run.results:
        counts[result.verdict] = counts.get(result.verdict, 0) + 1
    head = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>gillint verify</title><style>%s</style></head><body>" % STYLE)
    body = ["<h1>gillint verify</h1>",
            '<div class="sub">%d of %d measured with %s &middot; network isolation: %s &middot; gillint %s</div>'
            % (len(run.results), run.planned, escape(interpreter_line(run.interpreter)), escape(run.isolation or "-"),
               escape(__version__))]
    if run.recording is not None:
        body.append('<div class="sub">arguments recorded from the tests with <code>%s</code> (exit status %s)</div>'
                    % (escape(str(run.recording.get("command"))), escape(str(run.recording.get("returncode")))))
    body.append('<div class="summary">%s</div>' % "".join(
        '<span style="background:%s">%d %s</span>' % (COLOURS.get(v, "#7f8c8d"), n, escape(v))
        for v, n in sorted(counts.items())))
    if not run.results:
        body.append("<p>nothing to measure: no finding carries a runnable target</p>")
    for result in run.results:
        body.append(_card(result, evidence.get(id(result), "")))
    return head + "\n".join(body) + "\n</body></html>\n"
