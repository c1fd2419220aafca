"""The shape of the code: no import cycles among gillint's modules (module-level imports, the ones that
run when a module is loaded), and analysis that the flake8 plugin's cheap path never loads."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parent.parent / "gillint"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path, name: str) -> Set[str]:
    """gillint modules imported when ``path`` is loaded (not inside functions, not for type checking)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: Set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            continue
        for inner in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            if isinstance(inner, ast.Import):
                found.update(a.name for a in inner.names if a.name.startswith("gillint"))
            elif isinstance(inner, ast.ImportFrom):
                if inner.level:
                    base = package.split(".")
                    base = base[: len(base) - inner.level + 1]
                    target = ".".join(base + ([inner.module] if inner.module else []))
                else:
                    target = inner.module or ""
                if target.startswith("gillint"):
                    found.add(target)
                    found.update("%s.%s" % (target, a.name) for a in inner.names)
    return found


def _graph() -> Dict[str, Set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _top_level_imports(path, name) if m in modules and m != name}
            for name, path in modules.items()}


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    found: List[List[str]] = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    graph = _graph()
    assert "gillint.engine" in graph and graph["gillint.cache"] >= {"gillint.engine"}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_plugins_cheap_path_imports_no_analysis() -> None:
    graph = _graph()
    reached: Set[str] = set()
    pending = ["gillint.flake8_plugin", "gillint.options", "gillint.checks"]
    while pending:
        module = pending.pop()
        if module not in reached:
            reached.add(module)
            pending.extend(graph.get(module, ()))
    assert not {m for m in reached if m.startswith(("gillint.analysis", "gillint.engine", "gillint.checks."))}
