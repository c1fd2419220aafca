"""gillint: find Python code held back by the Global Interpreter Lock."""

__version__ = "0.1.0"

from .diagnostics import Diagnostic, EvidenceStep, Location, Remedy, VerifyTarget  # noqa: E402
from .engine import LintResult, lint_paths, lint_source  # noqa: E402

__all__ = ["Diagnostic", "EvidenceStep", "LintResult", "Location", "Remedy", "VerifyTarget", "lint_paths",
           "lint_source", "__version__"]
