"""The "Fix safety" section of each rule's page (docs/rules/*.md, `gillint rule CODE`)."""

from __future__ import annotations

from typing import Dict

SAFETY: Dict[str, str] = {
    "GIL101": """\
No automatic fix. A `Thread` and a `Process` differ in more than speed: a process does not share
the thread's memory, so results stored on objects, appended to lists or put on a `queue.Queue`
never come back, and locks, sockets and open files do not cross. The rewrite depends on how the
results are collected, which is a choice for a person. Submitting the work to a
`ProcessPoolExecutor` and reading each future's result is the usual shape.""",
    "GIL102": """\
`--fix` changes the `ThreadPoolExecutor(...)` that created the pool into a
`ProcessPoolExecutor(...)` (same size; `thread_name_prefix` dropped) and updates the imports. The
fix is **safe** only when gillint can show, for every task handed to that pool in the function
that creates it:

- the callable pickles by reference: a module-level function, a `functools.partial` of one, or a
  library function (not a lambda, nested function or bound method);
- every argument is plain data: literals, lists, tuples, dicts and sets of plain data,
  comprehensions over them, built-in constructors (`range`, `sorted`, `str`...), names bound only to
  such values, and results of project functions that return them — followed through the value
  analysis to the callers of the function;
- the task (and the project functions it calls, three calls deep) writes no state the caller
  shares: no `global`, no change to module-level objects or to its arguments, no attribute
  writes on shared objects, and no output (`print`, `logging`, `open`) whose order processes
  would change;
- the pool is used for nothing else gillint cannot follow, and the module is safe to import
  again in a spawned worker (the pool is created inside a function that no module-level code
  calls, or under `if __name__ == "__main__":`).

When a condition cannot be shown the fix is **unsafe** and the finding names the condition
(`--unsafe-fixes` applies it). There is **no fix** when the rewrite would certainly fail (a lambda
or generator argument cannot be pickled), when the pool is not created once in the function that
uses it (an attribute, a parameter), or when its constructor takes more than its size by position.""",
    "GIL201": """\
`--fix` changes the `ThreadPool(...)` / `multiprocessing.dummy.Pool(...)` into
`multiprocessing.Pool(...)` (same arguments; it has the same methods) and updates the imports.
It is safe under exactly the conditions of GIL102's fix: picklable tasks with plain-data
arguments, no shared state written, nothing else done with the pool that gillint cannot follow,
and a module that is safe to import again in a spawned worker.""",
    "GIL202": """\
No automatic fix. Moving I/O-bound work from processes to threads is safe for the work itself,
but code around a process pool often relies on isolation (global state set per worker,
`initializer` functions, per-process connections), and the right replacement may be asyncio
rather than a thread pool.""",
    "GIL203": """\
`--fix` turns a lambda into `def _<function>_task(<its parameters>, *, <names it reads>)` placed
before the top-level statement that holds it, and moves a nested `def` there itself. The names it
read from the enclosing function become keyword-only parameters, bound with `functools.partial`
where the callable is handed over. The fix is **safe** when none of those names is rebound in the
enclosing function (a closure reads a name's latest value; a partial binds the value it had when
it was made) and each holds plain data (or, for a `multiprocessing.Process` target, one of
multiprocessing's queues, locks, events or shared values, made to be passed to a process). It is
**unsafe** when a value cannot be shown to pickle, and **not offered** when a name is bound more
than once or by a loop, names a local function or class, when the function uses `nonlocal`, is
decorated, takes `**kwargs`, or is used elsewhere in the enclosing function (its new parameters
would break those uses).""",
    "GIL301": """\
`--fix` awaits the flagged call in an executor: `x = rank(rows)` becomes
`x = await asyncio.get_running_loop().run_in_executor(_process_pool(), rank, rows)`, with a
module-level `ProcessPoolExecutor` created on first use (or the pool that
`[tool.gillint.fix] process-pool` names). A library call that releases the GIL becomes
`await asyncio.to_thread(...)` instead. Only a call that is a whole statement's value (assigned,
returned or on its own line) is rewritten, so its result is used only after it. The process-pool
fix is **safe** under GIL102's conditions (picklable function, plain-data arguments, no shared
state written, a module safe to import again); the thread fix is safe when the arguments are
literals or names the coroutine binds itself (no other coroutine can change them while the call
runs). There is **no fix** for work written inline as a loop in the coroutine, or a call inside a
larger expression.""",
    "GIL302": """\
`--fix` turns `await asyncio.to_thread(f, *args)` and `await loop.run_in_executor(None, f, *args)`
into `run_in_executor` on a process pool: a module-level `ProcessPoolExecutor` created on first use
(`_process_pool()`), or the pool that `[tool.gillint.fix] process-pool = "package.module:POOL"`
names. Keyword arguments of `to_thread` are bound with `functools.partial`. It is **safe** under
GIL102's conditions, and when the result is awaited where the call is made (`run_in_executor`
returns a Future, which `asyncio.create_task` would refuse). `run_in_executor` on an executor the
code names gets **no fix**: change that executor where it is created.""",
    "GIL103": """\
`--fix` replaces a flag with a `threading.Event`: `flag = False` becomes `flag = threading.Event()`,
`flag = True` becomes `flag.set()`, every other read becomes `flag.is_set()`, and each spinning
`while not flag: pass` (or a sleep under 1 ms) becomes `flag.wait()`; a spin on an Event's
`is_set()` becomes `wait()`. It is offered (and **safe**) only when the flag is a module global or
an instance attribute that starts `False` once (at module level, or in `__init__`), is only ever
set to `True`, and every use of it is found: an Event is always true, so one read left behind would
change the program. Uses in another module, on receivers gillint cannot tie to the class, a flag
set back to `False`, or a class attribute (one Event shared by every instance) mean **no fix**.""",
}


def fix_safety(code: str) -> str:
    return SAFETY.get(code, "")


def with_fix_safety(documentation: str, code: str) -> str:
    """The rule's documentation with its Fix safety section before References (as ruff orders them)."""
    safety = fix_safety(code)
    if not safety:
        return documentation
    section = "## Fix safety\n%s\n\n" % safety
    marker = "## References"
    if marker in documentation:
        return documentation.replace(marker, section + marker, 1)
    return documentation.rstrip() + "\n\n" + section.rstrip()
