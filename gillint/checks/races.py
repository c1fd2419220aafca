"""GIL4xx: data races that the GIL hid and a free-threaded build shows.

The facts come from :mod:`gillint.analysis.races`; each rule is one shape of unguarded
touch of a shared place, and every message names the evidence that the place is shared
and where each touch is.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Set, Tuple

from ..analysis.races import Access, Place, RaceAnalysis
from ..diagnostics import Diagnostic, Remedy
from .base import Example, Facts, Rule, register

LOCK_REMEDY = ("hold one lock (a `threading.Lock` kept beside the state) around every touch of it, or stop sharing it: "
               "give each thread its own (`threading.local`, a copy), or hand values between threads through a "
               "`queue.Queue`")


def races(facts: Facts) -> RaceAnalysis:
    """One race analysis per run, shared by the GIL4xx rules."""
    found = facts.__dict__.get("_races")
    if found is None:
        found = facts.__dict__["_races"] = RaceAnalysis(
            facts.cost.project, facts.modules, facts.sites, getattr(facts.config, "thread_shared", ()),
            facts.config.max_depth)
    return found


class _RaceRule(Rule):
    default_enabled = False
    free_threaded_default = True  # on when target-version names a free-threaded build
    remedy = Remedy.LOCK

    def finding(self, access: Access, message: str, evidence: str) -> Diagnostic:
        fact = access.fact
        text = "%s without a lock; it is shared: %s" % (message, evidence)
        return self.diagnostic(access.module, fact.span, text, self.remedy, LOCK_REMEDY,
                               properties=(("place", access.place.label), ("evidence", evidence)))


@register
class UnlockedReadModifyWrite(_RaceRule):
    """
    ## What it does
    Finds a read-modify-write of shared state with no lock held: `self.hits += 1`,
    `global n; n += 1`, `counts[k] = counts.get(k, 0) + 1`, `self.total = self.total + size`
    — where the state is a field of an object, a class attribute, a module global or a
    closure's variable that two threads reach at once.

    The state counts as shared only with evidence, named in the message: a thread target,
    pool task or timer that runs several times at once (or beside another worker on the same
    object) reaches it; the class or module guards other touches of it with a lock, so it is
    meant to be used from several threads (RacerD's and FindBugs' signal); it is module-level
    state that public functions of a module using threads change; or `thread-shared` names it.

    ## Why is this bad?
    `x += 1` is three steps: read, add, store. With the GIL, a thread switch between them
    was rare; on a free-threaded build (3.13t, 3.14t) two threads really run them at the same
    time, both read the old value, and one update is lost — counters drift, totals are wrong.

    ## Example
    ```python
    import threading

    class Stats:
        def __init__(self):
            self._lock = threading.Lock()
            self.hits = 0
            self.sizes = []

        def record(self, size):
            with self._lock:
                self.sizes.append(size)
            self.hits += 1
    ```

    ## Use instead
    ```python
        def record(self, size):
            with self._lock:
                self.sizes.append(size)
                self.hits += 1
    ```
    Or count with `itertools.count()` (its `next()` is atomic), or keep per-thread counts and
    add them up after `join()`.

    ## Options
    - `target-version`: the rule is on for `"3.13t"` and `"3.14t"`; select it (`extend-select = ["GIL4"]`) otherwise.
    - `thread-shared`: classes and functions your users share between threads.

    ## References
    - [PEP 703 — Making the Global Interpreter Lock Optional](https://peps.python.org/pep-0703/)
    - [Python HOWTO: free-threading extensions and thread safety](https://docs.python.org/3/howto/free-threading-python.html)
    - [RacerD: compositional static race detection (OOPSLA 2018)](https://fbinfer.com/docs/checker-racerd/)
    """

    code = "GIL401"
    name = "unlocked-read-modify-write"
    summary = "Shared state is read, changed and written back without a lock"

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        analysis = races(facts)
        acts = {(a.module.path, a.fact.span) for a in analysis.candidates(("check-act",))}
        for access in analysis.candidates(("rmw",)):
            if (access.module.path, access.fact.span) in acts:
                continue  # GIL402 reports it, with its check
            evidence = analysis.evidence(access)
            if evidence:
                yield self.finding(access, "`%s` reads, changes and writes back %s" % (access.fact.text, access.place.label),
                                   evidence)

    VALID = (
        Example(
            """
            import threading

            class Stats:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.hits = 0

                def record(self):
                    with self._lock:
                        self.hits += 1
            """
        ),
        Example(
            """
            import threading

            def count(words):
                total = 0
                for word in words:
                    total += 1
                return total

            for chunk in ([1], [2]):
                threading.Thread(target=count, args=(chunk,)).start()
            """
        ),
    )
    INVALID = (
        Example(
            """
            import threading

            class Stats:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.hits = 0
                    self.sizes = []

                def record(self, size):
                    with self._lock:
                        self.sizes.append(size)
                        self.hits += 1

                def miss(self):
                    self.hits += 1
            """,
            expected=((15, 9),),
        ),
        Example(
            """
            import threading

            served = 0

            def handle(conn):
                global served
                served += 1
                conn.close()

            def serve(conns):
                for conn in conns:
                    threading.Thread(target=handle, args=(conn,)).start()
            """,
            expected=((7, 5),),
        ),
    )


@register
class UnlockedCheckThenAct(_RaceRule):
    """
    ## What it does
    Finds a check-then-act on shared state with no lock held around both the check and the
    act: `if key not in cache: cache[key] = build(key)`, `if items: items.pop(0)`,
    `if len(buf) < LIMIT: buf.append(x)`, and lazy initialisation
    (`if _instance is None: _instance = Client()`, `if self._conn is None: self._conn = connect()`).
    A value read into a local first counts too (`v = cache.get(k)` then `if v is None: cache[k] = ...`).
    Shared means the same evidence as GIL401, named in the message.

    ## Why is this bad?
    Between the check and the act another thread can change the state: two threads both see
    the key missing and both build it (twice the work, two different singletons, one of them
    lost with whatever it holds), `pop` raises `IndexError` on an emptied list, a buffer grows
    past its limit. The GIL made the window small; a free-threaded build runs both threads
    through it at once.

    ## Example
    ```python
    import threading

    _clients = {}

    def client_for(host):
        if host not in _clients:
            _clients[host] = make_client(host)
        return _clients[host]
    ```

    ## Use instead
    ```python
    _clients = {}
    _clients_lock = threading.Lock()

    def client_for(host):
        with _clients_lock:
            if host not in _clients:
                _clients[host] = make_client(host)
            return _clients[host]
    ```
    Or `_clients.setdefault(host, ...)` when building twice is harmless, or
    `functools.lru_cache` / `functools.cache` (thread-safe) for a pure function. Double-checked
    locking (check, take the lock, check again) is fine: the second check is under the lock.

    ## Options
    - `target-version`, `thread-shared`: as for GIL401.

    ## References
    - [PEP 703 — Making the Global Interpreter Lock Optional](https://peps.python.org/pep-0703/)
    - [Python HOWTO: free-threading and thread safety of built-in types](https://docs.python.org/3/howto/free-threading-python.html)
    """

    code = "GIL402"
    name = "unlocked-check-then-act"
    summary = "Shared state is checked and then changed without a lock held across both"

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        analysis = races(facts)
        for access in analysis.candidates(("check-act",)):
            if access.fact.constant:
                continue  # ``if self.running: self.running = False``: both threads store the same value
            evidence = analysis.evidence(access)
            if evidence:
                check = access.fact.check
                yield self.finding(access, "`%s` acts on %s after the check at line %d" % (
                    access.fact.text, access.place.label, check[0] if check else access.line), evidence)

    VALID = (
        Example(
            """
            import threading

            _clients = {}
            _lock = threading.Lock()

            def client_for(host):
                with _lock:
                    if host not in _clients:
                        _clients[host] = object()
                    return _clients[host]
            """
        ),
        Example(
            """
            import threading

            _instance = None
            _lock = threading.Lock()

            def instance():
                global _instance
                if _instance is None:
                    with _lock:
                        if _instance is None:
                            _instance = object()
                return _instance
            """
        ),
    )
    INVALID = (
        Example(
            """
            import threading

            _clients = {}

            def client_for(host):
                if host not in _clients:
                    _clients[host] = object()
                return _clients[host]
            """,
            expected=((7, 9),),
        ),
        Example(
            """
            import threading

            _instance = None

            def instance():
                global _instance
                if _instance is None:
                    _instance = object()
                return _instance
            """,
            expected=((8, 9),),
        ),
    )


@register
class IterationWhileMutated(_RaceRule):
    """
    ## What it does
    Finds a `for` loop or comprehension that walks a shared dict, list or set step by step
    (`for k, v in self.jobs.items()`, `[s for s in _sessions]`) with no lock held, while other
    code changes that container (`self.jobs[k] = v`, `del self.jobs[k]`, `_sessions.append(s)`).
    Shared means the same evidence as GIL401; the message names the code that changes it.

    ## Why is this bad?
    Changing a dict or set while another thread iterates it raises `RuntimeError: dictionary
    changed size during iteration`; a list walked while another thread removes items skips or
    repeats them. Under the GIL the loop body rarely lost the GIL at the wrong moment; on a
    free-threaded build the other thread runs during every step.

    ## Example
    ```python
    import threading

    class Registry:
        def __init__(self):
            self._lock = threading.Lock()
            self._handlers = {}

        def register(self, name, handler):
            with self._lock:
                self._handlers[name] = handler

        def notify(self, event):
            for handler in self._handlers.values():
                handler(event)
    ```

    ## Use instead
    ```python
        def notify(self, event):
            with self._lock:
                handlers = list(self._handlers.values())  # a copy, taken under the lock
            for handler in handlers:
                handler(event)
    ```
    `list(d)`, `d.copy()` and `sorted(d)` copy in one step and are not reported.

    ## Options
    - `target-version`, `thread-shared`: as for GIL401.

    ## References
    - [Python HOWTO: free-threading and thread safety of built-in types](https://docs.python.org/3/howto/free-threading-python.html)
    """

    code = "GIL403"
    name = "iteration-while-mutated"
    summary = "A shared container is iterated without a lock while other code changes it"

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        analysis = races(facts)
        for access in analysis.candidates(("iterate",)):
            changes = analysis.changes(access.place, item_only=True)
            if not changes:
                continue
            change, evidence = changes[0], ""
            for candidate in changes:
                evidence = analysis.pair_evidence(access, candidate)
                if evidence:
                    change = candidate
                    break
            evidence = evidence or analysis.evidence(access)
            if evidence:
                yield self.finding(access, "this loop walks %s while `%s` (line %d, in `%s`) changes it" % (
                    access.place.label, change.fact.text, change.line, change.function.name), evidence)

    VALID = (
        Example(
            """
            import threading

            class Registry:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._handlers = {}

                def register(self, name, handler):
                    with self._lock:
                        self._handlers[name] = handler

                def notify(self, event):
                    with self._lock:
                        handlers = list(self._handlers.values())
                    for handler in handlers:
                        handler(event)
            """
        ),
    )
    INVALID = (
        Example(
            """
            import threading

            class Registry:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._handlers = {}

                def register(self, name, handler):
                    with self._lock:
                        self._handlers[name] = handler

                def notify(self, event):
                    for handler in self._handlers.values():
                        handler(event)
            """,
            expected=((13, 24),),
        ),
    )


@register
class FieldsUpdatedApart(_RaceRule):
    """
    ## What it does
    Finds two fields (or two module globals) that code updates together under one lock in
    one place — so together they keep an invariant (a count and its total, a value and its
    expiry, a buffer and its length) — and that another method updates one after the other
    without that lock.

    ## Why is this bad?
    Between the two stores another thread sees the new value of one and the old value of the
    other: an average computed from a new total and an old count, an entry thought fresh with
    an expired deadline. Holding the lock in one place and not the other protects nothing.

    ## Example
    ```python
    import threading

    class Meter:
        def __init__(self):
            self._lock = threading.Lock()
            self.count = 0
            self.total = 0.0

        def add(self, value):
            with self._lock:
                self.count = self.count + 1
                self.total = self.total + value

        def reset(self):
            self.count = 0
            self.total = 0.0
    ```

    ## Use instead
    ```python
        def reset(self):
            with self._lock:
                self.count = 0
                self.total = 0.0
    ```

    ## Options
    - `target-version`, `thread-shared`: as for GIL401.

    ## References
    - [RacerD: compositional static race detection (OOPSLA 2018)](https://fbinfer.com/docs/checker-racerd/)
    """

    code = "GIL404"
    name = "fields-updated-apart"
    summary = "Fields that a lock keeps consistent together are updated one after the other without it"

    def check(self, facts: Facts) -> Iterable[Diagnostic]:
        analysis = races(facts)
        groups = self._groups(analysis)
        if not groups:
            return
        by_function: Dict[Tuple[str, str], List[Access]] = {}
        for access in analysis.candidates(("write", "rmw")):
            if not access.fact.item:
                by_function.setdefault((access.module.path, access.function.qualname), []).append(access)
        for accesses in by_function.values():
            reported: Set[Place] = set()
            ordered = sorted(accesses, key=lambda a: a.fact.span)
            for index, second in enumerate(ordered):
                for first in ordered[:index]:
                    if first.place == second.place or second.place in reported:
                        continue
                    group = groups.get(frozenset((first.place, second.place)))
                    if group is None:
                        continue
                    lock, where = group
                    reported.add(second.place)
                    message = ("`%s` (line %d) and `%s` change %s and %s one after the other" % (
                        first.fact.text, first.line, second.fact.text, first.place.label, second.place.label))
                    evidence = ("they are updated together under `%s` at line %d (in `%s`), so they must change "
                                "together; another thread can see one new and one old" % (lock, where.line, where.function.name))
                    yield self.finding(second, message, evidence)
                    break

    @staticmethod
    def _groups(analysis: RaceAnalysis) -> Dict[frozenset, Tuple[str, Access]]:
        """Pairs of places written inside one lock region: (lock, a write of the pair)."""
        regions: Dict[Tuple[str, str, str, tuple], List[Access]] = {}
        for place, accesses in analysis.accesses.items():
            for access in accesses:
                fact = access.fact
                if fact.kind not in ("write", "rmw") or fact.item or analysis.init_only(access.module, access.function):
                    continue
                for lock, region in access.function.lock_regions:
                    if _within(fact.span, region) and analysis.is_lock(access.module, access.function, lock):
                        regions.setdefault((access.module.path, access.function.qualname, lock, region), []).append(access)
        groups: Dict[frozenset, Tuple[str, Access]] = {}
        for (_, _, lock, _), accesses in regions.items():
            places = {a.place: a for a in accesses}
            for first in places:
                for second in places:
                    if first != second:
                        groups.setdefault(frozenset((first, second)), (lock, places[first]))
        return groups

    VALID = (
        Example(
            """
            import threading

            class Meter:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.count = 0
                    self.total = 0.0

                def add(self, value):
                    with self._lock:
                        self.count = self.count + 1
                        self.total = self.total + value

                def reset(self):
                    with self._lock:
                        self.count = 0
                        self.total = 0.0
            """
        ),
    )
    INVALID = (
        Example(
            """
            import threading

            class Meter:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.count = 0
                    self.total = 0.0

                def add(self, value):
                    with self._lock:
                        self.count = self.count + 1
                        self.total = self.total + value

                def reset(self):
                    self.count = 0
                    self.total = 0.0
            """,
            expected=((16, 9),),
        ),
    )


def _within(inner: Tuple[int, int, int, int], outer: Tuple[int, int, int, int]) -> bool:
    return (outer[0], outer[1]) <= (inner[0], inner[1]) and (inner[2], inner[3]) <= (outer[2], outer[3])
