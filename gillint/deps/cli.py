"""`gillint deps` command line.

Exit status: 0 when no dependency turns the GIL back on, 1 when at least one does
(found by importing it on a free-threaded interpreter), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    parser = subparsers.add_parser(
        "deps", help="list installed dependencies with compiled extensions and whether they keep the GIL off",
        description="List the distributions installed for an interpreter that ship compiled extension modules, the "
                    "ABI each is built for, and, on a free-threaded interpreter, whether importing it turns the GIL "
                    "back on (each imported in a sandboxed child: this runs their code). See docs/free-threading.md.")
    parser.add_argument("distributions", nargs="*", metavar="NAME", help="only these distributions (default: all)")
    parser.add_argument("--python", metavar="PATH", help="inspect this interpreter's environment (default: the one "
                                                         "running gillint)")
    parser.add_argument("--all", action="store_true", help="also list pure-Python distributions")
    parser.add_argument("--no-import", action="store_true",
                        help="do not import anything: report what the files say (wheel tags, ABI of each extension)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="wall-clock limit for importing one distribution's extension modules (default 30)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.set_defaults(handler=cmd_deps)


def cmd_deps(args: argparse.Namespace) -> int:
    from ..options import EXIT_CLEAN, EXIT_FINDINGS, UsageError, write_output
    from . import DepsError, inspect
    from .report import render

    python = args.python or sys.executable
    if args.python is not None and not Path(args.python).exists():
        raise UsageError("--python: no such interpreter: %s" % args.python)
    if not 0.5 <= args.timeout <= 3600:
        raise UsageError("--timeout must be from 0.5 to 3600 seconds")
    try:
        report = inspect(python, args.distributions, include_pure=args.all, run_imports=not args.no_import,
                         timeout=args.timeout)
    except DepsError as exc:
        raise UsageError(str(exc)) from None
    for problem in report.problems:
        sys.stderr.write("gillint deps: %s\n" % problem)
    write_output(render(args.format, report), args.output)
    return EXIT_FINDINGS if report.reenabling else EXIT_CLEAN
