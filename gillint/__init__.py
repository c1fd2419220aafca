"""gillint: find Python code held back by the Global Interpreter Lock."""

__version__ = "0.1.0"


def document_header() -> dict:
    """The fields every JSON document gillint writes starts with (check, verify and deps reports)."""
    return {"version": 1, "tool": {"name": "gillint", "version": __version__}}


from .diagnostics import Diagnostic, EvidenceStep, Location, Remedy, VerifyTarget  # noqa: E402
from .engine import LintResult, lint_paths, lint_source  # noqa: E402

__all__ = ["Diagnostic", "EvidenceStep", "LintResult", "Location", "Remedy", "VerifyTarget", "lint_paths",
           "lint_source", "document_header", "__version__"]
