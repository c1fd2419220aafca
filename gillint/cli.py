"""Command-line interface: argument parsing only; the work is done by the engine.

Exit status: 0 no findings, 1 findings, 2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .config import ConfigError
from .knowledge import KnowledgeError
from .options import (  # noqa: F401 - the shared options, re-exported for callers of gillint.cli
    EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, _jobs, _Parser, add_config_options, known_codes,
    resolve_config,
)

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gillint", description="Find Python code held back by the Global Interpreter Lock.")
    parser.add_argument("--version", action="version", version="gillint %s" % __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser("check", help="report GIL-bound code", description="Report code held back by the GIL.")
    add_config_options(check)
    check.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text", help="output format")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--quiet", "-q", action="store_true", help="one line per finding, no summary")
    check.add_argument("--statistics", action="store_true", help="count findings per rule")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour text output (auto: only on a terminal, and never with NO_COLOR set)")
    check.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N",
                       help="worker processes for parsing and summaries (default: the cores available; 1: none)")
    check.add_argument("--cache-dir", metavar="DIR",
                       help="keep per-file results here (default: .gillint_cache in the project root)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what is left (docs/fixes.md)")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff: apply the unsafe fixes too")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff and write nothing; exit 1 if a file would change")

    sub.add_parser("rules", help="list every rule", description="List every rule with its code, name and summary.")
    rule = sub.add_parser("rule", help="print a rule's documentation", description="Print one rule's documentation.")
    rule.add_argument("code", help="a rule code such as GIL101, or its name")

    from .verify.cli import add_parser as add_verify_parser

    add_verify_parser(sub)
    from .deps.cli import add_parser as add_deps_parser

    add_deps_parser(sub)
    return parser


def use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def cmd_check(args: argparse.Namespace) -> int:
    from .engine import lint_paths

    from .cache import DiskCache, default_cache_dir
    from .parallel import available_cores

    config = resolve_config(args)
    if args.no_cache and args.cache_dir:
        raise UsageError("--cache-dir and --no-cache cannot be used together")
    cache = None if args.no_cache else DiskCache(Path(args.cache_dir) if args.cache_dir else default_cache_dir(config.root))
    if args.unsafe_fixes and not (args.fix or args.diff):
        raise UsageError("--unsafe-fixes needs --fix or --diff")
    if args.fix or args.diff:
        from .fixes.cli import run_fixes

        return run_fixes(args.paths or ["."], config, unsafe=args.unsafe_fixes, diff_only=args.diff, cache=cache,
                         jobs=args.jobs or available_cores(), report=lambda result: _report(args, result),
                         exit_zero=args.exit_zero, quiet=args.quiet)
    result = lint_paths(args.paths or ["."], config, cache=cache, jobs=args.jobs or available_cores(), fixes=True)
    if cache is not None and cache.warning:
        print("gillint: warning: %s" % cache.warning, file=sys.stderr)
    if result.files_checked == 0:
        print("gillint: warning: no Python files to check in %s (all excluded, or none there)"
              % ", ".join(args.paths or ["."]), file=sys.stderr)
    _report(args, result)
    if result.diagnostics and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _report(args: argparse.Namespace, result) -> None:  # type: ignore[no-untyped-def]
    from .report import render

    stream = sys.stdout
    color = args.format == "text" and not args.output and use_color(args.color, stream)
    document = render(args.format, result, color=color, statistics=args.statistics, quiet=args.quiet)
    if args.output:
        try:
            Path(args.output).write_text(document, encoding="utf-8")
        except OSError as exc:
            raise UsageError("cannot write %s: %s" % (args.output, exc.strerror or exc)) from None
    else:
        stream.write(document)


def cmd_rules(args: argparse.Namespace) -> int:
    from .checks.base import all_rules

    for rule in all_rules():
        state = "" if rule.default_enabled else (
            "  (on for free-threaded targets)" if rule.free_threaded_default else "  (off by default)")
        print("%s  %-34s %s%s" % (rule.code, rule.name, rule.summary, state))
    return EXIT_CLEAN


def cmd_rule(args: argparse.Namespace) -> int:
    from .checks.base import all_rules

    wanted = args.code.strip()
    for rule in all_rules():
        if wanted.upper() == rule.code or wanted == rule.name:
            from .fixes.docs import with_fix_safety

            print("# %s %s\n" % (rule.code, rule.name))
            print(with_fix_safety(rule.documentation(), rule.code))
            return EXIT_CLEAN
    raise UsageError("unknown rule %r (see `gillint rules`)" % wanted)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    handlers = {"check": cmd_check, "rules": cmd_rules, "rule": cmd_rule, "verify": args.__dict__.get("handler"),
                "deps": args.__dict__.get("handler")}
    try:
        return handlers[args.command](args)
    except (ConfigError, KnowledgeError, UsageError) as exc:
        print("gillint: error: %s" % exc, file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("gillint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `gillint check | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_ERROR
    except Exception:  # pragma: no cover - an internal error is a bug: show everything
        traceback.print_exc()
        print("gillint: internal error (this is a bug in gillint %s; please report it with the traceback above)"
              % __version__, file=sys.stderr)
        return EXIT_ERROR
