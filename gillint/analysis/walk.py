"""Which fields of a libcst node a read-only walk descends into (shared by the summariser and the
race-fact recorder, which walk the same trees)."""

from __future__ import annotations

import dataclasses
from typing import Dict, Tuple

# Fields that hold only punctuation, whitespace or flags: never worth descending into.
_SKIPPED_FIELDS = frozenset({
    "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "semicolon", "comma",
    "colon", "equal", "lbracket", "rbracket", "lbrace", "rbrace", "dot", "newline", "indent", "asynchronous",
    "operator", "default_indent", "default_newline", "encoding", "has_trailing_newline", "star", "relative",
    "whitespace_after_arg", "first_line", "trailing_whitespace",
})
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def walk_fields(cls: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(cls)
                       if f.name not in _SKIPPED_FIELDS and "whitespace" not in f.name)
        _FIELDS[cls] = fields
    return fields
