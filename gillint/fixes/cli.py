"""``gillint check --fix`` / ``--unsafe-fixes`` / ``--diff``: what the command line does with fixes.

Exit status: with ``--fix``, the findings left after fixing decide it (0 none left, 1 some left),
as without ``--fix``; with ``--diff``, 1 when a fix would change a file, else 0 (as ruff and black
do), and nothing is written.  Files that could not be parsed are never changed: each gets a line on
standard error, and every other file is still fixed.
"""

from __future__ import annotations

import sys
from typing import Callable, Optional

from ..config import Config
from ..diagnostics import ERROR_CODE
from ..options import EXIT_CLEAN, EXIT_FINDINGS
from .apply import fix_paths, summary_line, write_fixed


def run_fixes(paths, config: Config, *, unsafe: bool, diff_only: bool, cache, jobs: int,
              report: Callable[[object], None], exit_zero: bool, quiet: bool) -> int:
    outcome = fix_paths(paths, config, unsafe=unsafe, cache=cache, jobs=jobs)
    if cache is not None and getattr(cache, "warning", None):
        print("gillint: warning: %s" % cache.warning, file=sys.stderr)
    for error in outcome.result.diagnostics:
        if error.code == ERROR_CODE:
            print("gillint: %s: not fixed: %s" % (error.path, error.message), file=sys.stderr)
    line, _ = summary_line(outcome, diff_only)
    if diff_only:
        sys.stdout.write(outcome.diff())
        if not quiet:
            print(line, file=sys.stderr)
        return EXIT_FINDINGS if outcome.changed else EXIT_CLEAN
    write_fixed(outcome)
    report(outcome.result)
    if not quiet:
        print(line, file=sys.stderr)
    if outcome.result.diagnostics and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def fix_note(applicability: str, title: str, reason: str) -> Optional[str]:
    """The text report's line about a finding's fix."""
    if applicability == "safe":
        return "fix available: %s (run with --fix)" % title
    if applicability == "unsafe":
        return "fix available (unsafe: %s): %s (run with --fix --unsafe-fixes)" % (reason, title)
    if reason:
        return "no automatic fix: %s" % reason
    return None  # pragma: no cover - every no-fix carries its reason
