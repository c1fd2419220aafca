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
    from ..options import add_config_options

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
    parser.add_argument("--from-tests", metavar="CMD",
                        help="first run your test command CMD (like \"python -m pytest -q\") once, recording the "
                             "arguments the tests pass to the flagged targets, and measure with those; CMD runs as you "
                             "run your tests, with your rights, outside the sandbox")
    parser.add_argument("--no-from-tests", action="store_true",
                        help="do not run the test command configured as from-tests in [tool.gillint.verify]")
    parser.add_argument("--html", metavar="FILE",
                        help="also write a self-contained HTML page with a chart per finding")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="show which finding is running on standard error (auto: only on a terminal)")
    parser.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from ..options import EXIT_CLEAN, EXIT_FINDINGS, UsageError, resolve_config, write_output
    from . import report
    from .runner import Verifier
    from .settings import settings_from_config
    from .targets import collect_jobs, lint_for_verify, snippet_job

    if args.call_args is not None and not args.snippet:
        raise UsageError("--args needs --snippet")
    if args.from_tests is not None and args.snippet:
        raise UsageError("--from-tests records the arguments of findings: give paths, not --snippet")
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
    command = args.from_tests if args.from_tests is not None else (None if args.no_from_tests else settings.from_tests)
    recording = None
    if command is not None and not args.snippet:
        recording = record_arguments(command, jobs, settings, cwd=None if args.from_tests is not None else settings.root)

    show_progress = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    try:
        verifier = Verifier(settings, args.python, args.jobs, sys.stderr if show_progress else None)
    except OSError as exc:
        raise UsageError(str(exc)) from None
    try:
        run = verifier.run(jobs, lint)
    finally:
        if recording is not None:
            recording.cleanup()
    if recording is not None:
        run.recording = recording.summary()
    if args.html:
        from .html import render_html

        try:
            Path(args.html).write_text(render_html(run), encoding="utf-8")
        except OSError as exc:
            raise UsageError("cannot write %s: %s" % (args.html, exc.strerror or exc)) from None
    write_output(report.render(args.format, run), args.output)
    if run.interrupted:
        return EXIT_INTERRUPTED
    confirmed: List[str] = [r.outcome for r in run.results if "confirmed" in r.outcome]
    return EXIT_FINDINGS if confirmed else EXIT_CLEAN


def record_arguments(command: str, jobs: list, settings: "object", cwd: "Path | None" = None):  # type: ignore[type-arg]
    """Run the test command with the recorder; every problem is one line on standard error, and the run goes on."""
    from .recording import record
    from .targets import apply_recording, recorder_targets

    targets = recorder_targets(jobs)
    sys.stderr.write("gillint verify: recording the arguments of %d target%s with `%s` (your test command: it runs "
                     "with your rights, outside the sandbox)\n" % (len(targets), "" if len(targets) == 1 else "s",
                                                                   command))
    sys.stderr.flush()
    recording = record(command, targets, cwd=cwd, timeout=settings.from_tests_timeout,  # type: ignore[attr-defined]
                       calls=settings.record_calls, max_bytes=settings.record_mb << 20)  # type: ignore[attr-defined]
    for problem in recording.problems:
        sys.stderr.write("gillint verify: %s\n" % problem)
    reached = sum(1 for t in recording.targets.values() if t.samples)
    sys.stderr.write("gillint verify: the tests called %d of %d targets with arguments that could be kept (%.1fs)\n"
                     % (reached, len(targets), recording.seconds))
    apply_recording(jobs, recording, getattr(settings, "root", None) or Path.cwd())
    return recording
