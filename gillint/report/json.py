"""JSON: every field of every diagnostic (docs/output-formats.md describes the shape)."""

from __future__ import annotations

import json

from .. import document_header
from ..engine import LintResult


def render_json(result: LintResult) -> str:
    document = {
        **document_header(),
        "files_checked": result.files_checked,
        "diagnostics": [d.to_dict() for d in result.diagnostics],
    }
    return json.dumps(document, indent=2, default=str) + "\n"
