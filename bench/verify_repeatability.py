"""Repeatability of `gillint verify` on a noisy machine.

Runs the verify fixture set several times in a row while another process keeps one
core busy, and records how many verdicts were identical across the runs, how long each
finding took, and the newer figures: the time per call and its magnitude, the thread and
process speed-ups (their spread over the interleaved rounds, whether they were shown, and
whether a shown one ever contradicted the verdict) and the size ladder's growth.
Results go to bench/verify_repeatability.json and .md (or --out).

    python bench/verify_repeatability.py [--runs 5] [--no-load | --busy N] [--from-tests CMD] [--out NAME] [PATH]

``--busy 2`` keeps two cores busy (a spinning process each): on a 2-core machine no core is free.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def busy_core() -> "subprocess.Popen[bytes]":
    return subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"])


def one_run(path: Path, from_tests: str = "") -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "verify.json"
        began = time.perf_counter()
        extra = ["--from-tests", from_tests] if from_tests else []
        cwd = path.resolve() if path.is_dir() and from_tests else ROOT  # the tests run where the project is
        target = "." if cwd != ROOT else str(path)
        done = subprocess.run([sys.executable, "-m", "gillint", "verify", target, "--format", "json", "-o",
                               str(output), "--progress", "never"] + extra, cwd=str(cwd), capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        elapsed = time.perf_counter() - began
        if done.returncode not in (0, 1):
            raise SystemExit("gillint verify failed (%d):\n%s" % (done.returncode, done.stderr))
        document = json.loads(output.read_text(encoding="utf-8"))
    interpreter = {k: v for k, v in document["interpreter"].items() if k != "executable"}  # no local paths
    return {"seconds": elapsed, "results": document["results"], "isolation": document["isolation"],
            "interpreter": interpreter}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(ROOT / "fixtures" / "verify"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-load", action="store_true", help="do not keep a core busy")
    parser.add_argument("--busy", type=int, default=1, metavar="N", help="spinning processes to run alongside (1)")
    parser.add_argument("--out", default=str(HERE / "verify_repeatability"))
    parser.add_argument("--from-tests", default="", help="record arguments with this test command (run in PATH)")
    args = parser.parse_args()

    load = [] if args.no_load else [busy_core() for _ in range(args.busy)]
    runs = []
    try:
        for number in range(args.runs):
            runs.append(one_run(Path(args.path), args.from_tests))
            print("run %d: %.1fs" % (number + 1, runs[-1]["seconds"]), file=sys.stderr)
    finally:
        for spinner in load:
            spinner.kill()
            spinner.wait()

    names = [("%s::%s" % (Path(r["path"]).name, r["qualname"])) for r in runs[0]["results"]]

    def key(result: dict) -> str:
        name = "%s::%s" % (Path(result["path"]).name, result["qualname"])
        return name if names.count(name) == 1 else "%s@%d" % (name, result["line"])  # one target, two sites

    verdicts: dict = {}
    seconds: dict = {}
    figures: dict = {}
    for run in runs:
        for result in run["results"]:
            verdicts.setdefault(key(result), []).append(result["verdict"])
            seconds.setdefault(key(result), []).append(result["seconds"])
            figures.setdefault(key(result), []).append(new_figures(result))
    identical = sorted(k for k, v in verdicts.items() if len(set(v)) == 1 and len(v) == len(runs))
    differing = {k: v for k, v in verdicts.items() if k not in identical}
    all_seconds = [s for values in seconds.values() for s in values]
    summary = {
        "path": os.path.relpath(os.path.abspath(args.path), str(ROOT)),
        "from_tests": args.from_tests or None,
        "runs": len(runs),
        "other_load": "none" if args.no_load else "one process spinning on one core" if args.busy == 1 else
        "%d processes spinning, one per core" % args.busy,
        "cpus": os.cpu_count(),
        "interpreter": runs[0]["interpreter"],
        "isolation": runs[0]["isolation"],
        "platform": platform.platform(),
        "findings": len(verdicts),
        "identical_verdicts": len(identical),
        "differing": differing,
        "seconds_per_run": [round(r["seconds"], 2) for r in runs],
        "seconds_per_finding": {
            "mean": round(statistics.mean(all_seconds), 3),
            "median": round(statistics.median(all_seconds), 3),
            "max": round(max(all_seconds), 3),
            "over_2s": sorted({k for k, values in seconds.items() if max(values) > 2.0}),
        },
        "per_finding": {k: {"verdicts": verdicts[k], "seconds": seconds[k], "figures": figures[k]}
                        for k in sorted(verdicts)},
        "figures": figure_summary(figures),
    }
    Path(args.out + ".json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    Path(args.out + ".md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))
    return 0 if not differing else 1


def new_figures(result: dict) -> dict:
    """Per call, magnitude, outcome, each speed-up (median, spread, shown, disagrees) and the ladder's growth."""
    entry = {"per_call": result.get("call_seconds"), "magnitude": result.get("magnitude", ""),
             "outcome": result.get("outcome", ""), "loop_block": result.get("loop_block_seconds")}
    for name, judged in (result.get("speedups") or {}).items():
        entry[name] = {"median": judged.get("median"), "min": judged.get("min"), "max": judged.get("max"),
                       "free_cores": judged.get("free_cores"), "shown": judged.get("shown", False),
                       "disagrees": judged.get("disagrees", False)}
    timing = result.get("timing") or {}
    if timing.get("skipped"):
        entry["timing_skipped"] = timing["skipped"]
    growth = result.get("growth") or ""
    if "size^" in growth:
        entry["growth_exponent"] = float(growth.split("size^", 1)[1].split(")", 1)[0])
    return entry


def figure_summary(figures: dict) -> dict:
    """Across runs: do magnitudes agree, how often is a speed-up shown, how far apart are the shown ones."""
    measured = {k: v for k, v in figures.items() if any(f["per_call"] for f in v)}
    same_magnitude = sorted(k for k, v in measured.items() if len({f["magnitude"] for f in v}) == 1)
    speedups = {}
    for name in ("threads", "processes", "gil_off"):
        timed = [f[name] for v in measured.values() for f in v if name in f]
        if not timed:
            continue
        shown = [t for t in timed if t["shown"]]
        ratios = []
        for key, values in measured.items():
            medians = [f[name]["median"] for f in values if name in f and f[name]["shown"]]
            if len(medians) >= 2:
                ratios.append(max(medians) / min(medians))
        spreads = sorted((t["max"] - t["min"]) / t["median"] for t in timed if t["median"])
        speedups[name] = {
            "timed": len(timed), "shown": len(shown),
            "shown_that_disagree": sum(1 for t in shown if t["disagrees"]),
            "median_spread_in_a_run": round(spreads[len(spreads) // 2], 3) if spreads else None,
            "largest_max_over_min_of_shown_medians_across_runs": round(max(ratios), 3) if ratios else None,
            "median_free_cores": round(statistics.median(t["free_cores"] for t in timed
                                                         if t["free_cores"] is not None), 2)
            if any(t["free_cores"] is not None for t in timed) else None,
        }
    per_call_ratio = {k: round(max(f["per_call"] for f in v if f["per_call"]) /
                               min(f["per_call"] for f in v if f["per_call"]), 2)
                      for k, v in measured.items() if all(f["per_call"] for f in v)}
    exponents = {k: [f["growth_exponent"] for f in v if "growth_exponent" in f] for k, v in measured.items()}
    exponents = {k: (min(e), max(e)) for k, e in exponents.items() if len(e) >= 2}
    return {
        "measured_findings": len(measured),
        "identical_magnitude": len(same_magnitude),
        "differing_magnitude": {k: [f["magnitude"] for f in v] for k, v in measured.items()
                                if k not in same_magnitude},
        "per_call_max_over_min_median": round(statistics.median(per_call_ratio.values()), 2) if per_call_ratio
        else None,
        "per_call_max_over_min_worst": max(per_call_ratio.items(), key=lambda kv: kv[1]) if per_call_ratio else None,
        "speedups": speedups,
        "growth_exponent_range": {k: [round(v[0], 2), round(v[1], 2)] for k, v in exponents.items()},
    }


def markdown(summary: dict) -> str:
    interpreter = summary["interpreter"]
    lines = [
        "# `gillint verify` repeatability",
        "",
        "Produced by `python bench/verify_repeatability.py` (`%s`%s, %d runs in a row, "
        "other load: %s, %s CPUs, %s %s, network isolation: %s)."
        % (summary.get("path", "fixtures/verify"),
           ", arguments recorded with `--from-tests \"%s\"`" % summary["from_tests"] if summary.get("from_tests") else "",
           summary["runs"], summary["other_load"], summary["cpus"], interpreter.get("implementation"),
           interpreter.get("version"), summary["isolation"]),
        "",
        "- identical verdicts: **%d of %d** findings" % (summary["identical_verdicts"], summary["findings"]),
        "- seconds per run: %s" % ", ".join("%.1f" % s for s in summary["seconds_per_run"]),
        "- seconds per finding: mean %.2f, median %.2f, max %.2f"
        % (summary["seconds_per_finding"]["mean"], summary["seconds_per_finding"]["median"],
           summary["seconds_per_finding"]["max"]),
        "- findings over 2 s in any run: %s" % (", ".join(summary["seconds_per_finding"]["over_2s"]) or "none"),
        "",
        "| finding | verdicts | seconds (each run) |",
        "|---|---|---|",
    ]
    for name, entry in summary["per_finding"].items():
        verdicts = sorted(set(entry["verdicts"]))
        lines.append("| %s | %s | %s |" % (name, ", ".join(verdicts) if len(verdicts) > 1 else verdicts[0],
                                            " ".join("%.2f" % s for s in entry["seconds"])))
    if summary["differing"]:
        lines += ["", "Differing verdicts: %s" % json.dumps(summary["differing"])]
    figures = summary.get("figures") or {}
    if figures:
        lines += ["", "## Magnitude and speed-ups", "",
                  "- magnitude (negligible / moderate / large per call) identical in every run: **%d of %d** "
                  "measured findings%s" % (figures["identical_magnitude"], figures["measured_findings"],
                                           (" (differing: %s)" % json.dumps(figures["differing_magnitude"]))
                                           if figures["differing_magnitude"] else ""),
                  "- time per call, largest over smallest across runs: median %sx, worst %s" % (
                      figures["per_call_max_over_min_median"], figures["per_call_max_over_min_worst"]),
                  "",
                  "| speed-up | timed | shown | shown and disagreeing with the verdict | median spread within a run "
                  "| shown medians across runs (worst max/min) | median idle cores |",
                  "|---|---|---|---|---|---|---|"]
        for name, entry in figures["speedups"].items():
            lines.append("| %s | %d | %d | %d | %s | %s | %s |" % (
                name, entry["timed"], entry["shown"], entry["shown_that_disagree"], entry["median_spread_in_a_run"],
                entry["largest_max_over_min_of_shown_medians_across_runs"], entry["median_free_cores"]))
        if figures["growth_exponent_range"]:
            lines += ["", "Size ladder, growth exponent (min, max over runs): " + ", ".join(
                "%s %s-%s" % (k, v[0], v[1]) for k, v in sorted(figures["growth_exponent_range"].items()))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
