"""Which touches of state race without the GIL: shared places, the locks that cover them, and why.

The summaries record every touch of a field, a class attribute or a non-local name and the
regions where a lock is held (:mod:`gillint.analysis.race_facts`).  This module links them:

* a **place** is the state itself: a field of a class (``self.hits``), a class attribute, a
  module global, a closure's variable;
* a touch is **guarded** when a region around it holds a real, shared lock (a ``Lock``,
  ``RLock``, ``Condition`` or ``Semaphore`` kept in a field, a global or a closure; or a
  ``@synchronized`` method), or when it is in a private helper that every caller calls
  with that lock held;
* a place is **shared** when there is evidence that two threads reach it at once.  The
  evidence is named in every finding:

  - *workers*: the place is touched by code that a thread target, a pool task or a timer
    runs, and that worker runs more than once at a time (started in a loop, handed to a
    pool, the same target started twice) or beside another worker on the same object;
  - *a guarding lock* (the signal of RacerD and of FindBugs' inconsistent synchronisation):
    the class or module guards some touches of the place with a lock, so it is meant to be
    used from several threads, and this touch is not guarded;
  - *a module cache*: a module that imports ``threading`` keeps a module-level container
    or singleton that its public functions change: whoever calls them from threads shares it;
  - *configuration*: ``thread-shared`` in ``[tool.gillint]`` names the class or function.

Touches in constructors (and private helpers only constructors call) happen before the object
is shared; values that are safe to share (queues, events, locks, thread-local storage) are
never places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .model import AccessFact, CallFact, FunctionSummary, ModuleSummary, Span
from .project import Project
from .starts import StartSite

# Objects that are safe to share between threads: touching them needs no lock.
SAFE_TYPES = frozenset({
    "queue.Queue", "queue.LifoQueue", "queue.PriorityQueue", "queue.SimpleQueue", "threading.Event",
    "threading.local", "_thread._local", "threading.Lock", "threading.RLock", "threading.Condition",
    "threading.Semaphore", "threading.BoundedSemaphore", "threading.Barrier", "_thread.allocate_lock",
    "multiprocessing.Queue", "multiprocessing.Event", "multiprocessing.Lock", "multiprocessing.RLock",
    "asyncio.Queue", "asyncio.Event", "asyncio.Lock", "itertools.count", "contextvars.ContextVar",
})
LOCK_TYPES = frozenset({
    "threading.Lock", "threading.RLock", "threading.Condition", "threading.Semaphore", "threading.BoundedSemaphore",
    "_thread.allocate_lock", "_thread.LockType", "_thread.RLock", "multiprocessing.Lock", "multiprocessing.RLock",
    "multiprocessing.Condition", "multiprocessing.Semaphore", "multiprocessing.BoundedSemaphore",
})
# A context manager held in a field or a global and named like this is taken for a lock when its value is not known.
LOCK_NAME = re.compile(r"(lock|mutex|cond|_cv$|^cv$|sem$|semaphore|latch)", re.IGNORECASE)
THREAD_MODULES = ("threading", "_thread", "concurrent")
LOCK_CONSTRUCTORS = frozenset({"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "allocate_lock"})
CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__", "setUp",
                          "setUpClass", "__del__", "__getstate__", "__setstate__", "__reduce__", "__copy__",
                          "__deepcopy__", "__enter__", "__exit__"})
POOL_FAMILIES = ("executor", "to_thread", "run_in_executor")
MAX_REACH = 400  # functions followed from one worker's target
MAX_CALLER_DEPTH = 3  # private helpers "called with the lock held" are followed this many callers up
CHANGES = ("write", "mutate", "rmw", "check-act")
# a target started at several places may run on a different object at each: no evidence for its fields
SEVERAL_PLACES = "the same target is started at several places"


@dataclass(frozen=True)
class Place:
    kind: str  # "field", "class", "global", "closure"
    path: str
    owner: str  # class qualname, module name, enclosing function qualname
    name: str

    @property
    def label(self) -> str:
        if self.kind == "field":
            return "`self.%s` of `%s`" % (self.name, self.owner)
        if self.kind == "class":
            return "class attribute `%s.%s`" % (self.owner.rsplit(".", 1)[-1], self.name)
        if self.kind == "closure":
            return "`%s`, a variable of `%s` its nested functions share" % (self.name, self.owner)
        return "module global `%s`" % self.name


@dataclass
class Access:
    module: ModuleSummary
    function: FunctionSummary
    fact: AccessFact
    place: Place
    locks: Tuple[str, ...] = ()  # the real locks held around it (for a check-then-act: around check and act)

    @property
    def line(self) -> int:
        return self.fact.span[0]


@dataclass
class Worker:
    """A start site and what makes it concurrent."""

    site: StartSite
    many: str  # why it runs on several threads at once ("" if it runs once)
    receiver: str = ""  # the instance a bound-method target runs on (``self``, ``client``): shared by each run
    reached: Dict[Tuple[str, str], Tuple[ModuleSummary, FunctionSummary]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "`%s` (line %d)" % (self.site.target_text, self.site.span[0])


def _inside(inner: Span, outer: Span) -> bool:
    return (outer[0], outer[1]) <= (inner[0], inner[1]) and (inner[2], inner[3]) <= (outer[2], outer[3])


def place_name(place: Place) -> str:
    """How a lock held in this place is written: ``self._lock``, ``_lock``."""
    return ("self.%s" if place.kind == "field" else "%s") % place.name


def _same_object(one: Worker, other: Worker) -> bool:
    """Two workers on one object: bound methods of the same receiver, started in the same function."""
    return one.receiver == other.receiver and one.site.function is other.site.function


def _makes_lock(module: ModuleSummary) -> bool:
    return any(call.method in LOCK_CONSTRUCTORS for function in module.functions.values() for call in function.calls)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class RaceAnalysis:
    """The places of the checked modules, who touches them, with which locks, and the evidence they are shared."""

    def __init__(self, project: Project, modules: Sequence[ModuleSummary], sites: Sequence[StartSite],
                 shared_names: Sequence[str] = (), max_depth: int = 8) -> None:
        self.project = project
        self.modules = list(modules)
        self.max_depth = max_depth
        self.shared_names = tuple(shared_names)
        self._lock_memo: Dict[Tuple[str, str, str], bool] = {}
        self._under_memo: Dict[Tuple[str, str, bool], Optional[frozenset]] = {}
        self._init_memo: Dict[Tuple[str, str], bool] = {}
        self.config_shared: Dict[Tuple[str, str], str] = {}  # (path, qualname) -> the configured name
        self._add_configured()
        self.accesses: Dict[Place, List[Access]] = {}
        for module in self.modules:
            for function in module.functions.values():
                for fact in function.accesses:
                    place = self.place(module, function, fact.place)
                    if place is not None:
                        self.accesses.setdefault(place, []).append(Access(module, function, fact, place))
        self._safe: Dict[Place, bool] = {}
        self._calls_by_name: Optional[Dict[str, List[Tuple[ModuleSummary, FunctionSummary, CallFact]]]] = None
        self._callers_memo: Dict[Tuple[str, str], List[Tuple[ModuleSummary, Optional[FunctionSummary], CallFact]]] = {}
        self.workers = self._workers(sites)
        self.starting_modules = {site.module.path for site in sites}

    # ------------------------------------------------------------------ places
    def _add_configured(self) -> None:
        for name in self.shared_names:
            module, rest = self.project.split_module(name)
            if module is None or not rest:
                continue
            qualname = ".".join(rest)
            if qualname in module.classes or qualname in module.functions:
                self.config_shared[(module.path, qualname)] = name

    def method_class(self, module: ModuleSummary, function: FunctionSummary) -> str:
        """The class whose ``self`` a function sees: its own, or its enclosing method's for a nested function."""
        current: Optional[FunctionSummary] = function
        for _ in range(8):
            if current is None:
                return ""
            if current.class_name:
                return current.class_name
            current = module.functions.get(current.parent) if current.parent else None
        return ""

    def place(self, module: ModuleSummary, function: FunctionSummary, raw: str) -> Optional[Place]:
        head, _, attribute = raw.partition(".")
        if head in ("self", "cls") and attribute:
            owner = self.method_class(module, function)
            if not owner:
                return None
            klass = module.classes.get(owner)
            if klass is not None and head == "self" and "threading.local" in self.project.external_bases(module, klass):
                return None  # a thread-local subclass: each thread has its own fields
            return Place("field" if head == "self" and not self._is_classmethod(function) else "class",
                         module.path, owner, attribute)
        if attribute:
            if head in module.classes and head not in function.assigns:
                return Place("class", module.path, head, attribute)
            return None
        if head in function.global_names and not self._closure_owner(module, function, head):
            return Place("global", module.path, module.module, head)
        owner = self._closure_owner(module, function, head)
        if owner:
            return Place("closure", module.path, owner, head)
        if head in module.assigns and head not in module.imports:
            return Place("global", module.path, module.module, head)
        return None

    @staticmethod
    def _is_classmethod(function: FunctionSummary) -> bool:
        return any(d.rsplit(".", 1)[-1] == "classmethod" for d in function.decorators)

    @staticmethod
    def _closure_owner(module: ModuleSummary, function: FunctionSummary, name: str) -> str:
        parent = module.functions.get(function.parent) if function.parent else None
        while parent is not None:
            if name in parent.assigns or name in parent.params:
                return parent.qualname
            parent = module.functions.get(parent.parent) if parent.parent else None
        return ""

    def is_safe_place(self, place: Place, sample: Access) -> bool:
        """A queue, an event, a lock, thread-local storage: made to be shared."""
        found = self._safe.get(place)
        if found is None:
            raw = ("self." if place.kind == "field" else "cls." if place.kind == "class" and "." not in place.name
                   and sample.fact.place.startswith("cls.") else "") + place.name
            if place.kind == "class" and not raw.startswith("cls."):
                raw = "%s.%s" % (place.owner.rsplit(".", 1)[-1], place.name)
            scope = sample.function if place.kind != "global" else None
            values = self.project.values(sample.module, scope, raw)
            names = {v.name for v in values if v.kind in ("external", "external-instance") and v.name}
            found = bool(names) and all(n in SAFE_TYPES or n.startswith("queue.") for n in names)
            found = found or bool(LOCK_NAME.search(place.name) and not [a for a in self.accesses.get(place, ())
                                                                        if a.fact.kind in ("rmw", "iterate")])
            self._safe[place] = found
        return found

    # ------------------------------------------------------------------ locks
    def is_lock(self, module: ModuleSummary, function: FunctionSummary, name: str) -> bool:
        """Whether ``with name:`` holds a real lock that other threads see (not one made in this call)."""
        key = (module.path, function.qualname, name)
        found = self._lock_memo.get(key)
        if found is None:
            found = self._lock_memo[key] = self._is_lock(module, function, name)
        return found

    def _is_lock(self, module: ModuleSummary, function: FunctionSummary, name: str) -> bool:
        if name.startswith("@"):
            return True
        head = name.split(".", 1)[0]
        if head not in ("self", "cls") and head in function.assigns and head not in function.global_names:
            if all(ref.kind == "call" for ref in function.assigns[head]):
                return False  # ``lock = Lock()`` in this call: nobody else holds it
        scope = function if function.qualname != ModuleSummary.MODULE_SCOPE else None
        values = self.project.values(module, scope, name)
        names = {v.name for v in values if v.kind in ("external", "external-instance") and v.name}
        if names & LOCK_TYPES:
            return True
        if any(v.kind in ("instance", "function") for v in values):
            return False  # a project object: a context manager of its own
        return bool(LOCK_NAME.search(name.rsplit(".", 1)[-1]))

    def locks_at(self, module: ModuleSummary, function: FunctionSummary, *spans: Span) -> Set[str]:
        held = {lock for lock, region in function.lock_regions
                if all(_inside(span, region) for span in spans) and self.is_lock(module, function, lock)}
        return held | set(self.runs_under(module, function))

    def runs_under(self, module: ModuleSummary, function: FunctionSummary, depth: int = 0,
                   intent: bool = False) -> frozenset:
        """The locks every caller of a private helper holds when it calls it (``with self._lock: self._evict()``).
        ``intent``: for the evidence that a lock guards a place, public methods count too, and so do the callers
        in the same class (or module) other than constructors (``reset()`` called from ``__init__`` and, later,
        under the class's own lock); another class's lock held around a call guards that class's state."""
        key = (module.path, function.qualname, intent)
        if key in self._under_memo:
            return self._under_memo[key] or frozenset()
        if (not intent and not _is_private(function.name)) or depth > MAX_CALLER_DEPTH:
            return frozenset()
        self._under_memo[key] = None  # a cycle adds nothing
        common: Optional[Set[str]] = None
        for caller_module, caller, call in self.callers(module, function):
            if intent and caller is not None and (self.init_only(caller_module, caller) or caller_module is not module
                                                  or caller.class_name != function.class_name):
                continue
            if caller is None:
                common = set()
                break
            held = {lock for lock, region in caller.lock_regions
                    if _inside(call.span, region) and self.is_lock(caller_module, caller, lock)}
            held |= self.runs_under(caller_module, caller, depth + 1, intent)
            common = held if common is None else common & held
            if not common:
                break
        result = frozenset(common or ())
        self._under_memo[key] = result
        return result

    def callers(self, module: ModuleSummary, function: FunctionSummary) -> List[Tuple[ModuleSummary, Optional[FunctionSummary], CallFact]]:
        """Every call of ``function`` in the loaded modules (with or without arguments); the caller is None at module level."""
        key = (module.path, function.qualname)
        found = self._callers_memo.get(key)
        if found is not None:
            return found
        if self._calls_by_name is None:
            self._calls_by_name = {}
            for summary in list(self.project.modules.values()):
                for caller in summary.functions.values():
                    for call in caller.calls:
                        name = call.raw.rsplit(".", 1)[-1] if call.raw else call.method
                        if name:
                            self._calls_by_name.setdefault(name, []).append((summary, caller, call))
        found = []
        for caller_module, caller, call in self._calls_by_name.get(function.name, ()):
            scope = caller if caller.qualname != ModuleSummary.MODULE_SCOPE else None
            for callee in self.project.callees(caller_module, scope, call):
                if callee.kind == "function" and callee.function is function:
                    found.append((caller_module, scope, call))
                    break
        self._callers_memo[key] = found
        return found

    def init_only(self, module: ModuleSummary, function: FunctionSummary, depth: int = 0) -> bool:
        """A constructor, or a private helper only constructors call: it runs before the object is shared."""
        if function.name in CONSTRUCTORS:
            return True
        if not _is_private(function.name) or depth > MAX_CALLER_DEPTH:
            return False
        key = (module.path, function.qualname)
        found = self._init_memo.get(key)
        if found is None:
            self._init_memo[key] = False
            callers = self.callers(module, function)
            found = bool(callers) and all(caller is not None and self.init_only(caller_module, caller, depth + 1)
                                          for caller_module, caller, _ in callers)
            self._init_memo[key] = found
        return found

    def guarded(self, access: Access) -> Set[str]:
        fact = access.fact
        spans = (fact.span, fact.check) if fact.check is not None else (fact.span,)
        return self.locks_at(access.module, access.function, *spans)

    # ------------------------------------------------------------------ workers
    def _workers(self, sites: Sequence[StartSite]) -> List[Worker]:
        workers: List[Worker] = []
        by_target: Dict[Tuple[str, str], int] = {}
        for site in sites:
            if site.worker != "thread":
                continue
            targets = self._targets(site)
            if not targets:
                continue
            many = ""
            receiver = ""
            if site.family in POOL_FAMILIES:
                many = "a pool task (`%s`)" % site.api.rsplit(".", 1)[-1]
            elif site.family == "thread":
                loop = self._loop_around(site)
                if loop is not None:
                    many = "started in a loop (line %d)" % loop.span[0]
            elif site.family == "thread-subclass":
                many = self._constructed_often(site)
            ref = site.target_ref
            if ref is not None and ref.kind == "name" and "." in ref.raw:
                receiver = ref.raw.rsplit(".", 1)[0]
                loop = self._loop_around(site)
                if loop is not None and receiver.split(".", 1)[0] in loop.targets:
                    receiver = ""  # ``for c in clients: Thread(target=c.run)``: one object per thread
            worker = Worker(site, many, receiver)
            for module, function in targets:
                worker.reached.update(self.reach(module, function))
                key = (module.path, function.qualname)
                by_target[key] = by_target.get(key, 0) + 1
            workers.append(worker)
        for worker in workers:
            if not worker.many:
                for module, function in self._targets(worker.site):
                    if by_target.get((module.path, function.qualname), 0) > 1:
                        worker.many = SEVERAL_PLACES
        return workers

    def _targets(self, site: StartSite) -> List[Tuple[ModuleSummary, FunctionSummary]]:
        found = []
        for value in site.targets or (site.target,):
            if value.kind == "partial" and value.inner is not None:
                value = value.inner
            if value.kind == "function" and value.function is not None and value.module is not None:
                found.append((value.module, value.function))
        return found

    def _constructed_often(self, site: StartSite) -> str:
        """A Thread subclass made in a loop or at two places: its class attributes and globals are shared."""
        klass = site.target.klass
        if klass is None:
            return ""
        calls = self.project._class_calls(site.module, klass)
        for _, _, call in calls:
            if call.loop is not None:
                return "made in a loop (line %d)" % call.span[0]
        if len(calls) >= 2:
            return "made at lines %d and %d" % (calls[0][2].span[0], calls[1][2].span[0])
        return ""

    @staticmethod
    def _loop_around(site: StartSite):  # type: ignore[no-untyped-def]
        for call in site.function.calls:
            if call.span == site.span and call.loop is not None:
                return site.function.loops[call.loop]
        return None

    def reach(self, module: ModuleSummary, function: FunctionSummary) -> Dict[Tuple[str, str], Tuple[ModuleSummary, FunctionSummary]]:
        """The functions a target runs, following calls (bounded)."""
        seen: Dict[Tuple[str, str], Tuple[ModuleSummary, FunctionSummary]] = {}
        frontier = [(module, function, 0)]
        while frontier and len(seen) < MAX_REACH:
            current_module, current, depth = frontier.pop()
            key = (current_module.path, current.qualname)
            if key in seen:
                continue
            seen[key] = (current_module, current)
            if depth >= self.max_depth:
                continue
            scope = current if current.qualname != ModuleSummary.MODULE_SCOPE else None
            for call in current.calls:
                for callee in self.project.callees(current_module, scope, call)[:4]:
                    if callee.kind == "function" and callee.function is not None and callee.module is not None:
                        frontier.append((callee.module, callee.function, depth + 1))
        return seen

    # ------------------------------------------------------------------ evidence
    def evidence(self, access: Access) -> str:
        """Why the place of this touch is shared between threads ("" when nothing says it is)."""
        for finder in (self._configured, self._worker_evidence, self._lock_evidence, self._module_evidence,
                       self._container_evidence):
            found = finder(access)
            if found:
                return found
        for other in self.changes(access.place, item_only=False):  # another worker changes it meanwhile
            if other.function is not access.function:
                found = self.pair_evidence(access, other)
                if found:
                    return found
        return ""

    def _configured(self, access: Access) -> str:
        place = access.place
        keys = [(access.module.path, access.function.qualname)]
        if place.kind in ("field", "class"):
            keys.append((place.path, place.owner))
        for key in keys:
            name = self.config_shared.get(key)
            if name:
                return "`%s` is named in `thread-shared`, so its callers share it between threads" % name
        return ""

    def workers_reaching(self, access: Access) -> List[Worker]:
        key = (access.module.path, access.function.qualname)
        return [w for w in self.workers if key in w.reached]

    def _worker_evidence(self, access: Access) -> str:
        reaching = self.workers_reaching(access)
        if access.place.kind == "field":
            # one object's fields: shared when one instance runs on several threads
            reaching = [w for w in reaching if w.receiver and self._runs_method_of(w, access.place)]
        for worker in reaching:
            if worker.many and not (access.place.kind == "field" and worker.many == SEVERAL_PLACES):
                return "%s runs on several threads at once (%s)" % (worker.label, worker.many)
        for index, one in enumerate(reaching):
            for other in reaching[index + 1:]:
                if access.place.kind != "field" or _same_object(one, other):
                    return "workers %s and %s run it at the same time" % (one.label, other.label)
        return ""

    def pair_evidence(self, first: Access, second: Access) -> str:
        """Workers that run two touches of one place at the same time: two workers, or one that runs several times."""
        reaching_first, reaching_second = self.workers_reaching(first), self.workers_reaching(second)
        if first.place.kind == "field":
            reaching_first = [w for w in reaching_first if w.receiver and self._runs_method_of(w, first.place)]
            reaching_second = [w for w in reaching_second if w.receiver and self._runs_method_of(w, second.place)]
        for one in reaching_first:
            for other in reaching_second:
                if one is not other and (first.place.kind != "field" or _same_object(one, other)):
                    many = " (%s)" % other.many if other.many else ""
                    return "worker %s runs line %d while worker %s%s runs line %d" % (
                        one.label, first.line, other.label, many, second.line)
                if one.many:
                    return "%s runs on several threads at once (%s)" % (one.label, one.many)
        return ""

    def _runs_method_of(self, worker: Worker, place: Place) -> bool:
        return any(module.path == place.path and function.class_name == place.owner
                   for module, function in self._targets(worker.site))

    def guard_of(self, place: Place) -> Optional[Tuple[str, Access]]:
        """A lock that guards some touch of the place outside constructors, and that touch."""
        for access in self.accesses.get(place, ()):
            if access.fact.kind == "iterate" or self.init_only(access.module, access.function):
                continue
            locks = self.locks_at(access.module, access.function, access.fact.span)
            locks |= self.runs_under(access.module, access.function, intent=True)
            locks.discard(place_name(place))  # ``with self._lock:`` reads the lock: no evidence about it
            if locks:
                return sorted(locks)[0], access
        return None

    def _lock_evidence(self, access: Access) -> str:
        lazy = self._lazy_lock(access)
        if lazy:
            return lazy
        found = self.guard_of(access.place)
        if found is None:
            return ""
        lock, guarded = found
        owner = "`%s`" % access.place.owner.rsplit(".", 1)[-1] if access.place.kind in ("field", "class") else "the module"
        return "%s guards it with `%s` elsewhere (line %d, in `%s`), so it is meant to be used from several threads" % (
            owner, lock, guarded.line, guarded.function.name)

    def _lazy_lock(self, access: Access) -> str:
        """The lock itself made lazily: the code that takes it elsewhere means threads share it."""
        if access.fact.kind != "check-act" or access.fact.item:
            return ""
        name = place_name(access.place)
        for other in self.accesses.get(access.place, ()):
            for lock, region in other.function.lock_regions:
                if lock == name:
                    return "`%s` is taken as a lock at line %d (in `%s`), so threads share it and two can make it" % (
                        name, region[0], other.function.name)
        return ""

    def _module_evidence(self, access: Access) -> str:
        module = access.module
        if access.place.kind != "global" or _is_private(access.function.name) or "." in access.function.qualname:
            return ""
        if not any(imported.split(".", 1)[0] in THREAD_MODULES for imported in module.imports.values()):
            return ""
        if module.path in self.starting_modules and not _makes_lock(module):
            return ""  # a program that starts its own threads: which code they run is known, the workers decide
        return ("`%s` is a public function of a module that uses threads: the module-level state it touches "
                "is shared by every thread that calls it" % access.function.name)

    def _container_evidence(self, access: Access) -> str:
        """A check-then-act or a walk over an object whose own methods take a lock: it is made to be shared, and
        two of its calls are not one atomic step."""
        if access.fact.kind not in ("check-act", "iterate"):
            return ""
        place = access.place
        raw = access.fact.place
        scope = access.function if place.kind != "global" else None
        for value in self.project.values(access.module, scope, raw):
            if value.kind == "instance" and value.klass is not None and value.module is not None:
                if any(call.method in LOCK_CONSTRUCTORS for qualname in value.klass.methods.values()
                       for call in value.module.functions[qualname].calls):
                    return ("it holds a `%s`, whose own methods take a lock, so it is made to be shared between "
                            "threads; but the check and the act are two calls, and another thread runs between them"
                            % value.klass.name)
        return ""

    # ------------------------------------------------------------------ candidates
    def candidates(self, kinds: Iterable[str]) -> Iterable[Access]:
        """Unguarded touches of these kinds outside constructors, on places that are not safe to share."""
        wanted = set(kinds)
        for place, accesses in self.accesses.items():
            for access in accesses:
                if access.fact.kind not in wanted or self.init_only(access.module, access.function):
                    continue
                if access.module not in self.modules:
                    continue
                if self.is_safe_place(place, access) and (access.fact.kind != "check-act" or access.fact.item):
                    continue  # a queue or a lock is made to be shared; making one lazily is not
                if self.guarded(access):
                    continue
                yield access

    def changes(self, place: Place, item_only: bool) -> List[Access]:
        """Touches that change the place (or, ``item_only``, the object it holds) outside constructors."""
        return [a for a in self.accesses.get(place, ()) if a.fact.kind in CHANGES and (a.fact.item or not item_only)
                and not self.init_only(a.module, a.function)]
