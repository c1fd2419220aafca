"""``# gillint: verify(...)`` comments and ``--args``: call arguments written as Python literals.

``verify(200_000, mode="fast")`` gives arguments; a bare ``# gillint: verify`` (or
``verify()``) asks for the start site on that line to be measured even when the
static check did not flag it.  Arguments are literals or constant expressions on them
(``"word " * 40``, ``bytes(4096)``), evaluated on the syntax tree by ``constant.py``:
nothing in a comment is ever executed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from . import constant

PRAGMA = re.compile(r"#\s*gillint:\s*verify\b")


class PragmaError(ValueError):
    pass


@dataclass(frozen=True)
class CallArguments:
    """Literal call arguments as source text: ``args_source`` is a tuple, ``kwargs_source`` a dict."""

    args_source: Optional[str]
    kwargs_source: Optional[str]

    @property
    def given(self) -> bool:
        return self.args_source is not None or self.kwargs_source is not None


def parse_arguments(text: str) -> CallArguments:
    """``1, 2, n=3`` (the inside of a call's parentheses) -> constant sources; PragmaError if not constants."""
    try:
        tree = ast.parse("_(%s)" % text, mode="eval")
    except SyntaxError:
        raise PragmaError("not call arguments: %r" % text) from None
    call = tree.body
    if not isinstance(call, ast.Call):  # pragma: no cover - the wrapper always makes a call
        raise PragmaError("not call arguments: %r" % text)
    source = "_(%s)" % text
    positional = []
    keywords = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise PragmaError("*args is not allowed in %r: write the values" % text)
        positional.append(_literal_source(source, node))
    for keyword in call.keywords:
        if keyword.arg is None:
            raise PragmaError("**kwargs is not allowed in %r: write the values" % text)
        keywords.append("%r: %s" % (keyword.arg, _literal_source(source, keyword.value)))
    return CallArguments("(%s,)" % ", ".join(positional) if positional else "()",
                         "{%s}" % ", ".join(keywords) if keywords else None)


def _literal_source(source: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(source, node) or ""
    why_not = constant.problem(segment)
    if why_not:
        raise PragmaError("%s is not a constant expression (literals, arithmetic and repetition on them, and "
                          "list/tuple/dict/set/bytes/range/str calls of them): %s" % (segment, why_not))
    return segment


@dataclass(frozen=True)
class Pragma:
    arguments: Optional[CallArguments]  # None: a bare `verify`, which only asks for the site to be measured


def find_pragma(line: str) -> Optional[Pragma]:
    """The ``# gillint: verify(...)`` comment on a source line, if any (PragmaError when malformed)."""
    match = PRAGMA.search(line)
    if match is None:
        return None
    rest = line[match.end():]
    if not rest.lstrip().startswith("("):
        return Pragma(None)
    rest = rest.lstrip()
    # The arguments end at the first ")" that closes a valid call; later text is other comments.
    for end in range(1, len(rest)):
        if rest[end] != ")":
            continue
        inner = rest[1:end]
        try:
            ast.parse("_(%s)" % inner, mode="eval")
        except SyntaxError:
            continue
        return Pragma(parse_arguments(inner) if inner.strip() else CallArguments("()", None))
    raise PragmaError("unclosed `# gillint: verify(` comment")
