"""GIL1xx: CPU-bound work on threads of this interpreter."""

from __future__ import annotations

from typing import Iterable, Sequence

from ..analysis.model import QUICK_CALLS, SLEEP_NAMES, THREAD_MODULES, FunctionSummary, ModuleSummary
from ..analysis.starts import StartSite
from ..diagnostics import Diagnostic, describe_path
from . import remedy as remedies
from .base import Example, Facts, Rule, iter_sites, register, target_name


class _CpuOnThreads(Rule):
    """Shared check: a start site of the given families whose target does CPU-bound work."""

    families: Sequence[str] = ()
    what: str = "thread target"

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for site in iter_sites(facts, self.families, ("thread",)):
            if not site.quiet:
                yield from self.check_site(facts, site)

    def check_site(self, facts: Facts, site: StartSite) -> Iterable[Diagnostic]:
        work, target = facts.target_work(site)
        if not work.holds_threads_back:
            return
        name = target_name(site, target)
        remedy, remedy_text = remedies.for_cpu_work(work, name, facts.free_threaded)
        if facts.free_threaded:
            message = "%s `%s` is CPU-bound Python: it scales across threads only on the free-threaded build: %s" % (
                self.what, name, describe_path(work.steps))
        else:
            message = "%s `%s` is CPU-bound and holds the GIL, so threads run it one at a time: %s" % (
                self.what, name, describe_path(work.steps))
        yield self.site_diagnostic(site, message, remedy, remedy_text, work, target)


@register
class CpuBoundThreadTarget(_CpuOnThreads):
    """
    ## What it does
    Finds CPU-bound pure-Python work run by a `threading.Thread` or `threading.Timer`
    target, by `_thread.start_new_thread`, or in the `run` method of a `Thread` subclass —
    following the target through the functions it calls.

    ## Why is this bad?
    In CPython with the Global Interpreter Lock only one thread executes Python bytecode
    at a time. A thread that loops over data doing arithmetic, string or collection work,
    recurses, or calls library code that holds the GIL (`re`, `json`, `pickle`, `sorted`)
    does not run in parallel with other such threads: four threads take as long as one
    (or longer, from lock hand-offs), and they also slow down every other thread of the
    process, including the one serving requests.

    ## Example
    ```python
    import threading

    def checksum(rows):
        total = 0
        for row in rows:
            total = (total * 31 + row) % 1_000_003
        return total

    threads = [threading.Thread(target=checksum, args=(part,)) for part in parts]
    ```

    ## Use instead
    ```python
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor() as pool:
        results = list(pool.map(checksum, parts))
    ```
    Or vectorise the loop with numpy (its array operations release the GIL), move it into
    a C extension that releases the GIL, or run on a free-threaded interpreter
    (`target-version = "3.13t"`), where threads do run Python in parallel.

    ## Options
    - `min-iterations`: a loop over a literal range or collection is heavy from this many iterations (default 10000).
    - `max-depth`: how many calls deep the target is followed (default 12).
    - `target-version`: with `"3.13t"` or `"3.14t"` the finding says the code scales there and what to check.

    ## References
    - [Python docs: threading — CPython implementation detail on the GIL](https://docs.python.org/3/library/threading.html)
    - [PEP 703 — Making the Global Interpreter Lock Optional](https://peps.python.org/pep-0703/)
    - [concurrent.futures.ProcessPoolExecutor](https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor)
    """

    code = "GIL101"
    name = "cpu-bound-thread-target"
    summary = "CPU-bound Python runs in a threading.Thread/Timer target or a Thread subclass's run"
    remedy = remedies.Remedy.PROCESSES
    families = ("thread", "thread-subclass")
    what = "thread target"

    VALID = (
        Example(
            """
            import threading

            def serve(conn):
                while True:
                    data = conn.recv(4096)
                    if not data:
                        break
                    conn.sendall(data.upper())

            def start(conn):
                threading.Thread(target=serve, args=(conn,), daemon=True).start()
            """
        ),
        Example(
            """
            import hashlib
            import threading

            def digest(blob):
                return hashlib.sha256(blob).hexdigest()

            threading.Thread(target=digest, args=(b"x" * 10_000_000,)).start()
            """
        ),
    )
    INVALID = (
        Example(
            """
            import threading

            def crunch(n):
                total = 0
                for i in range(n):
                    total += i * i
                return total

            threading.Thread(target=crunch, args=(10_000_000,)).start()
            """,
            expected=((9, 1),),
        ),
        Example(
            """
            from threading import Thread

            class Scorer(Thread):
                def __init__(self, rows):
                    super().__init__()
                    self.rows = rows

                def run(self):
                    self.best = max(self.score(r) for r in self.rows)

                def score(self, row):
                    return sum(x * x for x in row)
            """,
            expected=((8, 9),),
        ),
    )


@register
class CpuBoundThreadPoolTask(_CpuOnThreads):
    """
    ## What it does
    Finds CPU-bound pure-Python work submitted to a `concurrent.futures.ThreadPoolExecutor`
    with `submit` or `map`, however the executor was created and stored (a `with` block,
    a variable, an attribute set in `__init__`).

    ## Why is this bad?
    A thread pool runs its tasks on threads of the same interpreter, so CPU-bound Python
    in them runs one task at a time under the GIL. The pool adds overhead and gives no
    speed-up; `max_workers` changes nothing.

    ## Example
    ```python
    from concurrent.futures import ThreadPoolExecutor

    def tokenize(text):
        return [w.lower() for w in text.split() if w.isalpha()]

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(tokenize, documents))
    ```

    ## Use instead
    ```python
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor() as pool:
        tokens = list(pool.map(tokenize, documents, chunksize=64))
    ```
    `ProcessPoolExecutor` has the same interface; the function and its arguments must be
    picklable. Keep the thread pool for I/O (downloads, database calls).

    ## Options
    - `min-iterations`, `max-depth`, `target-version`: as for GIL101.

    ## References
    - [concurrent.futures — ThreadPoolExecutor vs ProcessPoolExecutor](https://docs.python.org/3/library/concurrent.futures.html)
    - [PEP 703 — Making the Global Interpreter Lock Optional](https://peps.python.org/pep-0703/)
    """

    code = "GIL102"
    name = "cpu-bound-thread-pool-task"
    summary = "CPU-bound Python is submitted to a concurrent.futures.ThreadPoolExecutor"
    remedy = remedies.Remedy.PROCESSES
    families = ("executor",)
    what = "thread-pool task"

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for site in iter_sites(facts, self.families, ("thread",)):
            if site.executor_api == "futures" and not site.quiet:
                yield from self.check_site(facts, site)

    VALID = (
        Example(
            """
            from concurrent.futures import ThreadPoolExecutor
            import urllib.request

            def fetch(url):
                with urllib.request.urlopen(url) as response:
                    return response.read()

            with ThreadPoolExecutor(8) as pool:
                pages = list(pool.map(fetch, ["https://example.org"]))
            """
        ),
    )
    INVALID = (
        Example(
            """
            from concurrent.futures import ThreadPoolExecutor

            def tokenize(text):
                return [w.lower() for w in text.split() if w.isalpha()]

            def run(documents):
                with ThreadPoolExecutor(8) as pool:
                    return list(pool.map(tokenize, documents))
            """,
            expected=((8, 21),),
        ),
    )


def _uses_threads(module) -> bool:
    return any(name.split(".", 1)[0] in THREAD_MODULES for name in module.imports.values())


def _calls_unknown_code(facts: Facts, module: ModuleSummary, function: FunctionSummary) -> bool:
    """A polled predicate of the project's own that calls code gillint knows nothing of (a client
    library's request): it may wait, so polling it is not shown to spin."""
    for call in function.calls:
        for callee in facts.cost.project.callees(module, function, call):
            if callee.is_unknown and call.method not in QUICK_CALLS:
                return True
            if callee.kind in ("external", "external-instance") and not facts.cost.described(callee) \
                    and callee.name.rsplit(".", 1)[-1] not in QUICK_CALLS:
                return True
    return False


@register
class BusyWaitLoop(Rule):
    """
    ## What it does
    Finds loops that spin on a flag or on thread predicates — `while not done: pass`,
    `while t.is_alive() and not stop: pass`, or with only a sleep shorter than 1 ms in the
    body (`time.sleep(0)`) — in modules that use threads. A poll paced by a sleep of 1 ms
    or more wakes at most as often as the interpreter switches threads anyway, and is left
    alone.

    ## Why is this bad?
    A spinning thread never blocks, so it competes for the GIL with the thread doing the
    real work: every 5 ms switch interval it takes the lock back, slowing the worker
    down, and it burns a whole core while waiting. A tiny sleep only changes how often
    it churns the GIL and adds up to the sleep's length to the reaction time.

    ## Example
    ```python
    while not worker.done:
        pass
    ```

    ## Use instead
    ```python
    done = threading.Event()
    ...
    done.wait()          # blocks without holding the GIL; set() wakes it at once
    ```
    Or `thread.join()`, `queue.get()`, `threading.Condition`, or `future.result()`.

    ## Options
    None.

    ## References
    - [threading.Event](https://docs.python.org/3/library/threading.html#event-objects)
    - [sys.setswitchinterval](https://docs.python.org/3/library/sys.html#sys.setswitchinterval)
    """

    code = "GIL103"
    name = "busy-wait-loop"
    summary = "A loop spins on a flag (empty body or a tiny sleep) instead of waiting on an Event"
    remedy = remedies.Remedy.EVENT

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        for module in facts.modules:
            if not _uses_threads(module):
                continue
            for function in module.functions.values():
                for index, loop in enumerate(function.loops):
                    if not loop.busy_wait or self._waits(facts, module, function, index):
                        continue
                    span = (loop.span[0], loop.span[1], loop.span[0], loop.span[1] + len("while " + loop.iter_text))
                    message = "busy wait: `while %s` spins, taking the GIL from the threads doing the work" % loop.iter_text
                    text = ("wait on a threading.Event (or Condition, queue.get(), thread.join(), future.result()) that the "
                            "other thread sets: it blocks without holding the GIL and wakes at once")
                    yield self.diagnostic(module, span, message, remedies.Remedy.EVENT, text)

    @staticmethod
    def _waits(facts: Facts, module: ModuleSummary, function: FunctionSummary, index: int) -> bool:
        """A predicate of the project's own that waits (``while not is_job_done():`` polling a server):
        each pass blocks on I/O, so the loop does not spin."""
        for call in function.calls:
            if call.loop != index or (call.raw or call.method or "").rsplit(".", 1)[-1] in SLEEP_NAMES:
                continue
            if facts.cost.call_effect(module, function, call, 0).kind == "io":
                return True
            scope = function if function.qualname != ModuleSummary.MODULE_SCOPE else None
            for callee in facts.cost.project.callees(module, scope, call):
                if callee.kind == "function" and callee.function is not None and callee.module is not None \
                        and _calls_unknown_code(facts, callee.module, callee.function):
                    return True
        return False

    VALID = (
        Example(
            """
            import threading

            done = threading.Event()

            def wait_for_worker():
                done.wait()

            def poll(sock):
                while not sock.closed:
                    sock.recv(1024)
            """
        ),
    )
    INVALID = (
        Example(
            """
            import threading
            import time

            class Job:
                done = False

            def wait_for(job):
                while not job.done:
                    pass

            def wait_politely(job):
                while not job.done:
                    time.sleep(0)
            """,
            expected=((8, 5), (12, 5)),
        ),
    )
