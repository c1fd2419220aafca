"""GIL103: a busy wait on a flag becomes a wait on a ``threading.Event``.

The flag must be a module global or an instance attribute that starts ``False`` (once, at module
level or in ``__init__``) and is only ever set to ``True``.  Then ``flag = False`` becomes
``flag = threading.Event()``, ``flag = True`` becomes ``flag.set()``, every other read becomes
``flag.is_set()``, and each spinning ``while not flag: pass`` (or a sleep under 1 ms) becomes
``flag.wait()``.  A spin on an Event's ``is_set()`` simply becomes ``wait()``.  Every use must be
found — an Event is always true, so a read left behind would change the program — which is why
uses gillint cannot follow (another module, a receiver of unknown class) mean no fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import libcst as cst
from libcst.codemod.visitors import ImportItem
from libcst.metadata import GlobalScope

from ...diagnostics import Diagnostic
from ..plan import FixContext, Fixer, NoFix, Proposal
from ..source import SourceFile, dotted, names_in
from .common import Rewrite, with_imports

TINY_SLEEP = 0.001


def _spin_body(loop: cst.While) -> bool:
    """The body only passes, continues or sleeps less than a millisecond."""
    if not isinstance(loop.body, cst.IndentedBlock) or loop.orelse is not None:
        return False
    for statement in loop.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if isinstance(small, (cst.Pass, cst.Continue)):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and dotted(small.value.func) in (
                    "time.sleep", "sleep") and len(small.value.args) == 1:
                value = small.value.args[0].value
                if isinstance(value, (cst.Integer, cst.Float)) and float(value.value.replace("_", "")) < TINY_SLEEP:
                    continue
            return False
    return True


def _flag_of(loop: cst.While) -> Optional[cst.BaseExpression]:
    """``flag`` of ``while not flag:`` (a name or ``obj.attr``), else None."""
    test = loop.test
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        operand = test.expression
        if isinstance(operand, cst.Name) or (isinstance(operand, cst.Attribute) and isinstance(operand.value, cst.Name)):
            return operand
    return None


def _wait(loop: cst.While, flag: cst.BaseExpression) -> cst.SimpleStatementLine:
    call = cst.Call(func=cst.Attribute(value=flag, attr=cst.Name("wait")))
    return cst.SimpleStatementLine(body=[cst.Expr(call)], leading_lines=loop.leading_lines)


def _is_set(node: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=node, attr=cst.Name("is_set")))


class SpinningLoops:
    """Every ``while not <flag>: <spin>`` in the module, by the flag's text."""

    def __init__(self, source: SourceFile) -> None:
        self.by_flag: Dict[str, List[cst.While]] = {}

        class _Loops(cst.CSTVisitor):
            def visit_While(inner, node: cst.While) -> None:  # noqa: N805
                flag = _flag_of(node)
                if flag is not None and _spin_body(node):
                    self.by_flag.setdefault(source.code(flag), []).append(node)

        source.tree.visit(_Loops())


class BusyWaitToEvent(Fixer):
    code = "GIL103"
    title = "wait on a threading.Event"

    def plan(self, context: FixContext, source: SourceFile, diagnostic: Diagnostic) -> Proposal:
        module = context.module(diagnostic.path)
        loop = source.node_at((diagnostic.line, diagnostic.column), (cst.While,))
        if module is None or not isinstance(loop, cst.While):
            raise NoFix("gillint cannot find the loop")
        if _event_poll(loop) is not None:
            return self._event_poll(source, loop)
        flag = _flag_of(loop)
        if flag is None:
            raise NoFix("only `while not flag:` on one flag is rewritten; the condition here is `%s`" % source.code(loop.test))
        if not _spin_body(loop):
            raise NoFix("the loop body does more than spin")
        loops = SpinningLoops(source)
        if isinstance(flag, cst.Name):
            replace, other_modules = self._global_flag(source, flag, loops)
        else:
            replace, other_modules = self._attribute_flag(context, module, source, flag, loops)
        used_elsewhere = _used_in_other_modules(context, source.path, other_modules)
        if used_elsewhere:
            raise NoFix("`%s` is also used in %s, which gillint does not rewrite" % (source.code(flag), used_elsewhere))

        def transform(tree: cst.Module) -> cst.Module:
            return with_imports(tree.visit(Rewrite(replace)), [ImportItem("threading")])  # type: ignore[arg-type]

        return Proposal(transform, "%s: `%s`" % (self.title, source.code(flag)), ())

    @staticmethod
    def _event_poll(source: SourceFile, loop: cst.While) -> Proposal:
        target = _event_poll(loop)
        assert target is not None

        def transform(tree: cst.Module) -> cst.Module:
            return tree.visit(Rewrite({loop: _wait(loop, target)}))

        return Proposal(transform, "wait on the Event instead of polling `is_set()`", ())

    # ------------------------------------------------------------------ module globals
    def _global_flag(self, source: SourceFile, flag: cst.Name, loops: SpinningLoops) -> Tuple[dict, List[str]]:
        name = flag.value
        scope = source.scopes.get(flag)
        if scope is None or not all(isinstance(a.scope, GlobalScope) for a in scope[name]):
            raise NoFix("`%s` is not a module global" % name)
        replace: Dict[cst.CSTNode, object] = {}
        initial = 0
        for node in names_in(source.tree):
            if node.value != name:
                continue
            node_scope = source.scopes.get(node)
            if node_scope is None or not all(isinstance(a.scope, GlobalScope) for a in node_scope[name]):
                continue  # a local of the same name
            parent = source.parent(node)
            if isinstance(parent, cst.NameItem):
                continue  # `global flag`
            if isinstance(parent, cst.AssignTarget):
                assign = source.parent(parent)
                self._assignment(source, assign, node, replace, at_top=isinstance(scope, GlobalScope))
                if isinstance(assign, cst.Assign) and _is(assign.value, "False"):
                    initial += 1
                continue
            if _binding_use(parent, node):
                raise NoFix("`%s` is bound at line %d in a way other than `= False` / `= True`" % (
                    name, source.span(node)[0]))
            replace[node] = lambda updated: _is_set(updated)
        if initial != 1:
            raise NoFix("`%s` must start as `False` once, at module level" % name)
        self._loops(loops, source.code(flag), replace)
        return replace, [name]

    def _assignment(self, source: SourceFile, assign: Optional[cst.CSTNode], node: cst.CSTNode,
                    replace: Dict[cst.CSTNode, object], at_top: bool, in_init: bool = False) -> None:
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            raise NoFix("the flag is assigned together with other names at line %d" % source.span(node)[0])
        statement = source.parent(assign)
        if _is(assign.value, "True"):
            call = cst.Call(func=cst.Attribute(value=assign.targets[0].target, attr=cst.Name("set")))
            replace[assign] = cst.Expr(call)
            return
        if _is(assign.value, "False"):
            container = source.parent(statement) if statement is not None else None
            top = isinstance(container, cst.Module) or in_init
            if not top:
                raise NoFix("the flag is set back to False at line %d; waiters could miss that with an Event"
                            % source.span(node)[0])
            replace[assign.value] = cst.parse_expression("threading.Event()")
            return
        raise NoFix("the flag is given a value other than True or False at line %d" % source.span(node)[0])

    def _loops(self, loops: SpinningLoops, text: str, replace: Dict[cst.CSTNode, object]) -> None:
        for found in loops.by_flag.get(text, ()):
            flag = _flag_of(found)
            assert flag is not None
            for inner in [flag] + names_in(found.test):
                replace.pop(inner, None)
            replace[found] = _wait(found, flag)

    # ------------------------------------------------------------------ instance attributes
    def _attribute_flag(self, context: FixContext, module, source: SourceFile, flag: cst.Attribute,
                        loops: SpinningLoops) -> Tuple[dict, List[str]]:
        attribute = flag.attr.value
        classes = self._receiver_classes(context, module, source, flag)
        if len(classes) != 1 or "?" in classes:
            raise NoFix("gillint cannot tell which class `%s` belongs to" % source.code(flag))
        klass = classes.pop()
        replace: Dict[cst.CSTNode, object] = {}
        initial = 0
        for node in _attributes(source.tree, attribute):
            found = self._receiver_classes(context, module, source, node)
            if found != {klass}:
                raise NoFix("`.%s` at line %d is on an object gillint cannot tie to `%s`" % (
                    attribute, source.span(node)[0], klass.split(".")[-1]))
            parent = source.parent(node)
            if isinstance(parent, cst.AssignTarget):
                assign = source.parent(parent)
                in_init = _method_name(source, node) == "__init__" and dotted(node.value) == "self"
                self._assignment(source, assign, node, replace, at_top=False, in_init=in_init)
                if isinstance(assign, cst.Assign) and _is(assign.value, "False"):
                    initial += 1
                continue
            if _binding_use(parent, node):
                raise NoFix("`.%s` is changed at line %d in a way other than `= True`" % (attribute, source.span(node)[0]))
            replace[node] = lambda updated: _is_set(updated)
        if initial != 1:
            raise NoFix("`%s` must start as `self.%s = False` once, in `__init__` (a class attribute would be "
                        "one Event shared by every instance)" % (attribute, attribute))
        for text in list(loops.by_flag):
            if text.endswith("." + attribute):
                self._loops(loops, text, replace)
        return replace, ["." + attribute]

    @staticmethod
    def _receiver_classes(context: FixContext, module, source: SourceFile, node: cst.Attribute) -> set:
        receiver = dotted(node.value)
        if not receiver or "." in receiver:
            return {"?"}
        line, column = source.span(node)[:2]
        scope = context.function_at(module, line, column)
        found = set()
        for value in context.project.values(module, scope, receiver):
            if value.kind == "instance" and value.klass is not None and value.module is module:
                found.add(value.klass.qualname)
            else:
                found.add("?")
        return found


def _event_poll(loop: cst.While) -> Optional[cst.BaseExpression]:
    """``event`` of ``while not event.is_set(): <spin>``."""
    test = loop.test
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and isinstance(test.expression, cst.Call):
        func = test.expression.func
        if isinstance(func, cst.Attribute) and func.attr.value == "is_set" and not test.expression.args \
                and dotted(func.value) and _spin_body(loop):
            return func.value
    return None


def _is(node: cst.BaseExpression, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


def _binding_use(parent: Optional[cst.CSTNode], node: cst.CSTNode) -> bool:
    """Uses that bind or delete rather than read (these cannot become ``is_set()``)."""
    if isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node:
        return True
    if isinstance(parent, (cst.Del, cst.AsName, cst.Param, cst.For, cst.CompFor, cst.NamedExpr)):
        return True
    return isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.ImportAlias))


def _attributes(tree: cst.Module, name: str) -> List[cst.Attribute]:
    found: List[cst.Attribute] = []

    class _Attributes(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if node.attr.value == name:
                found.append(node)

    tree.visit(_Attributes())
    return found


def _method_name(source: SourceFile, node: cst.CSTNode) -> str:
    function = source.enclosing_function(node)
    return function.name.value if function is not None else ""


MAX_FILES_SEARCHED = 5000


def _used_in_other_modules(context: FixContext, path: str, words: List[str]) -> str:
    """The first other file of the project (its import roots, excludes applied) that imports the flag's module
    and mentions the flag, or ""."""
    from ...engine import iter_python_files

    patterns = [re.compile(r"%s%s\b" % ("" if w.startswith(".") else r"\b", re.escape(w))) for w in words]
    here = Path(path).resolve()
    module = context.module(path)
    # a file that uses the flag imports its module (or the class holding it) somewhere
    importer = re.compile(r"\bimport\b.*\b%s\b|\b%s\b.*\bimport\b" % ((re.escape(module.module.rsplit(".", 1)[-1]),) * 2)
                          if module is not None else "")
    roots = list(dict.fromkeys(context.project.roots)) or [here.parent]
    for count, (found, error) in enumerate(iter_python_files(roots, context.config)):
        if count >= MAX_FILES_SEARCHED:
            return "one of the project's files (more than %d to search)" % MAX_FILES_SEARCHED
        if error is not None or Path(found).resolve() == here:
            continue
        text = context.texts.get(found)
        if text is None:
            try:
                text = Path(found).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        if importer.search(text) and any(p.search(text) for p in patterns):
            return found
    return ""
