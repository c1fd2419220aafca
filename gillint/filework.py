"""The work done on one file's text: validation with CPython's parser, triage (can this file start
work elsewhere?) and the libcst summary.  The engine and the parallel runner both use it; it
imports neither of them.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import TYPE_CHECKING, Optional

from .analysis.model import THREAD_MODULES, ModuleSummary

if TYPE_CHECKING:  # libcst is imported on first parse: files without start sites never need it
    import libcst as cst

# Nesting the C parser accepts but that would exhaust libcst's recursive parser.
MAX_NESTING_ERRORS = ("too many nested", "too many statically nested", "maximum recursion")


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed: reason and where."""

    def __init__(self, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def parse(text: str, path: str, validated: bool = False) -> cst.Module:
    """Validate with CPython's parser (exact messages, cheap), then parse once with libcst.
    ``validated``: CPython's parser already accepted ``text`` (triage did it)."""
    import libcst as cst  # here, not at the top: importing it costs more than most files' checks

    checked = validated
    error = SourceError("syntax error")
    if not validated:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text, path)
            checked = True
        except SyntaxError as exc:
            message = exc.msg or "invalid syntax"
            if any(marker in message for marker in MAX_NESTING_ERRORS):
                raise SourceError("syntax error: %s" % message, exc.lineno or 1, exc.offset or 1) from None
            error = SourceError("syntax error: %s" % message, exc.lineno or 1, exc.offset or 1)
        except (RecursionError, MemoryError):
            raise SourceError("too deeply nested to parse") from None
        except ValueError as exc:  # pragma: no cover - NUL bytes are caught in decode()
            raise SourceError(str(exc)) from None
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if checked:
            raise SourceError("libcst cannot parse this file: %s" % str(exc).splitlines()[0], exc.raw_line, exc.raw_column + 1) from None
        raise error from None
    except RecursionError:
        raise SourceError("too deeply nested to parse") from None


# libcst's parser and code generator recurse once per nesting level; long operator chains in
# generated code (a + b + ... with thousands of terms) need more than Python's default.
ANALYSIS_RECURSION_LIMIT = 20_000


def _summarise_guarded(text: str, path: str, module_name: str, is_package: bool,
                       validated: bool = False) -> ModuleSummary:
    """Parse and summarise; a failure inside the analysis becomes this file's error, not the run's.
    ``validated``: CPython's parser already accepted the text."""
    import sys

    from .analysis.summary import summarise  # imports libcst

    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, ANALYSIS_RECURSION_LIMIT))
    try:
        return summarise(parse(text, path, validated), path, module_name, is_package, text)
    except SourceError:
        raise
    except RecursionError:
        raise SourceError("too deeply nested to analyse") from None
    except Exception as exc:  # a bug in gillint or libcst must not cost the other files' results
        raise SourceError("internal error while analysing this file (%s: %s); please report it"
                          % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")) from None
    finally:
        sys.setrecursionlimit(previous)


# Call names (method or function, last component) that can hand a callable to a worker.
_ATTRIBUTE_ONLY = frozenset({"map", "submit", "apply", "starmap"})  # as bare names these are builtins or common


# With the race rules (GIL4xx) on, the engine adds this marker to the start names: every module is summarised,
# since any module's touches of shared state can race (a library's threads are started by its users).
EVERY_MODULE = "<every-module>"
RACE_TRIAGE_NAMES = frozenset({EVERY_MODULE})


def _has_start_candidates(tree: ast.AST, names: frozenset) -> bool:
    """A fast pass over the C parser's tree: could this module start work elsewhere?"""
    has_while = imports_threads = False
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.AsyncFunctionDef:
            return True
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute:
                if func.attr in names or (func.attr == "__init__" and any(k.arg == "target" for k in node.keywords)):  # type: ignore[attr-defined]
                    return True
            elif type(func) is ast.Name and func.id in names and func.id not in _ATTRIBUTE_ONLY:
                return True
        elif kind is ast.ClassDef:
            for base in node.bases:  # type: ignore[attr-defined]
                name = base.attr if type(base) is ast.Attribute else getattr(base, "id", "")
                if "Thread" in name or "Process" in name:
                    return True  # a Thread or Process subclass (named so, directly or through a project base)
        elif kind is ast.While:
            has_while = True
        elif kind is ast.Import:
            imports_threads = imports_threads or any(a.name.split(".")[0] in THREAD_MODULES for a in node.names)  # type: ignore[attr-defined]
        elif kind is ast.ImportFrom:
            imports_threads = imports_threads or (node.module or "").split(".")[0] in THREAD_MODULES  # type: ignore[attr-defined]
    return has_while and imports_threads


def needs_summary(text: str, path: str, prefilter: "re.Pattern[str]", start_names: frozenset) -> bool:
    """Validate with the fast C parser (raises SourceError); say whether the file can start work elsewhere.

    A file with no start site, no coroutine and no polling loop in threaded code needs
    no libcst summary now (it is summarised later if a target lives in it)."""
    every = EVERY_MODULE in start_names
    if not every and not prefilter.search(text):
        _validate_only(text, path)
        return False
    tree = _validate_only(text, path)
    return tree is None or every or _has_start_candidates(tree, start_names)


def _validate_only(text: str, path: str) -> Optional[ast.AST]:
    """Check the syntax with the fast C parser; the tree, or None if only libcst could parse it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, path)
    except SyntaxError as exc:
        # Newer syntax than this interpreter knows: let libcst decide.
        if any(marker in (exc.msg or "") for marker in MAX_NESTING_ERRORS):
            raise SourceError("syntax error: %s" % exc.msg, exc.lineno or 1, exc.offset or 1) from None
        parse(text, path)
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested to parse") from None
