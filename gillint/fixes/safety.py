"""The questions a fix must answer before it may call itself safe.

* Can the callable be pickled by reference (a module-level function, a partial of one, a library
  function)?  Lambdas, nested functions and methods cannot, or carry their instance along.
* Is every argument plain data (literals, displays and comprehensions of plain data, built-in
  constructors of them, names bound only to such values, results of project functions that return
  them)?  Anything the analysis cannot show is a reason, not a guess.
* Does the work write state the caller could read afterwards (module globals, its arguments,
  attributes of objects), or produce output whose order processes would change?
* Is the module safe to import again in a spawned process (no pool started, no project function
  run, at import time outside ``if __name__ == "__main__":``)?

Every answer is ``None`` (shown safe) or a short reason that the finding carries.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Protocol, Set, Tuple

import libcst as cst

from ..analysis.model import CallFact, FunctionSummary, ModuleSummary, Ref
from ..analysis.project import Project
from ..analysis.values import Resolved
from .source import SourceFile, dotted, is_main_guard



class FixContext(Protocol):
    """What the checks ask of a fix run (gillint.fixes.plan.FixContext): the project and parsed sources."""

    project: Project

    def source(self, path: str) -> Optional[SourceFile]: ...

MAX_DEPTH = 12
# Built-in callables whose result is plain data when their arguments are.
PLAIN_BUILTINS = frozenset({
    "range", "list", "tuple", "dict", "set", "frozenset", "str", "int", "float", "complex", "bytes", "bytearray",
    "bool", "sorted", "reversed", "len", "sum", "min", "max", "abs", "round", "zip", "enumerate", "repr", "chr", "ord",
    "divmod", "pow", "hash", "format",
})
# Methods of str/bytes/list/dict values that return plain data.
PLAIN_METHODS = frozenset({
    "split", "rsplit", "splitlines", "lower", "upper", "strip", "lstrip", "rstrip", "encode", "decode", "join",
    "replace", "format", "title", "casefold", "copy", "count", "index", "startswith", "endswith", "zfill",
})
# Methods that change the object they are called on.
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault", "add", "discard",
    "sort", "reverse", "put", "put_nowait", "appendleft", "extendleft", "popleft", "write", "writelines", "set",
})
OUTPUT_CALLS = frozenset({"print", "input", "open", "breakpoint"})
OUTPUT_PREFIXES = ("logging.", "sys.stdout.", "sys.stderr.", "os.write", "subprocess.")


# ------------------------------------------------------------------------------------ callables

def callable_problem(value: Resolved) -> Optional[str]:
    """Why ``value`` cannot be pickled by reference into another process, or None."""
    if value.kind == "partial":
        return callable_problem(value.inner) if value.inner is not None else "a partial of an unknown callable"
    if value.kind == "external":
        return None  # a library's module-level function: pickled by its qualified name
    if value.kind == "class" and value.klass is not None:
        return ("`%s` is a class: the instance built in the worker process must pickle back, and gillint does not "
                "check that" % value.klass.name)
    if value.kind != "function" or value.function is None:
        return "`%s` is not a function gillint can follow" % (value.name or value.kind)
    function = value.function
    if function.is_lambda:
        return "the task is a lambda, which cannot be pickled (see GIL203)"
    if function.parent:
        return "the task `%s` is nested in `%s` and cannot be pickled (see GIL203)" % (function.name, function.parent)
    if function.class_name:
        return ("the task is the method `%s`: pickling it pickles its instance, and the copy in the worker "
                "process is not the caller's object" % function.qualname)
    if function.decorators:
        return "the task `%s` is decorated; gillint cannot show the decorated object pickles" % function.qualname
    return None


def hard_callable_problem(value: Resolved) -> bool:
    """A problem that would make the fixed program fail (not only differ): no fix is offered then."""
    if value.kind == "partial" and value.inner is not None:
        return hard_callable_problem(value.inner)
    return value.kind == "function" and value.function is not None and (value.function.is_lambda or bool(value.function.parent))


# ------------------------------------------------------------------------------------ plain data

class DataCheck:
    """Whether an expression holds plain data only, following names through the value analysis."""

    def __init__(self, context: "FixContext") -> None:
        self.context = context
        self.project = context.project
        self._active: Set[tuple] = set()
        self._memo: Dict[tuple, Optional[str]] = {}

    def ref(self, module: ModuleSummary, scope: Optional[FunctionSummary], ref: Ref, depth: int = 0,
            iterable: bool = False) -> Optional[str]:
        """None if ``ref`` (written in ``scope`` of ``module``) is plain data, else why not."""
        if depth > MAX_DEPTH:
            return "`%s` is reached through too many names to check" % ref.text
        if ref.kind == "name":
            return self.name(module, scope, ref.raw, depth)
        if ref.kind in ("element", "item") and ref.args:
            return self.ref(module, scope, ref.args[0], depth + 1, iterable=True)
        if ref.kind == "lambda":
            return "a lambda cannot be pickled"
        text = ref.text
        if not text or text.endswith("..."):
            return "`%s` is too long for gillint to check" % (text[:40] + "...")
        try:
            node = cst.parse_expression(text)
        except Exception:  # noqa: BLE001 - a fragment that is not an expression: nothing shown
            return "`%s` is not an expression gillint can check" % text
        return self.expression(node, lambda name: self.name(module, scope, name, depth + 1), iterable)

    def expression(self, node: cst.BaseExpression, lookup: Callable[[str], Optional[str]],
                   iterable: bool = False, bound: frozenset = frozenset()) -> Optional[str]:
        """Plain data, judged from the expression's shape; names are asked of ``lookup``."""
        def again(child: cst.BaseExpression, names: frozenset = bound, many: bool = False) -> Optional[str]:
            return self.expression(child, lookup, many, names)

        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Integer, cst.Float,
                             cst.Imaginary, cst.Ellipsis)):
            return None
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None") or node.value in bound:
                return None
            return lookup(node.value)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            for element in node.elements:
                problem = again(element.value)
                if problem:
                    return problem
            return None
        if isinstance(node, cst.Dict):
            for element in node.elements:
                parts = [element.key, element.value] if isinstance(element, cst.DictElement) else [element.value]
                for part in parts:
                    problem = again(part)
                    if problem:
                        return problem
            return None
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            if isinstance(node, cst.GeneratorExp) and not iterable:
                return "a generator cannot be pickled"
            names = set(bound)
            clause: Optional[cst.CompFor] = node.for_in
            while clause is not None:
                problem = again(clause.iter, frozenset(names), many=True)
                if problem:
                    return problem
                names.update(n.value for n in _target_names(clause.target))
                clause = clause.inner_for_in
            parts = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
            for part in parts:
                problem = again(part, frozenset(names))
                if problem:
                    return problem
            return None
        if isinstance(node, cst.BinaryOperation):
            return again(node.left) or again(node.right)
        if isinstance(node, cst.BooleanOperation):
            return again(node.left) or again(node.right)
        if isinstance(node, cst.UnaryOperation):
            return again(node.expression)
        if isinstance(node, cst.Comparison):
            return None  # a bool
        if isinstance(node, cst.IfExp):
            return again(node.body) or again(node.orelse)
        if isinstance(node, cst.Subscript):
            return again(node.value, many=True)
        if isinstance(node, cst.Call):
            if any(arg.star == "**" for arg in node.args):
                return "`**` arguments cannot be checked"
            name = dotted(node.func)
            if isinstance(node.func, cst.Name) and name in PLAIN_BUILTINS:
                for arg in node.args:
                    problem = again(arg.value, many=True)
                    if problem:
                        return problem
                return None
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in PLAIN_METHODS:
                problem = again(node.func.value, many=True)
                if problem:
                    return problem
                for arg in node.args:
                    problem = again(arg.value, many=True)
                    if problem:
                        return problem
                return None
            if name and "." not in name:
                return lookup("%s()" % name)
            return "gillint cannot show that `%s(...)` returns plain data" % (name or "the call")
        if isinstance(node, cst.Lambda):
            return "a lambda cannot be pickled"
        if isinstance(node, cst.Attribute):
            return "gillint cannot show that `%s` holds plain data" % (dotted(node) or "the attribute")
        return "gillint cannot show that this expression is plain data"

    def name(self, module: ModuleSummary, scope: Optional[FunctionSummary], name: str, depth: int) -> Optional[str]:
        key = (module.path, scope.qualname if scope is not None else "", name)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return None  # a cycle adds nothing of its own
        self._active.add(key)
        try:
            found = self._name(module, scope, name, depth)
        finally:
            self._active.discard(key)
        self._memo[key] = found
        return found

    def _name(self, module: ModuleSummary, scope: Optional[FunctionSummary], name: str, depth: int) -> Optional[str]:
        call = name.endswith("()")
        name = name[:-2] if call else name
        if "." in name:
            return "gillint cannot show that `%s` holds plain data" % name
        current = scope if scope is not None and scope.qualname != ModuleSummary.MODULE_SCOPE else None
        while current is not None:
            if name in current.local_defs:
                return "`%s` is a nested function" % name
            if not call and (name in current.assigns or name in current.params):
                problems = [self.ref(module, current, ref, depth + 1) for ref in current.assigns.get(name, ())]
                if name in current.params:
                    problems.append(self._parameter(module, current, name, depth))
                return next((p for p in problems if p), None)
            current = module.functions.get(current.parent) if current.parent else None
        if call:
            return self._result(module, scope, name, depth)
        top = module.functions.get(ModuleSummary.MODULE_SCOPE)
        if name in module.assigns:
            for ref in module.assigns[name]:
                problem = self.ref(module, top, ref, depth + 1)
                if problem:
                    return problem
            return None
        if name in module.functions or name in module.classes:
            return None  # module-level functions and classes pickle by reference
        return "gillint cannot show that `%s` holds plain data" % name

    def _parameter(self, module: ModuleSummary, function: FunctionSummary, name: str, depth: int) -> Optional[str]:
        callers = self.project.arguments(module, function, name)
        default = function.defaults.get(name)
        if not callers and default is None:
            return "`%s` is a parameter of `%s` with no call that gillint can see" % (name, function.qualname)
        if default is not None:
            problem = self.ref(module, None, default, depth + 1)
            if problem:
                return problem
        for caller_module, caller, argument, _ in callers:
            problem = self.ref(caller_module, caller, argument, depth + 1)
            if problem:
                return problem
        return None

    def _result(self, module: ModuleSummary, scope: Optional[FunctionSummary], name: str, depth: int) -> Optional[str]:
        values = self.project.values(module, scope, name)
        for value in values:
            if value.kind != "function" or value.function is None or value.module is None:
                return "gillint cannot show that `%s(...)` returns plain data" % name
            target = value.function
            if target.yields:
                return "`%s` is a generator function" % name
            if not target.returns:
                return "`%s` returns nothing gillint can check" % name
            for returned in target.returns:
                problem = self.ref(value.module, target, returned, depth + 1)
                if problem:
                    return problem
        return None


def _target_names(target: cst.BaseExpression) -> List[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for element in target.elements for n in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


# ------------------------------------------------------------------------------------ side effects

class _Effects(cst.CSTVisitor):
    """Writes to names that are not the function's own, and output."""

    def __init__(self, params: Tuple[str, ...]) -> None:
        self.params = set(params)
        self.locals: Set[str] = set()
        self.problems: List[str] = []
        self.mutated_params: Set[str] = set()
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1  # nested definitions are not run by being defined

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Global(self, node: cst.Global) -> None:
        self.problems.append("it declares `global %s`: a write in a worker process never reaches the caller"
                             % ", ".join(n.name.value for n in node.names))

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.problems.append("it declares `nonlocal %s`" % ", ".join(n.name.value for n in node.names))

    def _write(self, target: cst.BaseExpression, how: str) -> None:
        root = target
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        if not isinstance(root, cst.Name):
            return
        if root.value in self.params:
            self.mutated_params.add(root.value)
            self.problems.append("it %s its argument `%s`, which the caller's copy would not see from a worker "
                                 "process" % (how, root.value))
        elif root.value not in self.locals:
            self.problems.append("it %s `%s`, state shared with the caller" % (how, root.value))

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.locals.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)
        else:
            self._write(target, "writes into")

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            if node.target.value not in self.locals and node.target.value not in self.params:
                self.problems.append("it updates `%s`, state shared with the caller" % node.target.value)
        else:
            self._write(node.target, "updates")

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        if not isinstance(node.target, cst.Name):
            self._write(node.target, "deletes from")

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted(node.func)
        if name in OUTPUT_CALLS or name.startswith(OUTPUT_PREFIXES):
            self.problems.append("it calls `%s`: output from worker processes can come in another order" % name)
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in MUTATING_METHODS:
            self._write(node.func.value, "changes (`.%s`)" % node.func.attr.value)


class EffectsCheck:
    """Whether a task (and the project functions it calls, a few calls deep) writes shared state."""

    def __init__(self, context: "FixContext") -> None:
        self.context = context
        self._memo: Dict[tuple, Tuple[List[str], Set[str]]] = {}

    def problem(self, module: ModuleSummary, function: FunctionSummary) -> Optional[str]:
        problems, _ = self._function(module, function, 0)
        return problems[0] if problems else None

    def _function(self, module: ModuleSummary, function: FunctionSummary, depth: int) -> Tuple[List[str], Set[str]]:
        key = (module.path, function.qualname)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = ([], set())  # a recursive call adds nothing new
        source = self.context.source(module.path)
        node = source.node_at(function.span, (cst.FunctionDef,)) if source is not None else None
        if node is None:
            found: Tuple[List[str], Set[str]] = (["gillint cannot read the source of `%s`" % function.qualname], set())
            self._memo[key] = found
            return found
        visitor = _Effects(function.params)
        node.visit(visitor)
        problems = ["`%s`: %s" % (function.qualname, p) for p in visitor.problems]
        if depth < 3:
            for call in function.calls:
                problems.extend(self._callee(module, function, call, depth))
        found = (problems, visitor.mutated_params)
        self._memo[key] = found
        return found

    def _callee(self, module: ModuleSummary, function: FunctionSummary, call: CallFact, depth: int) -> List[str]:
        found: List[str] = []
        for callee in self.context.project.callees(module, function, call):
            if callee.kind != "function" or callee.function is None or callee.module is None:
                continue
            if callee.function.is_lambda:
                continue
            problems, mutated = self._function(callee.module, callee.function, depth + 1)
            # a callee changing its own argument matters only when that argument is not the caller's own object
            for problem in problems:
                if "its argument" not in problem:
                    found.append(problem)
            for param in mutated:
                argument = _argument(callee.function, call, param, callee.bound)
                if argument is None or not _owned(function, argument):
                    found.append("`%s` changes its argument `%s`, passed by `%s`" % (
                        callee.function.qualname, param, function.qualname))
        return found


def _argument(function: FunctionSummary, call: CallFact, param: str, bound: bool) -> Optional[Ref]:
    for keyword, value in call.keywords:
        if keyword == param:
            return value
    position = function.params.index(param) - (1 if bound else 0)
    return call.args[position] if 0 <= position < len(call.args) else None


def _owned(function: FunctionSummary, ref: Ref) -> bool:
    """A local of ``function`` that is not one of its parameters: an object only this call holds."""
    root = ref.raw.split(".", 1)[0] if ref.kind == "name" else ""
    return bool(root) and root in function.assigns and root not in function.params


# ------------------------------------------------------------------------------------ spawn safety

def spawn_problem(source: SourceFile, node: cst.CSTNode, module: ModuleSummary) -> Optional[str]:
    """Why importing the module again in a spawned worker would run the code at ``node`` (or other
    project code) again, or None."""
    statement = source.top_statement(node)
    if is_main_guard(statement):
        return None
    if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return ("the work is started at module level: with the spawn start method (macOS, Windows, Linux from "
                "Python 3.14) every worker process imports the module and would run it again; put it under "
                "`if __name__ == \"__main__\":`")
    defined = {name for name in module.functions if "." not in name and name != ModuleSummary.MODULE_SCOPE}
    defined |= {name for name in module.classes if "." not in name}
    for top in source.tree.body:
        if isinstance(top, (cst.FunctionDef, cst.ClassDef, cst.Import, cst.ImportFrom)) or is_main_guard(top):
            continue
        for call in _calls(top):
            name = dotted(call.func).split(".", 1)[0]
            if name in defined:
                return ("module-level code calls `%s` when the module is imported: with the spawn start method every "
                        "worker process would run it again; put it under `if __name__ == \"__main__\":`" % name)
    return None


def _calls(node: cst.CSTNode) -> List[cst.Call]:
    found: List[cst.Call] = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            found.append(call)

        def visit_FunctionDef(self, _: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, _: cst.Lambda) -> bool:
            return False

    node.visit(_Calls())
    return found
