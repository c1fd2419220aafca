"""Where fixes are computed: after the findings, per file, from the project's value analysis.

For each finding of a rule that has a fixer, the fixer either proposes a rewrite — a libcst
transform of the file's tree, with its applicability (safe or unsafe, and why) — or says why no
fix exists.  The transform is run once here, and the fix is stored as whole-line edits against
the text that was checked: the reports show them (JSON, SARIF ``fixes``) and ``--fix`` applies them.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from ..analysis.model import CallFact, FunctionSummary, ModuleSummary
from ..analysis.starts import StartSite
from ..diagnostics import NO_FIX, SAFE, UNSAFE, Diagnostic, Edit, Fix
from .safety import DataCheck, EffectsCheck
from .source import SourceFile

if TYPE_CHECKING:  # pragma: no cover
    from ..checks.base import Facts
    from ..config import Config


class NoFix(Exception):
    """No fix for this finding; the message says why."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


@dataclass
class Proposal:
    transform: Callable[[cst.Module], cst.Module]
    title: str
    problems: Sequence[str] = ()  # why it may change behaviour; none: the fix is safe

    @property
    def applicability(self) -> str:
        return UNSAFE if self.problems else SAFE


class Fixer:
    """One fix: the rule it answers, what it does, and how it is planned."""

    code: ClassVar[str]
    title: ClassVar[str]

    def plan(self, context: "FixContext", source: SourceFile, diagnostic: Diagnostic) -> Proposal:  # pragma: no cover
        raise NotImplementedError


class FixContext:
    """What every fixer may ask: the project (summaries and value analysis), the findings' start sites,
    the configuration, and parsed sources."""

    def __init__(self, facts: "Facts", texts: Dict[str, str], config: "Config") -> None:
        self.facts = facts
        self.project = facts.cost.project
        self.texts = texts
        self.config = config
        self.data = DataCheck(self)
        self.effects = EffectsCheck(self)
        self._sources: Dict[str, Optional[SourceFile]] = {}

    def source(self, path: str) -> Optional[SourceFile]:
        if path not in self._sources:
            text = self.texts.get(path)
            if text is None:
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    text = None
            try:
                self._sources[path] = SourceFile(path, text) if text is not None else None
            except cst.ParserSyntaxError:
                self._sources[path] = None
        return self._sources[path]

    def module(self, path: str) -> Optional[ModuleSummary]:
        return self.project.by_path.get(path)

    def sites_at(self, diagnostic: Diagnostic) -> List[StartSite]:
        return [s for s in self.facts.sites if s.module.path == diagnostic.path
                and s.span[:2] == (diagnostic.line, diagnostic.column)]

    @staticmethod
    def call_fact(function: FunctionSummary, span: Sequence[int]) -> Optional[CallFact]:
        return next((c for c in function.calls if tuple(c.span) == tuple(span)), None)

    def function_at(self, module: ModuleSummary, line: int, column: int) -> Optional[FunctionSummary]:
        """The innermost function (not lambda) whose definition contains the position, or the module scope."""
        best: Optional[FunctionSummary] = None
        for function in module.functions.values():
            if function.is_lambda or function.qualname == ModuleSummary.MODULE_SCOPE:
                continue
            start, end = function.span[:2], function.span[2:]
            if start <= (line, column) <= end and (best is None or best.span[:2] <= start):
                best = function
        return best or module.functions.get(ModuleSummary.MODULE_SCOPE)

    def fix_for(self, fixer: Fixer, diagnostic: Diagnostic) -> Fix:
        source = self.source(diagnostic.path)
        if source is None:
            return Fix(NO_FIX, fixer.title, "the file cannot be parsed for fixing")
        try:
            proposal = fixer.plan(self, source, diagnostic)
            fixed = proposal.transform(source.tree).code
        except NoFix as exc:
            return Fix(NO_FIX, fixer.title, exc.reason)
        except Exception as exc:  # noqa: BLE001 - a fix that cannot be planned is no reason to stop the run
            return Fix(NO_FIX, fixer.title, "gillint could not plan a fix (%s: %s)" % (type(exc).__name__, exc))
        if fixed == source.text:
            return Fix(NO_FIX, fixer.title, "the fix would change nothing")
        try:
            compile(fixed, diagnostic.path, "exec", dont_inherit=True)
        except SyntaxError as exc:  # pragma: no cover - a fixer bug; never write such a file
            return Fix(NO_FIX, fixer.title, "the rewrite did not compile (%s); please report this" % exc.msg)
        return Fix(proposal.applicability, proposal.title, "; ".join(dict.fromkeys(proposal.problems)),
                   line_edits(source.text, fixed))


def line_edits(before: str, after: str) -> Tuple[Edit, ...]:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return tuple(Edit(i1 + 1, i2 + 1, "".join(new[j1:j2]))
                 for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def fixers() -> Dict[str, Fixer]:
    from .codemods import ALL

    return {fixer.code: fixer for fixer in (kind() for kind in ALL)}


def plan_fixes(facts: "Facts", diagnostics: List[Diagnostic], texts: Dict[str, str], config: "Config") -> List[Diagnostic]:
    """The diagnostics, each finding of a fixable rule carrying its :class:`Fix` (or why there is none)."""
    by_code = fixers()
    if not any(d.code in by_code for d in diagnostics):
        return diagnostics
    context = FixContext(facts, texts, config)
    return [dataclasses.replace(d, fix=context.fix_for(by_code[d.code], d)) if d.code in by_code else d
            for d in diagnostics]
