"""GIL102 / GIL201: a thread pool whose tasks are CPU-bound becomes a process pool.

Safe only when every task handed to that pool is a picklable callable with plain-data arguments,
no task writes state the caller shares, and spawning workers re-imports the module harmlessly.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst
from libcst.codemod.visitors import ImportItem

from ...analysis.model import CallFact, FunctionSummary, ModuleSummary
from ...analysis.starts import StartSite
from ...diagnostics import Diagnostic
from ..plan import FixContext, Fixer, NoFix, Proposal
from ..safety import callable_problem, hard_callable_problem, spawn_problem
from ..source import SourceFile, dotted, names_in
from .common import Rewrite, import_of, with_imports

FUTURES_THREAD_POOLS = ("concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor")
POOL_THREAD_POOLS = ("multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool")
# Methods of a pool that hand it no task, or are the tasks' own start sites (checked one by one).
POOL_METHODS = frozenset({"submit", "map", "shutdown", "apply", "apply_async", "map_async", "imap", "imap_unordered",
                          "starmap", "starmap_async", "close", "join", "terminate"})
HARD = ("a lambda cannot be pickled", "a generator cannot be pickled")


def task_problems(context: FixContext, module: ModuleSummary, scope: FunctionSummary, site: StartSite,
                  call: Optional[CallFact]) -> List[str]:
    """Why the tasks handed over at ``site`` may not behave the same in a process (empty: they do).
    Raises NoFix when the fixed program would fail outright (a lambda, a generator argument)."""
    problems: List[str] = []
    for value in site.targets or (site.target,):
        if hard_callable_problem(value):
            raise NoFix(callable_problem(value) or "the task cannot be pickled")
        problem = callable_problem(value)
        if problem:
            problems.append(problem)
            continue
        inner = value.inner if value.kind == "partial" else value
        if inner is not None and inner.kind == "function" and inner.function is not None and inner.module is not None:
            result = result_problem(inner.function)
            if result:
                raise NoFix(result)
            effect = context.effects.problem(inner.module, inner.function)
            if effect:
                problems.append(effect)
    if not site.targets and site.target.is_unknown:
        problems.append("gillint cannot tell which function `%s` is" % site.target_text)
    target = site.target_ref
    if target is not None and target.kind == "call" and target.raw.rsplit(".", 1)[-1] == "partial":
        for ref in list(target.args[1:]) + [v for _, v in target.keywords]:
            problems.append(context.data.ref(module, scope, ref) or "")
    if call is None:
        problems.append("gillint cannot find the arguments of the call")
        return _checked(problems)
    method = site.method
    if site.family == "executor" and method in ("map", "imap", "imap_unordered", "map_async", "starmap",
                                                "starmap_async"):
        for ref in call.args[1:]:
            problems.append(context.data.ref(module, scope, ref, iterable=True) or "")
    else:
        skip = 2 if site.family == "run_in_executor" else 1
        for ref in list(call.args[skip:]) + [v for k, v in call.keywords if k not in ("fn", "func", "callback",
                                                                                        "error_callback")]:
            problems.append(context.data.ref(module, scope, ref) or "")
    if call.star_args:
        problems.append("the call passes `*` or `**` arguments, which gillint cannot check")
    return _checked(problems)


def result_problem(function: FunctionSummary) -> Optional[str]:
    """Why the task's result could not be pickled back to the caller, when that is certain (a generator
    function is never reported: on a worker it only makes a generator, which is no work)."""
    for returned in function.returns:
        if returned.kind == "lambda" or (returned.kind == "name" and returned.raw in function.local_defs):
            return "`%s` returns a local function, which cannot be pickled back" % function.qualname
    return None


def _checked(problems: List[str]) -> List[str]:
    kept = [p for p in problems if p]
    for problem in kept:
        if problem in HARD:
            raise NoFix("an argument is not picklable: %s" % problem)
    return kept


def _binding(scope_node: cst.CSTNode, name: str) -> List[cst.Call]:
    """Every value bound to ``name`` in the scope (``with X() as name``, ``name = X()``), nested defs aside."""
    found: List[cst.Call] = []
    other: List[cst.CSTNode] = []

    class _Bindings(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None and isinstance(node.asname.name, cst.Name) and node.asname.name.value == name:
                (found if isinstance(node.item, cst.Call) else other).append(node.item)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                other.append(node)

        def visit_Assign(self, node: cst.Assign) -> None:
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) \
                    and node.targets[0].target.value == name and isinstance(node.value, cst.Call):
                found.append(node.value)  # its target is counted by visit_AssignTarget

        def visit_For(self, node: cst.For) -> None:
            if any(n.value == name for n in names_in(node.target)):
                other.append(node)

    if isinstance(scope_node, cst.FunctionDef):
        scope_node.body.visit(_Bindings())
        if name in [p.name.value for p in scope_node.params.params + scope_node.params.kwonly_params]:
            other.append(scope_node)
    else:
        for statement in scope_node.body:  # type: ignore[attr-defined]
            if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                statement.visit(_Bindings())
    assigned = [o for o in other if isinstance(o, cst.AssignTarget)]
    if len(found) != 1 or len(other) != len(assigned) or len(assigned) > 1:
        return []
    return found


class ThreadPoolToProcessPool(Fixer):
    code = "GIL102"
    title = "use a ProcessPoolExecutor"
    thread_pools: Tuple[str, ...] = FUTURES_THREAD_POOLS

    def plan(self, context: FixContext, source: SourceFile, diagnostic: Diagnostic) -> Proposal:
        module = context.module(diagnostic.path)
        sites = [s for s in context.sites_at(diagnostic) if s.family == "executor" and s.worker == "thread"]
        if module is None or not sites:
            raise NoFix("gillint cannot find where the task is submitted")
        site = sites[0]
        scope = site.function
        call_node = source.node_at(site.span, (cst.Call,))
        if not isinstance(call_node, cst.Call) or not isinstance(call_node.func, cst.Attribute):
            raise NoFix("the task is not submitted with `pool.method(...)`")
        receiver = call_node.func.value
        scope_node: cst.CSTNode = source.enclosing_function(call_node) or source.tree
        if isinstance(receiver, cst.Call):
            ctor, name = receiver, ""
        elif isinstance(receiver, cst.Name):
            name = receiver.value
            bound = _binding(scope_node, name)
            if not bound:
                raise NoFix("the pool `%s` is not created once in the function that uses it (it is a parameter, "
                            "an attribute or bound more than once), so gillint cannot check every task it runs; change "
                            "its constructor by hand" % name)
            ctor = bound[0]
        else:
            raise NoFix("the pool `%s` is created elsewhere; change its constructor by hand" % source.code(receiver))
        qualified = {v.name for v in context.project.values(module, scope, dotted(ctor.func))
                     if v.kind == "class" and v.executor is not None}
        if not qualified & set(self.thread_pools):
            raise NoFix("gillint cannot tell that `%s` builds the thread pool" % source.code(ctor.func))
        problems: List[str] = []
        for other in self._pool_sites(context, source, module, scope, scope_node, name, call_node, problems):
            problems.extend(task_problems(context, module, scope, other, context.call_fact(scope, other.span)))
        problems.extend(self._constructor_problems(ctor))
        spawn = spawn_problem(source, ctor, module)
        if spawn:
            problems.append(spawn)
        return Proposal(lambda tree: self._rewrite(tree, source, ctor), self.title, problems)

    def _pool_sites(self, context: FixContext, source: SourceFile, module: ModuleSummary, scope: FunctionSummary,
                    scope_node: cst.CSTNode, name: str, call_node: cst.Call, problems: List[str]) -> List[StartSite]:
        """Every start site that hands work to the same pool; other uses of the pool are problems."""
        if not name:
            return [s for s in context.facts.sites if s.module is module and s.span == source.span(call_node)]
        found: List[StartSite] = []
        for node in names_in(scope_node):
            if node.value != name:
                continue
            parent = source.parent(node)
            if isinstance(parent, (cst.AsName, cst.AssignTarget)):
                continue
            if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in POOL_METHODS:
                use = source.parent(parent)
                if isinstance(use, cst.Call) and parent.attr.value in ("submit", "map", "apply", "apply_async",
                                                                        "map_async", "imap", "imap_unordered",
                                                                        "starmap", "starmap_async"):
                    span = source.span(use)
                    here = [s for s in context.facts.sites if s.module is module and s.span == span
                            and s.family == "executor"]
                    if not here:
                        problems.append("gillint cannot check the task given at line %d" % span[0])
                    found.extend(here[:1])
                continue
            problems.append("the pool `%s` is also used at line %d in a way gillint does not follow"
                            % (name, source.span(node)[0]))
        return found

    @staticmethod
    def _constructor_problems(ctor: cst.Call) -> List[str]:
        positional = [a for a in ctor.args if a.keyword is None]
        if len(positional) > 1 or any(a.star for a in ctor.args):
            raise NoFix("the pool's constructor takes more than its size by position; its other parameters differ "
                        "between thread and process pools")
        problems = []
        for arg in ctor.args:
            if arg.keyword is not None and arg.keyword.value in ("initializer", "initargs"):
                problems.append("the pool has an initializer: it must be picklable, and it then runs in each worker "
                                "process instead of each thread")
                break
        return problems

    def _rewrite(self, tree: cst.Module, source: SourceFile, ctor: cst.Call) -> cst.Module:
        func = ctor.func
        imports: List[ImportItem] = []
        removed = []
        if isinstance(func, cst.Name):
            new_func: cst.BaseExpression = cst.Name("ProcessPoolExecutor")
            imports.append(ImportItem("concurrent.futures", "ProcessPoolExecutor"))
            old = import_of(source, func.value)
            if old is not None:
                removed.append(old)
        elif isinstance(func, cst.Attribute) and dotted(func).endswith("futures.ThreadPoolExecutor"):
            new_func = func.with_changes(attr=cst.Name("ProcessPoolExecutor"))
        else:
            raise NoFix("gillint does not rewrite `%s`" % source.code(func))
        args = [a for a in ctor.args if not (a.keyword is not None and a.keyword.value == "thread_name_prefix")]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        rewritten = tree.visit(Rewrite({ctor: lambda node: node.with_changes(func=new_func, args=args)}))
        return with_imports(rewritten, imports, removed)


class ThreadPoolMapToProcessPool(ThreadPoolToProcessPool):
    code = "GIL201"
    title = "use multiprocessing.Pool"
    thread_pools = POOL_THREAD_POOLS

    def _rewrite(self, tree: cst.Module, source: SourceFile, ctor: cst.Call) -> cst.Module:
        removed = []
        if isinstance(ctor.func, cst.Name):
            old = import_of(source, ctor.func.value)
            if old is not None:
                removed.append(old)
        args = [a for a in ctor.args]
        rewritten = tree.visit(Rewrite({ctor: lambda node: node.with_changes(
            func=cst.parse_expression("multiprocessing.Pool"), args=args)}))
        return with_imports(rewritten, [ImportItem("multiprocessing")], removed)
