"""The race-pair benchmark: races that maintainers fixed, the published version before the fix as a
positive and the version after it as a negative.

    python bench/races/races.py fetch            # download and unpack every version (scratch folder)
    python bench/races/races.py score [--json]   # run gillint's GIL4xx rules on each and print precision/recall

Pairs are in ``pairs.toml`` (format in README.md).  Downloading and unpacking reuse the real-world
benchmark's code (``bench/realworld/fetch.py``); the scratch folder is ``bench/races/.work/``, git-ignored.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "realworld"))
import fetch as realworld_fetch  # noqa: E402
import realworld  # noqa: E402

try:  # Python 3.11+
    import tomllib as _toml
except ImportError:  # pragma: no cover - Python 3.9/3.10
    import tomli as _toml  # type: ignore[no-redef]

PAIRS = HERE / "pairs.toml"
WORK_DIR = HERE / ".work"
CODES = ("GIL401", "GIL402", "GIL403", "GIL404")
_KEYS = {"package", "before", "after", "dist", "root", "path", "line", "end_line", "after_path", "after_line",
         "after_end_line", "expect", "fix", "why"}


class PairError(ValueError):
    pass


@dataclass(frozen=True)
class Pair:
    package: str
    before: str
    after: str
    dist: str
    root: str
    path: str  # the racy code in the version before the fix (relative to the archive's top folder)
    line: int
    end_line: int
    after_path: str
    after_line: int  # the same code, fixed, in the version after
    after_end_line: int
    expect: str  # the GIL4xx code that describes the race
    fix: str  # the issue or pull request that fixed it
    why: str

    def versions(self) -> List[Tuple[str, str, int, int, bool]]:
        """(version, path, first line, last line, racy) of both sides."""
        return [(self.before, self.path, self.line, self.end_line, True),
                (self.after, self.after_path, self.after_line, self.after_end_line, False)]

    def package_at(self, version: str) -> "realworld.Package":
        return realworld.Package(self.package, version, self.dist, self.root)


def load_pairs(path: Path = PAIRS) -> List[Pair]:
    data = _toml.loads(path.read_text(encoding="utf-8"))
    pairs = []
    for index, entry in enumerate(data.get("pair", [])):
        where = "%s pair %d" % (path.name, index + 1)
        unknown = set(entry) - _KEYS
        if unknown:
            raise PairError("%s: unknown keys %s" % (where, ", ".join(sorted(unknown))))
        try:
            pair = Pair(entry["package"], entry["before"], entry["after"], entry.get("dist", "sdist"),
                        entry.get("root", ""), entry["path"], int(entry["line"]),
                        int(entry.get("end_line", entry["line"])), entry.get("after_path", entry["path"]),
                        int(entry["after_line"]), int(entry.get("after_end_line", entry["after_line"])),
                        entry["expect"], entry["fix"], entry["why"])
        except KeyError as exc:
            raise PairError("%s: missing key %s" % (where, exc)) from None
        if pair.expect not in CODES:
            raise PairError("%s: expect must be one of %s" % (where, ", ".join(CODES)))
        pairs.append(pair)
    return pairs


def checked_root(pair: Pair, version: str, work: Path) -> Path:
    top = realworld_fetch.ensure(pair.package_at(version), work)
    return top / pair.root if pair.root else top


def run_gillint(root: Path, python: str = sys.executable) -> List[Dict[str, Any]]:
    """GIL4xx findings of one unpacked version (paths relative to ``root``'s top folder)."""
    command = [python, "-m", "gillint", "check", str(root), "--select", "GIL4", "--target-version", "3.14t",
               "--format", "json", "--no-config", "--no-cache"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if proc.returncode not in (0, 1):
        raise RuntimeError("gillint failed on %s: %s" % (root, proc.stderr.strip().splitlines()[-1:]))
    return json.loads(proc.stdout)["diagnostics"]


def relative(path: str, top: Path) -> str:
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(top.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def score(pairs: Sequence[Pair], work: Path, python: str = sys.executable) -> Dict[str, Any]:
    rows = []
    cache: Dict[Tuple[str, str], Tuple[Path, List[Dict[str, Any]]]] = {}
    for pair in pairs:
        row: Dict[str, Any] = {"package": pair.package, "fix": pair.fix, "expect": pair.expect}
        for version, path, first, last, racy in pair.versions():
            key = (pair.package, version)
            if key not in cache:
                top = realworld_fetch.ensure(pair.package_at(version), work)
                root = top / pair.root if pair.root else top
                cache[key] = (top, run_gillint(root, python))
            top, found = cache[key]
            hits = [d for d in found if relative(d["path"], top) == path and first <= d["line"] <= last]
            row["before_hits" if racy else "after_hits"] = ["%s:%d %s" % (path, d["line"], d["code"]) for d in hits]
            row["before_total" if racy else "after_total"] = len(found)
        rows.append(row)
    found_races = sum(1 for r in rows if r["before_hits"])
    false_after = sum(1 for r in rows if r["after_hits"])
    reported = found_races + false_after
    return {"pairs": len(rows), "found": found_races, "fixed_still_reported": false_after,
            "recall": found_races / len(rows) if rows else None,
            "precision": found_races / reported if reported else None, "rows": rows}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("fetch", "score"))
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--work", type=Path, default=WORK_DIR)
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs gillint")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pairs = load_pairs(args.pairs)
    if args.command == "fetch":
        failed = 0
        for pair in pairs:
            for version, _, _, _, _ in pair.versions():
                try:
                    print("%s==%s: %s" % (pair.package, version, checked_root(pair, version, args.work)))
                except realworld_fetch.FetchError as exc:
                    failed += 1
                    print("error: %s==%s: %s" % (pair.package, version, exc), file=sys.stderr)
        return 1 if failed else 0
    result = score(pairs, args.work, args.python)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print("| package | fixed by | rule | before: found | after: still reported |")
    print("| --- | --- | --- | --- | --- |")
    for row in result["rows"]:
        print("| %s | %s | %s | %s | %s |" % (row["package"], row["fix"], row["expect"],
                                             ", ".join(row["before_hits"]) or "no",
                                             ", ".join(row["after_hits"]) or "no"))
    print("\npairs %d; races found %d (recall %s); fixed versions still reported %d; precision %s" % (
        result["pairs"], result["found"], realworld.fmt_ratio(result["recall"]), result["fixed_still_reported"],
        realworld.fmt_ratio(result["precision"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
