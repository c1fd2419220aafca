"""Why a busy machine could make GIL-bound code read as releasing the GIL, measured.

The probe's lateness is corrected by the time it spent queued for a CPU (Linux schedstat).
Before, the whole window's queue time was subtracted; now only the queue time inside each
sleep-to-wake-up interval, capped at that wake-up's lateness.  This script measures the
same windows both ways, with N processes spinning alongside, for long pure-Python calls
(recursive fib, a counting loop) and for code that releases the GIL (zlib), and writes
bench/probe_queue_attribution.md.

    python bench/probe_queue_attribution.py [--busy 2] [--windows 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from gillint.verify import probe_child as child  # noqa: E402
from gillint.verify.verdict import GIL_BOUND, GIL_FRAC_BOUND, GIL_FRAC_RELEASES, RELEASES, classify  # noqa: E402


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def count(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


DATA = os.urandom(1 << 19) + bytes(1 << 21)
WORKLOADS = {  # name: (function, arguments, the verdict it must get)
    "fib(27), recursive pure Python, ~0.1 s a call": (fib, (27,), GIL_BOUND),
    "counting loop, pure Python, ~0.2 s a call": (count, (2_000_000,), GIL_BOUND),
    "zlib.compress of 2.5 MB (releases the GIL)": (zlib.compress, (DATA, 6), RELEASES),
}


def wrong_verdicts(values, expected):
    """Verdicts taken as the verifier takes them, the median of 3 windows in a row: how many are not ``expected``."""
    groups = [values[i:i + 3] for i in range(0, len(values) - 2, 3)]
    return sum(classify(statistics.median(group), 1.0) != expected for group in groups), len(groups)


def gil_frac(window, idle, queued):
    wall = window["wall"]
    return min(1.0, max(0.0, window["lost"] - queued - window["wakes"] * idle) / max(wall - queued, wall * 0.05))


def measure(function, args, windows):
    idle = child.idle_lateness(0.001)
    worker = child.Worker(function, args, {})
    worker.start()
    child.warm_up(worker, 0.25)
    rows = []
    for _ in range(windows):
        window = child.measure_window(0.2, 0.001, idle, [worker.tid])
        rows.append((gil_frac(window, idle, window["probe_queued_whole"]), gil_frac(window, idle, window["probe_queued"]),
                     window["probe_queued_whole"], window["probe_queued"]))
    worker.stop.set()
    worker.join()  # its last call must not run into the next workload's idle measurement
    return rows


def describe(values):
    return "%.2f / %.2f / %.2f" % (min(values), statistics.median(values), max(values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2)
    parser.add_argument("--windows", type=int, default=30)
    parser.add_argument("--out", default=str(HERE / "probe_queue_attribution.md"))
    args = parser.parse_args()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(args.busy)]
    try:
        results = {name: measure(function, call_args, args.windows)
                   for name, (function, call_args, _) in WORKLOADS.items()}
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    lines = ["# The probe's CPU-queue correction under load", "",
             "Produced by `python bench/probe_queue_attribution.py --busy %d --windows %d` (%d processes spinning "
             "alongside, %d CPUs, CPython %s). Each 0.2 s window is corrected both ways: by the whole window's queue "
             "time (before) and by the queue time inside each sleep-to-wake-up interval, capped at that wake-up's "
             "lateness (now). Figures are min / median / max over the windows." % (
                 args.busy, args.windows, args.busy, os.cpu_count() or 0, sys.version.split()[0]), "",
             "| workload | gil_frac, whole-window queue | gil_frac, attributed queue | windows under %.1f (before / now) "
             "| windows at or under %.2f (before / now) | verdicts (median of 3 windows) not as expected, before / now "
             "| queue seconds per window, whole / attributed (median) |"
             % (GIL_FRAC_BOUND, GIL_FRAC_RELEASES), "|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        before, now, whole, attributed = zip(*rows)
        expected = WORKLOADS[name][2]
        wrong_before, groups = wrong_verdicts(list(before), expected)
        wrong_now, _ = wrong_verdicts(list(now), expected)
        lines.append("| %s | %s | %s | %d / %d | %d / %d | %d / %d of %d | %.3f / %.3f |" % (
            name, describe(before), describe(now), sum(v < GIL_FRAC_BOUND for v in before),
            sum(v < GIL_FRAC_BOUND for v in now), sum(v <= GIL_FRAC_RELEASES for v in before),
            sum(v <= GIL_FRAC_RELEASES for v in now), wrong_before, wrong_now, groups, statistics.median(whole),
            statistics.median(attributed)))
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    os._exit(0)  # the worker threads are still inside a call


if __name__ == "__main__":
    raise SystemExit(main())
