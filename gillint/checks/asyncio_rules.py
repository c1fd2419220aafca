"""GIL3xx: asyncio — CPU work blocking the event loop, and CPU work offloaded to threads."""

from __future__ import annotations

from typing import Iterable

from ..analysis.cost import STRONG
from ..diagnostics import Confidence, Diagnostic, Remedy, describe_path
from . import remedy as remedies
from .base import Example, Facts, Rule, register, target_name


# What makes inline work long enough to stall an event loop: it grows with the data beyond one pass
# (a per-element walk, nested data loops, a large fixed count).  One pass of regex or string calls
# over a request's fields, or a recursive walk over a small structure, is what handlers do.
SCALING = frozenset({"per-element", "nested", "sized"})


@register
class CpuBoundCoroutine(Rule):
    """
    ## What it does
    Finds CPU-heavy work done inline in an `async def` — a heavy loop, recursion, or a
    call (possibly several calls down) into pure-Python computation — between two
    `await`s.

    ## Why is this bad?
    An event loop runs one coroutine at a time on one thread. While a coroutine computes,
    no other coroutine runs: every connection the server holds waits, timeouts fire,
    heartbeats are missed. Loops that `await` in every iteration hand control back and
    are not reported.

    ## Example
    ```python
    async def handle(request):
        rows = await request.json()
        return web.json_response(rank(rows))   # rank() loops over every row in Python
    ```

    ## Use instead
    ```python
    PROCESS_POOL = ProcessPoolExecutor()

    async def handle(request):
        rows = await request.json()
        loop = asyncio.get_running_loop()
        ranked = await loop.run_in_executor(PROCESS_POOL, rank, rows)
        return web.json_response(ranked)
    ```
    Not `asyncio.to_thread`: the default executor is a thread pool, so the work still
    holds the GIL that the event loop's thread needs (see GIL302).

    ## Options
    - `min-iterations`, `max-depth`: as for GIL101.

    ## References
    - [asyncio: running blocking code](https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code)
    - [loop.run_in_executor](https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.run_in_executor)
    """

    code = "GIL301"
    name = "cpu-bound-coroutine"
    summary = "CPU-heavy Python runs inline in an async def and blocks the event loop"
    remedy = Remedy.PROCESSES

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for module in facts.modules:
            for function in module.functions.values():
                if not function.is_async:
                    continue
                # A long library call blocks the loop whether it releases the GIL or not: each is reported.
                blockers = facts.cost.loop_blockers(module, function)
                for blocker in blockers:
                    yield self._blocking_call(module, function, blocker)
                if blockers:
                    continue
                work = facts.cost.work(module, function)
                if not work.is_cpu or work.strength < STRONG or not work.steps or not work.traits & SCALING:
                    continue  # one pass over a request's data is what handlers do; only work that scales blocks
                first = work.steps[0].location
                span = (first.line, first.column, first.end_line, first.end_column)
                message = "coroutine `%s` does CPU-bound work inline and blocks the event loop: %s" % (
                    function.qualname, describe_path(work.steps))
                text = ("move the CPU-heavy part to a process pool: `await loop.run_in_executor(process_pool, fn, ...)` "
                        "with a concurrent.futures.ProcessPoolExecutor (not asyncio.to_thread, whose threads share the "
                        "GIL with the event loop); %s" % remedies.picklable_note(work.steps[-1].function.rsplit(".", 1)[-1]))
                yield self.diagnostic(module, span, message, Remedy.PROCESSES, text, work)

    def _blocking_call(self, module, function, blocker):  # type: ignore[no-untyped-def]
        first = blocker.steps[0].location
        span = (first.line, first.column, first.end_line, first.end_column)
        message = "coroutine `%s` makes a long blocking call and stalls the event loop: %s" % (
            function.qualname, describe_path(blocker.steps))
        if "releases" in blocker.traits:
            text = ("run the call in a thread: `await asyncio.to_thread(fn, ...)` — it releases the GIL, so the "
                    "event loop keeps running while it works")
            return self.diagnostic(module, span, message, Remedy.THREADS, text, blocker)
        text = ("run the call in a process pool: `await loop.run_in_executor(process_pool, fn, ...)` — it holds "
                "the GIL, so a thread would still stall the event loop")
        return self.diagnostic(module, span, message, Remedy.PROCESSES, text, blocker)

    VALID = (
        Example(
            """
            import asyncio

            async def relay(reader, writer):
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
            """
        ),
        Example(
            """
            import asyncio
            from concurrent.futures import ProcessPoolExecutor

            def rank(rows):
                return sorted(rows, key=lambda r: sum(x * x for x in r))

            async def handle(rows, pool: ProcessPoolExecutor):
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(pool, rank, rows)
            """
        ),
    )
    INVALID = (
        Example(
            """
            import json

            def rank(rows):
                scored = []
                for row in rows:
                    distance = 0.0
                    for other in rows:
                        distance += abs(row["score"] - other["score"])
                    scored.append((distance, row["id"]))
                return sorted(scored)

            async def handle(request):
                rows = json.loads(await request.text())
                return rank(rows)
            """,
            expected=((14, 12),),
        ),
    )


@register
class CpuBoundWorkOffloadedToThread(Rule):
    """
    ## What it does
    Finds CPU-bound work offloaded from asyncio with `asyncio.to_thread(...)` or
    `loop.run_in_executor(None, ...)` (the default executor is a `ThreadPoolExecutor`), or
    with `run_in_executor` on an executor known to be a thread pool.

    ## Why is this bad?
    Offloading keeps the coroutine from blocking, but the worker thread still holds the
    GIL while it computes, so the event loop's own thread gets the interpreter only in
    5 ms slices: latency of every other request grows, and several offloaded calls run
    one at a time, not in parallel.

    ## Example
    ```python
    async def thumbnail(path):
        return await asyncio.to_thread(resize_in_python, path)
    ```

    ## Use instead
    ```python
    PROCESS_POOL = ProcessPoolExecutor()

    async def thumbnail(path):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(PROCESS_POOL, resize_in_python, path)
    ```
    or a library whose heavy calls release the GIL (Pillow's `resize` does).

    ## Options
    - `confidence = "low"` also reports `run_in_executor(executor, ...)` where the kind of
      `executor` cannot be known (a parameter, a value from outside the project).

    ## References
    - [asyncio.to_thread](https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread)
    - [loop.run_in_executor](https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.run_in_executor)
    """

    code = "GIL302"
    name = "cpu-bound-work-offloaded-to-thread"
    summary = "CPU-bound Python is offloaded with asyncio.to_thread or run_in_executor on threads"
    remedy = Remedy.PROCESSES

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for site in facts.sites:
            if (site.family not in ("to_thread", "run_in_executor") or site.worker not in ("thread", "unknown")
                    or site.parallel_threads or site.process_fallback):
                continue
            work, target = facts.target_work(site)
            if not work.holds_threads_back:
                continue
            name = target_name(site, target)
            confidence = Confidence.HIGH if site.worker == "thread" else Confidence.LOW
            if site.worker != "thread":
                how = "an executor of unknown kind"
            elif site.api.startswith("asyncio.to_thread") or site.api.endswith("(None)"):
                how = "the default executor's threads"
            else:
                how = "a thread pool"
            message = "`%s` is CPU-bound and holds the GIL; %s runs it on %s, which the event loop's thread must share: %s" % (
                name, site.api, how, describe_path(work.steps))
            remedy, text = remedies.for_cpu_work(work, name, facts.free_threaded)
            if not facts.free_threaded:
                remedy = Remedy.PROCESSES
                text = ("use `await loop.run_in_executor(process_pool, %s, ...)` with a concurrent.futures."
                        "ProcessPoolExecutor; %s" % (name, remedies.picklable_note(name)))
            yield self.site_diagnostic(site, message, remedy, text, work, target, confidence)

    VALID = (
        Example(
            """
            import asyncio

            def read_config(path):
                with open(path) as handle:
                    return handle.read()

            async def main():
                return await asyncio.to_thread(read_config, "app.toml")
            """
        ),
    )
    INVALID = (
        Example(
            """
            import asyncio

            def checksum(data):
                total = 0
                for byte in data:
                    total = (total * 31 + byte) % 65521
                return total

            async def main(data):
                loop = asyncio.get_running_loop()
                a = await asyncio.to_thread(checksum, data)
                b = await loop.run_in_executor(None, checksum, data)
                return a, b
            """,
            expected=((11, 15), (12, 15)),
        ),
    )
