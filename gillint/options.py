"""What `gillint check` and `gillint verify` share: exit codes, the configuration options and how
they become a Config.  Both command modules import this one; neither imports the other's internals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

from .config import Config, find_pyproject, load, merge_cli

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, "%s: error: %s\n" % (self.prog, message))


def _codes(value: str) -> List[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number of processes, got %r" % value) from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("expected at least 1 process, got %d" % jobs)
    return jobs


def known_codes() -> List[str]:
    from .checks import RULE_CODES
    from .diagnostics import ERROR_CODE

    return [ERROR_CODE] + list(RULE_CODES)


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `check` and `verify`: what to lint and with which configuration."""
    parser.add_argument("paths", nargs="*", default=[], metavar="PATH",
                        help="files or directories to check (default: the current directory)")
    parser.add_argument("--config", metavar="FILE", help="read [tool.gillint] from this pyproject.toml")
    parser.add_argument("--no-config", action="store_true", help="ignore pyproject.toml files")
    parser.add_argument("--select", type=_codes, metavar="CODES", help="only these codes or prefixes (comma-separated)")
    parser.add_argument("--extend-select", type=_codes, metavar="CODES", help="add codes or prefixes to the selection")
    parser.add_argument("--ignore", type=_codes, metavar="CODES", help="leave out codes or prefixes")
    parser.add_argument("--exclude", action="append", metavar="PATTERN", help="exclude paths matching this pattern (repeatable)")
    parser.add_argument("--library-path", action="append", metavar="DIR",
                        help="a folder of installed packages' source to follow calls into, searched before "
                             "site-packages (repeatable; adds to library-paths)")
    parser.add_argument("--target-version", metavar="VERSION",
                        help="the interpreter the code runs on: 3.9 ... 3.14, or 3.13t/3.14t for free-threaded builds")


def resolve_config(args: argparse.Namespace) -> Config:
    codes = known_codes()
    if args.config and args.no_config:
        raise UsageError("--config and --no-config cannot be used together")
    if args.config:
        config = load(Path(args.config), codes, required=True)
    elif args.no_config:
        config = Config()
    else:
        start = Path(args.paths[0]) if args.paths else Path.cwd()
        found = find_pyproject(start if start.exists() else Path.cwd())
        config = load(found, codes) if found is not None else Config()
    return merge_cli(config, args.select, args.extend_select, args.ignore, args.exclude, codes, args.target_version,
                     getattr(args, "library_path", None))


def write_output(text: str, output: "str | None") -> None:
    """A report to ``output`` (a file), or to standard output; a file that cannot be written is a usage error."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError("cannot write %s: %s" % (output, exc.strerror or exc)) from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
