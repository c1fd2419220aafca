"""How many findings `gillint verify` could run, before and after `--from-tests`, from saved JSON reports.

    python bench/verify_runnable_share.py NAME=BEFORE.json,AFTER.json [NAME=...] [--markdown]

BEFORE is a `gillint verify --format json` report made without recorded arguments, AFTER one
made with `--from-tests CMD`.  A result counts as runnable when the sandbox ran the call
(any verdict but not-runnable: measured, error or timeout).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

MEASURED = ("gil-bound", "partly-gil-bound", "releases-gil", "io-bound")


def share(document: dict) -> dict:
    results = document["results"]
    ran = [r for r in results if r["verdict"] != "not-runnable"]
    recorded = [r for r in results if r.get("arguments", "").startswith("recorded from the tests")]
    timed_in_tests = [r for r in results if r["verdict"] == "not-runnable"
                      and ((r.get("recorded") or {}).get("in_tests"))]
    reasons = Counter()
    for result in results:
        if result["verdict"] == "not-runnable":
            reasons[_reason(result)] += 1
    return {"results": len(results), "runnable": len(ran), "recorded": len(recorded),
            "timed_in_tests": len(timed_in_tests),
            "verdicts": dict(Counter(r["verdict"] for r in results)),
            "outcomes": dict(Counter(r["outcome"] for r in results if r.get("outcome"))),
            "magnitudes": dict(Counter(r["magnitude"] for r in results if r.get("magnitude"))),
            "not_runnable_because": dict(reasons),
            "recording": {k: v for k, v in (document.get("recording") or {}).items() if k != "command"}}


def _reason(result: dict) -> str:
    reason = result.get("reason", "")
    recorded = result.get("recorded") or {}
    if recorded.get("missing"):
        missing = recorded["missing"]
        if "never called" in missing:
            return "the tests never called it"
        if "instance" in missing:
            return "recorded, but the instance does not pickle"
        if "pickle" in missing:
            return "recorded, but the arguments do not pickle"
        return missing
    for phrase, label in (("is a method", "a method without an instance"),
                          ("not literals", "arguments at the start site are not literals"),
                          ("no arguments", "no arguments"), ("do not fit", "no arguments"),
                          ("import failed", "import failed"), ("needs a resource", "needs the network or a file"),
                          ("lambda", "not importable (lambda, nested function)")):
        if phrase in reason:
            return label
    return reason[:80]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", metavar="NAME=BEFORE.json,AFTER.json")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    table = {}
    for pair in args.pairs:
        name, _, files = pair.partition("=")
        before, _, after = files.partition(",")
        table[name] = {"before": share(json.loads(Path(before).read_text(encoding="utf-8"))),
                       "after": share(json.loads(Path(after).read_text(encoding="utf-8")))}
    if not args.markdown:
        print(json.dumps(table, indent=2))
        return 0
    print("| project | results | runnable before | runnable after | with recorded arguments | timed in the tests "
          "only | verdicts after | not runnable after, because |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for name, entry in table.items():
        before, after = entry["before"], entry["after"]
        print("| %s | %d | %d (%d %%) | %d (%d %%) | %d | %d | %s | %s |" % (
            name, after["results"], before["runnable"], 100 * before["runnable"] // max(before["results"], 1),
            after["runnable"], 100 * after["runnable"] // max(after["results"], 1), after["recorded"],
            after["timed_in_tests"], ", ".join("%d %s" % (n, v) for v, n in sorted(after["verdicts"].items())),
            "; ".join("%d %s" % (n, v) for v, n in sorted(after["not_runnable_because"].items(),
                                                          key=lambda kv: -kv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
