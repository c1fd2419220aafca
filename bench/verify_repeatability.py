"""Repeatability of `gillint verify` on a noisy machine.

Runs the verify fixture set several times in a row while another process keeps one
core busy, and records how many verdicts were identical across the runs and how long
each finding took.  Results go to bench/verify_repeatability.json and .md.

    python bench/verify_repeatability.py [--runs 5] [--no-load] [PATH]
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


def one_run(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "verify.json"
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "gillint", "verify", str(path), "--format", "json", "-o",
                               str(output), "--progress", "never"], cwd=str(ROOT), capture_output=True, text=True)
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
    parser.add_argument("--out", default=str(HERE / "verify_repeatability"))
    args = parser.parse_args()

    load = None if args.no_load else busy_core()
    runs = []
    try:
        for number in range(args.runs):
            runs.append(one_run(Path(args.path)))
            print("run %d: %.1fs" % (number + 1, runs[-1]["seconds"]), file=sys.stderr)
    finally:
        if load is not None:
            load.kill()
            load.wait()

    def key(result: dict) -> str:
        return "%s::%s" % (Path(result["path"]).name, result["qualname"])

    verdicts: dict = {}
    seconds: dict = {}
    for run in runs:
        for result in run["results"]:
            verdicts.setdefault(key(result), []).append(result["verdict"])
            seconds.setdefault(key(result), []).append(result["seconds"])
    identical = sorted(k for k, v in verdicts.items() if len(set(v)) == 1 and len(v) == len(runs))
    differing = {k: v for k, v in verdicts.items() if k not in identical}
    all_seconds = [s for values in seconds.values() for s in values]
    summary = {
        "runs": len(runs),
        "other_load": "none" if args.no_load else "one process spinning on one core",
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
        "per_finding": {k: {"verdicts": verdicts[k], "seconds": seconds[k]} for k in sorted(verdicts)},
    }
    Path(args.out + ".json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    Path(args.out + ".md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))
    return 0 if not differing else 1


def markdown(summary: dict) -> str:
    interpreter = summary["interpreter"]
    lines = [
        "# `gillint verify` repeatability",
        "",
        "Produced by `python bench/verify_repeatability.py` (the fixture set `fixtures/verify/`, %d runs in a row, "
        "other load: %s, %s CPUs, %s %s, network isolation: %s)."
        % (summary["runs"], summary["other_load"], summary["cpus"], interpreter.get("implementation"),
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
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
