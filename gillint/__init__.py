"""gillint: find Python code held back by the Global Interpreter Lock."""

__version__ = "0.1.0"


def document_header() -> dict:
    """The fields every JSON document gillint writes starts with (check, verify and deps reports)."""
    return {"version": 1, "tool": {"name": "gillint", "version": __version__}}


_EXPORTS = {"Diagnostic": "diagnostics", "EvidenceStep": "diagnostics", "Location": "diagnostics",
            "Remedy": "diagnostics", "VerifyTarget": "diagnostics", "LintResult": "engine", "lint_paths": "engine",
            "lint_source": "engine"}


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """The public names, imported on first use: ``import gillint`` (the flake8 plugin's first step)
    stays cheap for files that need no analysis."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'gillint' has no attribute %r" % name)
    import importlib

    return getattr(importlib.import_module("gillint." + module), name)


__all__ = ["Diagnostic", "EvidenceStep", "LintResult", "Location", "Remedy", "VerifyTarget", "lint_paths",
           "lint_source", "document_header", "__version__"]
