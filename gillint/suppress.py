"""``# noqa`` handling, the one implementation (the flake8 plugin leaves noqa to flake8).

``# noqa`` silences every finding on its line; ``# noqa: GIL101`` or a prefix
(``# noqa: GIL1``) only those codes, matched by prefix as flake8 does.  A comment on
any physical line of a multi-line statement applies to the whole logical line, so a
finding reported at the statement's first line can be silenced where the comment
fits (flake8 itself looks only at the reported line and multi-line strings).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, FrozenSet, Iterable, List, Optional

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)
ALL: Optional[FrozenSet[str]] = None  # marker: every code

NoqaMap = Dict[int, Optional[FrozenSet[str]]]


def _parse(comment: str) -> Optional[Optional[FrozenSet[str]]]:
    """None: no noqa; ALL (None inside): bare noqa; else the codes."""
    match = NOQA.search(comment)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset({"*"})
    return frozenset(code.upper() for code in re.split(r"[,\s]+", codes) if code)


def noqa_map(text: str) -> NoqaMap:
    """line -> the codes suppressed there (``{"*"}`` for all), spread over logical lines."""
    result: Dict[int, FrozenSet[str]] = {}
    if "noqa" not in text.lower():
        return {}
    pending: List[FrozenSet[str]] = []
    start: Optional[int] = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
                if kind == tokenize.COMMENT:
                    codes = _parse(token.string)
                    if codes is not None:
                        pending.append(codes)
                        if start is None:  # a comment on a line of its own
                            result[token.start[0]] = result.get(token.start[0], frozenset()) | codes
                            pending.pop()
                if kind == tokenize.NEWLINE and start is not None:
                    if pending:
                        merged = frozenset().union(*pending)
                        for line in range(start, token.end[0] + 1):
                            result[line] = result.get(line, frozenset()) | merged
                    pending = []
                    start = None
                continue
            if start is None:
                start = token.start[0]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Fall back to physical lines: still honour every comment we can see.
        result = {}
        for number, line in enumerate(text.splitlines(), 1):
            if "#" in line:
                codes = _parse(line[line.index("#"):])
                if codes is not None:
                    result[number] = codes
    return dict(result)


def suppressed(code: str, line: int, noqa: NoqaMap) -> bool:
    codes = noqa.get(line)
    if not codes:
        return False
    return "*" in codes or any(code.startswith(prefix) for prefix in codes)


def filter_noqa(diagnostics: Iterable, text: str) -> List:
    diagnostics = list(diagnostics)
    if not diagnostics:
        return diagnostics
    noqa = noqa_map(text)
    return [d for d in diagnostics if not suppressed(d.code, d.line, noqa)]
