"""GIL301: a CPU-heavy call inline in ``async def`` is awaited in an executor instead.

``x = rank(rows)`` becomes ``x = await asyncio.get_running_loop().run_in_executor(<process pool>,
rank, rows)``; a call into a library that releases the GIL becomes ``await asyncio.to_thread(...)``.
Only a call that is a whole statement's value (assigned, returned, or on its own) is rewritten:
its result is then used only after it, so awaiting it changes no order of evaluation.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import libcst as cst
from libcst.codemod.visitors import ImportItem

from ...diagnostics import Diagnostic, Remedy
from ..plan import FixContext, Fixer, NoFix, Proposal
from ..safety import callable_problem, hard_callable_problem, spawn_problem
from ..source import SourceFile
from .common import ProcessPoolChoice, Rewrite, arg_list, call_args, partial_of, with_imports

STATEMENTS = (cst.Assign, cst.AnnAssign, cst.Return, cst.Expr)


class AwaitInExecutor(Fixer):
    code = "GIL301"
    title = "await the call in an executor"

    def plan(self, context: FixContext, source: SourceFile, diagnostic: Diagnostic) -> Proposal:
        module = context.module(diagnostic.path)
        if module is None or not diagnostic.evidence:
            raise NoFix("gillint cannot find the blocking call")
        where = diagnostic.evidence[0].location
        span = (where.line, where.column, where.end_line, where.end_column)
        call = source.node_at(span, (cst.Call,))
        if not isinstance(call, cst.Call):
            raise NoFix("the work is a loop written in the coroutine itself; move it into a module-level function, "
                        "then that call can be sent to an executor")
        if not isinstance(source.parent(call), STATEMENTS):
            raise NoFix("the call is part of a larger expression; give its result a name of its own first")
        function = context.function_at(module, where.line, where.column)
        fact = context.call_fact(function, span) if function is not None else None
        if fact is None or function is None or not function.is_async:
            raise NoFix("gillint cannot find the call in its coroutine")
        positional, keywords = call_args(call)
        problems: List[str] = []
        imports: List[ImportItem] = [ImportItem("asyncio")]
        inserts: Dict[cst.CSTNode, Sequence[cst.BaseStatement]] = {}
        if diagnostic.remedy is Remedy.THREADS:
            # the call releases the GIL: a thread of this process runs it beside the event loop
            for arg in call.args:
                if not _own(arg.value, function.assigns, function.params):
                    problems.append("`%s` may be changed by other coroutines while the call runs in a thread"
                                    % source.code(arg.value))
            new_call = cst.Call(func=cst.parse_expression("asyncio.to_thread"),
                                args=arg_list([call.func] + [a.value for a in positional], keywords))
            title = "await it with asyncio.to_thread (the call releases the GIL)"
        else:
            values = context.project.callees(module, function, fact)
            for value in values:
                if hard_callable_problem(value):
                    raise NoFix(callable_problem(value) or "the function cannot be pickled")
                problem = callable_problem(value)
                if problem:
                    problems.append(problem)
                elif value.kind == "function" and value.function is not None and value.module is not None:
                    effect = context.effects.problem(value.module, value.function)
                    if effect:
                        problems.append(effect)
            for ref in list(fact.args) + [v for _, v in fact.keywords]:
                problem = context.data.ref(module, function, ref)
                if problem:
                    problems.append(problem)
            spawn = spawn_problem(source, call, module)
            if spawn:
                problems.append(spawn)
            pool = ProcessPoolChoice(context, source)
            pool.place(source, inserts)
            imports += pool.imports
            if keywords:
                imports.append(ImportItem("functools"))
            new_call = cst.Call(func=cst.parse_expression("asyncio.get_running_loop().run_in_executor"),
                                args=arg_list([pool.expression, partial_of(call.func, keywords)]
                                              + [a.value for a in positional]))
            title = "await it with run_in_executor on %s" % pool.label
        replace = {call: cst.Await(expression=new_call)}

        def transform(tree: cst.Module) -> cst.Module:
            return with_imports(tree.visit(Rewrite(replace, inserts)), imports)

        return Proposal(transform, title, problems)


def _own(node: cst.BaseExpression, assigns: dict, params: tuple) -> bool:
    """A literal, or a name the coroutine binds itself (no other coroutine can rebind it)."""
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float)):
        return True
    return isinstance(node, cst.Name) and (node.value in assigns or node.value in params)
