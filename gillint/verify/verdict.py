"""From the child's figures to a verdict: the probe bands, and what the verdict says about the finding.

Bands (docs/verify.md): ``run_frac < 0.3`` is I/O-bound; else ``gil_frac >= 0.6`` is
GIL-bound, ``gil_frac <= 0.15`` releases the GIL, and between the two the code is
partly GIL-bound: threads can speed it up by at most about ``1 / gil_frac``.
The serial-vs-threads-vs-processes timing never overrides the probe: a speed-up is shown only
when its interleaved rounds agree and a core was free, and a stable one that disagrees says so.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

GIL_BOUND = "gil-bound"
PARTLY = "partly-gil-bound"
RELEASES = "releases-gil"
IO_BOUND = "io-bound"
NOT_RUNNABLE = "not-runnable"
TIMEOUT = "timeout"
ERROR = "error"
INTERRUPTED = "interrupted"
VERDICTS = (GIL_BOUND, PARTLY, RELEASES, IO_BOUND, NOT_RUNNABLE, TIMEOUT, ERROR)
MEASURED = (GIL_BOUND, PARTLY, RELEASES, IO_BOUND)

RUN_FRAC_IO = 0.3
GIL_FRAC_BOUND = 0.6
GIL_FRAC_RELEASES = 0.15

# What each rule claims about the work it flags: "gil" (holds the GIL, threads do not
# help), "cpu" (blocks the event loop: any CPU work does), "io" (waits: processes are overkill).
RULE_CLAIMS = {"GIL101": "gil", "GIL102": "gil", "GIL201": "gil", "GIL302": "gil", "GIL301": "cpu", "GIL202": "io"}


@dataclass
class VerifyResult:
    """One measured finding (or a start site the user asked to measure); plain data for every report."""

    label: str  # "fixtures/verify/loops.py:20 GIL101 count_primes"
    path: str
    line: int
    code: str  # the finding's rule code, "" for a site measured on request, "snippet" for --snippet
    qualname: str
    verdict: str
    reason: str = ""
    outcome: str = ""  # confirmed / refuted / partly confirmed / inconclusive / "" (no claim)
    gil_frac: Optional[float] = None
    run_frac: Optional[float] = None
    windows: List[Dict[str, float]] = field(default_factory=list)
    speedup_bound: Optional[float] = None  # partly-gil-bound: threads cannot beat this
    thread_speedup: Optional[float] = None
    process_speedup: Optional[float] = None
    call_seconds: Optional[float] = None
    seconds: float = 0.0
    arguments: str = ""  # where the arguments came from
    interpreter: Dict[str, Any] = field(default_factory=dict)
    isolation: str = ""
    limits: Dict[str, Any] = field(default_factory=dict)
    cpus: Optional[List[int]] = None  # the cores the measurement ran on
    traceback: List[str] = field(default_factory=list)
    gil_off: Optional[Dict[str, Any]] = None  # free-threaded builds: the run with the GIL forced off
    cpu_per_call: Optional[float] = None
    call_kind: str = ""  # function, coroutine (run on a loop), generator (exhausted), async-generator
    loop_block_seconds: Optional[float] = None  # coroutines: the longest stretch one call kept the loop
    magnitude: str = ""  # negligible / moderate / large: the cost of one call at the measured size
    meaning: str = ""  # what the verdict means at that size, one sentence
    timing: Dict[str, Any] = field(default_factory=dict)  # serial vs threads vs processes, interleaved rounds
    speedups: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # threads/processes/gil_off: shown or not, why
    ladder: Optional[Dict[str, Any]] = None  # cost per call as the argument grows
    growth: str = ""  # the ladder in words
    recorded: Optional[Dict[str, Any]] = None  # --from-tests: what was recorded for this target
    unreliable: bool = False  # the probe was starved of CPU: a low gil_frac proves nothing

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @property
    def sort_key(self):
        return (self.path, self.line, self.code, self.qualname)


def median(values: Sequence[float]) -> Optional[float]:
    return round(statistics.median(values), 4) if values else None


def classify(gil_frac: float, run_frac: float) -> str:
    if run_frac < RUN_FRAC_IO:
        return IO_BOUND
    if gil_frac >= GIL_FRAC_BOUND:
        return GIL_BOUND
    if gil_frac <= GIL_FRAC_RELEASES:
        return RELEASES
    return PARTLY


PROBE_STARVED = 0.5


def cpu_starved(windows: Sequence[Dict[str, Any]]) -> Optional[float]:
    """The probe's median share of a window spent queued for a CPU, when over PROBE_STARVED (else None).

    On an oversubscribed machine the probe wakes a few times a window and the queue correction
    removes nearly all its lateness: GIL-bound code can then read as releasing the GIL.  A high
    gil_frac stays meaningful (the lateness left is the GIL's); a low one does not.
    """
    shares = [w["probe_queued"] / w["wall"] for w in windows if w.get("probe_queued") is not None and w.get("wall")]
    if not shares:
        return None
    share = statistics.median(shares)
    return share if share > PROBE_STARVED else None


def speedup_bound(gil_frac: float) -> float:
    """The most threads can gain on code that needs the GIL for ``gil_frac`` of its time."""
    return round(1.0 / max(gil_frac, 1e-3), 2)


# How long one call may keep the event loop (GIL301): over BLOCK_CONFIRMS confirms the finding,
# under BLOCK_REFUTES refutes it at the measured size, between the two it is partly confirmed.
BLOCK_CONFIRMS = 0.010
BLOCK_REFUTES = 0.001
# The cost of one call: under NEGLIGIBLE it matters only in a tight loop; over LARGE other threads
# (or the event loop) visibly wait.
NEGLIGIBLE = 100e-6
LARGE = 0.010


def blocking_seconds(result: "VerifyResult") -> Optional[float]:
    """How long one call keeps the event loop: measured on a loop for coroutines, else the whole call."""
    if result.loop_block_seconds is not None:
        return result.loop_block_seconds
    return result.call_seconds


def outcome(code: str, verdict: str, block: Optional[float] = None) -> str:
    """What the verdict says about the finding's claim (``block``: seconds one call keeps the loop)."""
    claim = RULE_CLAIMS.get(code)
    if claim is None or verdict not in MEASURED:
        return "inconclusive" if claim is not None else ""
    if claim == "gil":
        return {GIL_BOUND: "confirmed", PARTLY: "partly confirmed"}.get(verdict, "refuted")
    if claim == "cpu":
        if verdict == IO_BOUND:
            return "refuted"
        if block is None or block >= BLOCK_CONFIRMS:
            return "confirmed"
        return "refuted" if block < BLOCK_REFUTES else "partly confirmed"
    return "confirmed" if verdict == IO_BOUND else "refuted"


def duration(seconds: Optional[float]) -> str:
    """2.1 µs, 340 µs, 4.2 ms, 1.3 s."""
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return "%.3g µs" % (seconds * 1e6)
    if seconds < 1:
        return "%.3g ms" % (seconds * 1e3)
    return "%.3g s" % seconds


def magnitude(codes: Sequence[str], result: "VerifyResult") -> Tuple[str, str]:
    """(negligible | moderate | large, what the verdict means at the size measured)."""
    verdict = result.verdict
    per_call = result.call_seconds
    if verdict not in MEASURED or per_call is None:
        return "", ""
    if any(RULE_CLAIMS.get(code) == "cpu" for code in codes) or result.call_kind in ("coroutine", "async-generator"):
        block = blocking_seconds(result)
        level = "negligible" if block < BLOCK_REFUTES else ("large" if block >= BLOCK_CONFIRMS else "moderate")
        if verdict == IO_BOUND:
            return level, "mostly waits: one call keeps the event loop at most %s" % duration(block)
        if level == "large":
            return level, "blocks the event loop for %s per call (over %s): every other task waits that long" % (
                duration(block), duration(BLOCK_CONFIRMS))
        if level == "negligible":
            return level, "blocks the event loop for only %s per call at this size (under %s): not worth " \
                          "offloading unless the input grows" % (duration(block), duration(BLOCK_REFUTES))
        return level, "blocks the event loop for %s per call: noticeable when many requests come at once" \
            % duration(block)
    level = "negligible" if per_call < NEGLIGIBLE else ("large" if per_call >= LARGE else "moderate")
    cost = duration(per_call)
    if verdict == GIL_BOUND:
        return level, {
            "negligible": "holds the GIL, negligible per call (%s) unless called in a tight loop" % cost,
            "moderate": "holds the GIL for %s per call: matters when called often or from many threads" % cost,
            "large": "holds the GIL for %s per call: other threads wait that long each time" % cost}[level]
    if verdict == PARTLY:
        return level, "holds the GIL for part of each %s call (threads gain at most about %.1fx)" % (
            cost, result.speedup_bound or 0)
    if verdict == RELEASES:
        return level, "releases the GIL: %s per call can run on several threads at once" % cost
    return level, "mostly waits (%s per call, little of it on a CPU): threads or asyncio suit it" % cost


def in_tests_meaning(codes: Sequence[str], result: "VerifyResult") -> str:
    """For a target the sandbox could not run: how long it ran in the tests themselves (timed by the recorder)."""
    timed = (result.recorded or {}).get("in_tests")
    if not timed:
        return ""
    coroutine = any(RULE_CLAIMS.get(code) == "cpu" for code in codes)
    what = "one step between awaits kept the event loop" if coroutine else "one call ran"
    cpu = timed.get("step_cpu_max")
    share = timed.get("cpu_share")
    waits = ""
    if share is not None:
        waits = "; %d %% of the time on a CPU%s" % (round(share * 100), ": it mostly waits" if share < RUN_FRAC_IO
                                                  else "")
    return "not measured in the sandbox; in the tests %s for up to %s%s (mean %s over %d %s%s; timed by the " \
           "recorder outside the sandbox, with the tests' arguments, no GIL probe)" % (
               what, duration(timed["step_max"]), ", %s of it on a CPU" % duration(cpu) if cpu is not None else "",
               duration(timed["step_mean"]), timed["steps"],
               ("step" if coroutine else "run") + ("" if timed["steps"] == 1 else "s"), waits)


# A speed-up is shown only when its rounds agree and a core was free for the second worker.
SPREAD_SHOWN = 0.25
FREE_CORES_SHOWN = 1.5


def judge_speedups(verdict: str, bound: Optional[float], timing: Dict[str, Any],
                   gil_off_timing: Optional[Dict[str, Any]] = None) -> Dict[str, Dict[str, Any]]:
    """Each speed-up with its spread, whether it is shown, and a note when it is noise or disagrees."""
    judged: Dict[str, Dict[str, Any]] = {}
    sources = [("threads", timing), ("processes", timing)]
    if gil_off_timing:
        sources.append(("gil_off", gil_off_timing))
    for name, source in sources:
        figures = source.get(("threads" if name == "gil_off" else name) + "_speedup")
        if not figures:
            continue
        entry = dict(figures)
        median_value, low, high = entry["median"], entry["min"], entry["max"]
        spread_value = (high - low) / median_value if median_value else float("inf")
        free = source.get("free_cores")
        entry["spread"] = round(spread_value, 3)
        entry["free_cores"] = free
        label = {"threads": "two threads", "processes": "two processes", "gil_off": "two threads with the GIL off"}[name]
        if free is None or free < FREE_CORES_SHOWN or spread_value > SPREAD_SHOWN:
            entry["shown"] = False
            why = "%.1f cores idle" % free if free is not None else "idle cores unknown"
            entry["note"] = "%s: %.2f-%.2fx over %d rounds with %s: within the noise, not shown" % (
                label, low, high, len(entry.get("rounds", [])), why)
        else:
            entry["shown"] = True
            contradiction = ""
            if name == "threads" and verdict == GIL_BOUND and median_value >= 1.3:
                contradiction = "the probe says it holds the GIL"
            elif name == "threads" and verdict == PARTLY and bound and median_value > bound * 1.15:
                contradiction = "the probe bounds it at %.1fx" % bound
            elif name == "threads" and verdict == RELEASES and median_value < 1.2:
                entry["note"] = "%s gained only %.2fx although the code releases the GIL (memory bandwidth or " \
                                "another lock?)" % (label, median_value)
            if contradiction:
                entry["disagrees"] = True
                entry["note"] = "%s: %.2fx (%.2f-%.2f, stable) although %s; the probe decides the verdict" % (
                    label, median_value, low, high, contradiction)
        judged[name] = entry
    return judged


BLOCKS_PER_SECOND_SCALING = 50.0
BLOCKS_PER_CALL_SCALING = 0.5  # a lock held through each call: the other thread blocks about once per call
BLOCKS_PER_SECOND_IDLE = 2.0  # a worker that blocks this rarely did not wait for the other
RAN_TOGETHER_SCALING = 0.5  # the workers progressed at the same time at least half as often as chance allows
OVERLAP_EXPECTED_LEAST = 0.03  # below this the machine gave the workers too little CPU to tell


def ran_together(overlap: Optional[Dict[str, Any]]) -> Optional[float]:
    """How often the two workers progressed at the same tick, over how often they would if independent.

    About 1 for code that runs in parallel, near 0 for code serialised by a lock, whatever
    the machine's load; None when they ran too little to tell.  A lock whose waiter spins
    and yields before it sleeps (CPython's own locks do) keeps the waiter runnable, so the
    thread's state or blocking count alone can miss it; its progress cannot.
    """
    if not overlap or overlap.get("expected") is None or overlap["expected"] < OVERLAP_EXPECTED_LEAST:
        return None
    return round(overlap["both"] / overlap["expected"], 3)


def scales(scaling: Dict[str, Any]) -> Optional[bool]:
    """Two workers at once: neither keeps blocking (on the GIL or another lock), and a call costs no more CPU.

    Blocking is counted as voluntary context switches, per second and per call: a thread
    that waits for the GIL hands it over about every switch interval (~200 a second), a
    thread that waits for a lock held through each call blocks about once per call, and a
    thread that runs freely hardly ever blocks, however loaded the machine is.  Where that
    count is not available, each worker's run_frac must stay high instead.
    """
    fracs = scaling.get("run_fracs") or []
    if not fracs:
        return None
    alone, together = scaling.get("cpu_per_call_alone"), scaling.get("cpu_per_call_together")
    cpu_ok = alone is None or together is None or together <= alone * 1.5
    blocks = [b for b in scaling.get("blocks_per_second") or [] if b is not None]
    per_call = [b for b in scaling.get("blocks_per_call") or [] if b is not None]
    if blocks and (max(blocks) >= BLOCKS_PER_SECOND_SCALING or max(per_call or [0.0]) >= BLOCKS_PER_CALL_SCALING):
        return False
    together_share = ran_together(scaling.get("overlap"))
    if together_share is not None:
        if together_share >= RAN_TOGETHER_SCALING:
            return cpu_ok
        # They did not run at once, and their blocking does not prove they waited for each other:
        # a busy machine may simply have given them one core between them.  Not judged.
        return None
    if blocks:
        # Too little CPU to see them run at once: a pair that never blocked had nothing to wait for.
        return cpu_ok if max(blocks) <= BLOCKS_PER_SECOND_IDLE else None
    return min(fracs) >= 0.75 and cpu_ok


def growth(ladder: Optional[Dict[str, Any]]) -> str:
    """The size ladder in words: "x10: 9.8x, x100: 97x (about linear)"."""
    if not ladder or not ladder.get("rungs"):
        return ladder.get("skipped", "") if ladder else ""
    timed = [r for r in ladder["rungs"] if r.get("seconds")]
    if len(timed) < 2:
        stop = next((r for r in ladder["rungs"] if not r.get("seconds")), None)
        return "only one size measured%s" % (": %s" % (stop.get("skipped") or stop.get("error") or "cut off")
                                             if stop else "")
    import math

    first, last = timed[0], timed[-1]
    parts = []
    for rung in timed[1:]:
        scale = rung["size"] / max(first["size"], 1)
        parts.append("x%s size: %s per call (%.3gx)" % ("%g" % scale if scale < 1000 else "%.0f" % scale,
                                                         duration(rung["seconds"]), rung["seconds"] / first["seconds"]))
    ratio = last["size"] / max(first["size"], 1)
    if ratio <= 1.5:
        return "; ".join(parts)
    exponent = math.log(max(last["seconds"], 1e-12) / max(first["seconds"], 1e-12)) / math.log(ratio)
    if exponent < 0.3:
        words = "hardly grows with the size"
    elif exponent < 1.2:
        words = "grows about linearly"
    elif exponent < 1.7:
        words = "grows faster than linearly (n log n, n^1.5)"
    elif exponent < 2.4:
        words = "grows about quadratically"
    else:
        words = "grows faster than quadratically"
    stop = next((r for r in ladder["rungs"] if not r.get("seconds")), None)
    tail = "; stopped: %s" % (stop.get("skipped") or stop.get("error") or "cut off at the time limit") if stop else ""
    return "from %s per call at size %s: %s; %s (size^%.2f)%s" % (
        duration(first["seconds"]), first["size"], "; ".join(parts), words, exponent, tail)
