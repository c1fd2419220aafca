"""GIL2xx: pools of the wrong kind for the work, and work that cannot reach a process."""

from __future__ import annotations

from typing import Iterable, Optional, Tuple

from ..analysis.model import FunctionSummary, ModuleSummary
from ..analysis.project import Project, Resolved
from ..analysis.values import decorator_shape, param_origin
from ..analysis.starts import StartSite
from ..diagnostics import Diagnostic, Remedy, describe_path
from . import remedy as remedies
from .base import Example, Facts, Rule, compact, register, target_name

PROCESS_FAMILIES = ("executor", "process", "run_in_executor")


@register
class CpuBoundThreadPoolMap(Rule):
    """
    ## What it does
    Finds CPU-bound pure-Python work given to a thread pool with the `multiprocessing`
    API: `multiprocessing.pool.ThreadPool` and `multiprocessing.dummy.Pool` (`map`,
    `imap`, `imap_unordered`, `starmap`, `apply`, `apply_async`, `map_async`,
    `starmap_async`).

    ## Why is this bad?
    `ThreadPool` and `multiprocessing.dummy` look like `multiprocessing.Pool` but run
    their tasks on threads of the same interpreter. CPU-bound Python in them runs one
    task at a time under the GIL: the code reads as parallel and is not.

    ## Example
    ```python
    from multiprocessing.dummy import Pool

    with Pool(8) as pool:
        scores = pool.map(score_document, documents)
    ```

    ## Use instead
    ```python
    from multiprocessing import Pool

    with Pool() as pool:
        scores = pool.map(score_document, documents, chunksize=32)
    ```
    The process pool has the same methods; the function and its arguments must be
    picklable. Keep `ThreadPool` for I/O.

    ## Options
    - `min-iterations`, `max-depth`, `target-version`: as for GIL101.

    ## References
    - [multiprocessing.pool.ThreadPool](https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.ThreadPool)
    - [multiprocessing.dummy](https://docs.python.org/3/library/multiprocessing.html#module-multiprocessing.dummy)
    """

    code = "GIL201"
    name = "cpu-bound-thread-pool-map"
    summary = "CPU-bound Python is given to multiprocessing.pool.ThreadPool or multiprocessing.dummy.Pool"
    remedy = Remedy.PROCESSES

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for site in facts.sites:
            if site.family != "executor" or site.executor_api != "pool" or site.worker != "thread" or site.quiet:
                continue
            work, target = facts.target_work(site)
            if not work.holds_threads_back:
                continue
            name = target_name(site, target)
            remedy, text = remedies.for_cpu_work(work, name, facts.free_threaded)
            if remedy is Remedy.PROCESSES:
                text = ("use multiprocessing.Pool (same methods) or a ProcessPoolExecutor: each process has its own GIL; "
                        + remedies.picklable_note(name))
            message = "`%s` is CPU-bound and holds the GIL, but %s runs it on threads: %s" % (
                name, site.api.rsplit(".", 1)[0], describe_path(work.steps))
            yield self.site_diagnostic(site, message, remedy, text, work, target)

    VALID = (
        Example(
            """
            from multiprocessing.pool import ThreadPool
            import urllib.request

            def fetch(url):
                return urllib.request.urlopen(url).read()

            with ThreadPool(8) as pool:
                pages = pool.map(fetch, ["https://example.org"])
            """
        ),
    )
    INVALID = (
        Example(
            """
            from multiprocessing.dummy import Pool

            def score(doc):
                return sum(ord(ch) * 31 for ch in doc)

            with Pool(4) as pool:
                scores = pool.map(score, ["a", "b"])
            """,
            expected=((7, 14),),
        ),
    )


@register
class IoBoundProcessPoolTask(Rule):
    """
    ## What it does
    Finds I/O-bound work — network calls, file reads, database queries, sleeps — sent to
    a process pool (`ProcessPoolExecutor`, `multiprocessing.Pool`, `multiprocessing.Process`,
    `run_in_executor` with a process pool). A little CPU work beside long waits (parsing what
    a request returned, formatting a record between sleeps) does not make the work CPU-bound;
    CPU work on what a brief local file read gave does, and is not reported. A
    `multiprocessing.Process` subclass is reported where its instances are made, or at its
    `run` when the checked code makes none.

    ## Why is this bad?
    Waiting on I/O releases the GIL, so threads or asyncio already overlap it. A process
    pool adds start-up time (10-170 ms per worker depending on the start method), pickles
    every argument and result, multiplies memory use, and cannot share connections or
    sessions with the parent.

    ## Example
    ```python
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor() as pool:
        pages = list(pool.map(download, urls))
    ```

    ## Use instead
    ```python
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=32) as pool:
        pages = list(pool.map(download, urls))
    ```
    or asyncio with an async client.

    ## Options
    - `max-depth`: how many calls deep the target is followed (default 12).

    ## References
    - [concurrent.futures.ThreadPoolExecutor](https://docs.python.org/3/library/concurrent.futures.html#threadpoolexecutor)
    - [asyncio](https://docs.python.org/3/library/asyncio.html)
    """

    code = "GIL202"
    name = "io-bound-process-pool-task"
    summary = "I/O-bound work is sent to a process pool, where threads or asyncio would do"
    remedy = Remedy.THREADS

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for site in facts.sites:
            if site.family not in PROCESS_FAMILIES + ("process-subclass",) or site.worker != "process":
                continue
            work, target = facts.target_work(site)
            if work.kind != "io" or "mixed" in work.traits:
                # read a file, then parse it (or rebuild a site each time a file changes): the CPU work
                # beside the waits is why it went to a process
                continue
            name = target_name(site, target)
            message = "`%s` is I/O-bound: it waits with the GIL released, so sending it to %s buys nothing but " \
                      "start-up and pickling cost: %s" % (name, site.api, describe_path(work.steps))
            text = ("run `%s` on a ThreadPoolExecutor (or threading.Thread), or make it a coroutine and use asyncio; "
                    "keep process pools for CPU-bound work" % name)
            yield self.site_diagnostic(site, message, Remedy.THREADS, text, work, target)

    VALID = (
        Example(
            """
            from concurrent.futures import ProcessPoolExecutor

            def render(frame):
                return [[x * y % 255 for x in range(640)] for y in range(480)]

            with ProcessPoolExecutor() as pool:
                images = list(pool.map(render, range(100)))
            """
        ),
    )
    INVALID = (
        Example(
            """
            from concurrent.futures import ProcessPoolExecutor
            import urllib.request

            def download(url):
                with urllib.request.urlopen(url) as response:
                    return response.read()

            with ProcessPoolExecutor() as pool:
                pages = list(pool.map(download, ["https://example.org"]))
            """,
            expected=((9, 18),),
        ),
    )


def _unpicklable(facts: Facts, resolved: Resolved) -> Optional[str]:
    """Why the callable cannot be pickled by reference, or None."""
    if resolved.kind == "partial" and resolved.inner is not None:
        return _unpicklable(facts, resolved.inner)
    if resolved.kind != "function" or resolved.function is None or resolved.module is None:
        return None
    function: FunctionSummary = resolved.function
    module: ModuleSummary = resolved.module
    if function.is_lambda:
        return "a lambda"
    if function.parent:
        return "a function nested in `%s`" % function.parent
    if function.class_name:
        owner = function.class_name.rsplit(".", 1)[0] if "." in function.class_name else ""
        if owner and owner in module.functions:
            return "a method of `%s`, a class defined inside `%s`" % (function.class_name.rsplit(".", 1)[-1], owner)
    replaced = _replaced_by_decorator(facts, module, function)
    if replaced:
        return ("a function whose name `%s` now holds the wrapper its decorator @%s returned, so pickle, which "
                "looks functions up by name, finds the wrapper instead" % (function.name, replaced))
    return None


def _unpicklable_argument(facts: Facts, site: StartSite) -> Optional[Tuple[str, str, str]]:
    """A callable in the ``args`` given beside a process's target that cannot be pickled: (what, why, the
    path of the module that defines it).
    ``Process(target=_run, args=(queue, self.function))``: the arguments travel to the child with the
    target, so they are pickled under the same start methods."""
    if site.args_ref is None:
        return None
    project = facts.cost.project
    scope = site.function if site.function.qualname != ModuleSummary.MODULE_SCOPE else None
    for value in project.ref_values(site.module, scope, site.args_ref):
        if value.kind != "sequence":
            continue
        for position, item in enumerate(value.items):
            for held in item:
                why = _unpicklable(facts, held) or _wrapped_original(project, held)
                if why:
                    defined = held.inner if held.kind == "partial" and held.inner is not None else held
                    parameter = param_origin(defined)
                    origin = defined.module.path if defined.module is not None else (
                        parameter[0] if parameter is not None else "")
                    return _item_text(site, position), why, origin
    return None


def _item_text(site: StartSite, position: int) -> str:
    """``self.function``, item ``position`` of the ``args`` written beside the target, where the source shows
    it (``args=(q, fn)``, or ``args = (q, fn) + rest`` just before); else ``args[1]``."""
    ref = site.args_ref
    assert ref is not None
    displays = [ref] if ref.kind == "list" else [
        value for value in site.function.assigns.get(ref.raw, ()) if value.kind == "list"] if ref.kind == "name" else []
    for display in displays:
        if position < len(display.args):
            return compact(display.args[position].text)
    return "%s[%d]" % (compact(ref.text), position)


def _wrapped_original(project: Project, value: Resolved) -> str:
    """``function``, the parameter of a decorator that returns a wrapper in its place (``def timeout(f):
    @wraps(f) def new(*a): ...; return new``): the original function, whose name the ``@`` rebinds to
    the wrapper, so pickle cannot find it by name."""
    parameter = param_origin(value)
    if parameter is None:
        return ""
    path, qualname, name = parameter
    module = project.by_path.get(path)
    function = module.functions.get(qualname) if module is not None else None
    if function is None or function.params[:1] != (name,) or decorator_shape(function, name) != "wraps":
        return ""  # a decorator that gives the function back keeps it picklable
    return ("the original of a function that the decorator `%s` wraps: after `@`, the function's name holds "
            "the wrapper the decorator returned, so pickle, which looks functions up by name, finds the wrapper "
            "instead (\"not the same object\")" % qualname)


def _replaced_by_decorator(facts: Facts, module: ModuleSummary, function: FunctionSummary) -> str:
    """The decorator of the project's own that rebinds the function's name to something else (a
    wrapper it returns), or "".  A decorator that returns the function it is given keeps it picklable."""
    if function.class_name:
        return ""
    for decorator in function.decorators:
        for value in facts.cost.project.values(module, None, decorator):
            inner = value.function
            if value.kind != "function" or inner is None or not inner.params:
                continue
            given = inner.params[0]
            if inner.returns and any(r.kind != "name" or r.raw != given for r in inner.returns):
                return decorator.rsplit(".", 1)[-1]
    return ""


@register
class UnpicklableProcessTarget(Rule):
    """
    ## What it does
    Finds callables that cannot be pickled — lambdas, functions nested in other functions,
    methods of classes defined inside functions, and functions whose name a decorator rebound to
    the wrapper it returned — sent to a process pool or `multiprocessing.Process`. It also looks
    at the `args` given beside a `Process` target: a decorator that hands the original of the
    function it wraps to a child process (`Process(target=_run, args=(queue, function))`, the
    `timeout` decorators' pattern) sends a function that pickle cannot find by its name.

    ## Why is this bad?
    To run a callable in another process, `multiprocessing` and `ProcessPoolExecutor`
    pickle it by reference (module and qualified name). Lambdas and local functions have
    no importable name, so the call fails at run time with `PicklingError` /
    `AttributeError: Can't pickle local object`. A pool (`ProcessPoolExecutor`,
    `multiprocessing.Pool`, `run_in_executor`) pickles every task it is given, so it fails
    under every start method, `fork` included. A `multiprocessing.Process` target is
    inherited by a forked child and pickled only under the `spawn` and `forkserver` start
    methods — the default on macOS and Windows, and on Linux from Python 3.14 — so code
    that works on one machine breaks on another.

    ## Example
    ```python
    with ProcessPoolExecutor() as pool:
        results = list(pool.map(lambda row: score(row, weights), rows))
    ```

    ## Use instead
    ```python
    from functools import partial

    with ProcessPoolExecutor() as pool:
        results = list(pool.map(partial(score, weights=weights), rows))
    ```
    Define the function at module level; bind extra arguments with `functools.partial`.

    ## Options
    None.

    ## References
    - [multiprocessing: what can be pickled](https://docs.python.org/3/library/pickle.html#what-can-be-pickled-and-unpickled)
    - [multiprocessing start methods](https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods)
    """

    code = "GIL203"
    name = "unpicklable-process-target"
    summary = "A lambda, nested function or local class's method is sent to a process pool or Process"
    remedy = Remedy.PICKLABLE

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for site in facts.sites:
            if site.family not in PROCESS_FAMILIES or site.worker != "process":
                continue
            why = _unpicklable(facts, site.target)
            what, extra = compact(site.target_text), ()
            text = "define the function at module level and bind extra arguments with functools.partial"
            if why is None:
                found = _unpicklable_argument(facts, site)
                if found is None:
                    continue
                what, why, origin = found
                # a nested callback written in a test makes the finding as sure as test code is
                extra = (("argument", what), ("value-from", origin))
                text = ("send something pickle can find by name in its place: the module and name of the decorated "
                        "function, looked up in the child (the wrapper it names must not start the process again)")
            if site.family == "process":  # a Process target is inherited, not pickled, under fork
                how = ("which fails under the spawn and forkserver start methods (the default on macOS, Windows, "
                       "and Linux from Python 3.14)")
            else:
                how = "which pickles every task it runs, so the call fails under every start method, fork included"
            message = "`%s` is %s: it cannot be pickled to reach %s, %s" % (what, why, site.api, how)
            yield self.site_diagnostic(site, message, Remedy.PICKLABLE, text, extra=extra)

    VALID = (
        Example(
            """
            from concurrent.futures import ProcessPoolExecutor
            from functools import partial

            def score(row, weight):
                return sum(x * weight for x in row)

            with ProcessPoolExecutor() as pool:
                results = list(pool.map(partial(score, weight=2), [[1, 2]]))
            """
        ),
    )
    INVALID = (
        Example(
            """
            from concurrent.futures import ProcessPoolExecutor

            def run(rows):
                with ProcessPoolExecutor() as pool:
                    return list(pool.map(lambda row: sum(row), rows))
            """,
            expected=((5, 21),),
        ),
        Example(
            """
            import multiprocessing

            def main():
                def work():
                    print("hi")
                multiprocessing.Process(target=work).start()
            """,
            expected=((6, 5),),
        ),
    )
