"""Where each node of a libcst tree is, in one code-generation pass of gillint's own.

libcst's ``PositionProvider`` answers the same question, but through a metadata wrapper that
first walks the whole tree with a batched visitor (for no provider at all), and a code
generation state that splits every token with a regular expression and makes two position
objects and a generator per node.  That was half of a cold run's time.  This state gives the
same spans (a test compares them node by node on real files) for a fraction of the cost, and
also the character offsets of each node, so a node's source text is a slice of the file rather
than another code generation.

It relies on libcst's code-generation protocol (``CSTNode._codegen``, ``before_codegen``,
``after_codegen``, ``record_syntactic_position``, ``add_token``, ``add_indent_tokens``); if a
libcst release changes it, :func:`positions` falls back to ``PositionProvider`` and text to
``code_for_node``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

try:  # libcst's code-generation state: private, so a release may move it (then PositionProvider is used)
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover - depends on the libcst release
    CodegenState = object  # type: ignore[misc,assignment]

# (first line, first column, last line, end column): lines from 1, columns from 0, as libcst's CodeRange.
Range = Tuple[int, int, int, int]


class _Syntactic:
    """The context manager of ``record_syntactic_position``: the span of a node without the
    whitespace and lines it owns, optionally hoisted from a child's start or end."""

    __slots__ = ("state", "node", "start_node", "end_node", "line", "column")

    def __init__(self, state: "PositionState", node: cst.CSTNode, start_node: Optional[cst.CSTNode],
                 end_node: Optional[cst.CSTNode]) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.line = state.line
        self.column = state.column

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        state = self.state
        spans = state.spans
        start_line, start_column = self.line, self.column
        end_line, end_column = state.line, state.column
        if self.start_node is not None:
            start_line, start_column = spans[id(self.start_node)][:2]
        if self.end_node is not None:
            end_line, end_column = spans[id(self.end_node)][2:]
        spans[id(self.node)] = (start_line, start_column, end_line, end_column)
        return False


class PositionState(CodegenState):
    """A code-generation state that records spans and offsets instead of keeping the code."""

    __slots__ = ("line", "column", "offset", "indents", "spans", "extents", "_stack", "_count")

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.line = 1
        self.column = 0
        self.offset = 0
        self.indents = 0  # indentation tokens written so far
        # Keyed by id(node): libcst's nodes hash in Python, and the tree outlives the tables.
        self.spans: Dict[int, Range] = {}
        # id(node) -> (start, end) character offsets of its code; only for nodes whose code holds no
        # indentation token (code_for_node would write those nested lines without their indentation)
        self.extents: Dict[int, Tuple[int, int]] = {}
        self._stack: List[Tuple[int, int, int, int]] = []
        self._count = 0  # tokens written: the module asks whether there is any

    # -- tokens
    def add_token(self, value: str) -> None:
        self._count += 1
        self.offset += len(value)
        if "\n" in value or "\r" in value:  # the same line breaks as libcst: \r\n, \r, \n
            self.line += value.count("\n") + value.count("\r") - value.count("\r\n")
            self.column = len(value) - max(value.rfind("\n"), value.rfind("\r")) - 1
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._count += 1
            self.offset += len(token)
            self.column += len(token)
            self.indents += 1

    def pop_trailing_newline(self) -> None:
        # libcst drops the last newline token from the code; positions already recorded stand
        self._count = max(0, self._count - 1)

    @property  # type: ignore[override]
    def tokens(self) -> List[str]:  # Module._codegen_impl only asks whether any token was written
        return [""] * min(self._count, 1)

    @tokens.setter
    def tokens(self, value: List[str]) -> None:
        pass

    # -- nodes
    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append((self.line, self.column, self.offset, self.indents))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column, offset, indents = self._stack.pop()
        key = id(node)
        if key not in self.spans:
            self.spans[key] = (line, column, self.line, self.column)
        if indents == self.indents:
            self.extents[key] = (offset, self.offset)

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> _Syntactic:  # type: ignore[override]
        return _Syntactic(self, node, start_node, end_node)


class Positions:
    """Spans and source text of the nodes of one module (tables keyed by ``id(node)``)."""

    def __init__(self, module: cst.Module, text: Optional[str] = None) -> None:
        self.module = module
        self.text = text
        self.extents: Dict[int, Tuple[int, int]] = {}
        try:
            if CodegenState is object:  # pragma: no cover - see the import above
                raise TypeError("libcst's code-generation state is not where gillint expects it")
            state = PositionState(module.default_indent, module.default_newline)
            module._codegen(state)
            self.spans: Dict[int, Range] = state.spans
            if text is not None and state.offset == len(text):
                self.extents = state.extents
        except (AttributeError, TypeError):  # pragma: no cover - a libcst whose code generation differs
            self.spans = _provider_spans(module)

    def code(self, node: cst.CSTNode) -> str:
        """What ``module.code_for_node(node)`` gives, from the source when the node's code holds
        no indentation."""
        extent = self.extents.get(id(node))
        if extent is not None:
            return self.text[extent[0]:extent[1]]  # type: ignore[index]
        return self.module.code_for_node(node)


def _provider_spans(module: cst.Module) -> Dict[int, Range]:  # pragma: no cover - see Positions
    from libcst.metadata import MetadataWrapper, PositionProvider

    found = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(node): (r.start.line, r.start.column, r.end.line, r.end.column) for node, r in found.items()}
