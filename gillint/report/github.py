"""GitHub Actions workflow commands: one ``::warning``/``::error`` annotation per finding."""

from __future__ import annotations

from ..diagnostics import ERROR_CODE
from ..engine import LintResult


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: LintResult) -> str:
    lines = []
    for d in result.diagnostics:
        level = "error" if d.code == ERROR_CODE else "warning"
        message = d.message + ("\n" + d.remedy_text if d.remedy_text else "")
        lines.append(
            "::%s title=%s,file=%s,line=%d,col=%d,endLine=%d,endColumn=%d::%s"
            % (level, _escape_property("gillint %s (%s)" % (d.code, d.name)), _escape_property(d.path), d.line, d.column,
               d.end_line, d.end_column, _escape_data("%s %s" % (d.code, message)))
        )
    return "\n".join(lines) + ("\n" if lines else "")
