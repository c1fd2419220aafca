"""Score gillint's precision and recall on the labelled real-world cases.

    python bench/realworld/score.py                   # every case file
    python bench/realworld/score.py --package NAME    # only some (repeatable)
    python bench/realworld/score.py --json            # the results as JSON on standard output

For each package (downloaded and unpacked first when needed, as fetch.py does) it runs
``gillint check --format json --no-cache --no-config`` once on the package's root, matches the
findings to the cases (same file, relative to the archive's top folder; the finding's line in
[line, end_line]) and scores them per rule family, per rule and over all.  It writes
``results.json`` and ``results.md`` beside this script.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch  # noqa: E402
import realworld  # noqa: E402
from realworld import CODES, FAMILIES, Counts, Score, fmt_ratio  # noqa: E402

DEFAULT_TIMEOUT = 300.0


class RunError(RuntimeError):
    pass


def run_gillint(command: List[str], top: Path, root: str, timeout: float,
                libraries: Optional[Path] = None) -> Dict[str, Any]:
    """Run gillint in ``top`` on ``root`` (relative to top) and return its JSON document; ``libraries``
    is the folder of the package's installed dependencies, if any."""
    cmd = command + ["check", "--format", "json", "--no-cache", "--no-config"]
    if libraries is not None:
        cmd += ["--library-path", str(libraries)]
    cmd.append(root or ".")
    env = dict(os.environ, NO_COLOR="1")
    try:
        proc = subprocess.run(cmd, cwd=str(top), capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RunError("gillint timed out after %gs" % timeout) from None
    except OSError as exc:
        raise RunError("cannot run %s: %s" % (shlex.join(command), exc)) from None
    if proc.returncode not in (0, 1):
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        raise RunError("gillint exited %d: %s" % (proc.returncode, lines[-1] if lines else "no output"))
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise RunError("gillint printed no JSON (exit %d)" % proc.returncode) from None


def _counts_row(label: str, counts: Counts, positives: int, clean: int) -> str:
    return "| %s | %d | %d | %d | %d | %d | %s | %s |" % (
        label, positives, clean, counts.tp, counts.fp, counts.fn,
        fmt_ratio(counts.precision), fmt_ratio(counts.recall))


def summary_table(result: Score, cases: List[realworld.Case]) -> List[str]:
    """A Markdown table: overall, per family, per rule (case counts by expected code)."""
    positives: Dict[str, int] = {}
    for case in cases:
        if case.positive:
            positives[case.expect] = positives.get(case.expect, 0) + 1
    clean = sum(1 for c in cases if not c.positive)
    lines = ["| scope | positive cases | clean cases | TP | FP | FN | precision | recall |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
             _counts_row("**all**", result.overall, sum(positives.values()), clean)]
    for fam in FAMILIES:
        fam_pos = sum(n for code, n in positives.items() if realworld.family(code) == fam)
        lines.append(_counts_row("GIL" + fam, result.families.get(fam, Counts()), fam_pos, 0))
    for code in CODES:
        counts = result.rules.get(code, Counts())
        if positives.get(code) or counts.tp or counts.fp or counts.fn:
            lines.append(_counts_row(code, counts, positives.get(code, 0), 0))
    lines.append("")
    lines.append("Clean cases belong to no rule: a finding on one is an FP of the reported code's rule and family.")
    return lines


def _case_ref(case: realworld.Case) -> str:
    span = "%d" % case.line if case.end_line == case.line else "%d-%d" % (case.line, case.end_line)
    return "%s %s:%s" % (case.package, case.path, span)


def detail_lines(result: Score, markdown: bool) -> List[str]:
    bullet = "- " if markdown else "  "
    out: List[str] = []
    out.append("%sFalse negatives (%d)" % ("## " if markdown else "", len(result.fn)))
    for case, others in result.fn:
        got = ", ".join("%s@%d" % (f.code, f.line) for f in others) or "nothing"
        out.append("%s%s expected %s, got %s: %s" % (bullet, _case_ref(case), case.expect, got, case.why))
    out.append("")
    out.append("%sFalse positives (%d)" % ("## " if markdown else "", len(result.fp)))
    for case, finding in result.fp:
        out.append("%s%s expected %s, got %s@%d: %s" % (bullet, _case_ref(case), case.expect, finding.code,
                                                         finding.line, case.why))
    out.append("")
    out.append("%sUnlabelled findings (%d; to review by hand, not scored)" % ("## " if markdown else "",
                                                                             len(result.unlabelled)))
    for f in result.unlabelled:
        message = f.message.split("\n")[0]
        if len(message) > 160:
            message = message[:157] + "..."
        out.append("%s%s %s:%d %s %s" % (bullet, f.package, f.path, f.line, f.code, message))
    if result.ignored:
        out.append("")
        out.append("%sNot scored (%d: unreadable files or unknown codes)" % ("## " if markdown else "",
                                                                             len(result.ignored)))
        for f in result.ignored:
            out.append("%s%s %s:%d %s" % (bullet, f.package, f.path, f.line, f.code))
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", action="append", metavar="NAME", help="only this package (repeatable)")
    parser.add_argument("--gillint", metavar="CMD", default=None,
                        help="the command that runs gillint (default: this interpreter with -m gillint)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per package (default: %(default)s)")
    parser.add_argument("--cases", type=Path, default=realworld.CASES_DIR, help="folder of case files")
    parser.add_argument("--work", type=Path, default=realworld.WORK_DIR, help="scratch folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=realworld.HERE,
                        help="folder for results.json and results.md (default: beside this script)")
    parser.add_argument("--no-deps", action="store_true",
                        help="check each package without its installed dependencies")
    parser.add_argument("--no-write", action="store_true", help="write neither results.json nor results.md")
    args = parser.parse_args(argv)

    command = shlex.split(args.gillint) if args.gillint else [sys.executable, "-m", "gillint"]
    packages, errors = realworld.load_cases(args.cases, args.package)
    log = sys.stderr if args.json else sys.stdout

    result = Score()
    scored_cases: List[realworld.Case] = []
    per_package: List[Dict[str, Any]] = []
    for package in packages:
        start = time.monotonic()
        try:
            top = fetch.ensure(package, args.work)
            root_dir = top / package.root if package.root else top
            if not root_dir.is_dir():
                raise RunError("root %r is not a folder of %s" % (package.root, top))
            libraries = None
            if not args.no_deps:
                try:
                    libraries = fetch.ensure_deps(package, args.work)
                except fetch.FetchError as exc:
                    print("warning: %s: %s (checked without them)" % (package.requirement, exc), file=sys.stderr)
            document = run_gillint(command, top, package.root, args.timeout, libraries)
        except (fetch.FetchError, RunError, OSError) as exc:
            errors.append("%s: %s" % (package.requirement, exc))
            print("error: %s: %s" % (package.requirement, exc), file=sys.stderr)
            continue
        findings = realworld.findings_from_json(document, top, top, package=package.name)
        missing = [c for c in package.cases if not (top / c.path).is_file()]
        for case in missing:
            errors.append("%s: case file path %s does not exist" % (package.requirement, case.path))
        own = realworld.score(package.cases, findings)
        realworld.score(package.cases, findings, into=result)
        scored_cases.extend(package.cases)
        elapsed = time.monotonic() - start
        per_package.append({"name": package.name, "version": package.version, "dist": package.dist,
                            "cases": len(package.cases),
                            "positive": sum(1 for c in package.cases if c.positive),
                            "dependencies": libraries is not None,
                            "findings": len(findings), "files_checked": document.get("files_checked"),
                            "seconds": round(elapsed, 1), **{k: v for k, v in own.overall.to_dict().items()}})
        print("%-40s %3d cases %4d findings  TP %d FP %d FN %d  %.1fs" % (
            package.requirement, len(package.cases), len(findings), own.overall.tp, own.overall.fp,
            own.overall.fn, elapsed), file=log)

    gillint_version = ""
    try:
        gillint_version = subprocess.run(command + ["--version"], capture_output=True, text=True,
                                         timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    document = {
        "gillint": gillint_version,
        # the interpreter by name only: a results file names no folder of the machine that made it
        "command": shlex.join([os.path.basename(command[0])] + command[1:]),
        "packages": per_package,
        "cases": len(scored_cases),
        "positive_cases": sum(1 for c in scored_cases if c.positive),
        "clean_cases": sum(1 for c in scored_cases if not c.positive),
        "errors": errors,
        **result.to_dict(),
    }
    table = summary_table(result, scored_cases)
    details = detail_lines(result, markdown=True)
    if not args.no_write:
        (args.out / "results.json").write_text(json.dumps(document, indent=2) + "\n")
        md = ["# Real-world benchmark results", "",
              "%s, %d packages (%d checked with their pinned dependencies installed), %d cases (%d positive, "
              "%d clean). Rerun: `python bench/realworld/score.py`." % (
                  gillint_version or "gillint", len(per_package), sum(1 for p in per_package if p["dependencies"]),
                  len(scored_cases), document["positive_cases"], document["clean_cases"]), ""]
        md += table + [""]
        md += ["| package | cases | positive | findings | TP | FP | FN | seconds |",
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        md += ["| %s==%s | %d | %d | %d | %d | %d | %d | %s |" % (
            p["name"], p["version"], p["cases"], p["positive"], p["findings"], p["tp"], p["fp"], p["fn"],
            p["seconds"]) for p in per_package]
        md += [""] + details
        if errors:
            md += ["", "## Errors", ""] + ["- %s" % e for e in errors]
        (args.out / "results.md").write_text("\n".join(md) + "\n")
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print()
        print("\n".join(table))
        print()
        print("\n".join(detail_lines(result, markdown=False)))
        if errors:
            print()
            print("Errors (%d):" % len(errors))
            for e in errors:
                print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
