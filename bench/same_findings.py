#!/usr/bin/env python3
"""Do two builds of gillint report the same findings on real code?  Engine changes made for speed
must not change a single finding; this shows it.

    python bench/same_findings.py record OUT.json [--gillint CMD] [--only NAME ...]
    python bench/same_findings.py compare BEFORE.json AFTER.json

``record`` runs ``gillint check --format json --no-cache --no-config`` on every corpus and writes
each finding (path relative to the corpus, line, column, code, message) and each file error.
The corpora: the running Python's standard library (as in docs/precision.md), the same with the
race rules on (``--select GIL4 --target-version 3.14t``), and every package unpacked by the
real-world benchmark (``bench/realworld/.work/``: run ``python bench/realworld/fetch.py`` or the
benchmark once first).  ``compare`` prints every finding that one file has and the other lacks
and exits 1 if there is any.

To record another build, check it out elsewhere (``git worktree add``) and give
``--gillint "python -m gillint"`` with ``PYTHONPATH`` set to that tree.  Not part of the test suite:
a full record takes about as long as the real-world benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REALWORLD_WORK = HERE / "realworld" / ".work"
STDLIB_EXCLUDES = ("__pycache__", "site-packages", "test/*", "idlelib/*")

Corpus = Tuple[str, Path, List[str]]  # name, folder, extra options


def corpora(only: Sequence[str]) -> List[Corpus]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    excludes = [option for pattern in STDLIB_EXCLUDES for option in ("--exclude", pattern)]
    found: List[Corpus] = [("stdlib", stdlib, excludes),
                           ("stdlib-races", stdlib, excludes + ["--select", "GIL4", "--target-version", "3.14t"])]
    if REALWORLD_WORK.is_dir():
        found.extend(("pkg:" + folder.name, folder, []) for folder in sorted(REALWORLD_WORK.iterdir()) if folder.is_dir())
    return [c for c in found if not only or any(c[0] == name or c[0] == "pkg:" + name for name in only)]


def run(command: List[str], corpus: Corpus) -> Dict[str, object]:
    name, folder, extra = corpus
    cmd = command + ["check", ".", "--format", "json", "--no-cache", "--no-config"] + extra
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=str(folder), capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"failed": "exit %d: %s" % (proc.returncode, tail[0])}
    document = json.loads(proc.stdout)
    findings = sorted("%s:%d:%d %s %s" % (d["path"], d["line"], d["column"], d["code"], d["message"])
                      for d in document["diagnostics"])
    return {"findings": findings, "files_checked": document.get("files_checked"),
            "seconds": round(time.monotonic() - started, 2)}


def record(out: Path, command: List[str], only: Sequence[str]) -> int:
    results: Dict[str, object] = {}
    for corpus in corpora(only):
        results[corpus[0]] = run(command, corpus)
        entry = results[corpus[0]]
        print("%-50s %s" % (corpus[0], entry.get("failed") or "%d findings, %s s" % (len(entry["findings"]), entry["seconds"])),  # type: ignore[arg-type]
              flush=True)
        out.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    return 0


def compare(before: Path, after: Path) -> int:
    old = json.loads(before.read_text(encoding="utf-8"))
    new = json.loads(after.read_text(encoding="utf-8"))
    differences = 0
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            print("%s: only in %s" % (name, before if name in old else after))
            continue
        a, b = old[name], new[name]
        if "failed" in a or "failed" in b:
            if a.get("failed") != b.get("failed"):
                differences += 1
                print("%s: %s / %s" % (name, a.get("failed", "ran"), b.get("failed", "ran")))
            continue
        gone = sorted(set(a["findings"]) - set(b["findings"]))
        added = sorted(set(b["findings"]) - set(a["findings"]))
        for line in gone:
            print("%s: - %s" % (name, line))
        for line in added:
            print("%s: + %s" % (name, line))
        differences += len(gone) + len(added)
    total = sum(len(v.get("findings", [])) for v in old.values())
    print("%d corpora, %d findings before, %d differences" % (len(old), total, differences))
    return 1 if differences else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--gillint", default=None, help="the command that runs gillint (default: this interpreter)")
    rec.add_argument("--only", action="append", default=[], help="a corpus name (stdlib, stdlib-races, a package folder)")
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    command = shlex.split(args.gillint) if args.gillint else [sys.executable, "-m", "gillint"]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return record(args.out, command, args.only)


if __name__ == "__main__":
    sys.exit(main())
