"""Hand-judged precision of every finding on the first N benchmark packages (alphabetical order).

    python bench/realworld/judged.py                      # the last run (results.json), 25 packages
    python bench/realworld/judged.py --results R.json --packages 25 --unjudged

Findings on labelled cases are judged by the cases (a TP is true, an FP false); every other
finding is looked up, by package, place and code, in ``judged/unlabelled-25.tsv``, where each
verdict was written by reading the evidence path in the package's source.  A finding with no
verdict yet is listed (``--unjudged``) and counted apart: the precision covers judged findings only,
and says how many are not judged.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(os.path.dirname(os.path.abspath(__file__)))
VERDICTS = HERE / "judged" / "unlabelled-25.tsv"


def load_verdicts(path: Path) -> Dict[Tuple[str, str, str], Tuple[str, str]]:
    """(package, place, code) -> (TRUE or FALSE, reason)."""
    found: Dict[Tuple[str, str, str], Tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            verdict = row["verdict"].strip().upper()
            if verdict not in ("TRUE", "FALSE"):
                raise ValueError("%s: verdict must be TRUE or FALSE, not %r" % (path, row["verdict"]))
            found[(row["package"], row["place"], row["code"])] = (verdict, row["reason"])
    return found


def judge(results: dict, verdicts: Dict[Tuple[str, str, str], Tuple[str, str]], packages: int) -> dict:
    names = sorted((p["name"] for p in results["packages"]), key=str.lower)[:packages]
    chosen = set(names)
    true = false = 0
    unjudged: List[dict] = []
    for item in results.get("true_positives", []):
        if item["finding"]["package"] in chosen:
            true += 1
    for item in results.get("false_positives", []):
        if item["finding"]["package"] in chosen:
            false += 1
    for item in results.get("unlabelled", []):
        if item["package"] not in chosen:
            continue
        key = (item["package"], "%s:%d" % (item["path"], item["line"]), item["code"])
        verdict = verdicts.get(key)
        if verdict is None:
            unjudged.append(item)
        elif verdict[0] == "TRUE":
            true += 1
        else:
            false += 1
    judged = true + false
    return {"packages": names, "true": true, "false": false, "unjudged": unjudged,
            "precision": (true / judged) if judged else None}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results.json", help="a score.py results.json")
    parser.add_argument("--verdicts", type=Path, default=VERDICTS, help="the judged findings (TSV)")
    parser.add_argument("--packages", type=int, default=25, help="how many packages, alphabetically (default 25)")
    parser.add_argument("--unjudged", action="store_true", help="list the findings that have no verdict yet")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
        verdicts = load_verdicts(args.verdicts)
    except (OSError, ValueError, KeyError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    outcome = judge(results, verdicts, args.packages)
    precision = outcome["precision"]
    print("%d packages (%s to %s): %d findings judged, %d true, %d false: precision %s; %d not judged yet" % (
        len(outcome["packages"]), outcome["packages"][0], outcome["packages"][-1],
        outcome["true"] + outcome["false"], outcome["true"], outcome["false"],
        "%.2f" % precision if precision is not None else "-", len(outcome["unjudged"])))
    if args.unjudged:
        for item in outcome["unjudged"]:
            print("%s\t%s:%d\t%s\t%s" % (item["package"], item["path"], item["line"], item["code"], item["message"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
