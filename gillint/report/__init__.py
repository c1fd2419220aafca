"""Formatters: each turns a list of diagnostics into one output document."""

from __future__ import annotations

from ..engine import LintResult

FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, result: LintResult, *, color: bool = False, statistics: bool = False, quiet: bool = False) -> str:
    if fmt == "text":
        from .text import render_text

        return render_text(result, color=color, statistics=statistics, quiet=quiet)
    if fmt == "json":
        from .json import render_json

        return render_json(result)
    if fmt == "sarif":
        from .sarif import render_sarif

        return render_sarif(result)
    if fmt == "github":
        from .github import render_github

        return render_github(result)
    raise ValueError("unknown format %r" % fmt)  # pragma: no cover - argparse restricts choices
