"""The project model: module summaries linked by name, and name resolution.

Resolution answers "what does this name or call refer to?" inside a function of a
module: a function or class of the project (possibly in another module, reached
through absolute or relative imports and re-exports in ``__init__``), an instance
of a project class, a known executor, or a name outside the project
(``threading.Thread``, ``re.findall``).  It never imports anything.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from ..knowledge import KnowledgeBase
from .model import FunctionSummary, ModuleSummary, Ref
from .values import UNKNOWN, Resolved, ValueAnalysis, best

__all__ = ["Project", "Resolved", "UNKNOWN", "module_name_for"]

# Installed-package modules summarised per run at most: following a dependency stays a bounded cost.
MAX_LIBRARY_MODULES = 200


def module_name_for(path: Path, is_file: Callable[[Path], bool] = Path.is_file) -> Tuple[str, bool, Path]:
    """(dotted module name, is_package, import root) of a file, by walking up __init__.py files.
    ``is_file`` answers for each ``__init__.py`` looked for (the engine records what it asked)."""
    path = path.resolve() if not path.is_absolute() else path
    is_package = path.name == "__init__.py"
    parts: List[str] = [] if is_package else [path.stem]
    directory = path.parent
    while is_file(directory / "__init__.py") and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    if is_package and not parts:
        parts = [path.parent.name]
    return ".".join(parts), is_package, directory


class Project(ValueAnalysis):
    """All summaries of one run, lazy loading of project modules not given on the command line, and the
    value analysis over them (:mod:`gillint.analysis.values`)."""

    def __init__(self, kb: KnowledgeBase, loader: Optional[Callable[[Path], Optional[ModuleSummary]]] = None,
                 is_file: Callable[[Path], bool] = Path.is_file) -> None:
        self.kb = kb
        self._is_file = is_file  # every file looked for goes through it: the engine records what a result used
        self.modules: Dict[str, ModuleSummary] = {}
        self.by_path: Dict[str, ModuleSummary] = {}
        self.roots: List[Path] = []
        # Where installed packages live (site-packages, configured library paths): pure-Python code there
        # is followed like the project's own, after the project's roots and only for names the
        # knowledge base does not describe.
        self.library_roots: List[Path] = []
        self.library_modules = 0
        self._loader = loader
        # The modules of the checked files whose source contains a word (``@asyncthread``): set by the
        # engine, which has the texts; lets the analysis load a file that triage left out when it
        # turns out to matter.
        self.mentions: Callable[[str], List[str]] = lambda word: []
        self._missing: set = set()
        self._project_tops: Dict[str, bool] = {}
        self._init_values()

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
        # while looking for callers only the project's own modules may be read, never libraries': what a
        # candidate call's receiver holds is often built in a module of the project nothing loaded yet
        library = [] if self.library_modules >= MAX_LIBRARY_MODULES or self._loaded_only else self.library_roots
        for base in self._search_bases(name, library):
            root = base[1]
            for candidate in (base[0] / relative.with_suffix(".py"), base[0] / relative / "__init__.py"):
                if self._is_file(candidate):
                    summary = self._loader(candidate)
                    if summary is not None:
                        self.modules.setdefault(name, summary)
                        self.by_path.setdefault(summary.path, summary)
                        if root not in self.roots:
                            self.library_modules += 1
                        return summary
        if not (self._loaded_only and self.library_roots):
            self._missing.add(name)  # a library module not looked for yet may still be found later
        return None

    def compiled(self, qualified: str) -> bool:
        """Whether ``pkg.mod.Name`` (or ``pkg.mod``) comes from a compiled extension module found in the
        project's or the libraries' folders (``pkg/mod.cpython-311-x86_64-linux-gnu.so``)."""
        parts = qualified.split(".")
        for cut in (len(parts) - 1, len(parts)):
            if cut < 1:
                continue
            relative = Path(*parts[:cut])
            for root in list(self.roots) + self.library_roots:
                for suffix in EXTENSION_SUFFIXES:
                    if self._is_file(root / relative.parent / (relative.name + suffix)):
                        return True
        return False

    def _search_bases(self, name: str, library: List[Path]) -> Iterator[Tuple[Path, Path]]:
        """(folder to look in, import root) for a module name.  A project root that is itself a
        namespace package (PEP 420: ``llama_index/`` without ``__init__.py``, checked files named
        ``core.x``) also answers ``llama_index.core.x`` from the folder above it."""
        top = name.split(".", 1)[0]
        for root in list(self.roots) + library:
            yield root, root
            if root.name == top and root in self.roots and not self._is_file(root / "__init__.py"):
                yield root.parent, root

    def in_project(self, top: str) -> bool:
        """Whether a top-level module or package of this name is in the project's own roots."""
        found = self._project_tops.get(top)
        if found is None:
            found = self._project_tops[top] = any(
                self._is_file(root / (top + ".py")) or self._is_file(root / top / "__init__.py")
                or (root.name == top and not self._is_file(root / "__init__.py")) for root in self.roots)
        return found

    def split_module(self, qualified: str) -> Tuple[Optional[ModuleSummary], List[str]]:
        """``pkg.mod.func.attr`` -> (summary of pkg.mod, ["func", "attr"]), longest module first."""
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            summary = self.module(".".join(parts[:cut]))
            if summary is not None:
                return summary, parts[cut:]
        return None, parts

    # ------------------------------------------------------------ single answers
    def resolve(self, module: ModuleSummary, function: Optional[FunctionSummary], raw: str) -> Resolved:
        """The most specific value of a dotted name as written inside ``function`` (None: module level)."""
        return best(self.values(module, function, raw))

    def resolve_ref(self, module: ModuleSummary, function: Optional[FunctionSummary], ref: Ref) -> Resolved:
        return best(self.ref_values(module, function, ref))
