"""JSON: every field of every diagnostic (docs/output-formats.md describes the shape)."""

from __future__ import annotations

import json

from .. import __version__
from ..engine import LintResult

SCHEMA_VERSION = 1


def render_json(result: LintResult) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "gillint", "version": __version__},
        "files_checked": result.files_checked,
        "diagnostics": [d.to_dict() for d in result.diagnostics],
    }
    return json.dumps(document, indent=2, default=str) + "\n"
