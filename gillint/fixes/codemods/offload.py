"""GIL302: CPU-bound work offloaded to the default executor's threads goes to a process pool.

``await asyncio.to_thread(f, *args)`` and ``await loop.run_in_executor(None, f, *args)`` become
``await asyncio.get_running_loop().run_in_executor(<process pool>, f, *args)`` (``loop.`` kept
where the code had it).  The pool is a module-level ``ProcessPoolExecutor`` created on first use,
or the one ``[tool.gillint.fix] process-pool`` names.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import libcst as cst
from libcst.codemod.visitors import ImportItem

from ...diagnostics import Diagnostic
from ..plan import FixContext, Fixer, NoFix, Proposal
from ..safety import spawn_problem
from ..source import SourceFile
from .common import ProcessPoolChoice, Rewrite, arg_list, call_args, import_of, partial_of, with_imports
from .pools import task_problems


def awaited_problem(source: SourceFile, call: cst.Call) -> List[str]:
    if isinstance(source.parent(call), cst.Await):
        return []
    return ["the call's result is not awaited where it is made: `run_in_executor` returns a Future, not a coroutine "
            "(asyncio.create_task would refuse it)"]


class OffloadToProcessPool(Fixer):
    code = "GIL302"
    title = "run it with run_in_executor on a process pool"

    def plan(self, context: FixContext, source: SourceFile, diagnostic: Diagnostic) -> Proposal:
        module = context.module(diagnostic.path)
        sites = [s for s in context.sites_at(diagnostic) if s.family in ("to_thread", "run_in_executor")]
        if module is None or not sites:
            raise NoFix("gillint cannot find where the work is offloaded")
        site = sites[0]
        if site.family == "to_thread" and site.api != "asyncio.to_thread":
            # anyio/trio/Starlette offloads may run under a loop that is not asyncio's, and take
            # keywords of their own (limiter=, abandon_on_cancel=) that run_in_executor has not
            raise NoFix("only asyncio.to_thread and run_in_executor are rewritten; %s is left to you" % site.api)
        if site.family == "run_in_executor" and not site.api.endswith("(None)"):
            raise NoFix("the code names its executor; make that executor a ProcessPoolExecutor where it is created")
        call = source.node_at(site.span, (cst.Call,))
        if not isinstance(call, cst.Call):
            raise NoFix("gillint cannot find the call")
        positional, keywords = call_args(call)
        problems = task_problems(context, module, site.function, site, context.call_fact(site.function, site.span))
        problems += awaited_problem(source, call)
        spawn = spawn_problem(source, call, module)
        if spawn:
            problems.append(spawn)
        pool = ProcessPoolChoice(context, source)
        inserts: Dict[cst.CSTNode, Sequence[cst.BaseStatement]] = {}
        pool.place(source, inserts)
        imports: List[ImportItem] = list(pool.imports)
        removed = []
        if site.family == "to_thread":
            if not positional:
                raise NoFix("the function is not passed by position")
            imports.append(ImportItem("asyncio"))
            if keywords:
                imports.append(ImportItem("functools"))
            if isinstance(call.func, cst.Name):
                old = import_of(source, call.func.value)
                if old is not None:
                    removed.append(old)
            new_call = cst.Call(
                func=cst.parse_expression("asyncio.get_running_loop().run_in_executor"),
                args=arg_list([pool.expression, partial_of(positional[0].value, keywords)]
                              + [a.value for a in positional[1:]]))
            replace = {call: new_call}
        else:
            first = positional[0] if positional else None
            if first is None:
                raise NoFix("the executor is not passed by position")
            replace = {first: first.with_changes(value=pool.expression)}

        def transform(tree: cst.Module) -> cst.Module:
            return with_imports(tree.visit(Rewrite(replace, inserts)), imports, removed)

        return Proposal(transform, "%s: %s" % (self.title, pool.label), problems)
