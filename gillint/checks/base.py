"""What a rule is, and the facts every rule is given.

A rule is a small class: its code, a kebab-case name that reads well after
"allow", a message, its documentation (the class docstring, with the sections
What it does / Why is this bad? / Example / Use instead / Options / References)
and VALID / INVALID examples that the test suite runs and the docs show.  Rules
hold no analysis of their own beyond their pattern: they read start sites and
work verdicts from :class:`Facts`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Type

from ..analysis.cost import CostModel, Work, function_label
from ..analysis.cost import LIGHT as LIGHT_WORK
from ..analysis.cost import is_generator
from ..analysis.cost import weight as _work_weight
from ..analysis.model import FunctionSummary, ModuleSummary
from ..analysis.starts import StartSite
from ..diagnostics import Confidence, Diagnostic, Remedy, VerifyTarget

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Config


@dataclass(frozen=True)
class Example:
    """A rule example: ``code`` and, for INVALID ones, the expected (line, column) of each finding."""

    code: str
    expected: Tuple[Tuple[int, int], ...] = ()

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")


# Values of one start site's target weighed (a name rarely holds more distinct callables).
MAX_TARGETS = 6


@dataclass
class Facts:
    """Everything the analysis found in one run, read by every rule."""

    modules: List[ModuleSummary]  # the modules being reported on
    sites: List[StartSite]
    cost: CostModel
    config: "Config"
    _work: Dict[int, Tuple[Work, Optional[Tuple[ModuleSummary, FunctionSummary]]]] = field(default_factory=dict)

    def target_work(self, site: StartSite) -> Tuple[Work, Optional[Tuple[ModuleSummary, FunctionSummary]]]:
        """What the callable handed over at ``site`` does, and which function it is: of the values the
        target can hold, the one with the heaviest work (``Thread(target=fast or slow)`` runs slow too)."""
        key = id(site)
        if key not in self._work:
            found: List[Tuple[Work, Optional[Tuple[ModuleSummary, FunctionSummary]]]] = []
            for value in (site.targets or (site.target,))[:MAX_TARGETS]:
                target = self.cost.resolve_callable(value)
                if target is not None:
                    # a generator function run on a worker only makes a generator there: no work
                    work = LIGHT_WORK if is_generator(target[1]) else self.cost.work(*target)
                    found.append((work, target))
                    continue
                library = self.cost.library_target(site.module, value, site.span, compact(site.target_text))
                if library is not None:
                    found.append((library, None))
            self._work[key] = max(found, key=lambda pair: _work_weight(pair[0])) if found else (Work("unknown"), None)
        return self._work[key]

    @property
    def free_threaded(self) -> bool:
        return self.config.target_version.endswith("t")


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for rule lists and SARIF shortDescription
    remedy: ClassVar[Remedy]
    default_enabled: ClassVar[bool] = True
    free_threaded_default: ClassVar[bool] = False  # on by default when target-version is "3.13t"/"3.14t"
    VALID: ClassVar[Sequence[Example]] = ()
    INVALID: ClassVar[Sequence[Example]] = ()

    def check(self, facts: Facts) -> Iterable[Diagnostic]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def documentation(cls) -> str:
        return textwrap.dedent(cls.__doc__ or "").strip()

    def diagnostic(self, module: ModuleSummary, span: Tuple[int, int, int, int], message: str, remedy: Remedy,
                   remedy_text: str, work: Optional[Work] = None, target: Optional[VerifyTarget] = None,
                   confidence: Confidence = Confidence.HIGH, properties: Tuple[Tuple[str, object], ...] = ()) -> Diagnostic:
        return Diagnostic(
            code=self.code,
            name=self.name,
            message=message,
            path=module.path,
            line=span[0],
            column=span[1],
            end_line=span[2],
            end_column=span[3],
            remedy=remedy,
            remedy_text=remedy_text,
            evidence=work.steps if work is not None else (),
            confidence=confidence,
            target=target,
            properties=properties,
        )


    def site_diagnostic(self, site: StartSite, message: str, remedy: Remedy, remedy_text: str,
                        work: Optional[Work] = None,
                        target: Optional[Tuple[ModuleSummary, FunctionSummary]] = None,
                        confidence: Confidence = Confidence.HIGH,
                        extra: Tuple[Tuple[str, str], ...] = ()) -> Diagnostic:
        """A finding at a start site: located there, with its API, worker and verifier target."""
        properties: Tuple[Tuple[str, str], ...] = (("api", site.api), ("worker", site.worker)) + extra
        if site.via.startswith("@"):
            # ``@threaded def crunch``: the finding sits on the decorated function, so say how it gets there
            message = "%s (it runs on the worker through its decorator %s)" % (message, site.via)
            properties += (("via", site.via),)
        return self.diagnostic(site.module, site.span, message, remedy, remedy_text, work,
                               verify_target(site, target) if work is not None else None, confidence,
                               properties=properties)


REGISTRY: Dict[str, Type[Rule]] = {}


def register(rule: Type[Rule]) -> Type[Rule]:
    if rule.code in REGISTRY:  # pragma: no cover - programming error
        raise ValueError("duplicate rule code %s" % rule.code)
    REGISTRY[rule.code] = rule
    return rule


def all_rules() -> List[Type[Rule]]:
    from . import load_all  # noqa: F401  (imports every rule module once)

    load_all()
    return [REGISTRY[code] for code in sorted(REGISTRY)]


def verify_target(site: StartSite, target: Optional[Tuple[ModuleSummary, FunctionSummary]]) -> Optional[VerifyTarget]:
    """A target the verifier can import and call: module-level functions and methods of module-level classes."""
    if target is None:
        return None
    module, function = target
    if function.is_lambda or function.parent:
        return None
    is_method = bool(function.class_name)
    if is_method and "." in function.class_name:
        return None
    return VerifyTarget(
        module_path=module.path,
        qualname=function.qualname,
        kind=site.worker,
        start_line=site.span[0],
        args_source=site.args_source,
        kwargs_source=site.kwargs_source,
        is_method=is_method,
    )


def target_name(site: StartSite, target: Optional[Tuple[ModuleSummary, FunctionSummary]]) -> str:
    if target is not None and not target[1].is_lambda:
        return target[1].qualname
    return compact(site.target_text)


def compact(text: str, limit: int = 60) -> str:
    """Source text of a callable on one line for a message: ``partial(\n  nbformat.reads,\n  ...)`` is
    ``partial(nbformat.reads, ...)``."""
    one_line = " ".join(text.split()).replace("( ", "(").replace(", )", ")").replace(",)", ")")
    if len(one_line) <= limit:
        return one_line
    head, paren, rest = one_line.partition("(")
    if paren and "," in rest:
        return "%s(%s, ...)" % (head, rest.split(",", 1)[0])
    return one_line[: limit - 3] + "..."


def iter_sites(facts: Facts, families: Sequence[str], workers: Sequence[str]) -> Iterator[StartSite]:
    for site in facts.sites:
        if site.family in families and site.worker in workers:
            yield site


__all__ = ["Example", "Facts", "Rule", "register", "all_rules", "verify_target", "target_name", "function_label"]
