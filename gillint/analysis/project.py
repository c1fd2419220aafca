"""The project model: module summaries linked by name, and name resolution.

Resolution answers "what does this name or call refer to?" inside a function of a
module: a function or class of the project (possibly in another module, reached
through absolute or relative imports and re-exports in ``__init__``), an instance
of a project class, a known executor, or a name outside the project
(``threading.Thread``, ``re.findall``).  It never imports anything.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from ..knowledge import ExecutorEntry, KnowledgeBase
from .model import ClassSummary, FunctionSummary, ModuleSummary, Ref

BUILTIN_NAMES = frozenset(dir(builtins))
MAX_RESOLVE_STEPS = 24


@dataclass(frozen=True)
class Resolved:
    """What a name refers to.

    kind: ``function`` | ``class`` | ``instance`` | ``module`` | ``executor`` |
    ``executor-method`` | ``external`` | ``external-instance`` | ``partial`` | ``unknown``
    """

    kind: str
    module: Optional[ModuleSummary] = None
    function: Optional[FunctionSummary] = None
    klass: Optional[ClassSummary] = None
    name: str = ""  # external qualified name, executor method name, or the unknown's reason
    executor: Optional[ExecutorEntry] = None
    inner: Optional["Resolved"] = None  # for partial: the wrapped callable

    @property
    def is_unknown(self) -> bool:
        return self.kind == "unknown"


UNKNOWN = Resolved("unknown")


def module_name_for(path: Path) -> Tuple[str, bool, Path]:
    """(dotted module name, is_package, import root) of a file, by walking up __init__.py files."""
    path = path.resolve() if not path.is_absolute() else path
    is_package = path.name == "__init__.py"
    parts: List[str] = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    if is_package and not parts:
        parts = [path.parent.name]
    return ".".join(parts), is_package, directory


class Project:
    """All summaries of one run, plus lazy loading of project modules not given on the command line."""

    def __init__(self, kb: KnowledgeBase, loader: Optional[Callable[[Path], Optional[ModuleSummary]]] = None) -> None:
        self.kb = kb
        self.modules: Dict[str, ModuleSummary] = {}
        self.by_path: Dict[str, ModuleSummary] = {}
        self.roots: List[Path] = []
        self._loader = loader
        self._missing: set = set()

    # ------------------------------------------------------------ modules
    def add(self, summary: ModuleSummary, root: Optional[Path] = None) -> None:
        self.modules.setdefault(summary.module, summary)
        self.by_path[summary.path] = summary
        if root is not None and root not in self.roots:
            self.roots.append(root)

    def module(self, name: str) -> Optional[ModuleSummary]:
        """The summary of a project module, loading it from an import root if needed."""
        found = self.modules.get(name)
        if found is not None or name in self._missing or self._loader is None or not name:
            return found
        relative = Path(*name.split("."))
        for root in self.roots:
            for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
                if candidate.is_file():
                    summary = self._loader(candidate)
                    if summary is not None:
                        self.modules.setdefault(name, summary)
                        self.by_path.setdefault(summary.path, summary)
                        return summary
        self._missing.add(name)
        return None

    def split_module(self, qualified: str) -> Tuple[Optional[ModuleSummary], List[str]]:
        """``pkg.mod.func.attr`` -> (summary of pkg.mod, ["func", "attr"]), longest module first."""
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            summary = self.module(".".join(parts[:cut]))
            if summary is not None:
                return summary, parts[cut:]
        return None, parts

    def iter_functions(self) -> Iterator[Tuple[ModuleSummary, FunctionSummary]]:
        for summary in list(self.modules.values()):
            for function in summary.functions.values():
                yield summary, function

    # ------------------------------------------------------------ resolution
    def resolve(self, module: ModuleSummary, function: Optional[FunctionSummary], raw: str, _steps: int = 0) -> Resolved:
        """Resolve a dotted name as written inside ``function`` (None: module level)."""
        if not raw or _steps > MAX_RESOLVE_STEPS:
            return UNKNOWN
        head, *rest = raw.split(".")
        if head == "super" and function is not None and function.class_name:
            klass = module.classes.get(function.class_name)
            current = Resolved("instance", module, klass=klass) if klass else UNKNOWN
            # super().x: look x up in the bases only
            if klass is not None and rest:
                for base_module, base in self.bases(module, klass):
                    found = self.member(Resolved("instance", base_module, klass=base), rest[0], _steps + 1, own_only=True)
                    if not found.is_unknown:
                        return self.walk(found, rest[1:], _steps + 1)
                external = self.external_bases(module, klass)
                if external:
                    return self.walk(Resolved("external", name=external[0]), rest, _steps + 1)
                # never the class's own method: super() looks past it (mixins, unknown bases)
                return Resolved("unknown", name="super().%s of %s" % (rest[0], klass.name))
            return self.walk(current, rest, _steps + 1)
        return self.walk(self.lookup(module, function, head, _steps + 1), rest, _steps + 1)

    def walk(self, current: Resolved, attributes: Iterable[str], steps: int) -> Resolved:
        for attribute in attributes:
            current = self.member(current, attribute, steps + 1)
            if current.is_unknown:
                return current
        return current

    def lookup(self, module: ModuleSummary, function: Optional[FunctionSummary], name: str, steps: int) -> Resolved:
        scope = function
        while scope is not None and scope.qualname != ModuleSummary.MODULE_SCOPE:
            if scope.class_name and name in ("self", "cls") and scope.params[:1] == (name,):
                klass = module.classes.get(scope.class_name)
                if klass is not None:
                    return Resolved("instance" if name == "self" else "class", module, klass=klass)
            if name in scope.local_defs:
                return Resolved("function", module, module.functions[scope.local_defs[name]])
            local_class = module.classes.get("%s.%s" % (scope.qualname, name))
            if local_class is not None:
                return Resolved("class", module, klass=local_class)
            if name in scope.assigns:
                return self.resolve_ref(module, scope, scope.assigns[name], steps + 1)
            if name in scope.params:
                return Resolved("unknown", name="%s is a parameter" % name)
            scope = module.functions.get(scope.parent) if scope.parent else None
        return self.module_member(module, name, steps)

    def module_member(self, module: ModuleSummary, name: str, steps: int) -> Resolved:
        if steps > MAX_RESOLVE_STEPS:
            return UNKNOWN
        if name in module.functions and name != ModuleSummary.MODULE_SCOPE:
            return Resolved("function", module, module.functions[name])
        if name in module.classes:
            return Resolved("class", module, klass=module.classes[name])
        if name in module.assigns:
            return self.resolve_ref(module, None, module.assigns[name], steps + 1)
        if name in module.imports:
            return self.qualified(module.imports[name], steps + 1)
        submodule = self.modules.get("%s.%s" % (module.module, name)) if module.is_package else None
        if submodule is None and module.is_package:
            submodule = self.module("%s.%s" % (module.module, name))
        if submodule is not None:
            return Resolved("module", submodule)
        for star in module.star_imports:
            star_module = self.module(star)
            if star_module is not None and star_module is not module:
                found = self.module_member(star_module, name, steps + 1)
                if not found.is_unknown:
                    return found
        if name in BUILTIN_NAMES:
            return Resolved("external", name=name)
        return Resolved("unknown", name="%s is not defined in %s" % (name, module.module))

    def qualified(self, qualified: str, steps: int) -> Resolved:
        """A fully qualified name: a project symbol if a project module holds it, else external."""
        summary, rest = self.split_module(qualified)
        if summary is None:
            return self.external(qualified)
        current = Resolved("module", summary)
        return self.walk(current, rest, steps + 1)

    def external(self, name: str) -> Resolved:
        executor = self.kb.executors.get(name)
        if executor is not None:
            return Resolved("class", name=name, executor=executor)
        return Resolved("external", name=name)

    def member(self, current: Resolved, attribute: str, steps: int, own_only: bool = False) -> Resolved:
        kind = current.kind
        if kind == "module" and current.module is not None:
            return self.module_member(current.module, attribute, steps + 1)
        if kind in ("class", "instance") and current.klass is not None and current.module is not None:
            classes = [(current.module, current.klass)]
            if not own_only:
                classes += list(self.bases(current.module, current.klass))
            for module, klass in classes:
                if attribute in klass.methods:
                    return Resolved("function", module, module.functions[klass.methods[attribute]], klass=klass)
                if attribute in klass.attrs:
                    method_scope = None
                    return self.resolve_ref(module, method_scope, klass.attrs[attribute], steps + 1,
                                            self_class=(module, klass))
            external = self.external_bases(current.module, current.klass)
            if external:
                return Resolved("external", name="%s.%s" % (external[0], attribute))
            return Resolved("unknown", name="%s has no attribute %s" % (current.klass.name, attribute))
        if kind == "instance" and current.executor is not None:
            return Resolved("executor-method", name=attribute, executor=current.executor)
        if kind == "class" and current.executor is not None:
            return Resolved("external", name="%s.%s" % (current.name, attribute))
        if kind == "external":
            return self.external("%s.%s" % (current.name, attribute))
        if kind == "external-instance":
            return Resolved("external", name="%s.%s" % (current.name, attribute))
        return Resolved("unknown", name="attribute %s of %s" % (attribute, current.name or kind))

    def resolve_ref(self, module: ModuleSummary, function: Optional[FunctionSummary], ref: Ref, steps: int,
                    self_class: Optional[Tuple[ModuleSummary, ClassSummary]] = None) -> Resolved:
        if steps > MAX_RESOLVE_STEPS:
            return UNKNOWN
        if ref.kind == "name":
            if self_class is not None and ref.raw.split(".", 1)[0] in ("self", "cls"):
                owner_module, klass = self_class
                head = Resolved("instance", owner_module, klass=klass)
                return self.walk(head, ref.raw.split(".")[1:], steps + 1)
            if function is None and self_class is not None:
                # a class attribute's value is evaluated at module level of the class's module
                return self.resolve(self_class[0], None, ref.raw, steps + 1)
            return self.resolve(module, function, ref.raw, steps + 1)
        if ref.kind == "lambda":
            lam = module.functions.get(ref.raw)
            return Resolved("function", module, lam) if lam is not None else UNKNOWN
        if ref.kind == "call":
            callee = self.resolve_ref(module, function, Ref("name", ref.raw), steps + 1, self_class)
            return self.call_result(module, function, callee, ref, steps + 1, self_class)
        if ref.kind == "member" and ref.args:
            owner = self.resolve_ref(module, function, ref.args[0], steps + 1, self_class)
            return self.member(owner, ref.raw, steps + 1) if not owner.is_unknown else owner
        return Resolved("unknown", name="not a name: %s" % ref.text)

    def call_result(self, module: ModuleSummary, function: Optional[FunctionSummary], callee: Resolved, ref: Ref,
                    steps: int, self_class: Optional[Tuple[ModuleSummary, ClassSummary]] = None) -> Resolved:
        if callee.kind == "class":
            if callee.executor is not None:
                return Resolved("instance", name=callee.name, executor=callee.executor)
            return Resolved("instance", callee.module, klass=callee.klass)
        if callee.kind == "external":
            if callee.name == "functools.partial" and ref.args:
                inner = self.resolve_ref(module, function, ref.args[0], steps + 1, self_class)
                return Resolved("partial", inner=inner, name=ref.args[0].text)
            if callee.name.endswith(".get_context") or callee.name == "multiprocessing.get_context":
                return Resolved("external", name="multiprocessing")
            return Resolved("external-instance", name=callee.name)
        if callee.kind == "function" and callee.function is not None and callee.module is not None:
            for returned in callee.function.returns:
                value = self.resolve_ref(callee.module, callee.function, returned, steps + 1)
                if not value.is_unknown:
                    return value
        return Resolved("unknown", name="result of %s" % ref.raw)

    # ------------------------------------------------------------ classes
    def bases(self, module: ModuleSummary, klass: ClassSummary, _seen: Optional[set] = None) -> Iterator[Tuple[ModuleSummary, ClassSummary]]:
        """Project base classes, depth first, each once."""
        seen = _seen if _seen is not None else {(module.module, klass.qualname)}
        for base in klass.bases:
            found = self.resolve(module, None, base)
            if found.kind == "class" and found.klass is not None and found.module is not None:
                key = (found.module.module, found.klass.qualname)
                if key in seen:
                    continue
                seen.add(key)
                yield found.module, found.klass
                yield from self.bases(found.module, found.klass, seen)

    def external_bases(self, module: ModuleSummary, klass: ClassSummary) -> List[str]:
        """Qualified names of bases outside the project, through project bases too."""
        names = []
        for owner, cls in [(module, klass)] + list(self.bases(module, klass)):
            for base in cls.bases:
                found = self.resolve(owner, None, base)
                if found.kind in ("external", "class") and found.klass is None and found.name:
                    names.append(found.name)
        return names

    def method(self, module: ModuleSummary, klass: ClassSummary, name: str) -> Optional[Tuple[ModuleSummary, FunctionSummary]]:
        for owner, cls in [(module, klass)] + list(self.bases(module, klass)):
            if name in cls.methods:
                return owner, owner.functions[cls.methods[name]]
        return None
