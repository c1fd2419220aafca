"""What to measure: findings with a runnable target, start sites marked ``# gillint: verify``,
or one ``--snippet``; and, for each, the arguments to call it with.

Arguments come, in this order, from constant arguments at the start site, from
``[tool.gillint.verify.targets]``, or from a ``# gillint: verify(...)`` comment on the
start line.  A start site that passes no arguments at all calls the target with
none, as the program does.  Arguments are literals or constant expressions on them
(``"word " * 40``, ``list(range(1000))``), evaluated on the syntax tree with size caps
(``constant.py``); anything else is never evaluated, and nothing is invented: without arguments the target is "not runnable".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..analysis.project import module_name_for
from ..checks.base import verify_target
from ..config import Config
from ..diagnostics import Diagnostic, VerifyTarget
from ..engine import Engine, LintResult, SourceError, read_file, read_paths
from . import constant
from .pragma import CallArguments, Pragma, PragmaError, find_pragma, parse_arguments
from .recording import Recording, Sample
from .settings import TargetSettings, VerifySettings


@dataclass
class Job:
    """One measurement to make (shared by every finding on the same target and start site)."""

    target: VerifyTarget
    diagnostics: List[Diagnostic] = field(default_factory=list)
    code: str = ""  # "" when measured only because a comment asked for it
    module: str = ""
    sys_path: List[str] = field(default_factory=list)
    args_source: Optional[str] = None
    kwargs_source: Optional[str] = None
    args_json: Optional[List[Any]] = None
    kwargs_json: Optional[Dict[str, Any]] = None
    factory: Optional[str] = None
    arguments: str = ""  # where the arguments came from, for the report
    not_runnable: str = ""  # decided before running anything
    settings: Optional[TargetSettings] = None
    arguments_problem: bool = False  # not runnable only for want of arguments (recorded ones can help)
    samples: List[Sample] = field(default_factory=list)  # --from-tests: recorded calls, largest first
    recorded: Optional[Dict[str, Any]] = None  # --from-tests: what was recorded, for the report

    @property
    def path(self) -> str:
        return self.diagnostics[0].path if self.diagnostics else self.target.module_path

    @property
    def line(self) -> int:
        return self.diagnostics[0].line if self.diagnostics else self.target.start_line

    @property
    def label(self) -> str:
        code = ",".join(sorted({d.code for d in self.diagnostics})) or self.code or "requested"
        return "%s:%d %s %s" % (self.path, self.line, code, self.target.qualname)

    @property
    def ladder_mode(self) -> Optional[str]:
        """``samples`` for several recorded calls, ``scale`` for literal arguments, else none."""
        if self.samples:
            return "samples" if len(self.samples) > 1 else None
        if self.factory is None and (self.args_source or self.kwargs_source or self.args_json or self.kwargs_json):
            return "scale"
        return None

    def spec(self) -> Dict[str, Any]:
        """The part of the child's spec that says what to call."""
        if self.samples:
            return {
                "module": self.module, "qualname": self.target.qualname, "is_method": self.target.is_method,
                "sys_path": self.sys_path, "sample_path": self.samples[0].path, "arguments_given": True,
                "ladder_samples": [{"path": s.path, "size": s.size} for s in sorted(self.samples, key=lambda s: s.size)],
            }
        return {
            "module": self.module,
            "qualname": self.target.qualname,
            "is_method": self.target.is_method,
            "sys_path": self.sys_path,
            "args_source": self.args_source,
            "kwargs_source": self.kwargs_source,
            "args_json": self.args_json,
            "kwargs_json": self.kwargs_json,
            "factory": self.factory,
            "arguments_given": bool(self.arguments and self.arguments != "none at the start site"),
        }


class _SiteEngine(Engine):
    """The ordinary engine, which also keeps the start sites a ``# gillint: verify`` comment asks for."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.requested: List[Tuple[VerifyTarget, Optional[str]]] = []  # (target, problem)

    def check(self, reported):  # type: ignore[no-untyped-def]
        found = super().check(reported)
        facts = self.facts
        assert facts is not None  # set by Engine.check
        cost = facts.cost
        # a parallel link runs the checks more than once: the last pass's requests are the run's
        self.requested = []
        for site in facts.sites:
            text = self.texts.get(site.module.path)
            if text is None or "gillint:" not in text:
                continue
            lines = text.splitlines()
            start = site.span[0]
            if not 0 < start <= len(lines) or "gillint:" not in lines[start - 1]:
                continue
            try:
                if find_pragma(lines[start - 1]) is None:
                    continue
            except PragmaError:
                pass  # reported when the arguments are read
            target = verify_target(site, cost.resolve_callable(site.target))
            if target is None:
                self.requested.append((VerifyTarget(site.module.path, site.target_text, site.worker, start), "the target "
                                       "is a lambda, a nested function or not defined in the project: it cannot be imported"))
            else:
                self.requested.append((target, None))
        return found


def lint_for_verify(paths: Sequence[Union[str, Path]], config: Config) -> Tuple[LintResult, List[Tuple[VerifyTarget, Optional[str]]]]:
    """The static check (as `gillint check` runs it) and the start sites a comment asks to measure."""
    engine = _SiteEngine(config)
    return engine.run(read_paths(paths, engine.config)), engine.requested


def collect_jobs(result: LintResult, requested: Sequence[Tuple[VerifyTarget, Optional[str]]],
                 settings: VerifySettings) -> List[Job]:
    """One job per distinct target and start site, findings first, in report order."""
    jobs: Dict[VerifyTarget, Job] = {}
    for diagnostic in result.diagnostics:
        target = diagnostic.target
        if target is None and diagnostic.code in COROUTINE_CODES:
            target = coroutine_target(diagnostic.path, diagnostic.line)
        if target is None:
            continue
        job = jobs.get(target)
        if job is None:
            job = jobs[target] = Job(target, code=diagnostic.code)
        job.diagnostics.append(diagnostic)
    for target, problem in requested:
        if target in jobs or any(t.module_path == target.module_path and t.start_line == target.start_line
                                 and t.qualname == target.qualname for t in jobs):
            continue
        job = jobs[target] = Job(target)
        job.not_runnable = problem or ""
    for job in jobs.values():
        prepare(job, settings, source_line(job.target))
    return sorted(jobs.values(), key=lambda j: (j.path, j.line, j.target.qualname))


COROUTINE_CODES = ("GIL301",)
_TREES: Dict[str, Optional[ast.Module]] = {}


def coroutine_target(path: str, line: int) -> Optional[VerifyTarget]:
    """GIL301 findings sit inside the coroutine that blocks the loop: that coroutine is what to run.

    Only a module-level ``async def`` or one in a module-level class can be imported;
    the static check does not attach a target to these findings, so the verifier reads
    the file again (with ``ast``, never running it) to find the enclosing coroutine.
    """
    if path not in _TREES:
        try:
            _TREES[path] = ast.parse(read_file(path))
        except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            _TREES[path] = None
    tree = _TREES[path]
    if tree is None:
        return None

    def contains(node: ast.AST) -> bool:
        return node.lineno <= line <= (getattr(node, "end_lineno", None) or node.lineno)  # type: ignore[attr-defined]

    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and contains(node):
            return VerifyTarget(path, node.name, "event-loop", line)
        if isinstance(node, ast.ClassDef) and contains(node):
            for member in node.body:
                if isinstance(member, ast.AsyncFunctionDef) and contains(member):
                    decorators = {getattr(d, "id", getattr(d, "attr", "")) for d in member.decorator_list}
                    return VerifyTarget(path, "%s.%s" % (node.name, member.name), "event-loop", line,
                                        is_method="staticmethod" not in decorators)
    return None


def apply_recording(jobs: Sequence[Job], recording: Recording, root: Optional[Path] = None) -> None:
    """Give each job the calls the tests made of its target (they replace toy arguments); say what is missing."""
    from .recording import target_key

    for job in jobs:
        if not job.module:
            continue
        entry = recording.for_key(target_key(job.module, job.target.qualname))
        if entry is None:
            continue
        job.recorded = {"calls": entry.calls, "samples": len(entry.samples),
                        "sizes": [s.size for s in entry.samples], "bytes": [s.bytes for s in entry.samples],
                        "in_tests": entry.in_tests()}
        if entry.samples:
            if job.not_runnable and not job.arguments_problem:
                continue
            job.samples = list(entry.samples)
            job.not_runnable = ""
            previous = job.arguments
            job.arguments = "recorded from the tests (largest of %d call%s, size %d%s)" % (
                entry.calls, "" if entry.calls == 1 else "s", entry.samples[0].size,
                "; replaces %s" % previous if previous and previous != "none at the start site" else "")
            for root_dir in recording.sys_path:
                if "site-packages" in root_dir or "dist-packages" in root_dir:
                    continue  # installed packages come from the measuring interpreter's own path
                if root is None or _inside(root_dir, root):
                    if root_dir not in job.sys_path:
                        job.sys_path.append(root_dir)
        else:
            why = entry.why_none(recording.max_bytes)
            job.recorded["missing"] = why
            if job.not_runnable:
                job.not_runnable = "%s; from the tests: %s" % (job.not_runnable.replace(", or record them with "
                                                                                      "--from-tests", ""), why)
            elif job.arguments:
                job.arguments = "%s (from the tests: %s)" % (job.arguments, why)


def _inside(path: str, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def recorder_targets(jobs: Sequence[Job]) -> List[Dict[str, Any]]:
    """What the recorder watches: every distinct importable target."""
    seen = set()
    targets = []
    for job in jobs:
        if not job.module or (job.not_runnable and not job.arguments_problem):
            continue
        key = (job.module, job.target.qualname)
        if key in seen:
            continue
        seen.add(key)
        targets.append({"module": job.module, "qualname": job.target.qualname,
                        "path": str(Path(job.target.module_path).resolve()), "is_method": job.target.is_method})
    return targets


def source_line(target: VerifyTarget) -> str:
    try:
        lines = read_file(target.module_path).splitlines()
    except SourceError:
        return ""
    return lines[target.start_line - 1] if 0 < target.start_line <= len(lines) else ""


def config_keys(target: VerifyTarget, module: str, root: Optional[Path]) -> List[str]:
    """The names a ``[tool.gillint.verify.targets]`` entry may use for this target."""
    keys = ["%s.%s" % (module, target.qualname), "%s:%s" % (module, target.qualname)]
    path = Path(target.module_path).resolve()
    if root is not None:
        try:
            keys.append("%s::%s" % (path.relative_to(root.resolve()).as_posix(), target.qualname))
        except ValueError:
            pass
    keys.append("%s::%s" % (Path(target.module_path).as_posix(), target.qualname))
    return keys




def prepare(job: Job, settings: VerifySettings, line: str) -> None:
    """Where the module is imported from, and which arguments the call gets (or why it cannot run)."""
    target = job.target
    path = Path(target.module_path)
    if not path.is_file():
        job.not_runnable = job.not_runnable or "%s does not exist" % target.module_path
        return
    module, _, root = module_name_for(path.resolve())
    job.module = module
    job.sys_path = [str(root)]
    if settings.root is not None and str(settings.root) not in job.sys_path:
        job.sys_path.append(str(settings.root))
    if job.not_runnable:
        return
    configured = settings.target_for(config_keys(target, module, settings.root))
    job.settings = configured
    if configured is not None and configured.factory:
        job.factory = configured.factory
    at_site = target.args_source is not None or target.kwargs_source is not None
    problems: List[str] = []
    why_not = (constant.problem(target.args_source) or constant.problem(target.kwargs_source)) if at_site else ""
    if at_site and not why_not:
        job.args_source = target.args_source
        job.kwargs_source = target.kwargs_source
        job.arguments = "literals at the start site"
        return
    if at_site:
        problems.append("the start site's arguments are not constant expressions (%s: %s)"
                        % (", ".join(s for s in (target.args_source, target.kwargs_source) if s), why_not))
    if configured is not None and (configured.args is not None or configured.kwargs is not None or configured.factory):
        job.args_json = list(configured.args) if configured.args is not None else None
        job.kwargs_json = configured.kwargs
        job.arguments = "[tool.gillint.verify] targets.%s" % configured.key
        return
    try:
        pragma: Optional[Pragma] = find_pragma(line)
    except PragmaError as exc:
        job.not_runnable = "the `# gillint: verify(...)` comment on line %d: %s" % (target.start_line, exc)
        job.arguments_problem = True
        return
    if pragma is not None and pragma.arguments is not None:
        job.args_source = pragma.arguments.args_source
        job.kwargs_source = pragma.arguments.kwargs_source
        job.arguments = "`# gillint: verify(...)` comment"
        return
    if problems:
        job.not_runnable = "no arguments: %s; give them in [tool.gillint.verify] or with a `# gillint: " \
                           "verify(...)` comment on line %d, or record them with --from-tests" % (
                               problems[0], target.start_line)
        job.arguments_problem = True
        return
    job.arguments = "none at the start site"


def snippet_job(spec: str, arguments: Optional[str], settings: VerifySettings) -> Job:
    """``path/to/file.py::function`` (or ``::Class.method``) with ``--args`` in call syntax."""
    if "::" not in spec:
        raise ValueError("--snippet takes FILE::FUNCTION, like src/jobs.py::crunch")
    file_part, qualname = spec.rsplit("::", 1)
    if not qualname or not all(part.isidentifier() for part in qualname.split(".")):
        raise ValueError("--snippet: %r is not a function name" % qualname)
    if not Path(file_part).is_file():
        raise ValueError("--snippet: no such file: %s" % file_part)
    call: Optional[CallArguments] = None
    if arguments is not None:
        try:
            call = parse_arguments(arguments)
        except PragmaError as exc:
            raise ValueError("--args: %s" % exc) from None
    target = VerifyTarget(file_part, qualname, "snippet", 0, call.args_source if call else None,
                          call.kwargs_source if call else None, is_method=False)
    job = Job(target, code="snippet")
    prepare(job, settings, "")
    if call is not None:
        job.arguments = "--args"
    return job
