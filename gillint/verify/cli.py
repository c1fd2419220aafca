"""`gillint verify` command line (the measurement lives in the rest of this package).

Exit status: 0 when no finding was confirmed, 1 when at least one was (fully or
partly), 2 for usage and configuration errors, 130 when interrupted (the results
gathered so far are still written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

EXIT_INTERRUPTED = 130


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    from ..cli import add_config_options

    parser = subparsers.add_parser(
        "verify", help="run flagged code and measure whether it is GIL-bound",
        description="Run the static check, then run each finding's target in a sandboxed child interpreter and "
                    "measure whether it holds the GIL (see docs/verify.md). Only this command runs your code.")
    add_config_options(parser)
    parser.add_argument("--snippet", metavar="FILE::FUNCTION",
                        help="measure one function directly instead of the findings (Class.method needs a factory)")
    parser.add_argument("--args", dest="call_args", metavar="ARGS",
                        help="with --snippet: the call's arguments as Python literals, like '200_000, mode=\"fast\"'")
    parser.add_argument("--python", metavar="PATH",
                        help="measure under this interpreter (a free-threaded build is measured with the GIL on and off)")
    parser.add_argument("--jobs", "-j", type=int, metavar="N",
                        help="measurements at a time, each on cores of its own (default 1; at most the core count)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit per measurement")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="show which finding is running on standard error (auto: only on a terminal)")
    parser.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from ..cli import EXIT_CLEAN, EXIT_FINDINGS, UsageError, resolve_config
    from . import report
    from .runner import Verifier
    from .settings import settings_from_config
    from .targets import collect_jobs, lint_for_verify, snippet_job

    if args.call_args is not None and not args.snippet:
        raise UsageError("--args needs --snippet")
    if args.snippet and args.paths:
        raise UsageError("give either paths or --snippet, not both")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    if args.timeout is not None and not 0.5 <= args.timeout <= 3600:
        raise UsageError("--timeout must be from 0.5 to 3600 seconds")
    if args.snippet and not args.config and not args.no_config:
        args.paths = [args.snippet.rsplit("::", 1)[0]]  # find the snippet's pyproject.toml
    config = resolve_config(args)
    if args.snippet:
        args.paths = []
    settings = settings_from_config(config)
    if args.timeout is not None:
        settings.timeout = args.timeout
    if args.python is not None and not Path(args.python).exists():
        raise UsageError("--python: no such interpreter: %s" % args.python)

    lint = None
    if args.snippet:
        try:
            jobs = [snippet_job(args.snippet, args.call_args, settings)]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        lint, requested = lint_for_verify(args.paths or ["."], config)
        jobs = collect_jobs(lint, requested, settings)

    show_progress = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    try:
        verifier = Verifier(settings, args.python, args.jobs, sys.stderr if show_progress else None)
    except OSError as exc:
        raise UsageError(str(exc)) from None
    run = verifier.run(jobs, lint)
    text = report.render(args.format, run)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError("cannot write %s: %s" % (args.output, exc.strerror or exc)) from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if run.interrupted:
        return EXIT_INTERRUPTED
    confirmed: List[str] = [r.outcome for r in run.results if "confirmed" in r.outcome]
    return EXIT_FINDINGS if confirmed else EXIT_CLEAN
