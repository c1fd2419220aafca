"""Classify the work a function does: CPU under the GIL, releases it, waits on I/O, or light.

The verdict weighs loops and calls (see docs/how-it-works.md):

* a loop whose body waits on I/O each iteration is I/O-bound, even with some
  arithmetic, unless each iteration also does heavy CPU work (a heavy callee or
  a nested heavy loop) — the queue-consumer that dispatches into pure Python;
* a loop over data-dependent or large iterables doing arithmetic, string or
  collection work in Python holds the GIL; a loop of a few literal items does not;
* nested heavy loops, large literal ranges, loops around GIL-holding calls and
  recursion are *strong* evidence; a single data loop, or one GIL-holding call,
  is *weak* evidence that I/O elsewhere in the same function outweighs;
* calls into code outside the project that the knowledge base does not know are
  unknown, never CPU.

Results are memoised per function; cycles are detected and reported as recursion;
the call graph is followed to a bounded depth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from ..diagnostics import EvidenceStep, Location
from .model import CallFact, FunctionSummary, LoopFact, ModuleSummary, Ref
from .project import Project, Resolved

STRONG = 2
WEAK = 1
CACHING_DECORATORS = frozenset({"cache", "lru_cache", "cached_property"})
# Evidence more calls away than this from the function counts as weak.
DIRECT_CALLS = 3
# A loop nested in a literal loop of fewer items than this is not "nested loops" work.
NESTED_OUTER_MINIMUM = 100
# Iterating what these methods return waits on the network or a pipe for every item
# (``for line in response.iter_lines()``): the loop is paced by I/O, not by its own work.
STREAM_METHODS = frozenset({
    "iter_lines", "iter_content", "iter_chunks", "iter_chunked", "iter_any", "iter_raw", "iter_text", "iter_bytes",
    "iter_events", "listen", "consume", "follow", "stream", "iter_messages",
})
# Objects whose iteration reads a file, a pipe or a socket one item at a time.
STREAM_OBJECTS = frozenset({"open", "io.open", "builtins.open", "codecs.open", "sys.stdin", "fileinput.input",
                            "socket.socket.makefile", "gzip.open", "bz2.open", "lzma.open", "os.fdopen"})
STREAM_SUFFIXES = (".stdout", ".stderr", ".stdin", ".makefile")
# Traits of work that is itself a loop over data (as opposed to one library call or recursion).
LOOP_TRAITS = frozenset({"arithmetic", "string", "collection", "comparison", "per-element", "nested", "sized",
                         "callback", "looped-call"})
ITERATOR_CALLS = frozenset({"map", "filter", "zip", "range", "iter", "enumerate", "reversed"})
# Collections of a program's own structure: a handful of items, whatever the input.  A loop over them
# (``for column in self.columns``, ``for name, value in headers.items()``) is not a loop over data.
STRUCTURE_NAMES = frozenset({
    "columns", "fields", "options", "headers", "params", "parameters", "args", "kwargs", "attrs", "attributes",
    "cookies", "filters", "hooks", "handlers", "plugins", "middleware", "middlewares", "extensions", "settings",
    "components", "modules", "classes", "methods", "decorators", "annotations", "routes", "commands", "listeners",
    "callbacks", "subscribers", "observers", "validators", "converters", "dependencies", "bases", "mro", "choices",
    "flags", "environ", "env", "vars", "schemas", "signals", "slots", "mixins", "backends", "formatters", "loggers",
    "meta", "metadata",
})
STRUCTURE_SIZE = 16
# One item of such a collection: a loop whose element is named for one (``for component_name, sockets in
# available.items()``, ``for i, column in enumerate(table)``) walks the program's structure too.
STRUCTURE_ITEMS = frozenset({
    "column", "field", "option", "header", "param", "parameter", "arg", "kwarg", "attr", "attribute", "cookie",
    "hook", "handler", "plugin", "middleware", "extension", "setting", "component", "module", "method",
    "decorator", "annotation", "route", "listener", "callback", "subscriber", "observer", "validator",
    "converter", "dependency", "mixin", "backend", "formatter", "logger", "schema", "slot",
})
# Library calls heavy enough by themselves: known to run long, declared by the user, or given a payload.
CALL_TRAITS = frozenset({"heavy-call", "payload-call"})
# Names of arguments that hold a whole payload rather than one small value.
PAYLOAD_NAMES = frozenset({
    "text", "data", "body", "payload", "content", "contents", "document", "doc", "html", "xml", "source", "src",
    "buf", "buffer", "raw", "blob", "chunk", "page", "markup", "lines", "rows", "records", "docs", "documents",
    "corpus", "csv", "json", "yaml", "image", "img", "pixels", "frame", "frames", "matrix", "samples", "audio",
})
# Names of values that are one small item however they are walked: a character loop over them is short.
SMALL_VALUE_NAMES = frozenset({
    "port", "host", "hostname", "netloc", "scheme", "name", "key", "prefix", "suffix", "ext", "extension", "tag",
    "label", "method", "version", "flag", "flags", "mode", "char", "ch", "sep", "delimiter", "encoding", "charset",
    "locale", "lang", "language", "unit", "currency", "code", "status", "level", "kind", "type", "typ",
    "format", "fmt", "ascii", "url", "uri", "href", "path", "filename", "email", "address",
})
# Calls that decode a whole document into Python objects: what they return is walked as a document.
DECODING_CALLS = frozenset({"loads", "load", "safe_load", "full_load", "parse", "parse_raw", "json", "decode",
                            "fromstring", "unpackb", "from_json"})
# Names of a whole structured document: a recursive walk over one of them visits a great deal.  ``data``
# is not one: code names every small dict it is given ``data`` (an event, one message's fields).
WALKED_PAYLOAD_NAMES = frozenset({
    "content", "contents", "body", "payload", "document", "documents", "doc", "docs", "json", "yaml", "records",
    "rows", "corpus", "notebook", "nb",
})
# Opening and reading a local file: a brief wait, unlike the network or a child process.
LOCAL_FILE_CALLS = frozenset({"open", "io.open", "os.open", "os.fdopen", "pathlib.Path.open",
                              "pathlib.Path.read_text", "pathlib.Path.read_bytes"})
# Modules whose I/O is brief: local files, the console, logs, a local database.  Any other I/O the
# knowledge base names (the network, child processes, queues, sleeps) is a long wait.
BRIEF_IO_MODULES = frozenset({"open", "print", "input", "io", "os", "pathlib", "shutil", "tempfile", "glob", "sys",
                              "logging", "zipfile", "tarfile", "gzip", "bz2", "lzma", "csv", "json", "pickle",
                              "shelve", "dbm", "sqlite3", "fcntl", "mmap", "filecmp", "codecs", "fileinput"})
# Waits that pace a loop rather than feed it data.
PACING_CALLS = frozenset({"sleep", "wait", "wait_for", "Event.wait"})
# Values of one callee weighed per call (a name rarely holds more distinct callables).
MAX_CALLEES = 6
# ...except for a call that runs a callable it was handed (``func(*args)``, a job's ``fn``): what that
# call does is whatever is handed to it, up to this many (every function a decorator like
# ``@asyncthread`` wraps; each is weighed once per run, memoised).
MAX_DISPATCHED = 64


@dataclass(frozen=True)
class Work:
    kind: str  # "cpu", "io", "releases", "light"
    strength: int = 0  # for cpu: STRONG or WEAK
    traits: FrozenSet[str] = frozenset()  # "arithmetic", "string", "collection", "gil-call", "recursion", "nested", "io", ...
    steps: Tuple[EvidenceStep, ...] = ()  # from this function down to the heaviest work
    reason: str = ""  # what the last step does, for messages
    has_io: bool = False
    # The names (of the function this work is seen from) whose data the heaviest work walks: the iterable
    # of its loop, the arguments of its call.  A caller maps them to its own arguments, to tell
    # ``for form in forms: parse(form)`` (one pass) from ``for q in queries: search(q, docs)`` (a product).
    # None: not known.
    driver: Optional[FrozenSet[str]] = None

    def but(self, **changes: object) -> "Work":
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def is_cpu(self) -> bool:
        return self.kind == "cpu"

    @property
    def holds_threads_back(self) -> bool:
        """Enough CPU work to report a thread running it: strong evidence, or a loop over data, or a
        library call known to run long, or recursion.  One ordinary GIL-holding library call is not enough."""
        if self.kind != "cpu":
            return False
        if self.strength < STRONG and "far" in self.traits and not self.traits & CALL_TRAITS:
            # a single loop or a recursion found many calls away: less surely on this path, and of a size
            # the path does not show (one header parsed, one small object walked); not enough alone
            return False
        return self.strength >= STRONG or bool(self.traits & (LOOP_TRAITS | CALL_TRAITS | {"recursion"}))


LIGHT = Work("light")
# Runs a callable that is not known (a job's ``fn``, a parameter): its work could be anything.
DISPATCH = Work("dispatch")
# Names under which code keeps a callable to run later.
CALLABLE_NAMES = frozenset({"fn", "func", "function", "target", "callback", "handler", "task", "job", "work",
                            "runnable", "callable", "_target", "_fn", "_func", "_callback"})


def weight(work: Work) -> Tuple[int, int]:
    order = {"cpu": 5, "io": 4, "releases": 3, "dispatch": 2, "light": 1}
    return order.get(work.kind, 0), work.strength


def heaviest(works: Sequence[Work]) -> Work:
    """The work that matters most among alternatives: CPU (strong before weak), then I/O, releases, light."""
    return max(works, key=weight) if works else LIGHT


@dataclass
class _Candidate:
    strength: int
    work: Work
    line: int = 0


@dataclass
class _LoopState:
    io: List[Work] = field(default_factory=list)
    heavy: List[Work] = field(default_factory=list)  # CPU work per iteration that I/O does not outweigh
    gil_calls: List[Work] = field(default_factory=list)  # known GIL-holding library calls
    releases: List[Work] = field(default_factory=list)


def function_label(module: ModuleSummary, function: FunctionSummary) -> str:
    if function.qualname == ModuleSummary.MODULE_SCOPE:
        return module.module
    return "%s.%s" % (module.module, function.qualname) if module.module else function.qualname


def location(module: ModuleSummary, span: Tuple[int, int, int, int]) -> Location:
    return Location(module.path, span[0], span[1], span[2], span[3])


class CostModel:
    def __init__(self, project: Project, min_iterations: int = 10_000, max_depth: int = 12) -> None:
        self.project = project
        self.kb = project.kb
        self.min_iterations = min_iterations
        self.max_depth = max_depth
        self._memo: Dict[tuple, Work] = {}
        self._memo_at_depth: Dict[Tuple[tuple, int], Work] = {}
        self._cutoffs = 0
        self._in_progress: Dict[tuple, int] = {}
        self._blockers: Dict[tuple, Optional[Work]] = {}

    # ---------------------------------------------------------------- entry
    def work(self, module: ModuleSummary, function: FunctionSummary, depth: int = 0,
             skip: FrozenSet[Tuple[str, bool]] = frozenset()) -> Work:
        """``skip``: branches a caller's arguments rule out (``(p, True)``: the ones taken only when ``p``
        is None, for a call that passes a dict for ``p``)."""
        key: tuple = (module.path, function.qualname) + ((skip,) if skip else ())
        if key in self._memo:
            return self._memo[key]
        if (key, depth) in self._memo_at_depth:
            return self._memo_at_depth[(key, depth)]
        if key in self._in_progress:
            return Work("recursion")
        if depth > self.max_depth:
            self._cutoffs += 1
            return LIGHT
        self._in_progress[key] = depth
        cutoffs = self._cutoffs
        try:
            result = self._analyse(module, function, depth, skip)
        finally:
            del self._in_progress[key]
        if self._cutoffs == cutoffs:
            self._memo[key] = result
        else:
            # the depth limit cut this analysis short: the answer holds only at this depth,
            # or a caller nearer the work would inherit a truncated "light"
            self._memo_at_depth[(key, depth)] = result
        return result

    def resolve_callable(self, resolved: Resolved) -> Optional[Tuple[ModuleSummary, FunctionSummary]]:
        """The project function a resolved target runs (functions, partials, class instances' __call__)."""
        if resolved.kind == "partial" and resolved.inner is not None:
            return self.resolve_callable(resolved.inner)
        if resolved.kind == "function" and resolved.function is not None and resolved.module is not None:
            return resolved.module, resolved.function
        if resolved.kind == "instance" and resolved.klass is not None and resolved.module is not None:
            return self.project.method(resolved.module, resolved.klass, "__call__")
        return None

    # ---------------------------------------------------------------- calls
    def call_effect(self, module: ModuleSummary, function: FunctionSummary, call: CallFact, depth: int) -> Work:
        """What the call does: the heaviest of what its callee can be (``crc = fast or slow`` holds both)."""
        scope = function if function.qualname != ModuleSummary.MODULE_SCOPE else None
        callees = self.project.callees(module, scope, call)
        # ``b.read(4)`` where ``b`` is an ``io.BytesIO`` by its annotation and unknown through some caller:
        # what the knowledge base says of the receiver wins over a guess from the method's name
        if any(self.described(c) for c in callees):
            callees = [c for c in callees if not c.is_unknown]
        limit = MAX_DISPATCHED if _dispatch(call) else MAX_CALLEES
        effects = [self._callee_effect(module, function, call, callee, depth) for callee in callees[:limit]]
        return heaviest(effects)

    def _callee_effect(self, module: ModuleSummary, function: FunctionSummary, call: CallFact, resolved: Resolved,
                       depth: int) -> Work:
        here = location(module, call.span)
        label = function_label(module, function)
        if resolved.kind == "class" and resolved.klass is not None and resolved.module is not None:
            init = self.project.method(resolved.module, resolved.klass, "__init__")
            target = init
        else:
            target = self.resolve_callable(resolved) if resolved.kind in ("function", "partial") else None
        if target is not None:
            callee_module, callee = target
            if any(d.rsplit(".", 1)[-1] in CACHING_DECORATORS for d in callee.decorators):
                return LIGHT  # computed once and then looked up: not a cost of every call
            if is_generator(callee) and not (callee is function and callee_module is module):
                # calling it only makes a generator: the work is done where it is iterated (a generator
                # that calls itself, ``yield from walk(child)``, iterates what it makes: recursion)
                return LIGHT
            if callee.is_async and function.is_async:
                # awaiting another coroutine: its own work is reported there, and for this
                # coroutine the call is a point where it may suspend
                return Work("io", 0, frozenset({"io"}), (), "awaits a coroutine", True)
            # A coroutine that calls itself awaits itself: that is not CPU-bound recursion.
            recursion = Work("io", 0, frozenset({"io"}), (), "awaits", True) if callee.is_async else None
            if callee is function and callee_module is module:
                return recursion or self._recursion(label, call, here)
            inner = self.work(callee_module, callee, depth + 1, _ruled_out(function, callee, call,
                                                                           resolved.kind == "class"))
            if inner.kind == "recursion":
                return recursion or self._recursion(label, call, here)
            if inner.kind == "light":
                return LIGHT
            if inner.kind == "dispatch":
                return DISPATCH
            step = EvidenceStep(label, "calls %s" % callee.name, here)
            steps = (step,) + inner.steps
            strength = inner.strength
            traits = inner.traits
            strength, traits = _as_given(function, callee, call, inner, resolved.kind == "class")
            if sum(1 for s in steps if s.note.startswith("calls ")) > DIRECT_CALLS and "per-element" not in traits:
                # work found many calls away is less surely on this path (error branches,
                # configuration, library internals): it cannot outweigh I/O on its own,
                # and repeating it in a loop does not make it sure either.  A per-element walk
                # over payload data is the exception: it is heavy however deep it is.
                # Weak already (one pass over something, one recursion), it is not enough alone to report
                # a thread ("far", see ``holds_threads_back``); a nested loop there still is.
                weak = strength < STRONG and "distant" not in inner.traits
                traits = traits | {"distant"} | ({"far"} if weak else frozenset())
                strength = min(strength, WEAK)
            return Work(inner.kind, strength, traits, steps, inner.reason, inner.has_io,
                        _translate_driver(callee, call, inner.driver, resolved.kind == "class"))
        name = resolved.name if resolved.kind in ("external", "external-instance") else ""
        entry = self.kb.call(name) if name else None
        if entry is not None:
            if entry.effect == "io" and _non_blocking(call):
                return LIGHT  # q.get(block=False), lock.acquire(timeout=0): asks and returns, never waits
            # a call the user's configuration describes, or one known to run long, is heavy by itself
            heavy = entry.blocks_loop or "[tool.gillint]" in entry.source
            work = self._library_work(entry.effect, name, entry.reason, label, here, heavy).but(
                driver=frozenset(_argument_roots(call)))
            if work.is_cpu and _calls_back(call):
                # sorted(xs, key=lambda x: ...), map(lambda ...): Python code runs for every item
                work = Work(work.kind, work.strength, work.traits | {"callback"}, work.steps, work.reason)
            elif work.is_cpu and _given_payload(call):
                # re.findall(pattern, text), json.loads(body): one call, but over the whole payload
                work = Work(work.kind, work.strength, work.traits | {"payload-call"}, work.steps, work.reason)
            return work
        if resolved.is_unknown and _dispatch(call) and not _notifies(function, call):
            return DISPATCH
        if call.method and resolved.kind != "function":
            if _non_blocking(call):
                return LIGHT
            method = self.kb.method(call.method, call.nargs)
            if method is not None:
                work = self._library_work(method.effect, "." + call.method, method.reason, label, here)
                if work.kind == "io" and name.rsplit(".", 1)[0] in LOCAL_FILE_CALLS:
                    work = work.but(traits=work.traits | {"local-file"})  # ``open(path).read()``
                return work
        return LIGHT

    # ---------------------------------------------------------------- blocking calls
    def loop_blockers(self, module: ModuleSummary, function: FunctionSummary) -> List[Work]:
        """Each call of this coroutine that runs long enough to stall an event loop (``blocks_loop`` in
        the knowledge base: bcrypt, scrypt, big compression, image decoding, ``gc.collect``), directly or
        through plain (not async) functions it calls, with the path to the long call."""
        found = []
        for call in function.calls:
            blocker = self._call_blocker(module, function, call, 0)
            if blocker is not None:
                found.append(blocker)
        return found

    def loop_blocker(self, module: ModuleSummary, function: FunctionSummary, depth: int = 0,
                     skip: FrozenSet[Tuple[str, bool]] = frozenset()) -> Optional[Work]:
        """The first long call made by ``function`` or the plain functions it calls (see loop_blockers);
        ``skip``: the branches the caller's arguments rule out (see ``work``)."""
        key: tuple = (module.path, function.qualname) + ((skip,) if skip else ())
        if key in self._blockers:
            return self._blockers[key]
        self._blockers[key] = None  # a cycle finds nothing new
        found: Optional[Work] = None
        for call in function.calls:
            if call.guard is not None and call.guard in skip:
                continue
            found = self._call_blocker(module, function, call, depth)
            if found is not None:
                break
        self._blockers[key] = found
        return found

    def _call_blocker(self, module: ModuleSummary, function: FunctionSummary, call: CallFact,
                      depth: int) -> Optional[Work]:
        if call.rare:
            return None
        scope = function if function.qualname != ModuleSummary.MODULE_SCOPE else None
        label = function_label(module, function)
        here = location(module, call.span)
        for callee in self.project.callees(module, scope, call)[:MAX_CALLEES]:
            if callee.kind in ("external", "external-instance"):
                entry = self.kb.call(callee.name)
                if entry is not None and (entry.blocks_loop or (entry.payload_blocks_loop and _given_payload(call))):
                    what = "releases the GIL but " if entry.effect == "releases" else "holds the GIL and "
                    step = EvidenceStep(label, "%s %stakes long" % (callee.name, what), here)
                    return Work(entry.effect, STRONG, frozenset({"blocks-loop", entry.effect}), (step,),
                                "%s (%s)" % (callee.name, entry.reason))
            elif callee.kind == "function" and depth < DIRECT_CALLS:
                target = self.resolve_callable(callee)
                if target is not None and not target[1].is_async:
                    inner = self.loop_blocker(target[0], target[1], depth + 1,
                                              _ruled_out(function, target[1], call, False))
                    if inner is not None:
                        step = EvidenceStep(label, "calls %s" % target[1].name, here)
                        return Work(inner.kind, inner.strength, inner.traits, (step,) + inner.steps, inner.reason)
        return None

    def _recursion(self, label: str, call: CallFact, here: Location) -> Work:
        step = EvidenceStep(label, "recursive call", here)
        return Work("cpu", STRONG, frozenset({"recursion"}), (step,), "recursion")

    def described(self, resolved: Resolved) -> bool:
        """A library value the knowledge base has an entry for (``io.BytesIO``, ``requests.get``)."""
        return resolved.kind in ("external", "external-instance") and self.kb.call(resolved.name) is not None

    def library_target(self, module: ModuleSummary, resolved: Resolved, span: Tuple[int, int, int, int],
                       label: str) -> Optional[Work]:
        """A library callable handed to a worker as it is (``run_in_executor(None, parser.parse, text)``,
        ``pool.submit(json.loads, body)``, ``partial(nbformat.reads, as_version=4)``): its work is what the
        knowledge base says of it, when it says."""
        if resolved.kind == "partial" and resolved.inner is not None:
            resolved = resolved.inner
        if resolved.kind != "external" or not resolved.name:
            return None
        if not _IDENTIFIER_PATH.fullmatch(label):
            label = resolved.name  # ``partial(nbformat.reads, ...)``: the evidence names the library call
        entry = self.kb.call(resolved.name)
        if entry is None:
            return None
        heavy = entry.blocks_loop or "[tool.gillint]" in entry.source
        return self._library_work(entry.effect, resolved.name, entry.reason, label, location(module, span), heavy)

    def _library_work(self, effect: str, name: str, reason: str, label: str, here: Location,
                      heavy: bool = False) -> Work:
        if effect == "light":
            return LIGHT
        note = {"cpu": "%s holds the GIL" % name, "releases": "%s releases the GIL" % name,
                "io": "%s waits on I/O" % name}[effect]
        step = EvidenceStep(label, note, here)
        traits = frozenset({"gil-call"}) if effect == "cpu" else frozenset({effect})
        if heavy and effect == "cpu":
            traits |= {"heavy-call"}
        if effect == "io" and name.rsplit(".", 1)[-1] in PACING_CALLS:
            traits |= {"pace"}  # a sleep or a timed wait: the loop around it is periodic
        if effect == "io" and name in LOCAL_FILE_CALLS:
            traits |= {"local-file"}
        if effect == "io" and not name.startswith(".") and name.split(".", 1)[0] not in BRIEF_IO_MODULES:
            traits |= {"long-wait"}  # the network, a child process, a queue, a sleep: not a guess from a method name
        return Work(effect, WEAK if effect == "cpu" else 0, traits, (step,), "%s (%s)" % (note, reason), effect == "io")

    # ---------------------------------------------------------------- loops
    def iterations(self, module: ModuleSummary, function: FunctionSummary, index: Optional[int]) -> Optional[int]:
        """Iterations of a loop including its enclosing loops; None when data-dependent."""
        total = 1
        while index is not None:
            loop = function.loops[index]
            bound = self.own_bound(module, function, loop)
            if bound is None:
                return None
            total *= bound
            index = loop.parent
        return total

    @staticmethod
    def own_bound(module: ModuleSummary, function: FunctionSummary, loop: LoopFact) -> Optional[int]:
        """Iterations of the loop itself, whatever encloses it; None when data-dependent."""
        bound = loop.bound
        if bound is None and loop.bound_name:
            bound = module.constants.get(loop.bound_name) if "." not in loop.bound_name else _class_constant(
                module, function, loop.bound_name)
        root = loop.iter_root
        if bound is None and root and loop.iter_text in (root, root + ".items()", root + ".keys()", root + ".values()"):
            # a literal collection bound to a local or module-level name
            # (a parameter is what the caller gives, whatever a module-level name of the same name holds)
            bound = function.sizes.get(root, None if root in function.params else module.sizes.get(root))
        if bound is None and _structural(loop):
            bound = STRUCTURE_SIZE
        return bound

    def _loop_work(self, module: ModuleSummary, function: FunctionSummary, index: int, state: _LoopState,
                   child_cpu: List[Work], waits: Sequence[bool] = ()) -> Work:
        loop: LoopFact = function.loops[index]
        label = function_label(module, function)
        here = location(module, loop.span)
        iterations = self.iterations(module, function, index)
        large = (iterations is None or iterations >= self.min_iterations) and not loop.walk
        if loop.busy_wait and not (state.heavy or child_cpu):
            return LIGHT  # the spin itself is GIL103's finding; heavy work in a reacting branch is still weighed
        if loop.awaits and not state.io:
            # each iteration hands control back to the event loop, like waiting on I/O
            step = EvidenceStep(label, "awaits in the loop", here)
            state.io.append(Work("io", 0, frozenset({"io"}), (step,), "awaits each iteration", True))
        heavy = state.heavy + child_cpu
        # Reading the next line of a local file is brief next to CPU work done on each line; only
        # real waits (the network, a pipe, a queue) make the loop's time go into waiting.
        has_io = bool(state.io) and not (heavy and all("local-file" in w.traits for w in state.io))
        # Heavy work repeated per iteration of a loop over data is O(n*m): strong.  Inside a loop of a
        # few literal items it is only as strong as it was.
        if heavy:
            best = max(heavy, key=lambda w: (w.strength, bool(w.traits & LOOP_TRAITS)))
            # a data loop around a callee that loops over data itself is nested work (O(n*m)): strong.
            # Around a callee that makes one GIL-holding call or recursion, it stays what the callee was.
            own = self.own_bound(module, function, loop)
            # A loop that waits each iteration (awaits a response, reads a message) works on what each wait
            # brought: that is one pass over the data as it arrives, not a product.
            many = (iterations is None or iterations >= NESTED_OUTER_MINIMUM) and not loop.walk
            product = (many and not has_io and (own is None or own >= NESTED_OUTER_MINIMUM)
                       and bool(best.traits & LOOP_TRAITS) and not best.traits & {"distant", "flat"})
            strength = STRONG if product else best.strength
            if has_io and (strength < STRONG or best.strength < STRONG):
                # weak work next to a wait in every iteration (a few lines of each message
                # received): the wait dominates; only strong work makes the loop CPU-bound
                return _waiting(state.io, heavy)
            if any("pace" in w.traits for w in state.io) and not best.traits & {"per-element", "nested"}:
                # paced by a sleep or a timed wait: periodic work (a monitor, a heartbeat, a refresh);
                # it is CPU-bound only when one pass walks data element by element or nests data loops
                return _waiting(state.io, heavy)
            note = "loop over %s" % _short(loop.iter_text) if loop.kind != "while" else "while loop"
            step = EvidenceStep(label, note, here)
            # "flat" spoke of this loop's element; to the loops around this one, this loop is a pass over data
            traits = (best.traits - {"flat"}) | ({"io"} if has_io else frozenset()) | (
                {"nested"} if product else frozenset())
            driver = None if best.driver is None else best.driver | set(_IDENTIFIER.findall(loop.iter_text))
            # A loop that waits each pass and does not multiply the work (a retry or receive loop) is not
            # where the work is: the evidence starts at the heavy call inside it.
            steps = best.steps if has_io and not product and best.steps else (step,) + best.steps
            return Work("cpu", strength, traits, steps, best.reason, has_io or best.has_io, driver)
        if has_io:
            return _waiting(state.io, ())
        if state.gil_calls and large:
            # a GIL-holding call per item of a data loop is O(n) like any data loop: weak, unless the
            # loop is nested in another data loop or its size is known to be large
            best = state.gil_calls[0]
            step = EvidenceStep(label, "loop over %s" % _short(loop.iter_text), here)
            scale = self._scale(module, function, loop, iterations, waits)
            return Work("cpu", STRONG if scale else WEAK, best.traits | scale | {"looped-call"} | frozenset(loop.ops),
                        (step,) + best.steps, best.reason,
                        driver=(best.driver or frozenset()) | set(_IDENTIFIER.findall(loop.iter_text)))
        if state.releases:
            return Work("releases", 0, frozenset({"releases"}), state.releases[0].steps, state.releases[0].reason)
        # Comparing (a search) or moving items between containers (building a list, filling a
        # dict) is bookkeeping; arithmetic or string work makes a loop over data CPU work.
        work_ops = [op for op in loop.ops if op in ("arithmetic", "string")]
        if not work_ops and "collection" in loop.ops and large and (
                iterations is not None or self._in_large_loop(module, function, loop, waits)):
            work_ops = ["collection"]  # ...unless there is a great deal of it: nested or large literal loops
        # ``all(c.isdigit() for c in port)``: a walk over one small value (a port, a host name, a key) is
        # a few characters, not payload data
        per_element = loop.per_element and _root_word(loop.iter_text) not in SMALL_VALUE_NAMES
        if per_element and large and iterations is None and not work_ops:
            work_ops = ["string"]
        if work_ops and large:
            scale = self._scale(module, function, loop, iterations, waits)
            strong = bool(scale) or (per_element and iterations is None)
            ops = _join([op for op in ("arithmetic", "comparison", "string", "collection") if op in loop.ops]
                        or work_ops) + " work"
            what = "while loop" if loop.kind == "while" else (
                "comprehension over %s" % _short(loop.iter_text) if loop.kind == "comprehension" else "loop over %s" % _short(loop.iter_text))
            size = " (%s iterations)" % format(iterations, ",") if iterations is not None else ""
            reason = "%s%s does %s in pure Python" % (what, size, ops)
            op_here = location(module, loop.op_span) if loop.op_span else here
            step = EvidenceStep(label, "%s doing %s" % (what, ops), Location(module.path, here.line, here.column, op_here.end_line, op_here.end_column))
            traits = frozenset(loop.ops) | scale | (
                {"per-element"} if per_element and iterations is None else frozenset())
            if "per-element" in traits:
                reason = "%s works on every element of the data, one at a time, in pure Python" % what
            return Work("cpu", STRONG if strong else WEAK, traits, (step,), reason,
                        driver=frozenset(_IDENTIFIER.findall(loop.iter_text)))
        return LIGHT

    def _generator_work(self, module: ModuleSummary, function: FunctionSummary, loop: LoopFact,
                        depth: int) -> Optional[Work]:
        """``for row in read_rows(path)``: the generator's body runs as the loop asks for items."""
        ref = loop.iter_ref
        if ref is None or ref.kind != "call" or not ref.raw:
            return None
        scope = function if function.qualname != ModuleSummary.MODULE_SCOPE else None
        for callee in self.project.values(module, scope, ref.raw)[:MAX_CALLEES]:
            target = self.resolve_callable(callee) if callee.kind == "function" else None
            if target is not None and is_generator(target[1]) and target[1] is not function:
                inner = self.work(target[0], target[1], depth + 1)
                if inner.kind in ("io", "cpu"):
                    step = EvidenceStep(function_label(module, function), "iterates %s" % target[1].name,
                                        location(module, loop.span))
                    made = CallFact(ref.raw, ref.raw.rsplit(".", 1)[-1], len(ref.args), loop.span, None,
                                    args=ref.args, keywords=ref.keywords)
                    strength, traits = _as_given(function, target[1], made, inner, False)
                    return Work(inner.kind, strength, traits, (step,) + inner.steps, inner.reason, inner.has_io)
        return None

    def _stream(self, module: ModuleSummary, function: FunctionSummary, loop: LoopFact) -> Optional[str]:
        """What the loop reads item by item, waiting for each, if its iterable is a stream."""
        ref = loop.iter_ref
        if loop.kind != "for" or ref is None:
            return None
        if ref.kind == "call" and ref.raw.rsplit(".", 1)[-1] in STREAM_METHODS and "." in ref.raw:
            return ref.text
        scope = function if function.qualname != ModuleSummary.MODULE_SCOPE else None
        for value in self.project.ref_values(module, scope, ref)[:MAX_CALLEES]:
            if value.kind in ("external", "external-instance") and (
                    value.name in STREAM_OBJECTS or value.name.endswith(STREAM_SUFFIXES)):
                return ref.text
        return None

    def _scale(self, module: ModuleSummary, function: FunctionSummary, loop: LoopFact, iterations: Optional[int],
               waits: Sequence[bool]) -> FrozenSet[str]:
        """Why a loop's work grows beyond one pass over one input: "sized" (the source fixes a large
        count), "nested" (inside another data loop); empty for a single pass over data."""
        if iterations is not None:
            return frozenset({"sized"})
        if self._in_large_loop(module, function, loop, waits):
            return frozenset({"nested"})
        return frozenset()

    def _recurses_again(self, module: ModuleSummary, function: FunctionSummary, first: CallFact) -> bool:
        """More than one recursive call site (fib(n - 1) + fib(n - 2)): a tree of calls."""
        count = 0
        for call in function.calls:
            if call.raw and call.raw.rsplit(".", 1)[-1] == function.name:
                count += 1
        return count > 1

    def _in_large_loop(self, module: ModuleSummary, function: FunctionSummary, loop: LoopFact,
                       waits: Sequence[bool] = ()) -> bool:
        if loop.parent is None or function.loops[loop.parent].walk:
            return False
        if loop.parent < len(waits) and waits[loop.parent]:
            return False  # the outer loop waits each iteration: it is paced by I/O, not a product of data
        outer_loop = function.loops[loop.parent]
        if walks_outer_element(function, loop, outer_loop):
            return False  # ``for k, vs in d.items(): for v in vs`` walks one collection once: not a product
        inner = self.own_bound(module, function, loop)
        if inner is not None and inner < NESTED_OUTER_MINIMUM:
            return False  # a few fixed items per element of the data: one pass over the data, times a constant
        outer = self.iterations(module, function, loop.parent)
        return outer is None or outer >= NESTED_OUTER_MINIMUM

    # ---------------------------------------------------------------- functions
    def _analyse(self, module: ModuleSummary, function: FunctionSummary, depth: int,
                 skip: FrozenSet[Tuple[str, bool]] = frozenset()) -> Work:
        loops = function.loops
        states = [_LoopState() for _ in loops]
        top: _LoopState = _LoopState()
        dispatches = False
        for call in function.calls:
            if call.guard is not None and call.guard in skip:
                continue  # a branch this caller's arguments rule out
            effect = self.call_effect(module, function, call, depth)
            if effect.kind == "dispatch":
                dispatches = True
                continue
            if effect.kind == "light":
                continue
            if effect.kind == "cpu" and call.rare:
                continue  # work in an except handler is an error path: rare, not the thread's load
            if "recursion" in effect.traits and len(effect.steps) == 1:
                if _recurses_into_elements(function, call):
                    # ``for key, value in obj.items(): out[key] = encode(value)``: the recursion visits every
                    # element of the structure it is given (a JSON document, a notebook), element by element
                    step = EvidenceStep(effect.steps[0].function, "recursive call on every element of %s" % _short(
                        function.loops[call.loop].iter_text), effect.steps[0].location)
                    effect = Work("cpu", STRONG, effect.traits | {"per-element", "walk"}, (step,),
                                  "a recursive walk over every element of its input, in pure Python",
                                  driver=frozenset(_IDENTIFIER.findall(function.loops[call.loop].iter_text)))
                elif not self._recurses_again(module, function, call):
                    # one recursive call site walks a chain or a small structure (like a loop over
                    # links or children): weak.  Two or more (fib(n - 1) + fib(n - 2)) branch: strong.
                    effect = Work("cpu", WEAK, effect.traits | {"distant"}, effect.steps, effect.reason)
            state = states[call.loop] if call.loop is not None else top
            if effect.kind == "cpu" and call.loop is not None and _works_on_element(function, call, effect.driver):
                # ``for form in forms: parse(form)``: the callee's pass over one element, element after
                # element, is one pass over the data, not a product
                effect = Work(effect.kind, effect.strength, effect.traits | {"flat"}, effect.steps, effect.reason,
                              effect.has_io)
            if effect.kind == "io":
                state.io.append(effect)
            elif effect.kind == "releases":
                state.releases.append(effect)
            elif effect.kind == "cpu" and "gil-call" in effect.traits and len(effect.steps) == 1:
                state.gil_calls.append(effect)
            elif effect.kind == "cpu":
                state.heavy.append(effect)
        for index, loop in enumerate(loops):
            produced = self._generator_work(module, function, loop, depth)
            if produced is not None and produced.kind == "io":
                states[index].io.append(produced)
            elif produced is not None and produced.is_cpu:
                # the generator's body runs once over the whole iteration, not once per item
                states[index].heavy.append(produced.but(traits=produced.traits | {"flat"}))
            stream = self._stream(module, function, loop)
            if stream is not None:
                states[index].io.append(Work("io", 0, frozenset({"io"}), (EvidenceStep(
                    function_label(module, function), "reads %s item by item" % _short(loop.iter_text),
                    location(module, loop.span)),), "each iteration waits for the next item of %s" % stream, True))
        waits = [bool(states[i].io) or loops[i].awaits for i in range(len(loops))]
        # Loops are listed parents first: walk them backwards so children are done first.
        loop_work: List[Work] = [LIGHT] * len(loops)
        children_cpu: List[List[Work]] = [[] for _ in loops]
        children_io: List[bool] = [False] * len(loops)
        for index in range(len(loops) - 1, -1, -1):
            state = states[index]
            if children_io[index] and not state.io:
                state.io.append(Work("io", 0, frozenset({"io"}), (), "waits on I/O", True))
            result = self._loop_work(module, function, index, state, children_cpu[index], waits)
            loop_work[index] = result
            parent = loops[index].parent
            if parent is not None:
                if result.is_cpu and not loops[index].rare:
                    own = self.own_bound(module, function, loops[index])
                    if walks_outer_element(function, loops[index], loops[parent]) or (
                            own is not None and own < NESTED_OUTER_MINIMUM):
                        # the inner loop walks the outer loop's own element, or a few fixed items for each
                        # element: one pass over the data, not a product of two collections
                        result = Work(result.kind, result.strength, result.traits | {"flat"}, result.steps,
                                      result.reason, result.has_io)
                    children_cpu[parent].append(result)
                elif result.kind == "io" or result.has_io:
                    children_io[parent] = True
                elif result.kind == "releases":
                    states[parent].releases.append(result)
        candidates: List[Work] = [w for i, w in enumerate(loop_work)
                                  if loops[i].parent is None and w.is_cpu and not loops[i].rare]
        candidates += top.heavy
        candidates += top.gil_calls
        has_io = bool(top.io) or function.awaits > 0 or any(
            (w.kind == "io" or w.has_io) for i, w in enumerate(loop_work) if loops[i].parent is None
        )
        if (has_io and top.io and function.awaits == 0 and not any("long-wait" in w.traits for w in top.io)
                and not any((w.kind == "io" or w.has_io) for i, w in enumerate(loop_work) if loops[i].parent is None)
                and any("heavy-call" in w.traits for w in candidates)):
            # read a file, then hand its whole content to a library call known to run long over it
            # (``chardet.detect_all(f.read())``, ``PBKDF2(passphrase, salt, 64, count, prf)``): brief
            # local I/O, or a wait only guessed from a method's name, is short next to that call, so
            # the function is as CPU-bound as the call
            has_io = False
        strong = [w for w in candidates if w.strength >= STRONG]
        if strong:
            best = strong[0]
            return Work("cpu", STRONG, best.traits | ({"io"} if has_io else frozenset()), best.steps, best.reason, has_io,
                        best.driver)
        if candidates and not has_io:
            # the evidence is the heaviest of the weak kind: a call known to run long, then work that scales
            best = max(candidates, key=lambda w: ("heavy-call" in w.traits, w.holds_threads_back))
            return Work("cpu", WEAK, best.traits, best.steps, best.reason, driver=best.driver)
        if has_io and dispatches:
            # a worker loop that waits for jobs and runs whatever callable each job names: what it
            # spends its time on is the jobs' work, which is not known here; it is not I/O-bound
            return DISPATCH
        if has_io:
            io_work = top.io[0] if top.io else next(
                (w for i, w in enumerate(loop_work) if loops[i].parent is None and (w.kind == "io" or w.has_io)),
                Work("io", 0, frozenset({"io"}), (), "awaits", True))
            loop_io = [w for i, w in enumerate(loop_work) if loops[i].parent is None and (w.kind == "io" or w.has_io)]
            return _waiting([io_work] + top.io + loop_io, candidates)
        releases = top.releases + [w for i, w in enumerate(loop_work) if loops[i].parent is None and w.kind == "releases"]
        if releases:
            return Work("releases", 0, frozenset({"releases"}), releases[0].steps, releases[0].reason)
        return LIGHT


def _waiting(io: Sequence[Work], cpu: Sequence[Work]) -> Work:
    """I/O-bound work, the first of ``io`` as its evidence.  It is "mixed" when the CPU work beside it
    (too little to outweigh the waits) may still be why the code would go to a process: work on what a
    local file gave (read it, then parse it), where the reading is brief, or waits only guessed from
    a method's name.  Beside a long wait the knowledge base names (the network, a child process, a
    queue, a sleep) weak CPU work does not make it so."""
    first = io[0]
    local = all("local-file" in w.traits for w in io if w.kind == "io")
    long = any("long-wait" in w.traits for w in io)
    mixed = not long and (bool(cpu) or any("mixed" in w.traits for w in io))
    traits = {"io"} | ({"mixed"} if mixed else set()) | ({"local-file"} if local else set()) | (
        {"long-wait"} if long else set())
    return Work("io", 0, frozenset(traits), first.steps, first.reason, True)


def is_generator(function: FunctionSummary) -> bool:
    """A plain generator function: calling it runs none of its body (a @contextmanager does run it)."""
    return bool(function.yields) and not function.is_async and not any(
        d.rsplit(".", 1)[-1] in ("contextmanager", "asynccontextmanager") for d in function.decorators)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# Calls whose loops grow with a number rather than walk a part of it: ``for j in range(i)`` under
# ``for i in range(n)`` is a triangle of n*n/2 iterations, not one pass.
_COUNTING = ("range(", "itertools.count(", "itertools.product(", "itertools.combinations(", "itertools.permutations(")


def walks_outer_element(function: FunctionSummary, inner: LoopFact, outer: LoopFact) -> bool:
    """The inner loop walks a part of the outer loop's current element (``for form in forms: for field in
    form.inputs``, or a value computed from it, ``parts = line.split(); for p in parts``): together the two
    loops visit the data once, which is not a product of two collections."""
    # A ``while`` loop's element is the cursor its test looks at, a name assigned again and again
    # (``line = lines[i]``): ``while line: ... while continuation:`` with ``continuation`` computed from
    # ``line`` moves one cursor through one sequence (a tokeniser), which is one pass.
    targets = outer.targets or (tuple(n for n in _IDENTIFIER.findall(outer.iter_text)
                                      if len(function.assigns.get(n, ())) >= 2) if outer.kind == "while" else ())
    if not targets or inner.iter_text.lstrip().startswith(_COUNTING):
        return False
    return bool(derived_names(function, targets).intersection(_IDENTIFIER.findall(inner.iter_text)))


_COMPREHENSION = re.compile(r"^[\[({].*?\bfor\b(.*)[\])}]$", re.S)


def _source_names(text: str) -> List[str]:
    """The names a value is computed from; for a comprehension only its ``for ... in ...`` part, since
    what it builds per item (``cls(text, apply(style))``) does not decide how many items there are."""
    match = _COMPREHENSION.match(text.strip())
    return _IDENTIFIER.findall(match.group(1) if match else text)


def _recurses_into_elements(function: FunctionSummary, call: CallFact) -> bool:
    """The recursive call is made, in a loop over the function's own input, on the loop's element."""
    if call.loop is None:
        return False
    loop = function.loops[call.loop]
    params = [p for p in function.params if p not in ("self", "cls")]
    if not loop.targets or not params:
        return False
    if not derived_names(function, params).intersection(_IDENTIFIER.findall(loop.iter_text)):
        return False
    element = derived_names(function, list(loop.targets))
    return any(element.intersection(_IDENTIFIER.findall(arg.text)) for arg in call.args)


def derived_names(function: FunctionSummary, roots: Sequence[str]) -> Set[str]:
    """``roots`` and the local names computed from them, or from those, ... (flow-insensitive, 3 rounds)."""
    derived = set(roots)
    for _ in range(3):
        grown = {name for values in (function.assigns, function.stores) for name, refs in values.items()
                 if name not in derived and any(derived.intersection(_source_names(ref.text)) for ref in refs)}
        if not grown:
            break
        derived |= grown
    return derived


def _works_on_element(function: FunctionSummary, call: CallFact, driver: Optional[FrozenSet[str]]) -> bool:
    """The data the callee walks (its ``driver``, or when that is not known every argument and the receiver
    of a method) is the element of the loop the call is in or of a loop around it, a value computed from
    one, or a literal: ``for form in forms: parse(form.text, strict=True)`` works on one element per call,
    so the calls together make one pass over the data."""
    targets: List[str] = []
    index = call.loop
    while index is not None:
        targets += function.loops[index].targets
        index = function.loops[index].parent
    if not targets:
        return False
    roots = set(driver) if driver is not None else set(_argument_roots(call))
    roots -= {"None", "True", "False"}
    return bool(roots) and derived_names(function, targets).issuperset(roots)


def _argument_roots(call: CallFact) -> List[str]:
    """The first name of each argument, and the receiver of a method call (``line`` in ``line.split(sep)``)."""
    roots = []
    for ref in list(call.args) + [value for _, value in call.keywords]:
        names = [n for n in _IDENTIFIER.findall(ref.text) if n not in ("None", "True", "False")]
        if names:
            roots.append(names[0])
    if "." in call.raw:
        roots.append(call.raw.split(".", 1)[0])
    return roots


def _as_given(caller: FunctionSummary, callee: FunctionSummary, call: CallFact, inner: Work,
              constructs: bool) -> Tuple[int, FrozenSet[str]]:
    """The strength and traits of the callee's work for what this call gives it."""
    strength, traits = inner.strength, inner.traits
    if "per-element" in traits and _small_arguments(callee, call, inner.driver, constructs):
        # ``_is_ascii(charset)``, ``valid(port)``: the walk is over what this call gives it, one small
        # value (a literal, a format, a port), not payload data
        return min(strength, WEAK), traits - LOOP_TRAITS
    if "walk" in traits:
        # a recursive walk is as big as the structure it is given: a response's content, a
        # document, a notebook; a type annotation, a schema or a settings tree is small
        if _payload_arguments(caller, callee, call, inner.driver, constructs):
            return strength, traits - {"walk"}
        return min(strength, WEAK), traits - {"walk", "per-element"}
    return strength, traits


def _driving_arguments(callee: FunctionSummary, call: CallFact, driver: Optional[FrozenSet[str]],
                       constructs: bool) -> Optional[List[Ref]]:
    """What this call gives for the parameters the callee's work walks (its driver), or None when that
    is not known (the receiver's own state, a default value, ``*args``)."""
    if driver is None:
        return None
    bound = _bound(callee)
    given: List[Ref] = []
    for index, param in enumerate(callee.params):
        if not derived_names(callee, [param]).intersection(driver):
            continue
        if bound and index == 0:
            return None  # the loop walks the object's own state
        ref = _argument_given(callee, call, index, param, bound, constructs)
        if ref is None:
            return None  # the default value, or something ``*args``/``**kwargs`` hold
        given.append(ref)
    return given or None


def _small_arguments(callee: FunctionSummary, call: CallFact, driver: Optional[FrozenSet[str]],
                     constructs: bool) -> bool:
    """Every argument this call gives for the parameters the callee's work walks is one small value:
    a literal, or a name such as ``charset``, ``bar_format`` or ``port``."""
    given = _driving_arguments(callee, call, driver, constructs)
    return given is not None and all(_small_value(ref) for ref in given)


def _payload_arguments(caller: FunctionSummary, callee: FunctionSummary, call: CallFact,
                       driver: Optional[FrozenSet[str]], constructs: bool) -> bool:
    """An argument this call gives for the parameters the callee walks is a whole document: named as
    one (``response_content``, ``body``, ``notebook``), or decoded from one just before (``data =
    json.loads(response.data)``)."""
    for ref in _driving_arguments(callee, call, driver, constructs) or ():
        word = _root_word(ref.raw if ref.kind in ("name", "call") else ref.text)
        if word in WALKED_PAYLOAD_NAMES or word.rsplit("_", 1)[-1] in WALKED_PAYLOAD_NAMES:
            return True
        decoded = ref.kind == "name" and any(
            value.kind == "call" and value.raw.rsplit(".", 1)[-1] in DECODING_CALLS
            for value in caller.assigns.get(ref.raw, ()))
        if decoded or (ref.kind == "call" and ref.raw.rsplit(".", 1)[-1] in DECODING_CALLS):
            return True
    return False


def _small_value(ref: Ref) -> bool:
    if ref.kind == "other":
        text = ref.text.strip()
        number = text.lstrip("-").replace(".", "", 1).isdigit()
        return (bool(text) and text[0] in "'\"") or number or text in ("True", "False")
    if ref.kind != "name":
        return False
    word = _root_word(ref.raw)
    return word in SMALL_VALUE_NAMES or word.rsplit("_", 1)[-1] in SMALL_VALUE_NAMES


def _bound(callee: FunctionSummary) -> bool:
    """A method whose first parameter is the receiver (``self``, ``cls``)."""
    return bool(callee.class_name) and bool(callee.params) and callee.params[0] in ("self", "cls")


def _argument_given(callee: FunctionSummary, call: CallFact, index: int, param: str, bound: bool,
                    constructs: bool) -> Optional[Ref]:
    """What ``call`` passes for the callee's parameter number ``index`` (by keyword or position), or None."""
    position = index - 1 if bound and (constructs or "." in call.raw) else index
    return dict(call.keywords).get(param) or (
        call.args[position] if 0 <= position < len(call.args) and position < callee.positional else None)


def _translate_driver(callee: FunctionSummary, call: CallFact, driver: Optional[FrozenSet[str]],
                      constructs: bool) -> Optional[FrozenSet[str]]:
    """The callee's driver in the caller's names: the arguments given for the parameters it comes from."""
    if driver is None:
        return None
    bound = _bound(callee)
    roots: Set[str] = set()
    for index, param in enumerate(callee.params):
        if bound and index == 0:
            # the receiver is the data when the loop walks its state (``for x in self.items``); values
            # merely built with it (``cls(text)``) do not make it so
            if param in driver and not constructs and "." in call.raw:
                roots.add(call.raw.split(".", 1)[0])
            continue
        if not derived_names(callee, [param]).intersection(driver):
            continue
        ref = _argument_given(callee, call, index, param, bound, constructs)
        if ref is None:
            if call.star_args:
                return None
            continue  # the default value: the same for every call
        roots.update(n for n in _IDENTIFIER.findall(ref.text)[:1])
    return frozenset(roots)


def _ruled_out(caller: FunctionSummary, callee: FunctionSummary, call: CallFact,
               constructs: bool) -> FrozenSet[Tuple[str, bool]]:
    """The branches of the callee that this call's arguments rule out: ``validate(model, errors)`` with
    ``errors = {}`` never takes the ``else`` of ``if errors is not None:``; a parameter left to its
    default None never takes ``if p is not None:``."""
    guarded = {c.guard[0] for c in callee.calls if c.guard is not None}
    if not guarded or call.star_args:
        return frozenset()
    bound = _bound(callee)
    out: Set[Tuple[str, bool]] = set()
    for index, param in enumerate(callee.params):
        if param not in guarded:
            continue
        ref = _argument_given(callee, call, index, param, bound, constructs)
        if ref is None:
            default = callee.defaults.get(param)
            if default is not None and default.is_none:
                out.add((param, False))  # left to None: the branches for a value never run
        elif ref.is_none:
            out.add((param, False))
        elif _not_none(caller, ref):
            out.add((param, True))  # given a value: the branches for None never run
    return frozenset(out)


def _not_none(caller: FunctionSummary, ref: Ref) -> bool:
    """A value that is surely not None: a display (``{}``, ``[x]``), a literal, a lambda, or a local name
    only ever assigned one of those."""
    if ref.kind in ("list", "lambda"):
        return True
    if ref.kind == "other":
        text = ref.text.strip()
        return not ref.is_none and bool(text) and (text[0] in "'\"" or text.lstrip("-").replace(".", "", 1).isdigit()
                                                    or text in ("True", "False") or text[:2] in ("f'", 'f"'))
    if ref.kind == "name" and "." not in ref.raw and ref.raw not in caller.params:
        assigned = caller.assigns.get(ref.raw, ())
        return bool(assigned) and all(value.kind == "list" for value in assigned)
    return False


def _class_constant(module: ModuleSummary, function: FunctionSummary, name: str) -> Optional[int]:
    """``self.ATTEMPTS``, ``cls.ATTEMPTS`` or ``Client.ATTEMPTS``: an integer the class body assigns once."""
    owner, attribute = name.split(".", 1)
    klass = module.classes.get(function.class_name) if owner in ("self", "cls") else module.classes.get(owner)
    values = klass.attrs.get(attribute, []) if klass is not None else []
    if len(values) != 1 or values[0].scope:
        return None
    text = values[0].value.text.replace("_", "")
    return int(text) if text.isdigit() else None


def _structural(loop: LoopFact) -> bool:
    """A loop over the program's own structure (its options, fields, handlers, columns), not over data."""
    if any(_names_structure_item(target) for target in loop.targets):
        return True
    ref = loop.iter_ref
    for _ in range(4):
        if ref is None:
            return False
        if ref.kind == "call" and ref.raw in ("sorted", "list", "tuple", "set", "reversed", "enumerate") and ref.args:
            ref = ref.args[0]
        elif ref.kind == "call" and ref.raw == "zip" and ref.args:
            # ``zip(self._fields, values)`` stops at its shortest argument: structural if any one is
            return any(_structural(replace(loop, iter_ref=arg)) for arg in ref.args)
        elif ref.kind == "call" and ref.raw.rsplit(".", 1)[-1] in ("items", "keys", "values", "split", "splitlines") \
                and "." in ref.raw:
            # ``headers.items()``; ``custom_headers_env.split("\n")``: the pieces of one setting
            ref = Ref("name", ref.raw.rsplit(".", 1)[0])
        elif ref.kind == "element" and ref.args:
            ref = ref.args[0]  # components[1:]
        else:
            break
    if ref is None or ref.kind not in ("name", "member"):
        return False
    # ``self.meta_fields_to_embed``, ``_source_id_meta_fields``: a name that says it holds fields or options
    words = ref.raw.rsplit(".", 1)[-1].lower().split("_")
    return any(word in STRUCTURE_NAMES for word in words)


def _names_structure_item(target: str) -> bool:
    """``component_name``, ``column``, ``field``: a name for one item of the program's structure, or for
    something of one.  Not ``column_values``: a plural head says the element is itself a collection (a
    row of values, one per column), not one column."""
    words = [word for word in target.lower().split("_") if word]
    if not words or (len(words) > 1 and words[-1].endswith("s")):
        return False
    return any(word in STRUCTURE_ITEMS for word in words)


def _given_payload(call: CallFact) -> bool:
    """An argument named like a whole payload (``text``, ``body``, ``self.document``, ``resp.content``)."""
    for ref in list(call.args) + [value for _, value in call.keywords]:
        if ref.kind in ("name", "call") and ref.raw.rsplit(".", 1)[-1].lstrip("_").lower() in PAYLOAD_NAMES:
            return True
    return False


def _calls_back(call: CallFact) -> bool:
    """The library call runs per item of an iterator: it is given Python code to call for each one (a
    ``key=``/``cmp=``, a lambda) or consumes an iterator (``sum(itertools.repeat(1))``, ``max(map(f, xs))``).
    An iterator that maps C code over the items (``map((1).__lshift__, bits)``, ``map(len, xs)``) runs no
    Python per item: it is one C loop, like the call itself."""
    return any(k in ("key", "cmp") and not _c_callable(v) for k, v in call.keywords) or any(
        a.kind == "lambda" or (a.kind == "call" and (a.raw.startswith("itertools.") or (
            a.raw in ITERATOR_CALLS and not (a.raw in ("map", "filter") and a.args and _c_callable(a.args[0])))))
        for a in call.args)


# Builtins and ``operator`` functions: passing one to ``map``/``sorted`` runs C per item, not Python.
C_CALLABLES = frozenset({
    "len", "str", "int", "float", "bool", "abs", "ord", "chr", "hash", "repr", "tuple", "list", "set", "frozenset",
    "bytes", "min", "max", "sum", "round", "id", "type", "isinstance", "callable", "sorted", "reversed",
    "add", "sub", "mul", "truediv", "floordiv", "mod", "neg", "or_", "and_", "xor", "not_", "eq", "ne", "lt", "le",
    "gt", "ge", "lshift", "rshift", "getitem", "itemgetter", "attrgetter", "methodcaller", "concat", "contains",
})


def _c_callable(ref: Ref) -> bool:
    """``len``, ``operator.itemgetter(1)``, ``str.lower``, ``(1).__lshift__``: a callable written in C."""
    text = ref.raw if ref.kind in ("name", "call") and ref.raw else ref.text
    names = _IDENTIFIER.findall(text)
    if not names:
        return False
    last = ref.raw.rsplit(".", 1)[-1] if ref.kind == "call" else names[-1]  # itemgetter(1) makes a C callable
    if last.startswith("__") and last.endswith("__"):
        return True  # ``(1).__lshift__``, ``str.__len__``
    if len(names) == 2 and names[0] in ("str", "bytes", "int", "float", "dict", "list"):
        return True  # ``str.lower``
    return last in C_CALLABLES and (len(names) == 1 or names[0] in ("operator", "builtins") or ref.kind == "call")


def _dispatch(call: CallFact) -> bool:
    """A call of an unknown callable that is data: ``fn(*args)``, ``item.fn(x)``, ``self._target()``."""
    last = call.raw.rsplit(".", 1)[-1] if call.raw else call.method
    return last in CALLABLE_NAMES or (call.star_args and bool(call.raw) and "." not in call.raw)


# Parameters through which a caller asks to be told of each result.
NOTIFY_NAMES = frozenset({"callback", "_callback", "cb", "progress", "progress_callback", "on_result", "on_done",
                          "on_progress", "report"})


def _notifies(function: FunctionSummary, call: CallFact) -> bool:
    """``callback(host, result)`` on a callback parameter: the caller's hook, told of each result the
    function produced.  The function's own work is what it does to produce them; unlike a job loop that
    runs whatever callable each job names, the hook is not what the function is for."""
    return call.raw in function.params and call.raw in NOTIFY_NAMES and not call.star_args


def _non_blocking(call: CallFact) -> bool:
    """``get(block=False)``, ``get(False)``, ``acquire(blocking=False)``, ``get(timeout=0)``: a call that never waits."""
    for keyword, value in call.keywords:
        if keyword in ("block", "blocking") and value.text == "False":
            return True
        if keyword == "timeout" and value.text in ("0", "0.0"):
            return True
    return call.method in ("get", "acquire", "put") and bool(call.args) and call.args[0].text == "False"


def _root_word(text: str) -> str:
    """The last name of an iterable's text, without underscores: ``self._port`` -> ``port``,
    ``str(port)`` -> ``port``, ``host.lower()`` -> ``host``."""
    words = [w for w in _IDENTIFIER.findall(text) if w not in ("self", "cls", "str", "lower", "upper", "strip")]
    return words[-1].strip("_").lower() if words else ""


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _join(words: List[str]) -> str:
    return words[0] if len(words) == 1 else "%s and %s" % (", ".join(words[:-1]), words[-1])
