"""The value analysis: what each name, attribute, parameter and container element can hold.

A flow-insensitive, demand-driven points-to analysis over the module summaries
(the idea of PyCG's assignment graph, evaluated lazily and memoised the way
pyright's type evaluator answers "what is this expression" on demand):

* every assignment of a name or attribute counts, in every branch and method:
  a name holds the *union* of what was assigned to it;
* a parameter holds what its callers pass (found through an index of calls by
  name, resolved only when asked), its default value, and an instance of its
  annotation; the callers include the APIs that forward a callable's arguments
  (``Thread(target=f, args=(x,))``, ``pool.submit(f, x)``, ``partial(f, x)``);
* ``self.x`` holds every value assigned to ``x`` in any method, each evaluated
  in the method that assigned it (so ``self.w = w`` in ``__init__`` follows the
  constructor's callers); a dataclass field holds the constructor's arguments;
* a call holds what the callee returns (or yields, for a ``@contextmanager``);
  a tuple unpacking takes the matching item; a loop variable, ``q.get()`` and
  ``d[k]`` take the elements put into the container;
* ``self.POOL`` in a base class also holds the subclasses' overrides.

Values are :class:`Resolved` objects: a project function (possibly bound), a
class, an instance (from one allocation site), a module, an executor, a
``functools.partial``, a tuple of values, or a name outside the project.  Cycles
are cut (a value under evaluation contributes nothing to itself) and every set is
capped, so the cost stays linear-ish in the size of what is asked for.
"""

from __future__ import annotations

import builtins
import sys
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..knowledge import ExecutorEntry
from .model import CallFact, ClassSummary, FunctionSummary, ModuleSummary, Ref

BUILTIN_NAMES = frozenset(dir(builtins))
MAX_VALUES = 16  # values kept per question
MAX_DEPTH = 40  # nested questions before giving up (deep chains of aliases)
MAX_CALLERS = 64  # call sites followed per function
CONTEXT_MANAGER_DECORATORS = frozenset({"contextmanager", "asynccontextmanager"})
STATIC_DECORATORS = frozenset({"staticmethod"})
# ``q.get()`` and friends take an element out of the container they are called on.
TAKE_METHODS = frozenset({"get", "get_nowait", "pop", "popleft", "popitem", "copy"})
# Calls that run a callable with the arguments that follow it (the callable's callers in disguise).
FORWARDING_KEYWORDS = ("target", "function", "fn", "func", "callback")
MAP_METHODS = frozenset({"map", "imap", "imap_unordered", "map_async"})
FORWARDING_APIS = ("Thread", "Timer", "Process", "submit", "to_thread", "run_in_executor", "partial", "apply_async",
                   "apply", "start_new_thread", "map", "imap", "imap_unordered", "starmap", "map_async",
                   "starmap_async")
# Index key of calls under other names that hand over a ``target=`` (no call's name has a space).
TARGET_KEYWORD_CALLS = "target keyword"
STARMAP_METHODS = frozenset({"starmap", "starmap_async"})

try:
    STDLIB_MODULES = frozenset(sys.stdlib_module_names)  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - Python 3.9
    STDLIB_MODULES = frozenset({
        "abc", "argparse", "array", "ast", "asyncio", "base64", "binascii", "bisect", "builtins", "bz2",
        "calendar", "collections", "concurrent", "contextlib", "copy", "csv", "ctypes", "dataclasses",
        "datetime", "decimal", "difflib", "email", "enum", "fnmatch", "fractions", "functools", "gc", "glob",
        "gzip", "hashlib", "heapq", "hmac", "html", "http", "importlib", "inspect", "io", "ipaddress",
        "itertools", "json", "logging", "lzma", "math", "mmap", "multiprocessing", "operator", "os", "pathlib",
        "pickle", "platform", "queue", "random", "re", "select", "selectors", "shutil", "signal", "socket",
        "socketserver", "sqlite3", "ssl", "statistics", "string", "struct", "subprocess", "sys", "tarfile",
        "tempfile", "textwrap", "threading", "time", "timeit", "tokenize", "traceback", "types", "typing",
        "unicodedata", "urllib", "uuid", "warnings", "weakref", "xml", "zipfile", "zlib", "_thread",
    })


@dataclass(frozen=True)
class Resolved:
    """One value an expression can hold.

    kind: ``function`` | ``class`` | ``instance`` | ``module`` | ``executor-method`` |
    ``external`` | ``external-instance`` | ``partial`` | ``sequence`` | ``generator`` | ``unknown``
    """

    kind: str
    module: Optional[ModuleSummary] = None
    function: Optional[FunctionSummary] = None
    klass: Optional[ClassSummary] = None
    name: str = ""  # external qualified name, executor method name, module name, or the unknown's reason
    executor: Optional[ExecutorEntry] = None
    inner: Optional["Resolved"] = None  # for partial: the wrapped callable
    bound: bool = False  # a method taken from an instance: its first parameter is already filled
    exact: bool = False  # an instance from a constructor call: its class is known exactly (not a subclass)
    items: Tuple[Tuple["Resolved", ...], ...] = ()  # sequence: the values of each item
    origin: str = ""  # allocation site of an instance: where containers' elements are looked up
    # the constructor call of an exact instance (module, scope, call): its arguments are what this
    # object's attributes hold, not every caller's (one level of object sensitivity)
    ctor: Optional[tuple] = field(default=None, compare=False)
    # an executor made in a branch that runs only when the GIL is disabled (its threads run in parallel)
    gil_off: bool = field(default=False, compare=False)
    # an executor made with one worker (``ThreadPoolExecutor(max_workers=1)``): serial by choice
    single: bool = field(default=False, compare=False)

    @property
    def is_unknown(self) -> bool:
        return self.kind == "unknown"

    @property
    def key(self) -> tuple:
        return (self.kind, self.module.path if self.module else "", self.function.qualname if self.function else "",
                self.klass.qualname if self.klass else "", self.name, self.bound, self.origin,
                self.executor.name if self.executor is not None else "",
                self.inner.key if self.inner is not None else (), self.gil_off, self.single)


UNKNOWN = Resolved("unknown")

# The order in which a single answer is chosen from a set (the most specific first).
_PREFERENCE = {"function": 0, "partial": 1, "instance": 2, "class": 3, "executor-method": 4, "module": 5,
               "generator": 6, "sequence": 7, "external-instance": 8, "external": 9, "unknown": 10}


def best(values: Sequence[Resolved]) -> Resolved:
    """The single most specific value (for callers that want one answer)."""
    known = [v for v in values if not v.is_unknown]
    if not known:
        return values[0] if values else UNKNOWN
    return min(known, key=lambda v: _PREFERENCE.get(v.kind, 99))


def _union(groups: Iterable[Iterable[Resolved]]) -> List[Resolved]:
    seen: Dict[tuple, Resolved] = {}
    for group in groups:
        for value in group:
            if value.key not in seen:
                seen[value.key] = value
                if len(seen) >= MAX_VALUES:
                    return list(seen.values())
    return list(seen.values())


def _known(values: List[Resolved]) -> List[Resolved]:
    return [v for v in values if not v.is_unknown]


Scope = Optional[FunctionSummary]


class ValueAnalysis:
    """Answers "what can this hold?" over a :class:`~gillint.analysis.project.Project`'s summaries."""

    # Provided by Project.
    modules: Dict[str, ModuleSummary]
    kb: object

    def _init_values(self) -> None:
        self._memo: Dict[tuple, List[Resolved]] = {}
        self._active: set = set()
        self._following: set = set()  # imported containers being followed to their defining module
        self._depth = 0
        self._calls_by_name: Dict[str, List[Tuple[ModuleSummary, FunctionSummary, CallFact]]] = {}
        self._classes_by_base: Dict[str, List[Tuple[ModuleSummary, ClassSummary]]] = {}
        # decorated functions by the last name of each decorator (``@asyncthread``, ``@VisiData.api``)
        self._decorated_by: Dict[str, List[Tuple[ModuleSummary, FunctionSummary, str]]] = {}
        # the same, for ``@Owner.hook`` decorators, by the decorated function's own name
        self._decorated_named: Dict[str, List[Tuple[ModuleSummary, FunctionSummary, str]]] = {}
        self._indexed: set = set()
        # >0 while looking for callers: only the project's own modules are read, never libraries'.  Finding
        # who calls a function must not summarise every installed package a candidate call mentions.
        self._loaded_only = 0

    # ------------------------------------------------------------------ plumbing
    def _ask(self, key: tuple, compute) -> List[Resolved]:  # type: ignore[no-untyped-def]
        """Answer a question once.  A question met again while it is being answered (a cycle: a parameter
        whose callers pass it back) contributes nothing to itself; the answer is kept all the same, so
        each question is answered once per run and the analysis stays linear in what is asked."""
        # answers found while only loaded modules may be read (looking for callers) can be partial:
        # they are kept apart from the complete ones
        key = key + (self._loaded_only > 0,)
        found = self._memo.get(key)
        if found is not None:
            return found
        if key in self._active or self._depth > MAX_DEPTH:
            return []
        self._active.add(key)
        self._depth += 1
        try:
            result = compute()
        finally:
            self._depth -= 1
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _index(self) -> None:
        """Calls by the last part of their name and classes by their bases' names, over the loaded modules."""
        for summary in list(self.modules.values()):
            if summary.path in self._indexed:
                continue
            self._indexed.add(summary.path)
            for function in summary.functions.values():
                for call in function.calls:
                    if call.args or call.keywords:
                        name = call.raw.rsplit(".", 1)[-1] if call.raw else call.method
                        if name:
                            self._calls_by_name.setdefault(name, []).append((summary, function, call))
                        if name not in FORWARDING_APIS and any(k == "target" for k, _ in call.keywords):
                            # ``ForkProcess(target=run, args=(self,))``: a start API under a name of the
                            # project's own (an alias, a context's Process) still forwards its args
                            self._calls_by_name.setdefault(TARGET_KEYWORD_CALLS, []).append((summary, function, call))
                for decorator in function.decorators:
                    self._decorated_by.setdefault(decorator.rsplit(".", 1)[-1], []).append(
                        (summary, function, decorator))
                    if "." in decorator:
                        self._decorated_named.setdefault(function.name, []).append((summary, function, decorator))
            for klass in summary.classes.values():
                for base in klass.bases:
                    self._classes_by_base.setdefault(base.rsplit(".", 1)[-1], []).append((summary, klass))

    @staticmethod
    def _scope(function: Scope) -> Scope:
        return None if function is None or function.qualname == ModuleSummary.MODULE_SCOPE else function

    def callees(self, module: ModuleSummary, function: Scope, call: CallFact) -> List[Resolved]:
        """What the called expression can be: a dotted name, or a computed callee (``make_pool().submit``)."""
        if call.raw:
            return self.values(module, function, call.raw)
        if call.func is not None:
            return self.ref_values(module, function, call.func)
        return [Resolved("unknown", name="a computed callee")]

    # ------------------------------------------------------------------ names
    def values(self, module: ModuleSummary, function: Scope, raw: str) -> List[Resolved]:
        """Every value the dotted name ``raw`` can hold where it is written."""
        function = self._scope(function)
        if not raw:
            return [UNKNOWN]
        key = ("name", module.path, function.qualname if function else "", raw)
        return self._ask(key, lambda: self._name_values(module, function, raw)) or [
            Resolved("unknown", name="%s: no value found" % raw)]

    def _name_values(self, module: ModuleSummary, function: Scope, raw: str) -> List[Resolved]:
        head, *rest = raw.split(".")
        if head == "super" and function is not None and function.class_name:
            return self._super(module, function, rest)
        current = self.lookup(module, function, head)
        for attribute in rest:
            current = _union(self.member(value, attribute) for value in current)
            if not _known(current):
                return current[:1] or [Resolved("unknown", name="attribute %s" % attribute)]
        return current

    def _super(self, module: ModuleSummary, function: FunctionSummary, rest: List[str]) -> List[Resolved]:
        klass = module.classes.get(function.class_name)
        if klass is None:
            return [UNKNOWN]
        if not rest:
            return [Resolved("instance", module, klass=klass)]
        for base_module, base in self.bases(module, klass):
            found = self.member(Resolved("instance", base_module, klass=base), rest[0], own_only=True)
            if _known(found):
                return self._walk(found, rest[1:])
        external = self.external_bases(module, klass)
        if external:
            return self._walk([Resolved("external", name=external[0])], rest)
        # never the class's own method: super() looks past it (mixins, unknown bases)
        return [Resolved("unknown", name="super().%s of %s" % (rest[0], klass.name))]

    def _walk(self, current: List[Resolved], attributes: Sequence[str]) -> List[Resolved]:
        for attribute in attributes:
            current = _union(self.member(value, attribute) for value in current)
        return current

    def lookup(self, module: ModuleSummary, function: Scope, name: str) -> List[Resolved]:
        scope = function
        while scope is not None and scope.qualname != ModuleSummary.MODULE_SCOPE:
            if scope.class_name and name in ("self", "cls") and scope.params[:1] == (name,):
                klass = module.classes.get(scope.class_name)
                if klass is not None:
                    # "self": the receiver may be any subclass, so its overrides count too
                    return [Resolved("instance" if name == "self" else "class", module, klass=klass, origin="self")]
            if name in scope.local_defs:
                return [Resolved("function", module, module.functions[scope.local_defs[name]])]
            local_class = module.classes.get("%s.%s" % (scope.qualname, name))
            if local_class is not None:
                return [Resolved("class", module, klass=local_class)]
            found: List[List[Resolved]] = []
            if name in scope.assigns:
                found.extend(self.ref_values(module, scope, ref) for ref in scope.assigns[name])
            if name in scope.params:
                found.append(self.param_values(module, scope, name))
            if found:
                return _union(found)
            scope = module.functions.get(scope.parent) if scope.parent else None
        return self.module_member(module, name)

    def module_member(self, module: ModuleSummary, name: str) -> List[Resolved]:
        key = ("member", module.path, name)
        return self._ask(key, lambda: self._module_member(module, name)) or [
            Resolved("unknown", name="%s in %s" % (name, module.module))]

    def _module_member(self, module: ModuleSummary, name: str) -> List[Resolved]:
        found: List[List[Resolved]] = []
        if name in module.functions and name != ModuleSummary.MODULE_SCOPE:
            found.append([Resolved("function", module, module.functions[name])])
        if name in module.classes:
            found.append([Resolved("class", module, klass=module.classes[name])])
        if name in module.assigns:
            found.extend(self.ref_values(module, None, ref) for ref in module.assigns[name])
        if name in module.imports:
            bindings = [module.imports[name]] + list(module.import_alternatives.get(name, ()))
            compiled = [b for b in bindings if self._accelerated(b)] if len(bindings) > 1 else []
            if compiled:
                # ``try: from ._speedups import X`` / ``except ImportError: from ._pure import X`` with the
                # accelerator built: the pure-Python fallback is not what runs
                return [Resolved("external", name=compiled[0])]
            found.extend(self.qualified(binding) for binding in bindings)
        if found:
            return _union(found)
        submodule = self.module("%s.%s" % (module.module, name)) if module.is_package else None  # type: ignore[attr-defined]
        if submodule is not None:
            return [Resolved("module", submodule, name=submodule.module)]
        for star in module.star_imports:
            star_module = self.module(star)  # type: ignore[attr-defined]
            if star_module is not None and star_module is not module:
                values = _known(self.module_member(star_module, name))
                if values:
                    return values
        if name in BUILTIN_NAMES:
            return [Resolved("external", name=name)]
        return [Resolved("unknown", name="%s is not defined in %s" % (name, module.module))]

    def _accelerated(self, qualified: str) -> bool:
        """A compiled extension module, or a Python module that imports its work from one
        (``google_crc32c.cext``, a thin wrapper around ``google_crc32c._crc32c``)."""
        if self.compiled(qualified):  # type: ignore[attr-defined]
            return True
        module, rest = self.split_module(qualified)  # type: ignore[attr-defined]
        if module is None or len(rest) > 1:
            return False
        return any(self.compiled(target) for target in module.imports.values())  # type: ignore[attr-defined]

    def qualified(self, qualified: str) -> List[Resolved]:
        """A fully qualified name: a project symbol if a project module holds it, else external."""
        if self.describes(qualified):
            return [self.external(qualified)]
        summary, rest = self.split_module(qualified)  # type: ignore[attr-defined]
        if summary is None:
            return [self.external(qualified)]
        current = [Resolved("module", summary, name=summary.module)]
        return self._walk(current, rest)

    def describes(self, qualified: str) -> bool:
        """Whether the knowledge base describes this name of the standard library or of an installed
        package: then no module hides it (CPython's own ``Lib/``, a vendored copy with the same name),
        and the package's source is not followed."""
        top = qualified.split(".", 1)[0]
        if top not in STDLIB_MODULES and self.in_project(top):  # type: ignore[attr-defined]
            return False
        kb = self.kb
        return (qualified in kb.starters or qualified in kb.executors  # type: ignore[attr-defined]
                or kb.call(qualified) is not None)  # type: ignore[attr-defined]

    def external(self, name: str) -> Resolved:
        executor = self.kb.executors.get(name)  # type: ignore[attr-defined]
        if executor is not None:
            return Resolved("class", name=name, executor=executor)
        return Resolved("external", name=name)

    # ------------------------------------------------------------------ attributes
    def member(self, current: Resolved, attribute: str, own_only: bool = False) -> List[Resolved]:
        kind = current.kind
        if kind == "module" and current.module is not None:
            full = "%s.%s" % (current.module.module, attribute)
            if self.describes(full):
                return [self.external(full)]
            return self.module_member(current.module, attribute)
        if kind in ("class", "instance") and current.klass is not None and current.module is not None:
            return self._class_member(current, attribute, own_only)
        if kind == "instance" and current.executor is not None:
            return [Resolved("executor-method", name=attribute, executor=current.executor, origin=current.origin,
                             gil_off=current.gil_off, single=current.single)]
        if kind == "class" and current.executor is not None:
            return [Resolved("external", name="%s.%s" % (current.name, attribute))]
        if kind == "external":
            return [self.external("%s.%s" % (current.name, attribute))]
        if kind == "external-instance":
            return [Resolved("external", name="%s.%s" % (current.name, attribute), origin=current.origin)]
        if kind == "partial" and attribute == "func" and current.inner is not None:
            return [current.inner]
        return [Resolved("unknown", name="attribute %s of %s" % (attribute, current.name or kind))]

    def _class_member(self, current: Resolved, attribute: str, own_only: bool) -> List[Resolved]:
        module, klass = current.module, current.klass
        assert module is not None and klass is not None
        instance = current.kind == "instance"
        classes = [(module, klass)] + ([] if own_only else list(self.bases(module, klass)))
        found: List[List[Resolved]] = []
        for owner, cls in classes:
            hit = self._own_member(owner, cls, attribute, instance, current.ctor)
            if hit:
                found.append(hit)
                break
        if current.origin == "self" and not own_only:
            # ``self.POOL`` in a base class: a subclass may override it
            for sub_module, sub in self.subclasses(module, klass):
                hit = self._own_member(sub_module, sub, attribute, instance)
                if hit:
                    found.append(hit)
        if found:
            return _union(found)
        external = self.external_bases(module, klass)
        if external:
            return [Resolved("external", name="%s.%s" % (external[0], attribute))]
        registered = self._registered(module, klass, attribute, instance) if not attribute.startswith("__") else []
        if registered:
            return registered
        if instance and not attribute.startswith("__"):
            # no such attribute, but the class computes missing ones: ``git.log`` is what
            # ``Git.__getattr__`` returns (a proxy calling ``self._call_process("log", ...)``)
            for owner, cls in classes:
                if "__getattr__" in cls.methods:
                    hook = owner.functions[cls.methods["__getattr__"]]
                    computed = _known(_union(self.ref_values(owner, hook, r) for r in hook.returns))
                    if computed:
                        return computed
                    break
        return [Resolved("unknown", name="%s has no attribute %s" % (klass.name, attribute))]

    def _own_member(self, module: ModuleSummary, klass: ClassSummary, attribute: str, instance: bool,
                    ctor: Optional[tuple] = None) -> List[Resolved]:
        if attribute in klass.methods:
            function = module.functions[klass.methods[attribute]]
            static = any(d.rsplit(".", 1)[-1] in STATIC_DECORATORS for d in function.decorators)
            return [Resolved("function", module, function, klass=klass, bound=instance and not static)]
        init = module.functions.get(klass.methods["__init__"]) if "__init__" in klass.methods else None
        found: List[List[Resolved]] = []
        for assigned in klass.attrs.get(attribute, ()):
            scope = module.functions.get(assigned.scope) if assigned.scope else None
            value = assigned.value
            if (ctor is not None and scope is not None and scope is init and value.kind == "name"
                    and value.raw in init.params and value.raw not in init.assigns):
                found.append(self._constructed(init, value.raw, ctor, module))
                continue
            if instance and not assigned.scope and value.kind == "call" and value.args:
                typed = self._trait_instances(module, value)
                if typed:
                    found.append(typed)
                    continue
            found.append(self.ref_values(module, scope, value))
        if attribute in klass.fields:
            if ctor is not None and init is None:
                argument = _ref_argument(ctor[2], attribute, klass.fields.index(attribute))
                if argument is not None:
                    found.append(self.ref_values(ctor[0], ctor[1], argument))
                    return _union(found)
            found.append(self.field_values(module, klass, attribute))
        return _union(found)

    def _trait_instances(self, module: ModuleSummary, value: Ref) -> List[Resolved]:
        """``notary = Instance(sign.NotebookNotary)`` in a class body (traitlets): on an instance, the
        attribute holds an instance of that class, not the descriptor."""
        factories = [_qualified_name(v) for v in self.values(module, None, value.raw)]
        if not any(name in TRAIT_INSTANCE_FACTORIES for name in factories):
            return []
        klass_ref = value.args[0]
        if klass_ref.kind == "other" and klass_ref.text[:1] in ("'", '"'):
            classes = self.qualified(klass_ref.text.strip("'\""))
        else:
            classes = self.ref_values(module, None, klass_ref)
        made = []
        for found in classes:
            if found.kind == "class" and found.klass is not None:
                made.append(Resolved("instance", found.module, klass=found.klass))
            elif found.kind == "external":
                made.append(Resolved("external-instance", name=found.name))
        return made

    def _constructed(self, init: FunctionSummary, param: str, ctor: tuple, module: ModuleSummary) -> List[Resolved]:
        """What one constructor call passes for ``param`` of ``__init__`` (or its default)."""
        caller_module, caller, call = ctor
        position = init.params.index(param)
        argument = _ref_argument(call, param, position - 1 if position < init.positional else -1)
        if argument is not None:
            return self.ref_values(caller_module, caller, argument)
        default = init.defaults.get(param)
        annotation = init.annotations.get(param)
        found = [self.ref_values(module, None, ref) for ref in (default, annotation) if ref is not None and not ref.is_none]
        return _union(found) or [Resolved("unknown", name="%s is not passed" % param)]

    def field_values(self, module: ModuleSummary, klass: ClassSummary, name: str) -> List[Resolved]:
        """A dataclass-style field: its annotation's type and what the constructor's callers pass."""
        found: List[List[Resolved]] = []
        annotation = klass.field_types.get(name)
        if annotation is not None:
            found.append(_known(self.ref_values(module, None, annotation)))
        if "__init__" not in klass.methods:
            position = klass.fields.index(name)
            for caller_module, caller, call in self._class_calls(module, klass):
                argument = _argument_for(call, name, position, 0)
                if argument is not None:
                    found.append(self.ref_values(caller_module, caller, argument))
        return _union(found)

    def _class_calls(self, module: ModuleSummary, klass: ClassSummary) -> List[Tuple[ModuleSummary, Scope, CallFact]]:
        """Calls that construct ``klass`` (``Job(tokenizer, text)``), among the loaded modules."""
        self._loaded_only += 1
        try:
            return self._constructions(module, klass)
        finally:
            self._loaded_only -= 1

    def _constructions(self, module: ModuleSummary, klass: ClassSummary) -> List[Tuple[ModuleSummary, Scope, CallFact]]:
        self._index()
        found = []
        for caller_module, caller, call in self._calls_by_name.get(klass.name, ())[:MAX_CALLERS]:
            for callee in self.callees(caller_module, caller, call):
                if callee.kind == "class" and callee.klass is klass:
                    found.append((caller_module, self._scope(caller), call))
                    break
        return found

    # ------------------------------------------------------------------ classes
    def bases(self, module: ModuleSummary, klass: ClassSummary) -> Iterator[Tuple[ModuleSummary, ClassSummary]]:
        """Project base classes in method resolution order (C3, as Python computes it), each once:
        with ``class C(A, AsyncMixin)`` and ``class A(Mixin)``, ``class AsyncMixin(Mixin)``, a method
        of AsyncMixin wins over Mixin's, which depth-first search would pick."""
        yield from self._linearise(module, klass, frozenset())[1:]

    def _direct_bases(self, module: ModuleSummary, klass: ClassSummary) -> List[Tuple[ModuleSummary, ClassSummary]]:
        found = []
        for base in klass.bases:
            for value in self.values(module, None, base):
                if value.kind == "class" and value.klass is not None and value.module is not None:
                    found.append((value.module, value.klass))
                    break
        return found

    def _linearise(self, module: ModuleSummary, klass: ClassSummary,
                   visiting: FrozenSet[Tuple[str, str]]) -> List[Tuple[ModuleSummary, ClassSummary]]:
        here = (module.module, klass.qualname)
        if here in visiting:
            return [(module, klass)]  # a cycle in broken code: stop here
        direct = [b for b in self._direct_bases(module, klass) if (b[0].module, b[1].qualname) != here]
        sequences = [list(self._linearise(m, k, visiting | {here})) for m, k in direct] + [list(direct)]
        result = [(module, klass)]
        ident = lambda pair: (pair[0].module, pair[1].qualname)  # noqa: E731
        while True:
            sequences = [seq for seq in sequences if seq]
            if not sequences:
                break
            head = next((seq[0] for seq in sequences
                         if not any(ident(seq[0]) in {ident(p) for p in other[1:]} for other in sequences)), None)
            if head is None:  # no consistent order (Python would refuse the class): depth first, each once
                for seq in sequences:
                    result += [p for p in seq if ident(p) not in {ident(r) for r in result}]
                break
            result.append(head)
            for seq in sequences:
                if ident(seq[0]) == ident(head):
                    seq.pop(0)
        return result

    def subclasses(self, module: ModuleSummary, klass: ClassSummary) -> List[Tuple[ModuleSummary, ClassSummary]]:
        """Project classes deriving from ``klass`` (directly or not), among the loaded modules."""
        key = ("subclasses", module.path, klass.qualname, len(self._indexed))
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._subclasses(module, klass)  # type: ignore[assignment]
        return cached  # type: ignore[return-value]

    def _subclasses(self, module: ModuleSummary, klass: ClassSummary) -> List[Tuple[ModuleSummary, ClassSummary]]:
        self._index()
        found: List[Tuple[ModuleSummary, ClassSummary]] = []
        pending = [(module, klass)]
        seen = {(module.path, klass.qualname)}
        while pending and len(found) < MAX_VALUES:
            parent_module, parent = pending.pop()
            for sub_module, sub in self._classes_by_base.get(parent.name, ()):
                if (sub_module.path, sub.qualname) in seen:
                    continue
                if any(m is parent_module and k is parent for m, k in self.bases(sub_module, sub)):
                    seen.add((sub_module.path, sub.qualname))
                    found.append((sub_module, sub))
                    pending.append((sub_module, sub))
        return found

    def external_bases(self, module: ModuleSummary, klass: ClassSummary) -> List[str]:
        """Qualified names of bases outside the project, through project bases too."""
        names = []
        for owner, cls in [(module, klass)] + list(self.bases(module, klass)):
            for base in cls.bases:
                for found in self.values(owner, None, base):
                    if found.kind in ("external", "class") and found.klass is None and found.name:
                        names.append(found.name)
        return names

    def method(self, module: ModuleSummary, klass: ClassSummary, name: str) -> Optional[Tuple[ModuleSummary, FunctionSummary]]:
        for owner, cls in [(module, klass)] + list(self.bases(module, klass)):
            if name in cls.methods:
                return owner, owner.functions[cls.methods[name]]
        return None

    # ------------------------------------------------------------------ expressions
    def ref_values(self, module: ModuleSummary, function: Scope, ref: Ref) -> List[Resolved]:
        """Every value the expression ``ref`` (written in ``function`` of ``module``) can hold."""
        function = self._scope(function)
        kind = ref.kind
        if kind == "name":
            return self.values(module, function, ref.raw)
        if kind == "lambda":
            lam = module.functions.get(ref.raw)
            return [Resolved("function", module, lam)] if lam is not None else [UNKNOWN]
        if kind == "union":
            found = _union(self.ref_values(module, function, arg) for arg in ref.args)
            if ref.raw in ("async", "sync"):
                # a branch of ``f if iscoroutinefunction(f) else None``: only functions of that kind
                found = [v for v in found if v.kind != "function" or v.function is None
                         or v.function.is_async == (ref.raw == "async")]
            return found
        key = ("ref", module.path, function.qualname if function else "", id(ref))
        return self._ask(key, lambda: self._ref_values(module, function, ref)) or [
            Resolved("unknown", name="no value for %s" % ref.text)]

    def _ref_values(self, module: ModuleSummary, function: Scope, ref: Ref) -> List[Resolved]:
        kind = ref.kind
        if kind == "call":
            return self._call_values(module, function, ref)
        if kind == "member" and ref.args:
            owners = self.ref_values(module, function, ref.args[0])
            return _union(self.member(owner, ref.raw) for owner in owners if not owner.is_unknown) or owners[:1]
        if kind == "getattr" and len(ref.args) == 2:
            names = [ref.args[1].raw] if ref.args[1].kind == "name" else []
            attribute = next((module.strings[n] for n in names if n in module.strings), "")
            owners = self.ref_values(module, function, ref.args[0])
            if not attribute:
                # ``getattr(client.responses, endpoint)``: some name of a library object; what the knowledge
                # base says of every name under it (``openai.*``) holds for this one too
                libraries = [Resolved("external", name="%s.*" % owner.name) for owner in owners
                             if owner.kind in ("external", "external-instance") and owner.name]
                return libraries or [Resolved("unknown", name="getattr with a computed name")]
            return _union(self.member(owner, attribute) for owner in owners if not owner.is_unknown)
        if kind == "list":
            items = tuple(tuple(self.ref_values(module, function, arg)) for arg in ref.args)
            return [Resolved("sequence", items=items, name="dict" if ref.raw == "dict" else "",
                             origin="%s|%s" % (module.path, ref.text))]
        if kind == "item" and ref.args:
            index = int(ref.raw) if ref.raw.isdigit() else 0
            found: List[List[Resolved]] = []
            for value in self.ref_values(module, function, ref.args[0]):
                if value.kind == "sequence" and value.name != "dict" and index < len(value.items):
                    found.append(list(value.items[index]))
            return _union(found) or [Resolved("unknown", name="item %d of %s" % (index, ref.text))]
        if kind == "element" and ref.args:
            return self.elements(module, function, ref.args[0]) or [Resolved("unknown", name="element of %s" % ref.text)]
        return [Resolved("unknown", name="not a name: %s" % ref.text)]

    def _call_values(self, module: ModuleSummary, function: Scope, ref: Ref) -> List[Resolved]:
        head, _, method = ref.raw.rpartition(".")
        if method in TAKE_METHODS and head:
            taken = _known(self.elements(module, function, Ref("name", head, text=head)))
            if taken:
                return taken
        callees = self.values(module, function, ref.raw) if ref.raw else [UNKNOWN]
        origin = "%s|%s|%s" % (module.path, function.qualname if function else "", ref.text)
        return _union(self.call_result(module, function, callee, ref, origin) for callee in callees)

    def call_result(self, module: ModuleSummary, function: Scope, callee: Resolved, ref: Ref,
                    origin: str = "") -> List[Resolved]:
        if callee.kind == "class":
            if callee.executor is not None:
                return [Resolved("instance", name=callee.name, executor=callee.executor, origin=origin, exact=True,
                                 gil_off=ref.gil_off, single=_one_worker(ref))]
            return [Resolved("instance", callee.module, klass=callee.klass, origin=origin, exact=True,
                             ctor=(module, function, ref))]
        if callee.kind == "external":
            if callee.name == "typing.cast" and len(ref.args) == 2:
                # ``cast(TLObject, x)``: the code says what x is; an instance of a class of the project
                declared = [Resolved("instance", v.module, klass=v.klass, origin=origin)
                            for v in self.ref_values(module, function, ref.args[0])
                            if v.kind == "class" and v.klass is not None and v.executor is None]
                return declared or self.ref_values(module, function, ref.args[1])
            if callee.name == "functools.partial" and ref.args:
                inner = best(self.ref_values(module, function, ref.args[0]))
                return [Resolved("partial", inner=inner, name=ref.args[0].text)]
            if callee.name.endswith(".get_context") or callee.name == "multiprocessing.get_context":
                return [Resolved("external", name="multiprocessing")]
            return [Resolved("external-instance", name=callee.name, origin=origin)]
        if callee.kind == "function" and callee.function is not None and callee.module is not None:
            target = callee.function
            if target.yields and not target.returns or any(
                    d.rsplit(".", 1)[-1] in CONTEXT_MANAGER_DECORATORS for d in target.decorators):
                if any(d.rsplit(".", 1)[-1] in CONTEXT_MANAGER_DECORATORS for d in target.decorators):
                    return _union(self.ref_values(callee.module, target, y) for y in target.yields)
                return [Resolved("generator", callee.module, target)]
            return _union(self.ref_values(callee.module, target, returned) for returned in target.returns) or [
                Resolved("unknown", name="result of %s" % ref.raw)]
        return [Resolved("unknown", name="result of %s" % ref.raw)]

    # ------------------------------------------------------------------ containers
    def elements(self, module: ModuleSummary, function: Scope, container: Ref) -> List[Resolved]:
        """What iterating ``container`` (or taking an item out of it) gives."""
        function = self._scope(function)
        key = ("elements", module.path, function.qualname if function else "", container.kind, container.raw,
               container.text)
        return self._ask(key, lambda: self._elements(module, function, container))

    def _elements(self, module: ModuleSummary, function: Scope, container: Ref) -> List[Resolved]:
        found: List[List[Resolved]] = []
        if container.kind == "call":
            head, _, method = container.raw.rpartition(".")
            if head and method in ("items", "values", "keys"):
                values = self.elements(module, function, Ref("name", head, text=head))
                if method == "values":
                    return values
                if method == "items":
                    return [Resolved("sequence", items=((UNKNOWN,), tuple(values)))]
                return []
            if container.raw in ("sorted", "list", "tuple", "set", "reversed", "iter", "frozenset") and container.args:
                return self.elements(module, function, container.args[0])
            if container.raw == "enumerate" and container.args:
                return [Resolved("sequence", items=((UNKNOWN,), tuple(self.elements(module, function, container.args[0]))))]
            if container.raw == "zip" and container.args:
                return [Resolved("sequence", items=tuple(tuple(self.elements(module, function, a)) for a in container.args))]
        if container.kind == "list":
            return _union(self.ref_values(module, function, arg) for arg in container.args)
        if container.kind == "name":
            found.extend(self._stored(module, function, container.raw))
        for value in self.ref_values(module, function, container):
            if value.kind == "sequence":
                found.extend(list(item) for item in value.items)
            elif value.kind == "generator" and value.function is not None and value.module is not None:
                found.extend(self.ref_values(value.module, value.function, y) for y in value.function.yields)
        return _union(found)

    def _stored(self, module: ModuleSummary, function: Scope, raw: str) -> List[List[Resolved]]:
        """Values put into the container named ``raw`` (``q.put(v)``, ``xs.append(v)``, ``d[k] = v``),
        following it back through assignments and parameters to where it was filled."""
        head, _, rest = raw.partition(".")
        found: List[List[Resolved]] = []
        if head in ("self", "cls") and rest and "." not in rest and function is not None and function.class_name:
            klass = module.classes.get(function.class_name)
            if klass is None:
                return found
            for owner, cls in [(module, klass)] + list(self.bases(module, klass)):
                for stored in cls.stores.get(rest, ()):
                    scope = owner.functions.get(stored.scope) if stored.scope else None
                    found.append(self.ref_values(owner, scope, stored.value))
                for assigned in cls.attrs.get(rest, ()):
                    scope = owner.functions.get(assigned.scope) if assigned.scope else None
                    found.append(self.elements(owner, scope, assigned.value))
            return found
        if "." in raw:
            return found
        scope = function
        while scope is not None:
            if raw in scope.stores:
                found.append(_union(self.ref_values(module, scope, v) for v in scope.stores[raw]))
            if raw in scope.assigns:
                found.extend(self.elements(module, scope, v) for v in scope.assigns[raw] if v.kind != "list")
                klass = module.classes.get(scope.class_name) if scope.class_name else None
                for attribute in {_element_of_attribute(v) for v in scope.assigns[raw]} - {None}:
                    if klass is not None:
                        found.extend(self._nested_stores(module, klass, attribute))
                return found
            if raw in scope.params:
                for caller_module, caller, argument, _ in self.arguments(module, scope, raw):
                    found.append(self.elements(caller_module, caller, argument))
                return found
            scope = module.functions.get(scope.parent) if scope.parent else None
        top = module.functions.get(ModuleSummary.MODULE_SCOPE)
        if top is not None and raw in top.stores:
            found.append(_union(self.ref_values(module, None, v) for v in top.stores[raw]))
        if raw in module.imports and raw not in module.assigns:
            # ``from .registry import LINTERS``: filled where it is defined (``LINTERS[name] = Linter()``)
            defining, rest = self.split_module(module.imports[raw])  # type: ignore[attr-defined]
            key = (defining.path if defining is not None else "", tuple(rest))
            if defining is not None and defining is not module and len(rest) == 1 and key not in self._following:
                self._following.add(key)  # re-exports can import each other in a circle
                try:
                    found.extend(self._stored(defining, None, rest[0]))
                finally:
                    self._following.discard(key)
        return found

    def _nested_stores(self, module: ModuleSummary, klass: ClassSummary, attribute: str) -> List[List[Resolved]]:
        """Values put into the containers that ``self.<attribute>`` holds: ``dq = self.batches[key]``
        then ``dq.append(batch)`` in any method of the class (a dict of queues, a list of lists)."""
        found: List[List[Resolved]] = []
        for owner, cls in [(module, klass)] + list(self.bases(module, klass)):
            for qualname in cls.methods.values():
                method = owner.functions.get(qualname)
                if method is None:
                    continue
                for local, assigned in method.assigns.items():
                    if local in method.stores and any(_element_of_attribute(v) == attribute for v in assigned):
                        found.append(_union(self.ref_values(owner, method, v) for v in method.stores[local]))
        return found

    # ------------------------------------------------------------------ parameters
    def param_values(self, module: ModuleSummary, function: FunctionSummary, name: str) -> List[Resolved]:
        key = ("param", module.path, function.qualname, name)
        return self._ask(key, lambda: self._param_values(module, function, name))

    def _param_values(self, module: ModuleSummary, function: FunctionSummary, name: str) -> List[Resolved]:
        found: List[List[Resolved]] = []
        annotation = function.annotations.get(name)
        if annotation is not None:
            found.append(_known(self.ref_values(module, self._scope(module.functions.get(function.parent)), annotation)))
        default = function.defaults.get(name)
        if default is not None and not default.is_none:
            klass = module.classes.get(function.class_name) if function.class_name else None
            if klass is not None and default.kind == "name" and any(
                    not assigned.scope for assigned in klass.attrs.get(default.raw, ())):
                # ``def _send(self, buf, write=_write)`` in a class body that says ``_write = os.write``:
                # a default is evaluated in the class body, where its attributes are plain names
                found.append(_known(self.member(Resolved("class", module, klass=klass), default.raw)))
            else:
                found.append(_known(self.ref_values(module, self._scope(module.functions.get(function.parent)),
                                                    default)))
        for caller_module, caller, argument, _ in self.arguments(module, function, name):
            found.append(self.ref_values(caller_module, caller, argument))
        found.extend(self._decorated(module, function, name))
        values = _union(found)
        # an unknown parameter keeps where it is one (see param_origin): a decorator's parameter is the
        # function it wraps
        return values or [Resolved("unknown", name="%s is a parameter" % name,
                                   origin="%s%s|%s|%s" % (PARAM_ORIGIN, module.path, function.qualname, name))]

    def _decorated(self, module: ModuleSummary, function: FunctionSummary, name: str) -> List[List[Resolved]]:
        """``def asyncthread(func)`` used as ``@asyncthread``: its parameter holds each function it decorates
        (the first parameter after ``cls``/``self`` for ``@Class.api``)."""
        first = 1 if function.class_name and function.params[:1] in (("cls",), ("self",)) else 0
        if len(function.params) <= first or function.params[first] != name:
            return []
        shape = decorator_shape(function, name)
        if not shape:
            return []  # not shaped like a decorator: it returns neither a wrapper nor what it was given
        if not self._loaded_only and shape == "wraps":
            # the files that use a wrapping decorator, which triage may have left out (no thread start of
            # their own)
            for module_name in self.mentions("@" + function.name)[:MAX_CALLERS]:
                self.module(module_name)
        self._loaded_only += 1
        try:
            self._index()
            found: List[List[Resolved]] = []
            for decorated_module, decorated, decorator in self._decorated_by.get(function.name, ())[:MAX_CALLERS]:
                scope = self._scope(decorated_module.functions.get(decorated.parent) if decorated.parent else None)
                if any(v.kind == "function" and v.function is function
                       for v in self.values(decorated_module, scope, decorator)):
                    found.append([Resolved("function", decorated_module, decorated)])
            return found
        finally:
            self._loaded_only -= 1

    def _registered(self, module: ModuleSummary, klass: ClassSummary, attribute: str,
                    instance: bool) -> List[Resolved]:
        """``@VisiData.api def execAsync(vd, ...)`` where ``api`` does ``setattr(cls, func.__name__, func)``:
        the decorated function is a method of ``VisiData`` (and of its subclasses) under its own name."""
        self._index()
        owners = [klass] + [base for _, base in self.bases(module, klass)]
        found: List[Resolved] = []
        for decorated_module, decorated, decorator in self._decorated_named.get(attribute, ()):
            scope = self._scope(decorated_module.functions.get(decorated.parent) if decorated.parent else None)
            head = decorator.rsplit(".", 1)[0]
            if not any(v.kind == "class" and any(v.klass is o for o in owners)
                       for v in self.values(decorated_module, scope, head)):
                continue
            hooks = [v.function for v in self.values(decorated_module, scope, decorator)
                     if v.kind == "function" and v.function is not None]
            if any(call.raw == "setattr" for hook in hooks for call in hook.calls):
                found.append(Resolved("function", decorated_module, decorated, bound=instance))
        return found

    def arguments(self, module: ModuleSummary, function: FunctionSummary, name: str) -> List[Tuple[ModuleSummary, Scope, Ref, CallFact]]:
        """What each known caller of ``function`` passes for parameter ``name`` (and the call that passes it)."""
        if name not in function.params:
            return []
        position = function.params.index(name)
        if position >= function.positional:
            position = -1  # keyword-only
        found: List[Tuple[ModuleSummary, Scope, Ref, CallFact]] = []
        for caller_module, caller, call, shift, forwarded in self.callers(module, function):
            if forwarded is not None:
                # ``Thread(target=f, args=(a, b))``, ``pool.submit(f, a)``: the refs after the callable
                index = position - shift
                if 0 <= index < len(forwarded) and position >= 0:
                    found.append((caller_module, caller, forwarded[index], call))
                continue
            argument = _argument_for(call, name, position - shift if position >= 0 else -1, 0)
            if argument is not None:
                found.append((caller_module, caller, argument, call))
        return found

    def callers(self, module: ModuleSummary, function: FunctionSummary) -> List[Tuple[ModuleSummary, Scope, CallFact, int, Optional[Tuple[Ref, ...]]]]:
        self._loaded_only += 1
        try:
            return self._callers(module, function)
        finally:
            self._loaded_only -= 1

    def _callers(self, module: ModuleSummary, function: FunctionSummary) -> List[Tuple[ModuleSummary, Scope, CallFact, int, Optional[Tuple[Ref, ...]]]]:
        """Calls of ``function`` in the loaded modules: (module, caller, call, implicit first arguments,
        forwarded arguments when the function is handed to an API that calls it with them)."""
        key = ("callers", module.path, function.qualname)
        cached = self._memo.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        self._index()
        found: List[Tuple[ModuleSummary, Scope, CallFact, int, Optional[Tuple[Ref, ...]]]] = []
        klass = module.classes.get(function.class_name) if function.class_name else None
        names = [function.name]
        if klass is not None and function.name == "__init__":
            names = [klass.name] + [sub.name for _, sub in self.subclasses(module, klass)
                                    if "__init__" not in sub.methods] + ["__init__"]
        for name in names:
            for caller_module, caller, call in self._calls_by_name.get(name, ()):
                if not _may_see(caller_module, module):
                    continue
                for callee in self.callees(caller_module, caller, call):
                    shift = self._matches(callee, module, function, klass)
                    if shift is not None:
                        found.append((caller_module, self._scope(caller), call, shift, None))
                        break
                if len(found) >= MAX_CALLERS:
                    break
        found.extend(self._forwarders(module, function))
        self._memo[key] = found  # type: ignore[assignment]
        return found

    @staticmethod
    def _matches(callee: Resolved, module: ModuleSummary, function: FunctionSummary,
                 klass: Optional[ClassSummary]) -> Optional[int]:
        """How many leading parameters the call fills implicitly, if ``callee`` is ``function``; else None."""
        if callee.kind == "function" and callee.function is function and callee.module is module:
            return 1 if callee.bound else 0
        if (callee.kind == "class" and klass is not None and function.name == "__init__"
                and callee.klass is not None and (callee.klass is klass or function.name not in callee.klass.methods)):
            return 1  # the class itself, or a subclass that inherits this __init__
        return None

    def _forwarders(self, module: ModuleSummary, function: FunctionSummary) -> List[Tuple[ModuleSummary, Scope, CallFact, int, Optional[Tuple[Ref, ...]]]]:
        """APIs that call ``function`` with arguments given beside it: Thread(target=f, args=...),
        submit(f, *args), to_thread(f, *args), run_in_executor(ex, f, *args), partial(f, *args), map(f, xs)."""
        return self._forwarding_index().get((module.path, function.qualname), [])

    def _forwarding_index(self) -> Dict[Tuple[str, str], list]:
        """Every call of a forwarding API in the loaded modules, by the function it hands over (built
        once per set of loaded modules: each such call is resolved once, not once per function asked)."""
        self._index()
        key = ("forwarding", len(self._indexed))
        index = self._memo.get(key)
        if index is not None:
            return index  # type: ignore[return-value]
        built: Dict[Tuple[str, str], list] = {}
        self._memo[key] = built  # type: ignore[assignment]
        for name in FORWARDING_APIS + (TARGET_KEYWORD_CALLS,):
            for caller_module, caller, call in self._calls_by_name.get(name, ()):
                for position, argument in _callable_arguments(call):
                    if argument.kind not in ("name", "member"):
                        continue
                    match = next((v for v in self.ref_values(caller_module, caller, argument)
                                  if v.kind == "function" and v.function is not None and v.module is not None), None)
                    if match is None:
                        continue
                    forwarded = _forwarded(call, position)
                    if forwarded is None and call.method in MAP_METHODS and len(call.args) > position + 1:
                        forwarded = (Ref("element", args=(call.args[position + 1],), text=call.args[position + 1].text),)
                    if forwarded is not None:
                        built.setdefault((match.module.path, match.function.qualname), []).append(
                            (caller_module, self._scope(caller), call, 1 if match.bound else 0, forwarded))
                    break
        return built


# Class-body descriptors whose value, read from an instance, is an instance of their first argument.
TRAIT_INSTANCE_FACTORIES = frozenset({"traitlets.Instance", "traitlets.traitlets.Instance"})


def _qualified_name(value: Resolved) -> str:
    if value.kind == "class" and value.klass is not None and value.module is not None:
        return "%s.%s" % (value.module.module, value.klass.name)
    return value.name if value.kind == "external" else ""


def _element_of_attribute(ref: Ref) -> Optional[str]:
    """``x`` when ``ref`` takes one element out of ``self.x``: ``self.x[k]``, ``self.x.get(k)``,
    ``self.x.setdefault(k, [])``."""
    if ref.kind == "element" and ref.args and ref.args[0].kind == "name":
        name = ref.args[0].raw
    elif ref.kind == "call" and ref.raw.rsplit(".", 1)[-1] in ("get", "setdefault"):
        name = ref.raw.rsplit(".", 1)[0]
    else:
        return None
    head, _, rest = name.partition(".")
    return rest if head == "self" and rest and "." not in rest else None


def _may_see(caller: ModuleSummary, module: ModuleSummary) -> bool:
    """Whether code in ``caller`` can name things of ``module``: the same module, or an import from its
    top-level package (an instance handed over without an import is still built where one is)."""
    if caller is module:
        return True
    top = module.module.split(".", 1)[0]
    return any(q == top or q.startswith(top + ".") for q in caller.imports.values()) or (
        caller.module.split(".", 1)[0] == top and "." in module.module)


def _argument_for(call: CallFact, name: str, position: int, shift: int) -> Optional[Ref]:
    for keyword, value in call.keywords:
        if keyword == name:
            return value
    index = position + shift
    return call.args[index] if 0 <= index < len(call.args) else None


def _ref_argument(call: Ref, name: str, position: int) -> Optional[Ref]:
    """The argument of a call expression for parameter ``name`` at ``position`` (-1: keyword only)."""
    for keyword, value in call.keywords:
        if keyword == name:
            return value
    if 0 <= position < len(call.args):
        return call.args[position]
    return None


def _callable_arguments(call: CallFact) -> List[Tuple[int, Ref]]:
    """Where a call may hand over a callable: a known keyword, or one of its first positions."""
    found = [(-1, value) for keyword, value in call.keywords if keyword in FORWARDING_KEYWORDS]
    limit = 2 if call.method == "run_in_executor" else (2 if call.method in ("Thread", "Timer", "Process") else 1)
    found.extend((index, call.args[index]) for index in range(min(limit, len(call.args))))
    return found


def _forwarded(call: CallFact, position: int) -> Optional[Tuple[Ref, ...]]:
    """The arguments a forwarding API passes to the callable at ``position`` (-1: a keyword)."""
    for keyword, value in call.keywords:
        if keyword == "args" and value.kind == "list":
            return value.args
    if call.method in ("Thread", "Process") and position == 1 and len(call.args) > 3 and call.args[3].kind == "list":
        return call.args[3].args  # Thread(group, target, name, args)
    if call.method == "Timer" and len(call.args) > 2 and call.args[2].kind == "list":
        return call.args[2].args
    if call.method in ("apply_async", "apply", "start_new_thread") and len(call.args) > position + 1 >= 1:
        following = call.args[position + 1]
        return following.args if following.kind == "list" else None
    if call.method in ("submit", "to_thread", "partial", "run_in_executor") and position >= 0:
        return tuple(call.args[position + 1:])
    return None


# The constructor parameter that sets how many workers an executor has.
WORKER_COUNT_KEYWORDS = ("max_workers", "processes")


def _one_worker(ref: Ref) -> bool:
    """``ThreadPoolExecutor(max_workers=1)``, ``ThreadPool(1)``: an executor of exactly one worker."""
    counts = [value for keyword, value in ref.keywords if keyword in WORKER_COUNT_KEYWORDS]
    if not counts and ref.args:
        counts = [ref.args[0]]
    return len(counts) == 1 and counts[0].kind == "other" and counts[0].text.strip() == "1"


PARAM_ORIGIN = "param|"


def param_origin(value: Resolved) -> Optional[Tuple[str, str, str]]:
    """(module path, function qualname, parameter) of an unknown value that is a parameter, else None."""
    if not value.is_unknown or not value.origin.startswith(PARAM_ORIGIN):
        return None
    path, qualname, name = value.origin[len(PARAM_ORIGIN):].rsplit("|", 2)
    return path, qualname, name


def decorator_shape(function: FunctionSummary, param: str) -> str:
    """How ``function`` treats its parameter ``param`` when used as a decorator: "wraps" (it returns a
    function it defines in its place), "gives-back" (it returns ``param`` itself, as a registration
    hook does) or "" (neither: not a decorator of that parameter)."""
    if any(r.kind == "name" and r.raw == param for r in function.returns):
        return "gives-back"
    if any(r.kind == "name" and r.raw in function.local_defs for r in function.returns):
        return "wraps"
    return ""
