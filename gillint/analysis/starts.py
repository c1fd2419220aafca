"""Find every place that hands a callable to another worker, and what it hands over.

A start site is a call (or a class) that makes code run on a thread, a process,
a subinterpreter or the event loop's default executor: ``Thread(target=f)``,
``Timer``, ``_thread.start_new_thread``, ``pool.submit(f)``, ``pool.map(f, xs)``,
``asyncio.to_thread(f)``, ``loop.run_in_executor(None, f)``, a ``Thread``
subclass's ``run``.  Which APIs count is data (``[[starter]]`` and
``[[executor]]`` in the knowledge base); how each executor family's methods take
their arguments is below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterator, List, Optional, Tuple

from ..knowledge import ArgSpec, KnowledgeBase
from .model import CallFact, ClassSummary, FunctionSummary, ModuleSummary, Ref, Span
from .project import Project, Resolved
from .values import BUILTIN_NAMES, best

# A helper that hands its parameter to a worker is a start site at each of its call sites,
# up to this many helpers deep (``run_all(fn)`` -> ``_submit(fn)`` -> ``pool.submit(fn)``).
MAX_FORWARDING = 3

# method -> (target keyword, where the arguments are): "rest" = the remaining
# positional arguments; "iterable" = elements of the iterable at position 1;
# "star-iterable" = elements (tuples) of the iterable at position 1; "args:N" = a tuple at N.
EXECUTOR_METHODS: Dict[str, Dict[str, Tuple[str, str]]] = {
    "futures": {"submit": ("fn", "rest"), "map": ("fn", "iterable")},
    "pool": {
        "apply": ("func", "args:1"),
        "apply_async": ("func", "args:1"),
        "map": ("func", "iterable"),
        "map_async": ("func", "iterable"),
        "imap": ("func", "iterable"),
        "imap_unordered": ("func", "iterable"),
        "starmap": ("func", "star-iterable"),
        "starmap_async": ("func", "star-iterable"),
    },
}

THREAD_BASES = ("threading.Thread",)
PROCESS_BASES = ("multiprocessing.Process", "multiprocessing.context.Process")


@dataclass
class StartSite:
    module: ModuleSummary
    function: FunctionSummary  # where the handing-over happens
    api: str  # "threading.Thread", "concurrent.futures.ThreadPoolExecutor.submit", ...
    family: str  # "thread", "thread-subclass", "executor", "to_thread", "run_in_executor", "process"
    worker: str  # "thread", "process", "interpreter", "unknown"
    span: Span
    target_text: str
    target: Resolved
    args_source: Optional[str] = None
    kwargs_source: Optional[str] = None
    executor_api: str = ""  # "futures" or "pool" for executors
    method: str = ""
    target_ref: Optional[Ref] = None
    targets: Tuple[Resolved, ...] = ()  # every value the target can hold (``target`` is the most specific)
    via: str = ""  # "helper(fn)": the callable reaches the worker through this function's parameter
    gil_off: bool = False  # started in a branch that runs only when the GIL is disabled
    single: bool = False  # handed to an executor of one worker, every executor it can be
    args_ref: Optional[Ref] = None  # the ``args=`` given beside the target (``Process(target=f, args=...)``)
    beside_processes: bool = False  # the same call hands the work to a process pool where one can be made

    @property
    def parallel_threads(self) -> bool:
        """Threads started where the code has checked that the GIL is off: they run in parallel."""
        return self.gil_off and self.worker == "thread"

    @property
    def serial_thread(self) -> bool:
        """A pool of one thread: its tasks run one after another by the code's own choice, so no task waits
        for the GIL held by another task (an event loop still shares the GIL with that worker)."""
        return self.single and self.worker == "thread"

    @property
    def process_fallback(self) -> bool:
        """A pool of one thread standing in for the process pool the same call uses where processes can be
        made (black: ``ProcessPoolExecutor``, or ``ThreadPoolExecutor(max_workers=1)`` where the platform
        has no processes): the work already goes to processes; the one thread is serial on purpose."""
        return self.serial_thread and self.beside_processes

    @property
    def quiet(self) -> bool:
        """Tasks that do not compete with each other for the GIL: started where it is off, or a pool of one."""
        return self.parallel_threads or self.serial_thread


def _beside_processes(sites: List[StartSite]) -> List[StartSite]:
    """Mark the thread sites of a call that can also hand its work to a process pool."""
    if any(site.worker == "process" for site in sites):
        for site in sites:
            site.beside_processes = site.worker == "thread"
    return sites


def _argument(call: CallFact, spec: Optional[ArgSpec], shift: int = 0) -> Optional[Ref]:
    if spec is None:
        return None
    if spec.keyword:
        for keyword, value in call.keywords:
            if keyword == spec.keyword:
                return value
    if spec.position is not None and spec.position + shift < len(call.args):
        return call.args[spec.position + shift]
    return None


def _keyword(call: CallFact, name: str) -> Optional[Ref]:
    for keyword, value in call.keywords:
        if keyword == name:
            return value
    return None


def _tuple_source(refs: List[Ref]) -> Optional[str]:
    if not refs:
        return None
    return "(%s,)" % ", ".join(ref.text for ref in refs)


def _first_element(ref: Optional[Ref], star: bool) -> Optional[str]:
    """The arguments of the first call a map()-like method makes, from a literal iterable."""
    if ref is None or ref.kind != "list" or not ref.args:
        if ref is not None and ref.kind == "call" and ref.raw == "range":
            return "(0,)"  # map(f, range(n)) calls f(0) first
        return None
    first = ref.args[0]
    if star:
        return first.text if first.kind == "list" else None
    return "(%s,)" % first.text


def start_call_names(kb: "KnowledgeBase") -> FrozenSet[str]:
    """The last name of every call that can hand a callable to a worker, from the knowledge base:
    the one source of truth for the summariser's triage and the start-site finder."""
    names = {"run_in_executor", "set_default_executor", "to_thread"}
    for methods in EXECUTOR_METHODS.values():
        names.update(methods)
    names.update(name.rsplit(".", 1)[-1] for name in kb.starters)
    return frozenset(names)


class StartFinder:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.kb = project.kb
        self.default_executor_worker = "thread"
        self.names = start_call_names(self.kb)
        self._reported: List[ModuleSummary] = []

    def may_start(self, module: ModuleSummary, call: CallFact) -> bool:
        """Whether the call's name can be a start site's (``pool.submit``, ``T(target=f)`` with
        ``from threading import Thread as T``, ``getattr(pool, "imap")(f, xs)``): only those are resolved."""
        if not call.raw:
            return call.func is not None and (call.func.kind == "getattr" or call.method in self.names)
        if call.method in self.names or call.method == "__init__":  # super().__init__(target=f) in a Thread subclass
            return True
        head, _, rest = call.raw.partition(".")
        imported = module.imports.get(head)
        if imported is not None:
            return ("%s.%s" % (imported, rest) if rest else imported).rsplit(".", 1)[-1] in self.names
        return head in ("self", "cls") or "." not in call.raw  # attributes and local aliases: resolve to know

    def scope(self, function: FunctionSummary) -> Optional[FunctionSummary]:
        return None if function.qualname == ModuleSummary.MODULE_SCOPE else function

    def find(self, modules: List[ModuleSummary]) -> List[StartSite]:
        self._reported = modules
        sites: List[StartSite] = []
        for module in modules:
            # the default executor is the one this module sets, so a file's findings do not
            # depend on which other files are checked with it
            self.default_executor_worker = self._default_executor([module])
            for function in module.functions.values():
                for call in function.calls:
                    if (call.args or call.keywords) and self.may_start(module, call):
                        for site in self.from_call(module, function, call):
                            site.gil_off = site.gil_off or call.gil_off
                            sites.extend(self.forwarded(site))
            sites.extend(self.subclasses(module))
        # ``Process.__init__(self, target=self.run)`` in the subclass itself starts what the subclass's
        # own site already reports: one finding, not two
        runs = {id(s.target.function) for s in sites if s.family.endswith("-subclass") and s.target.function}
        return [s for s in sites if s.family.endswith("-subclass") or not (
            s.target.kind == "function" and id(s.target.function) in runs and s.function.class_name)]

    def forwarded(self, site: StartSite, depth: int = 0) -> List[StartSite]:
        """A site whose target is a parameter of the function it is in (``run_all(fn, xs)`` hands ``fn``
        to a pool) starts work at each call of that function, with the callable passed there."""
        ref, function = site.target_ref, site.function
        if (ref is not None and ref.kind == "name" and "." not in ref.raw and ref.raw not in function.params
                and ref.raw not in function.assigns and depth < MAX_FORWARDING):
            decorator = self._enclosing_with_param(site.module, function, ref.raw)
            if decorator is not None:
                return self.decorated(site, decorator, ref.raw, depth) or [site]
        if (ref is None or ref.kind != "name" or "." in ref.raw or ref.raw not in function.params
                or ref.raw in function.assigns or depth >= MAX_FORWARDING):
            return [site]
        found: List[StartSite] = []
        for caller_module, caller, argument, call in self.project.arguments(site.module, function, ref.raw):
            scope = caller or caller_module.functions[ModuleSummary.MODULE_SCOPE]
            derived = self._make_site(caller_module, scope, call, site.api, site.family, site.worker, argument,
                                      site.args_source, site.kwargs_source)
            derived.executor_api, derived.method = site.executor_api, site.method
            derived.via = "%s(%s)" % (function.name, ref.raw)
            derived.gil_off = site.gil_off or call.gil_off
            derived.single = site.single
            found.extend(self.forwarded(derived, depth + 1))
        return found or [site]

    @staticmethod
    def _enclosing_with_param(module: ModuleSummary, function: FunctionSummary,
                              name: str) -> Optional[FunctionSummary]:
        """The function around ``function`` whose parameter ``name`` it closes over (a decorator's
        ``func`` in its ``wrapper``), if any."""
        parent = module.functions.get(function.parent) if function.parent else None
        while parent is not None and parent.qualname != ModuleSummary.MODULE_SCOPE:
            if name in parent.params and name not in parent.assigns:
                return parent
            if name in parent.assigns or name in parent.local_defs:
                return None
            parent = module.functions.get(parent.parent) if parent.parent else None
        return None

    def decorated(self, site: StartSite, decorator: FunctionSummary, param: str, depth: int) -> List[StartSite]:
        """``@threaded def crunch(rows): ...`` where ``threaded(func)`` returns a wrapper that hands
        ``func`` to a worker: every function so decorated runs on that worker when it is called (and so
        does every callable passed to ``threaded(...)`` by a call)."""
        found: List[StartSite] = []
        # only the files being checked: a decorated function is reported in its own file, whichever
        # other modules the analysis happened to load
        for module in self._reported:
            for function in module.functions.values():
                if not any(d.rsplit(".", 1)[-1] == decorator.name for d in function.decorators):
                    continue
                scope = module.functions.get(function.parent) if function.parent else None
                if not any(v.kind == "function" and v.function is decorator
                           for d in function.decorators if d.rsplit(".", 1)[-1] == decorator.name
                           for v in self.project.values(module, scope, d)):
                    continue
                target = Resolved("function", module, function)
                derived = StartSite(module, function, site.api, site.family, site.worker, function.name_span,
                                    function.qualname, target, targets=(target,), executor_api=site.executor_api,
                                    method=site.method, via="@%s" % decorator.name, gil_off=site.gil_off,
                                    single=site.single)
                found.append(derived)
        wrapped = StartSite(site.module, decorator, site.api, site.family, site.worker, site.span, param,
                            site.target, site.args_source, site.kwargs_source, site.executor_api, site.method,
                            Ref("name", param, text=param), site.targets, site.via, site.gil_off, site.single)
        explicit = self.forwarded(wrapped, depth + 1)
        found.extend(s for s in explicit if s is not wrapped)
        return found

    def _default_executor(self, modules: List[ModuleSummary]) -> str:
        """``loop.set_default_executor(ProcessPoolExecutor())`` in the module changes its default executor."""
        for module in modules:
            for function in module.functions.values():
                for call in function.calls:
                    if call.method == "set_default_executor" and call.args:
                        for found in self.project.ref_values(module, self.scope(function), call.args[0]):
                            if found.executor is not None and found.kind == "instance":
                                return found.executor.worker
        return "thread"

    def from_call(self, module: ModuleSummary, function: FunctionSummary, call: CallFact) -> List[StartSite]:
        """The start sites of one call: one per kind of worker the callee can be (a name may hold a
        thread pool on one path and a process pool on another)."""
        scope = self.scope(function)
        if call.method == "run_in_executor" and len(call.args) >= 2:
            return self._run_in_executor(module, function, call)
        callees = self.project.callees(module, scope, call)
        sites: Dict[Tuple[str, str], StartSite] = {}
        for callee in callees:
            site = self._from_callee(module, function, call, callee)
            if site is None:
                continue
            key = (site.api, site.worker)
            if key in sites:  # runs without the GIL only if every such executor was made so
                sites[key].gil_off = sites[key].gil_off and site.gil_off
                sites[key].single = sites[key].single and site.single
            else:
                sites[key] = site
        return _beside_processes(list(sites.values()))

    def _from_callee(self, module: ModuleSummary, function: FunctionSummary, call: CallFact,
                     callee: Resolved) -> Optional[StartSite]:
        if callee.kind == "external":
            name, shift = callee.name, 0
            if name.endswith(".__init__") and name[: -len(".__init__")] in self.kb.starters:
                name, shift = name[: -len(".__init__")], (0 if call.raw.startswith("super.") else 1)
            starter = self.kb.starters.get(name)
            if starter is None:
                return None
            target = _argument(call, starter.target, shift)
            if target is None:
                return None
            args = _argument(call, starter.args, shift)
            kwargs = _argument(call, starter.kwargs, shift)
            args_source = args.text if args is not None else None
            if starter.star_args:
                rest = [ref for ref in call.args[1:]]
                args_source = _tuple_source(rest)
            family = {"thread": "thread", "process": "process"}.get(starter.worker, "thread")
            if name == "asyncio.to_thread" or (starter.awaited and starter.worker == "thread"):
                family = "to_thread"
            worker = starter.worker if name != "asyncio.to_thread" else self.default_executor_worker
            site = self._make_site(module, function, call, name, family, worker, target, args_source,
                                   kwargs.text if kwargs is not None else None)
            site.args_ref = args
            return site
        if callee.kind == "executor-method" and callee.executor is not None:
            entry = callee.executor
            methods = EXECUTOR_METHODS.get(entry.api, {})
            if callee.name not in methods:
                return None
            keyword, where = methods[callee.name]
            target = call.args[0] if call.args else _keyword(call, keyword)
            if target is None:
                return None
            args_source: Optional[str] = None
            kwargs_source: Optional[str] = None
            if where == "rest":
                args_source = _tuple_source(list(call.args[1:]))
                kwargs_source = "{%s}" % ", ".join("%r: %s" % (k, v.text) for k, v in call.keywords if k != keyword) if any(k != keyword for k, _ in call.keywords) else None
            elif where.startswith("args:"):
                ref = call.args[1] if len(call.args) > 1 else _keyword(call, "args")
                args_source = ref.text if ref is not None else "()"
                kwds = _keyword(call, "kwds")
                kwargs_source = kwds.text if kwds is not None else None
            else:
                iterable = call.args[1] if len(call.args) > 1 else _keyword(call, "iterable")
                args_source = _first_element(iterable, star=where == "star-iterable")
            site = self._make_site(module, function, call, "%s.%s" % (entry.name, callee.name), "executor",
                                   entry.worker, target, args_source, kwargs_source)
            site.executor_api = entry.api
            site.method = callee.name
            site.gil_off = callee.gil_off
            site.single = callee.single
            return site
        return None

    def _run_in_executor(self, module: ModuleSummary, function: FunctionSummary, call: CallFact) -> List[StartSite]:
        executor_ref = call.args[0]
        choices: Dict[str, str] = {}  # worker -> api
        single: Dict[str, bool] = {}  # worker -> every executor of that kind has one worker
        if executor_ref.is_none:
            choices[self.default_executor_worker] = "loop.run_in_executor(None)"
        else:
            for found in self.project.ref_values(module, self.scope(function), executor_ref):
                if found.kind == "instance" and found.executor is not None:
                    choices.setdefault(found.executor.worker, "loop.run_in_executor(%s)" % found.executor.name)
                    single[found.executor.worker] = single.get(found.executor.worker, True) and found.single
                elif not found.is_unknown and found.kind == "sequence":
                    continue
            if not choices:
                choices["unknown"] = "loop.run_in_executor(%s)" % executor_ref.text
        sites = []
        for worker, api in choices.items():
            site = self._make_site(module, function, call, api, "run_in_executor", worker, call.args[1],
                                   _tuple_source(list(call.args[2:])), None)
            site.method = "run_in_executor"
            site.single = single.get(worker, False)
            sites.append(site)
        return _beside_processes(sites)

    def _make_site(self, module: ModuleSummary, function: FunctionSummary, call: CallFact, api: str, family: str,
                   worker: str, target: Ref, args_source: Optional[str], kwargs_source: Optional[str]) -> StartSite:
        values = self.project.ref_values(module, self.scope(function), target)
        known = tuple(v for v in values if not v.is_unknown)
        return StartSite(module, function, api, family, worker, call.span, target.text, best(values), args_source,
                         kwargs_source, target_ref=target, targets=known)

    def subclasses(self, module: ModuleSummary) -> Iterator[StartSite]:
        """``class Worker(threading.Thread)`` with its own ``run``: the run method is the target."""
        for klass in module.classes.values():
            if "run" not in klass.methods:
                continue
            bases = self.project.external_bases(module, klass)
            if any(base in THREAD_BASES for base in bases):
                worker, api = "thread", "threading.Thread"
            elif any(base in PROCESS_BASES for base in bases):
                worker, api = "process", "multiprocessing.Process"
            else:
                continue
            run = module.functions[klass.methods["run"]]
            target = Resolved("function", module, run, klass=klass)
            family = "thread-subclass" if worker == "thread" else "process-subclass"
            # A process is paid for where it is made (its object is pickled to the child under spawn, as
            # a target is): a process subclass is reported where its instances are constructed, when
            # they can be seen.  A thread subclass is reported at its ``run``, where the work that holds
            # the GIL is.
            made = list(self._constructions(module, klass, run)) if worker == "process" else []
            for caller_module, caller, call in made:
                yield StartSite(caller_module, caller, api + " subclass", family, worker, call.span,
                                "%s.run" % klass.name, target)
            if not made:
                yield StartSite(module, run, api + " subclass", family, worker, run.name_span, "%s.run" % klass.name,
                                target)

    def _constructions(self, module: ModuleSummary, klass: ClassSummary, run: FunctionSummary
                       ) -> Iterator[Tuple[ModuleSummary, FunctionSummary, CallFact]]:
        """Calls in the checked modules that construct ``klass``, or a subclass that keeps its ``run``:
        by the class's name, or through a local name that holds the class (``for cls in engines: cls()``)."""
        names = {klass.name} | {sub.name for _, sub in self.project.subclasses(module, klass)}
        for caller_module in self._reported:
            for function in caller_module.functions.values():
                for call in function.calls:
                    last = call.raw.rsplit(".", 1)[-1]
                    local = bool(call.raw) and "." not in call.raw and not (
                        call.raw in caller_module.functions or call.raw in caller_module.classes
                        or call.raw in caller_module.imports or call.raw in BUILTIN_NAMES)
                    if last not in names and not local:
                        continue
                    for callee in self.project.callees(caller_module, self.scope(function), call):
                        if callee.kind != "class" or callee.klass is None or callee.module is None:
                            continue
                        found = self.project.method(callee.module, callee.klass, "run")
                        if found is not None and found[1] is run:
                            yield caller_module, function, call
                            break
