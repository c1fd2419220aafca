"""One file as the fixes see it: its text, its libcst tree, and where each node is.

Planning a fix finds nodes by the positions the summaries recorded; the codemods then match those
very node objects (libcst trees are immutable, so a node found while planning is the node the
transformer meets).  The tree is parsed once per file and shared by every fix planned in it.
"""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Type

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, ScopeProvider

Span = Tuple[int, int, int, int]


class SourceFile:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.module = cst.parse_module(text)  # raises cst.ParserSyntaxError
        self.wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = self.wrapper.resolve(PositionProvider)
        self.parents = self.wrapper.resolve(ParentNodeProvider)
        self._scopes: Optional[Dict[cst.CSTNode, object]] = None
        self._by_start: Dict[Tuple[int, int], List[cst.CSTNode]] = {}
        for node, where in self.positions.items():
            self._by_start.setdefault((where.start.line, where.start.column + 1), []).append(node)

    @property
    def tree(self) -> cst.Module:
        return self.wrapper.module

    @property
    def scopes(self):  # type: ignore[no-untyped-def]
        """libcst's scope analysis, resolved only for the fixes that need it (it costs several parses)."""
        if self._scopes is None:
            self._scopes = self.wrapper.resolve(ScopeProvider)
        return self._scopes

    def span(self, node: cst.CSTNode) -> Span:
        where = self.positions[node]
        return (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)

    def node_at(self, span: Sequence[int], kinds: Tuple[Type[cst.CSTNode], ...]) -> Optional[cst.CSTNode]:
        """The node of one of ``kinds`` that starts at ``span`` (and ends there too, when several do)."""
        found = [n for n in self._by_start.get((span[0], span[1]), ()) if isinstance(n, kinds)]
        exact = [n for n in found if self.span(n)[2:] == tuple(span[2:4])]
        return (exact or found or [None])[0]

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        while node in self.parents:
            node = self.parents[node]
            yield node

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.parents.get(node)

    def enclosing_function(self, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, cst.FunctionDef):
                return ancestor
        return None

    def top_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        """The module-level statement that contains ``node``."""
        current = node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, cst.Module):
                return current
            current = ancestor
        return current

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


def dotted(node: cst.BaseExpression) -> str:
    """``a.b.c`` for a chain of names, else ""."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return "%s.%s" % (head, node.attr.value) if head else ""
    return ""


def is_main_guard(statement: cst.CSTNode) -> bool:
    """``if __name__ == "__main__":`` (either operand order, either quote)."""
    if not isinstance(statement, cst.If) or not isinstance(statement.test, cst.Comparison):
        return False
    test = statement.test
    if len(test.comparisons) != 1 or not isinstance(test.comparisons[0].operator, cst.Equal):
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


def names_in(node: cst.CSTNode) -> List[cst.Name]:
    """Every Name node below ``node`` (attribute names excluded)."""
    found: List[cst.Name] = []

    class _Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name)

        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False

    node.visit(_Names())
    return found
