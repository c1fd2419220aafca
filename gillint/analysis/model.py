"""Plain data describing one file: what the summariser records and the linker reads.

A summary holds facts only — names as written in the source (``raw`` dotted names
such as ``t.Thread`` or ``self._pool.submit``) and positions — never verdicts.
Names are qualified and verdicts formed later, when the project is linked with a
knowledge base, so a summary can be cached by file content alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

# (line, column, end_line, end_column), 1-based lines and columns.
Span = Tuple[int, int, int, int]


# Modules whose import marks a module as threaded code (the triage and GIL103 share it).
THREAD_MODULES = ("threading", "_thread", "concurrent", "multiprocessing", "asyncio", "queue")
# Words the summariser and the checks share (kept here: the checks must not import libcst).
SLEEP_NAMES = frozenset({"sleep"})
# Calls that read state and return at once: an idle pass made of them spins (see summary._quick).
QUICK_CALLS = frozenset({"time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns",
                         "len", "isinstance", "qsize", "is_set", "is_alive", "empty", "full", "done", "locked"})

@dataclass
class Ref:
    """What an expression refers to, as far as the source shows.

    kind:
      ``name``    a dotted name (``worker``, ``mod.func``, ``self.method``)
      ``call``    the result of calling ``raw`` with ``args`` (first positional
                  arguments, as refs) — ``ThreadPoolExecutor(4)``, ``partial(f, 1)``
      ``lambda``  a lambda; ``raw`` is the qualname of its synthetic function
      ``list``    a list/tuple/set display (``raw`` "dict" for a dict display: ``args`` are its values);
                  ``args`` holds the elements' refs
      ``member``  attribute ``raw`` of the value ``args[0]`` (``Scorer().score``, ``getattr(pool, "imap")``)
      ``getattr`` attribute named by the value ``args[1]`` of ``args[0]`` (``getattr(obj, METHOD)``)
      ``union``   any of ``args`` (``a if c else b``, ``a or b``); ``raw`` "async" or "sync": only the
                  coroutine functions, or only the plain ones, among them (``f if iscoroutinefunction(f) else g``)
      ``item``    element number ``raw`` of the value ``args[0]`` (``a, b = pick()`` binds item 0 and 1)
      ``element`` some element of the iterable or container ``args[0]`` (``for x in xs``, ``q.get()``)
      ``other``   anything else (a literal, an expression)
    """

    kind: str
    raw: str = ""
    args: Tuple["Ref", ...] = ()
    text: str = ""
    is_none: bool = False
    keywords: Tuple[Tuple[str, "Ref"], ...] = ()  # for ``call``: the keyword arguments
    gil_off: bool = False  # for ``call``: made in a branch that runs only when the GIL is disabled


@dataclass
class AttrValue:
    """One assignment of an attribute: ``self.x = value`` in method ``scope`` ("" at class level)."""

    scope: str
    value: Ref


@dataclass
class CallFact:
    raw: str  # dotted callee as written: "re.findall", "self.helper", "pool.submit"; "" if not a name
    method: str  # last component of the callee name ("findall", "submit")
    nargs: int  # positional arguments
    span: Span
    loop: Optional[int]  # index of the innermost enclosing loop in FunctionSummary.loops
    # The arguments: every call can hand a callable on (a starter, a helper that forwards it)
    # or fill a parameter that the value analysis follows.
    args: Tuple[Ref, ...] = ()
    keywords: Tuple[Tuple[str, Ref], ...] = ()
    star_args: bool = False
    rare: bool = False  # inside an ``except`` handler: an error path
    func: Optional[Ref] = None  # the callee when it is not a dotted name (``make_pool().submit``, ``getattr(p, m)``)
    gil_off: bool = False  # in a branch that runs only when the GIL is off (``if not sys._is_gil_enabled():``)
    # in a branch that runs only when a parameter is None (``(name, True)``: ``if p is None:``, the ``else``
    # of ``if p is not None:``) or only when it is not (``(name, False)``); the innermost such branch
    guard: Optional[Tuple[str, bool]] = None


@dataclass
class LoopFact:
    kind: str  # "for", "while", "comprehension"
    span: Span
    parent: Optional[int]
    bound: Optional[int]  # iterations when the source fixes it (range(10), a literal list); None: data-dependent
    bound_name: str = ""  # range(N) with N a name: resolved against module constants when linked
    infinite: bool = False  # while True
    ops: Tuple[str, ...] = ()  # kinds of work in the body itself: "arithmetic", "string", "collection"
    op_span: Optional[Span] = None  # first operation, for the message
    busy_wait: bool = False  # while <flag>: pass / sleep(tiny)
    iter_text: str = ""
    awaits: bool = False  # the body awaits (or it is an async for): it yields to the event loop each iteration
    walk: bool = False  # ``while node: ... node = node.parent``: follows links of a structure, not data
    targets: Tuple[str, ...] = ()  # names the loop binds (``for k, v in ...``)
    iter_root: str = ""  # first name of the iterable (``vs`` in ``vs.items()``)
    rare: bool = False  # inside an ``except`` handler: an error path
    iter_ref: Optional[Ref] = None  # the iterable, for the linker to tell a stream (waits each iteration) from data
    per_element: bool = False  # the body works on each element itself: ch.isalnum(), ord(ch), crc ^ b, table[b]


@dataclass
class AccessFact:
    """A touch of state that may be shared between threads, for the race rules (GIL4xx).

    ``place`` is the state as written: ``self.hits`` (a field), ``cls.count`` / ``Registry.count``
    (a class attribute), ``cache`` (a name that is not local: a module global or a closure's).
    kind:
      ``write``     the place is rebound (``self.x = v``; ``n = v`` after ``global n``)
      ``mutate``    the object it holds is changed (``cache[k] = v``, ``del cache[k]``, ``items.append(x)``)
      ``rmw``       read-modify-write of the place or of one of its items (``self.hits += 1``,
                    ``d[k] = d.get(k, 0) + 1``)
      ``check-act`` the place is written or mutated in the body of an ``if``/``while`` that tested it;
                    ``check`` is the test's span
      ``iterate``   a ``for`` loop or comprehension walks it (``for k in self.jobs.items()``)
      ``read``      read inside a lock region (the evidence that a lock guards it)
    ``item``: the access goes through the place's contents (``d[k] += 1``, ``items.pop(0)``), not a rebinding.
    """

    kind: str
    place: str
    span: Span
    text: str = ""
    item: bool = False
    check: Optional[Span] = None
    constant: bool = False  # a rebinding to a constant (``self._closed = True``, ``self.state = STOPPED``)


@dataclass
class FunctionSummary:
    qualname: str  # dotted inside the module: "Worker.run", "outer.inner", "main.<lambda:12:8>"
    name: str
    span: Span  # the whole definition
    name_span: Span  # the name (or the lambda keyword)
    is_async: bool = False
    is_lambda: bool = False
    class_name: str = ""  # qualname of the class for methods
    parent: str = ""  # qualname of the enclosing function for nested functions and lambdas
    params: Tuple[str, ...] = ()  # positional parameters in order (positional-only first), then keyword-only
    positional: int = 0  # how many of params can be passed by position
    defaults: Dict[str, Ref] = field(default_factory=dict)  # parameter -> default value
    annotations: Dict[str, Ref] = field(default_factory=dict)  # parameter -> annotation (string ones parsed)
    loops: List[LoopFact] = field(default_factory=list)
    calls: List[CallFact] = field(default_factory=list)
    local_defs: Dict[str, str] = field(default_factory=dict)  # name -> qualname of nested def
    assigns: Dict[str, List[Ref]] = field(default_factory=dict)  # local name -> every value assigned to it
    returns: List[Ref] = field(default_factory=list)
    yields: List[Ref] = field(default_factory=list)
    stores: Dict[str, List[Ref]] = field(default_factory=dict)  # container name -> values put into it
    sizes: Dict[str, int] = field(default_factory=dict)  # locals bound to literal collections: their lengths
    awaits: int = 0
    decorators: Tuple[str, ...] = ()
    # for the race rules: touches of non-local state, and the regions where a lock is held
    # (``with self._lock:``, ``lock.acquire()`` .. ``lock.release()``, a ``@synchronized`` method)
    accesses: List[AccessFact] = field(default_factory=list)
    lock_regions: List[Tuple[str, Span]] = field(default_factory=list)
    global_names: Tuple[str, ...] = ()  # ``global n``, ``nonlocal n``


@dataclass
class ClassSummary:
    qualname: str
    name: str
    span: Span
    name_span: Span
    bases: Tuple[str, ...] = ()  # raw dotted names
    methods: Dict[str, str] = field(default_factory=dict)  # method name -> function qualname
    attrs: Dict[str, List[AttrValue]] = field(default_factory=dict)  # self.x = ... in any method, class-level x = ...
    fields: Tuple[str, ...] = ()  # class-level annotated names, in order (dataclass fields)
    field_types: Dict[str, Ref] = field(default_factory=dict)  # their annotations
    decorators: Tuple[str, ...] = ()
    stores: Dict[str, List[AttrValue]] = field(default_factory=dict)  # self.x.put(v), self.x[k] = v: x -> values


@dataclass
class ModuleSummary:
    path: str
    module: str  # dotted module name ("pkg.sub.mod"; a package's __init__ is "pkg.sub")
    is_package: bool = False
    imports: Dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    star_imports: List[str] = field(default_factory=list)
    # other bindings of an imported name (``try: from a import X`` / ``except ImportError: from b import X``,
    # eight optional plug-ins imported under one name): the name may hold any of them
    import_alternatives: Dict[str, List[str]] = field(default_factory=dict)
    functions: Dict[str, FunctionSummary] = field(default_factory=dict)
    classes: Dict[str, ClassSummary] = field(default_factory=dict)
    assigns: Dict[str, List[Ref]] = field(default_factory=dict)  # module-level names -> every value assigned
    constants: Dict[str, int] = field(default_factory=dict)  # module-level integer constants
    strings: Dict[str, str] = field(default_factory=dict)  # module-level string constants (for getattr)
    sizes: Dict[str, int] = field(default_factory=dict)  # module-level literal collections: their lengths
    source_lines: int = 0
    parsed: bool = True  # False for files the prefilter skipped (no start site, no async)

    # module-level code behaves as a pseudo-function for the linker
    MODULE_SCOPE = "<module>"
