"""From the child's figures to a verdict: the probe bands, and what the verdict says about the finding.

Bands (docs/verify.md): ``run_frac < 0.3`` is I/O-bound; else ``gil_frac >= 0.6`` is
GIL-bound, ``gil_frac <= 0.15`` releases the GIL, and between the two the code is
partly GIL-bound: threads can speed it up by at most about ``1 / gil_frac``.
The serial-vs-threads timing never overrides the probe; a disagreement is noted.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence

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
    second_opinion: Dict[str, Any] = field(default_factory=dict)
    call_seconds: Optional[float] = None
    seconds: float = 0.0
    arguments: str = ""  # where the arguments came from
    interpreter: Dict[str, Any] = field(default_factory=dict)
    isolation: str = ""
    limits: Dict[str, Any] = field(default_factory=dict)
    cpus: Optional[List[int]] = None  # the cores the measurement ran on
    traceback: List[str] = field(default_factory=list)
    gil_off: Optional[Dict[str, Any]] = None  # free-threaded builds: the run with the GIL forced off

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


def speedup_bound(gil_frac: float) -> float:
    """The most threads can gain on code that needs the GIL for ``gil_frac`` of its time."""
    return round(1.0 / max(gil_frac, 1e-3), 2)


def outcome(code: str, verdict: str) -> str:
    """What the verdict says about the finding's claim."""
    claim = RULE_CLAIMS.get(code)
    if claim is None or verdict not in MEASURED:
        return "inconclusive" if claim is not None else ""
    if claim == "gil":
        return {GIL_BOUND: "confirmed", PARTLY: "partly confirmed"}.get(verdict, "refuted")
    if claim == "cpu":
        return "refuted" if verdict == IO_BOUND else "confirmed"
    return "confirmed" if verdict == IO_BOUND else "refuted"


def disagreement(verdict: str, opinion: Dict[str, Any]) -> str:
    """A note when the serial-vs-threads timing points the other way (it never decides)."""
    speedup = opinion.get("thread_speedup")
    if speedup is None:
        return ""
    if verdict == GIL_BOUND and speedup >= 1.5:
        return "threads sped it up %.2fx although the probe says it holds the GIL" % speedup
    if verdict == RELEASES and speedup < 1.2:
        return "threads sped it up only %.2fx although the probe says it releases the GIL " \
               "(memory bandwidth or another lock?)" % speedup
    return ""


BLOCKS_PER_SECOND_SCALING = 50.0


def scales(scaling: Dict[str, Any]) -> Optional[bool]:
    """Two workers at once: neither keeps blocking (on the GIL or another lock), and a call costs no more CPU.

    Blocking is counted as voluntary context switches per second: a thread that waits
    for the GIL hands it over about every switch interval (~200 a second), a thread
    that runs freely hardly ever blocks, however loaded the machine is.  Where that
    count is not available, each worker's run_frac must stay high instead.
    """
    fracs = scaling.get("run_fracs") or []
    if not fracs:
        return None
    alone, together = scaling.get("cpu_per_call_alone"), scaling.get("cpu_per_call_together")
    cpu_ok = alone is None or together is None or together <= alone * 1.5
    blocks = [b for b in scaling.get("blocks_per_second") or [] if b is not None]
    if blocks:
        return max(blocks) < BLOCKS_PER_SECOND_SCALING and cpu_ok
    return min(fracs) >= 0.75 and cpu_ok
