"""Text for people: ``path:line:col: CODE message``, the source line with a marker, the remedy."""

from __future__ import annotations

from collections import Counter
from typing import List

from ..diagnostics import ERROR_CODE, Diagnostic
from ..engine import LintResult

RESET = "\033[0m"
BOLD = "\033[1m"
RED = "\033[31m"
YELLOW = "\033[33m"
CYAN = "\033[36m"
DIM = "\033[2m"
GREEN = "\033[32m"


def _paint(text: str, code: str, color: bool) -> str:
    return "%s%s%s" % (code, text, RESET) if color else text


def source_excerpt(diagnostic: Diagnostic, text: str, color: bool) -> List[str]:
    lines = text.splitlines()
    if not 1 <= diagnostic.line <= len(lines):
        return []
    line = lines[diagnostic.line - 1].rstrip().expandtabs(1)
    start = max(diagnostic.column - 1, 0)
    if diagnostic.end_line == diagnostic.line:
        end = max(diagnostic.end_column - 1, start + 1)
    else:
        end = len(line)
    end = min(max(end, start + 1), max(len(line), start + 1))
    number = str(diagnostic.line)
    gutter = " " * len(number)
    return [
        "%s %s %s" % (_paint(number, CYAN, color), _paint("|", CYAN, color), line),
        "%s %s %s%s" % (gutter, _paint("|", CYAN, color), " " * start, _paint("^" * (end - start), RED, color)),
    ]


def format_one(diagnostic: Diagnostic, text: str, color: bool) -> List[str]:
    head = "%s:%d:%d: %s %s" % (
        _paint(diagnostic.path, BOLD, color),
        diagnostic.line,
        diagnostic.column,
        _paint(diagnostic.code, RED if diagnostic.code == ERROR_CODE else YELLOW, color),
        diagnostic.message,
    )
    out = [head]
    if text:
        out.extend("  " + line for line in source_excerpt(diagnostic, text, color))
    if diagnostic.remedy_text:
        out.append("  %s %s" % (_paint("help:", GREEN, color), diagnostic.remedy_text))
    if diagnostic.fix is not None:
        from ..fixes.cli import fix_note

        note = fix_note(diagnostic.fix.applicability, diagnostic.fix.title, diagnostic.fix.reason)
        if note:
            out.append("  %s" % _paint(note, DIM, color))
    return out


def _fix_mark(diagnostic: Diagnostic) -> str:
    fix = diagnostic.fix
    if fix is None or not fix.available:
        return ""
    return " [fix available]" if fix.applicability == "safe" else " [unsafe fix available]"


def render_text(result: LintResult, *, color: bool = False, statistics: bool = False, quiet: bool = False) -> str:
    out: List[str] = []
    for diagnostic in result.diagnostics:
        if quiet:
            out.append("%s:%d:%d: %s %s%s" % (diagnostic.path, diagnostic.line, diagnostic.column, diagnostic.code,
                                              diagnostic.message, _fix_mark(diagnostic)))
        else:
            out.extend(format_one(diagnostic, result.sources.get(diagnostic.path, ""), color))
            out.append("")
    if statistics and result.diagnostics:
        counts = Counter((d.code, d.name) for d in result.diagnostics)
        for (code, name), count in sorted(counts.items()):
            out.append("%5d  %s  %s" % (count, code, name))
    if not quiet:
        found = len(result.diagnostics)
        summary = "Found %d finding%s in %d file%s checked." % (found, "" if found == 1 else "s", result.files_checked,
                                                             "" if result.files_checked == 1 else "s")
        fixable = sum(1 for d in result.diagnostics if d.fix is not None and d.fix.available and
                      d.fix.applicability == "safe")
        if fixable:
            summary += " %d fixable with --fix." % fixable
        if not found:
            summary = "All checked! %d file%s, no findings." % (result.files_checked, "" if result.files_checked == 1 else "s")
        out.append(_paint(summary, BOLD, color))
    return "\n".join(out) + ("\n" if out else "")
