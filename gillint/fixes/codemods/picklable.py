"""GIL203: a lambda or nested function sent to a process becomes a module-level function.

A lambda becomes ``def _<enclosing>_task(<its parameters>, *, <free names>): return <its body>``
placed before the top-level statement that holds it; a nested ``def`` moves there itself.  The
names it read from the enclosing function become keyword-only parameters bound with
``functools.partial`` where it is handed over.  Offered only when none of those names is ever
rebound (the partial binds a value when it is made, a closure reads it when it runs) and none is a
local function or class (which could not be pickled either).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Union

import libcst as cst
from libcst.codemod.visitors import ImportItem
from libcst.metadata import BuiltinScope, GlobalScope

from ...diagnostics import Diagnostic
from ..plan import FixContext, Fixer, NoFix, Proposal
from ..source import SourceFile, names_in
from .common import Rewrite, arg_list, keyword, module_names, with_imports

Callable_ = Union[cst.Lambda, cst.FunctionDef]


class ModuleLevelFunction(Fixer):
    code = "GIL203"
    title = "make it a module-level function"

    def plan(self, context: FixContext, source: SourceFile, diagnostic: Diagnostic) -> Proposal:
        if dict(diagnostic.properties).get("argument"):
            raise NoFix("what cannot be pickled is an argument sent beside the target, not the target")
        module = context.module(diagnostic.path)
        sites = [s for s in context.sites_at(diagnostic) if s.worker == "process"]
        if module is None or not sites:
            raise NoFix("gillint cannot find where the callable is handed over")
        site = sites[0]
        call = source.node_at(site.span, (cst.Call,))
        if not isinstance(call, cst.Call):
            raise NoFix("gillint cannot find the call")
        argument = next((a.value for a in call.args if source.code(a.value).strip() == site.target_text.strip()), None)
        if argument is None:
            raise NoFix("gillint cannot find the callable among the call's arguments")
        taken = module_names(source)
        if isinstance(argument, cst.Lambda):
            target: Callable_ = argument
            enclosing = source.enclosing_function(argument)
            base = "_%s_task" % enclosing.name.value.strip("_") if enclosing is not None else "_task"
            name, number = base, 2
            while name in taken:
                name, number = "%s_%d" % (base, number), number + 1
        elif isinstance(argument, cst.Name):
            target = self._nested_def(source, argument)
            enclosing = source.enclosing_function(target)
            name = target.name.value
            if name in taken:
                raise NoFix("the module already has a `%s`; rename the nested function first" % name)
        else:
            raise NoFix("the callable is neither a lambda nor the name of a nested function")
        if _decorated(target):
            raise NoFix("the nested function is decorated")
        free = self._free_names(source, target)
        problems = []
        if enclosing is not None:
            enclosing_summary = context.function_at(module, *source.span(enclosing)[:2])
            for free_name in free:
                if site.family == "process" and enclosing_summary is not None and _process_shareable(
                        context, module, enclosing_summary, free_name):
                    continue
                problem = context.data.name(module, enclosing_summary, free_name, 0) if enclosing_summary else None
                if problem:
                    problems.append("the fixed call pickles `%s` too: %s" % (free_name, problem))
        if isinstance(target, cst.FunctionDef) and free:
            self._only_use(source, target, argument)
        params = _with_keywords(target.params, free)
        statement = source.top_statement(call)
        replace: Dict[cst.CSTNode, object] = {}
        if isinstance(target, cst.Lambda):
            moved = cst.FunctionDef(name=cst.Name(name), params=params, body=cst.IndentedBlock(
                body=[cst.SimpleStatementLine(body=[cst.Return(value=target.body)])]))
        else:
            comments = [line for line in target.leading_lines if line.comment is not None]
            moved = target.with_changes(params=params, leading_lines=comments)
            replace[target] = cst.RemoveFromParent()
        reference: cst.BaseExpression = cst.Name(name)
        imports = []
        if free:
            imports.append(ImportItem("functools"))
            reference = cst.Call(func=cst.parse_expression("functools.partial"), args=arg_list(
                [cst.Name(name)], [keyword(n, cst.Name(n)) for n in free]))
        replace[argument] = reference
        inserts = {statement: [moved.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]
                                                  + list(moved.leading_lines))]}

        def transform(tree: cst.Module) -> cst.Module:
            return with_imports(tree.visit(Rewrite(replace, inserts)), imports)  # type: ignore[arg-type]

        title = "%s `%s`" % (self.title, name) + (" bound with functools.partial" if free else "")
        return Proposal(transform, title, problems)

    @staticmethod
    def _nested_def(source: SourceFile, name: cst.Name) -> cst.FunctionDef:
        scope = source.scopes.get(name)
        assignments = list(scope[name.value]) if scope is not None else []
        defs = [a.node for a in assignments if isinstance(a.node, cst.FunctionDef)]
        if len(assignments) != 1 or len(defs) != 1:
            raise NoFix("`%s` is not bound once to a nested function" % name.value)
        return defs[0]

    @staticmethod
    def _free_names(source: SourceFile, target: Callable_) -> List[str]:
        """Names the callable reads from enclosing functions; NoFix when one of them changes."""
        own = source.scopes.get(target.body)
        free: List[str] = []
        for node in names_in(target.body) + [n for p in _defaults(target.params) for n in names_in(p)]:
            scope = source.scopes.get(node)
            if scope is None:
                continue
            try:
                assignments = list(scope[node.value])
            except Exception:  # noqa: BLE001 - a name libcst cannot place: treat as unknown
                raise NoFix("gillint cannot tell where `%s` comes from" % node.value) from None
            outer = [a for a in assignments if not isinstance(a.scope, (GlobalScope, BuiltinScope))
                     and not _within(a.scope, own)]
            if not outer:
                continue
            if len(assignments) != 1:
                raise NoFix("`%s` is bound more than once in the enclosing function: the callable reads its latest "
                            "value, a partial would bind one" % node.value)
            binding = assignments[0].node
            if isinstance(binding, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                raise NoFix("the callable uses `%s`, a local %s, which cannot be pickled either" % (
                    node.value, "class" if isinstance(binding, cst.ClassDef) else "function"))
            if _loop_bound(source, binding):
                raise NoFix("`%s` is a loop variable: the callable reads its latest value, a partial would bind one"
                            % node.value)
            if node.value not in free:
                free.append(node.value)
        for node in _nonlocals(target):
            raise NoFix("the function declares `nonlocal %s`" % node)
        return free

    @staticmethod
    def _only_use(source: SourceFile, target: cst.FunctionDef, argument: cst.Name) -> None:
        enclosing = source.enclosing_function(target)
        uses = [n for n in names_in(enclosing.body) if n.value == target.name.value and n is not argument
                and n is not target.name] if enclosing is not None else []
        if uses:
            raise NoFix("`%s` is also used at line %d; with new parameters those uses would break"
                        % (target.name.value, source.span(uses[0])[0]))


def _process_shareable(context: FixContext, module, scope, name: str) -> bool:
    """multiprocessing's queues, locks, events and shared values: made to be handed to a Process."""
    values = context.project.values(module, scope, name)
    return bool(values) and all(v.kind == "external-instance" and v.name.startswith("multiprocessing.")
                                for v in values)


def _decorated(target: Callable_) -> bool:
    return isinstance(target, cst.FunctionDef) and bool(target.decorators)


def _defaults(params: cst.Parameters) -> List[cst.BaseExpression]:
    every = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    return [p.default for p in every if p.default is not None]


def _within(scope: object, own: object) -> bool:
    while scope is not None:
        if scope is own:
            return True
        scope = getattr(scope, "parent", None)
        if isinstance(scope, (GlobalScope, BuiltinScope)):
            return False
    return False


def _loop_bound(source: SourceFile, binding: cst.CSTNode) -> bool:
    for ancestor in source.ancestors(binding):
        if isinstance(ancestor, (cst.For, cst.CompFor)) and any(n is binding for n in names_in(ancestor.target)):
            return True
        if isinstance(ancestor, (cst.SimpleStatementLine, cst.FunctionDef)):
            return False
    return False


def _nonlocals(target: Callable_) -> List[str]:
    found: List[str] = []

    class _Nonlocal(cst.CSTVisitor):
        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            found.extend(n.name.value for n in node.names)

    target.visit(_Nonlocal())
    return found


def _with_keywords(params: cst.Parameters, names: Sequence[str]) -> cst.Parameters:
    if not names:
        return params
    if isinstance(params.star_kwarg, cst.Param):
        raise NoFix("the callable takes `**kwargs`; gillint does not add keyword-only parameters before it")
    star = params.star_arg if isinstance(params.star_arg, (cst.Param, cst.ParamStar)) else cst.ParamStar()
    kwonly = list(params.kwonly_params) + [cst.Param(name=cst.Name(n)) for n in names]
    return params.with_changes(star_arg=star, kwonly_params=kwonly)

