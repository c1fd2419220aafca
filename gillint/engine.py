"""The one engine: paths -> files -> summaries -> project model -> checks -> diagnostics.

Public API::

    lint_source(source, path="<string>", config=None) -> list[Diagnostic]
    lint_paths(paths, config=None) -> LintResult

The CLI, the flake8 plugin and the pre-commit hook all go through these.  Nothing
here imports or executes the code it reads.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import config as config_mod
from . import knowledge
from .analysis.cost import CostModel
from .analysis.model import ModuleSummary
from .analysis.project import Project, module_name_for
from .analysis.starts import StartFinder, start_call_names
from .checks import FIXABLE_CODES
from .checks.base import Facts, Rule, all_rules
from .config import Config
from .diagnostics import ERROR_CODE, Confidence, Diagnostic, file_error
from .filework import (  # noqa: F401 - re-exported: the engine's public names for reading files
    MAX_NESTING_ERRORS, RACE_TRIAGE_NAMES, SourceError, _summarise_guarded, _validate_only, parse,
)
from .parallel import FILE_TIME_LIMIT, FileRecord, Settings, Task, Work, do_task, run_tasks
from .suppress import filter_noqa

# Link passes that look ahead for the modules to summarise in parallel (each reaches one call further).
MAX_LINK_PASSES = 12

@dataclass
class LintResult:
    diagnostics: List[Diagnostic] = field(default_factory=list)
    files_checked: int = 0
    sources: Dict[str, str] = field(default_factory=dict)  # text of files with findings, for reports

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.code == ERROR_CODE]


# ---------------------------------------------------------------------------- reading

def decode(raw: bytes) -> str:
    """Bytes to text the way Python reads source: BOM, PEP 263 cookie, else UTF-8."""
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise SourceError("source contains a NUL byte (line %d)" % line, line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding declaration" not in str(exc):
            raise SourceError(str(exc).split(" (", 1)[0], getattr(exc, "lineno", None) or 1) from None
        encoding = "utf-8"  # no cookie and not UTF-8: let decoding name the bad byte
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError("cannot decode as %s: byte 0x%02x at line %d is invalid (add a coding cookie, "
                          "PEP 263, or save as UTF-8)" % (encoding, raw[exc.start], line), line) from None
    except LookupError:
        raise SourceError("unknown encoding %r in the coding cookie" % encoding) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# Larger files are reported, not parsed: their syntax trees alone would take gigabytes.
MAX_FILE_BYTES = 4 * 1024 * 1024


def _open_nonblocking(path: str, flags: int) -> int:
    """Opening a named pipe for reading would wait for a writer: never wait (regular files ignore the flag)."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def read_file(path: Union[str, Path], max_bytes: int = MAX_FILE_BYTES) -> str:
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block or never end
                raise SourceError("not a regular file (a pipe, socket or device)")
            if status.st_size > max_bytes:
                raise SourceError("file too large to check (%.1f MB; the limit is %.1f MB)"
                                  % (status.st_size / 1e6, max_bytes / 1e6))
            raw = handle.read(max_bytes + 1)
            if len(raw) > max_bytes:
                raise SourceError("file too large to check (more than %.1f MB)" % (max_bytes / 1e6))
    except IsADirectoryError:
        raise SourceError("is a directory, not a file") from None
    except FileNotFoundError:
        raise SourceError("no such file (deleted or a broken symlink?)") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError("cannot read: %s" % (exc.strerror or exc)) from None
    return decode(raw)


# ---------------------------------------------------------------------------- discovery

def iter_python_files(paths: Sequence[Union[str, Path]], config: Config) -> Iterator[Tuple[str, Optional[SourceError]]]:
    """Each Python file under ``paths`` (deduplicated, excludes applied), or an error for a bad path.

    A path named explicitly is checked even if it has no .py suffix.  Every exclude
    applies to files found by walking directories (matched below the directory
    walked); the user's own excludes also apply to files named explicitly, because
    pre-commit names every staged file, while the built-in defaults (``build``,
    ``site-packages``...) never hide a file the user named.
    """
    patterns = tuple(config.exclude) + tuple(config.extend_exclude)
    explicit_patterns = config_mod.user_excludes(config)
    seen = set()
    for given in paths:
        path = Path(given)
        text = str(given)
        if not os.path.lexists(path):
            yield text, SourceError("no such file or directory")
            continue
        if path.is_symlink() and not path.exists():
            yield text, SourceError("broken symlink")
            continue
        if path.is_dir():
            for found in _walk(path, patterns, config.root):
                key = os.path.realpath(found)
                if key not in seen:
                    seen.add(key)
                    yield found, None
            continue
        if explicit_patterns and config_mod.matches(text, explicit_patterns, config.root):
            continue
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            yield text, None


def _walk(top: Path, patterns: Sequence[str], root: Optional[Path]) -> Iterator[str]:
    visited = set()
    errors: List[str] = []

    def onerror(exc: OSError) -> None:
        errors.append(str(exc.filename))

    for directory, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=True):
        real = os.path.realpath(directory)
        if real in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames
                             if not config_mod.matches(os.path.join(directory, d), patterns, root, top))
        for name in sorted(filenames):
            if name.endswith(".py"):
                full = os.path.join(directory, name)
                if not config_mod.matches(full, patterns, root, top):
                    yield full
    for failed in errors:
        yield failed


# ---------------------------------------------------------------------------- the engine

def default_config() -> Config:
    return Config()


def library_roots(config: Config) -> List[Path]:
    """Where installed pure-Python packages are followed: the configured ``library-paths``, then this
    interpreter's site-packages (``follow-libraries = false`` turns the latter off)."""
    import sysconfig

    roots: List[Path] = []
    for given in config.library_paths:
        path = Path(given)
        if not path.is_absolute() and config.root is not None:
            path = config.root / path
        roots.append(path)
    if config.follow_libraries:
        for key in ("purelib", "platlib"):
            found = sysconfig.get_paths().get(key)
            if found and Path(found).is_dir() and Path(found) not in roots:
                roots.append(Path(found))
    return roots


def enabled_rules(config: Config) -> List[Rule]:
    rules = all_rules()
    free_threaded = config.target_version.endswith("t")
    # the race rules (GIL4xx) are on by default when the target is a free-threaded build
    defaults = [r.code for r in rules if r.default_enabled or (free_threaded and r.free_threaded_default)]
    return [r() for r in rules if config_mod.code_enabled(r.code, config.select, config.extend_select, config.ignore, defaults)]


def summary_key(path: str, module_name: str, is_package: bool, text: str) -> str:
    """What a summary depends on: the file's text, where it sits, and the summariser's version."""
    from . import __version__

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    digest.update(("\0%s\0%s\0%s\0%s" % (path, module_name, is_package, __version__)).encode())
    return digest.hexdigest()


class SummaryCache:
    """File records (validation, triage, summary) kept across runs in one process (the flake8 plugin,
    editors); :class:`gillint.cache.DiskCache` keeps them on disk, with the result of whole runs."""

    def __init__(self) -> None:
        self._records: Dict[str, FileRecord] = {}

    def key(self, knowledge: str, path: str, module_name: str, is_package: bool, text: str) -> str:
        return summary_key(path, module_name, is_package, text) + knowledge

    def get_record(self, key: str) -> Optional[FileRecord]:
        return self._records.get(key)

    def put_record(self, key: str, record: FileRecord) -> None:
        self._records[key] = record

    # Whole runs: only a cache that persists keeps them.
    def get_run(self, key: str, stamps: List["Stamp"]) -> Optional[LintResult]:
        return None

    def put_run(self, key: str, stamps: List["Stamp"], dependencies: Dict[str, Optional[Tuple[int, int]]],
                result: LintResult) -> None:
        return None


class Engine:
    """One run: a knowledge base, a configuration, and the summaries it made."""

    def __init__(self, config: Optional[Config] = None, cache: Optional["SummaryCache"] = None,
                 apply_noqa: bool = True, jobs: int = 1, fixes: bool = False) -> None:
        self.config = config or default_config()
        self.fixes = fixes  # attach to each finding its fix, or why there is none (gillint.fixes)
        self.facts: Optional[Facts] = None
        self.cache = cache
        self.jobs = jobs  # >1: files are validated and summarised in that many worker processes
        self.time_limit = FILE_TIME_LIMIT
        self.work: Work = do_task  # the per-file work the pool runs (tests hand in slow or failing work)
        self.apply_noqa = apply_noqa
        self.kb = knowledge.load(self.config.knowledge)
        self.prefilter = self.kb.prefilter()
        self.start_names = start_call_names(self.kb)
        # the race rules need the facts of every module (see filework.EVERY_MODULE)
        self.races = any(rule.code.startswith("GIL4") for rule in enabled_rules(self.config))
        if self.races:
            self.start_names = self.start_names | RACE_TRIAGE_NAMES
        self.record_salt = self.kb.fingerprint + ("+races" if self.races else "")
        self.texts: Dict[str, str] = {}
        self.summaries: Dict[str, Optional[ModuleSummary]] = {}
        # Every file a result depends on besides the files checked: path -> (size, mtime) when it is a
        # file, None when it was looked for and is not there (see gillint.cache's run entries).
        self.dependencies: Dict[str, Optional[Tuple[int, int]]] = {}
        self.library_roots = library_roots(self.config)
        self.project = self._new_project()

    # -- summaries
    def summary_for(self, path: str, text: str) -> ModuleSummary:
        """Parse and summarise one file (raises SourceError)."""
        if path in self.summaries and self.summaries[path] is not None:
            return self.summaries[path]  # type: ignore[return-value]
        task = self._task(path, text, triage=False)
        record = self._records([task])[0]
        failure = record.summary_error or record.error
        if record.summary is None:
            raise SourceError(*failure) if failure else SourceError("no summary")
        self.summaries[path] = record.summary
        return record.summary

    def _task(self, path: str, text: str, triage: bool) -> Task:
        module_name, is_package, _ = _module_identity(path, self.probe)
        return Task(path, text, module_name, is_package, triage)

    def _records(self, tasks: Sequence[Task]) -> List[FileRecord]:
        """A record per task: from the cache when it has one that answers, else worked out (in parallel)."""
        records: List[Optional[FileRecord]] = [None] * len(tasks)
        keys: List[str] = [""] * len(tasks)
        missing: List[int] = []
        for index, task in enumerate(tasks):
            if self.cache is not None:
                keys[index] = self.cache.key(self.record_salt, task.path, task.module_name, task.is_package, task.text)
                found = self.cache.get_record(keys[index])
                if found is not None and (found.answers_triage() if task.triage else found.answers_summary()):
                    records[index] = found
                    continue
            missing.append(index)
        settings = Settings(self.prefilter.pattern, self.start_names, self.time_limit)
        for position, record in run_tasks([tasks[i] for i in missing], settings, self.jobs, self.work):
            index = missing[position]
            if self.cache is not None:
                previous = self.cache.get_record(keys[index])
                if previous is not None and not tasks[index].triage and previous.needs_summary is not None:
                    record = FileRecord(previous.error, previous.needs_summary, record.summary, record.summary_error)
                elif previous is not None and tasks[index].triage and record.summary is None:
                    record.summary, record.summary_error = previous.summary, previous.summary_error
                self.cache.put_record(keys[index], record)
            records[index] = record
        return records  # type: ignore[return-value]

    def _known(self, file_path: Path) -> Tuple[str, bool, Optional[ModuleSummary]]:
        """(display path, whether this run already has an answer for the module, that answer)."""
        path = _display_path(file_path)
        for key in (path, str(file_path)):
            if key in self.summaries:
                return path, True, self.summaries[key]
        return path, False, None

    def _cached_summary(self, path: str, file_path: Path) -> Optional[ModuleSummary]:
        if self.cache is None:
            return None
        try:
            text = self.texts.get(path)
            task = self._task(path, text if text is not None else read_file(file_path), triage=False)
        except SourceError:
            return None
        record = self.cache.get_record(self.cache.key(self.record_salt, task.path, task.module_name,
                                                      task.is_package, task.text))
        if record is None or record.summary is None:
            return None
        self.summaries[path] = record.summary
        return record.summary

    def _load_now(self, path: str, file_path: Path) -> Optional[ModuleSummary]:
        text = self.texts.get(path)
        try:
            if text is None:
                text = read_file(file_path)
            summary = self.summary_for(path, text)
        except SourceError:
            self.summaries[path] = None
            return None
        return summary

    def link(self, reported: List[ModuleSummary]) -> List[Diagnostic]:
        """Link the project and run the checks, summarising in parallel the modules they reach.

        Each pass runs the checks with a loader that takes cached summaries and only notes the
        modules it would have to summarise; that batch is summarised in the workers and the next
        pass, on a fresh project, reaches one call further.  The first pass that asks for nothing
        new had every module it needed, exactly as one-by-one loading would: its findings are the
        run's.  (With one job, modules are summarised as the checks ask for them, in one pass.)
        """
        if self.jobs <= 1:
            return self.check(reported)
        for _ in range(MAX_LINK_PASSES):
            loader = NotingLoader(self)
            self._fresh_project(reported, loader)
            try:
                found = self.check(reported)
            except Exception:  # pragma: no cover - the final pass below reports it
                break
            tasks: List[Task] = []
            for path, file_path in dict.fromkeys(loader.wanted):
                if path in self.summaries or any(t.path == path for t in tasks):
                    continue
                try:
                    text = self.texts.get(path)
                    tasks.append(self._task(path, text if text is not None else read_file(file_path), triage=False))
                except SourceError:
                    self.summaries[path] = None
            if not tasks and not loader.wanted:
                return found
            for task, record in zip(tasks, self._records(tasks)):
                self.summaries[task.path] = record.summary
        self._fresh_project(reported)
        return self.check(reported)

    def probe(self, path: Path) -> bool:
        """Is ``path`` a file?  Recorded, with its size and modification time, as a dependency."""
        found = self.dependencies[str(path)] = file_stamp(path)
        return found is not None

    def run_key(self, paths: Sequence[Union[str, Path]]) -> str:
        """What a whole run's result depends on besides the files: the knowledge base, the configuration,
        the paths asked for, where it runs and on which Python (the cache adds gillint's own code)."""
        import sys

        digest = hashlib.sha256()
        for part in (self.record_salt, repr(self.config), repr([str(p) for p in paths]), os.getcwd(), sys.version, sys.executable,
                     repr((self.fixes, self.apply_noqa))):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()

    def _new_project(self, loader: Optional[Callable[[Path], Optional[ModuleSummary]]] = None) -> Project:
        project = Project(self.kb, loader=loader or EagerLoader(self), is_file=self.probe)
        project.library_roots = list(self.library_roots)
        found: Dict[str, List[str]] = {}

        def mentions(word: str) -> List[str]:
            if word not in found:
                whole = re.compile(re.escape(word) + r"(?![A-Za-z0-9_])")  # ``@cache``, not ``@cached``
                texts = dict(self.texts)
                if len(texts) <= 1:
                    # one file (flake8, an editor): the rest of its project is read from disk
                    for path, error in iter_python_files(list(project.roots), self.config):
                        if error is None and path not in texts:
                            try:
                                texts[path] = Path(path).read_bytes().decode("utf-8", "replace")
                            except OSError:
                                continue
                found[word] = [_module_identity(path, self.probe)[0] for path, text in texts.items()
                               if word in text and whole.search(text)]
            return found[word]

        project.mentions = mentions
        return project

    def _fresh_project(self, reported: List[ModuleSummary],
                       loader: Optional[Callable[[Path], Optional[ModuleSummary]]] = None) -> None:
        roots = list(self.project.roots)
        self.project = self._new_project(loader)
        self.project.roots.extend(roots)
        for summary in reported:
            self.project.add(summary)

    # -- the run
    def run(self, files: Sequence[Tuple[str, Optional[str], Optional[SourceError]]]) -> LintResult:
        """``files``: (path, text or None, read error or None), all to be reported on."""
        result = LintResult()
        reported: List[ModuleSummary] = []
        diagnostics: List[Diagnostic] = []
        for path, text, error in files:
            if error is None and text is not None:
                self.texts[path] = text
                _, _, root = _module_identity(path, self.probe)
                if root is not None and root not in self.project.roots:
                    self.project.roots.append(root)
        tasks = [self._task(path, text, triage=True) for path, text, error in files if error is None and text is not None]
        records = dict(zip((t.path for t in tasks), self._records(tasks)))
        for path, text, error in files:
            result.files_checked += 1
            record = records.get(path) if error is None else None
            if record is not None and record.error is not None:
                error = SourceError(*record.error)
            elif record is not None and record.summary is not None:
                self.summaries[path] = record.summary
                self.project.add(record.summary)
                reported.append(record.summary)
            if error is not None:
                diagnostics.append(file_error(path, error.reason, error.line, error.column))
        diagnostics.extend(self.link(reported))
        result.diagnostics = self.finish(diagnostics)
        if self.fixes and self.facts is not None and any(d.code in FIXABLE_CODES for d in result.diagnostics):
            from .fixes.plan import plan_fixes

            result.diagnostics = plan_fixes(self.facts, result.diagnostics, self.texts, self.config)
        result.sources = {d.path: self.texts[d.path] for d in result.diagnostics if d.path in self.texts}
        return result

    def check(self, reported: List[ModuleSummary]) -> List[Diagnostic]:
        sites = StartFinder(self.project).find(reported)
        cost = CostModel(self.project, self.config.min_iterations, self.config.max_depth)
        facts = self.facts = Facts(reported, sites, cost, self.config)
        found: List[Diagnostic] = []
        for rule in enabled_rules(self.config):
            found.extend(rule.check(facts))
        return found

    def finish(self, diagnostics: List[Diagnostic]) -> List[Diagnostic]:
        """Confidence, per-file-ignores, noqa, dedupe, order."""
        kept: List[Diagnostic] = []
        by_path: Dict[str, List[Diagnostic]] = {}
        for diagnostic in diagnostics:
            origin = dict(diagnostic.properties).get("value-from", "")
            if diagnostic.code != ERROR_CODE and (self._in_tests(diagnostic.path) or (origin and self._in_tests(origin))):
                # test code, or a value that only test code hands over (a nested callback in a test)
                diagnostic = replace(diagnostic, confidence=Confidence.LOW)
            if diagnostic.confidence == Confidence.LOW and self.config.confidence != "low":
                continue
            if diagnostic.code != ERROR_CODE and self._per_file_ignored(diagnostic):
                continue
            by_path.setdefault(diagnostic.path, []).append(diagnostic)
        for path, items in by_path.items():
            text = self.texts.get(path)
            errors = [d for d in items if d.code == ERROR_CODE]
            findings = [d for d in items if d.code != ERROR_CODE]
            if text is not None and self.apply_noqa:
                findings = filter_noqa(findings, text)
            kept.extend(errors + findings)
        unique = {(d.path, d.line, d.column, d.code, d.message): d for d in kept}
        return sorted(unique.values(), key=lambda d: d.sort_key)

    def _in_tests(self, path: str) -> bool:
        """Is ``path`` test code?  Folder names count only below the project (the configuration's
        folder, else the working directory): a checkout under ``/srv/test/`` is not all tests."""
        if not self.config.test_paths:
            return False
        absolute = Path(path).resolve()
        below = absolute.name
        for top in (self.config.root, Path.cwd()):
            if top is not None and absolute.is_relative_to(top.resolve()):
                below = absolute.relative_to(top.resolve()).as_posix()
                break
        return config_mod.matches(below, self.config.test_paths, None)

    def _per_file_ignored(self, diagnostic: Diagnostic) -> bool:
        for pattern, codes in self.config.per_file_ignores:
            if config_mod.matches(diagnostic.path, [pattern], self.config.root):
                if any(c == "ALL" or diagnostic.code.startswith(c) for c in codes):
                    return True
        return False


class EagerLoader:
    """The project's loader for modules reached through imports: summarises a module when asked."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, file_path: Path) -> Optional[ModuleSummary]:
        path, known, summary = self.engine._known(file_path)
        return summary if known else self.engine._load_now(path, file_path)


class NotingLoader:
    """The loader of a link pass: a summary this run has or the cache holds, else None, noting the
    module in ``wanted`` so that the workers summarise the batch before the next pass."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.wanted: List[Tuple[str, str]] = []  # (display path, file path)

    def __call__(self, file_path: Path) -> Optional[ModuleSummary]:
        path, known, summary = self.engine._known(file_path)
        if known:
            return summary
        cached = self.engine._cached_summary(path, file_path)
        if cached is None:
            self.wanted.append((path, str(file_path)))
        return cached


def _display_path(path: Union[str, Path]) -> str:
    """Paths as users see them: relative to the working directory when below it."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative


def _module_identity(path: str, is_file: Callable[[Path], bool] = Path.is_file) -> Tuple[str, bool, Optional[Path]]:
    candidate = Path(path)
    if not candidate.exists():
        return candidate.stem or "__main__", False, None
    name, is_package, root = module_name_for(candidate.resolve(), is_file)
    return name, is_package, root


# ---------------------------------------------------------------------------- public API

def lint_source(source: Union[str, bytes], path: str = "<string>", config: Optional[Config] = None,
                cache: Optional[SummaryCache] = None, apply_noqa: bool = True) -> List[Diagnostic]:
    """Lint one source text.  ``path`` names it in diagnostics; if it is a real file of a
    project, the project's other modules are found through imports.  ``apply_noqa=False``
    leaves ``# noqa`` to the caller (flake8 applies its own)."""
    engine = Engine(config, cache, apply_noqa)
    try:
        text = decode(source) if isinstance(source, bytes) else source
        error = None
    except SourceError as exc:
        text, error = None, exc
    return engine.run([(path, text, error)]).diagnostics


def lint_paths(paths: Sequence[Union[str, Path]], config: Optional[Config] = None,
               cache: Optional[SummaryCache] = None, jobs: int = 1, fixes: bool = False) -> LintResult:
    """Lint files and directories (recursively, with excludes); ``jobs`` worker processes (1: none);
    ``fixes``: each finding carries its fix (or why there is none)."""
    engine = Engine(config, cache, jobs=jobs, fixes=fixes)
    listing = list_paths(paths, engine.config)
    if cache is None:
        return engine.run(read_listing(listing))
    # A run whose files, and every file its result depended on, are as they were gives that result
    # again without reading a file (gillint.cache keeps it).
    key, stamps = engine.run_key(paths), stamp_listing(listing)
    result = cache.get_run(key, stamps)
    if result is None:
        result = engine.run(read_listing(listing))
        cache.put_run(key, stamps, engine.dependencies, result)
    return result


Listing = List[Tuple[str, Optional[SourceError]]]


def list_paths(paths: Sequence[Union[str, Path]], config: Config) -> Listing:
    """(path as shown, error) of every file to report on, in order."""
    return [(_display_path(found) if error is None else found, error) for found, error in iter_python_files(paths, config)]


def read_listing(listing: Listing) -> List[Tuple[str, Optional[str], Optional[SourceError]]]:
    """(path, text, error) of every listed file, as :meth:`Engine.run` takes them."""
    files: List[Tuple[str, Optional[str], Optional[SourceError]]] = []
    for path, error in listing:
        text = None
        if error is None:
            try:
                text = read_file(path)
            except SourceError as exc:
                error = exc
        files.append((path, text, error))
    return files


def read_paths(paths: Sequence[Union[str, Path]], config: Config) -> List[Tuple[str, Optional[str], Optional[SourceError]]]:
    """(path, text, error) of every file to report on, as :meth:`Engine.run` takes them."""
    return read_listing(list_paths(paths, config))


Stamp = Tuple[str, Optional[Tuple[int, int]]]


def stamp_listing(listing: Listing) -> List[Stamp]:
    """(path, (size, modification time in ns)) of every listed file; None for a path that is not a
    regular file or cannot be examined.  Taken before the files are read."""
    stamps: List[Stamp] = []
    for path, error in listing:
        stamps.append((path, None if error is not None else file_stamp(path)))
    return stamps


def file_stamp(path: Union[str, Path]) -> Optional[Tuple[int, int]]:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns) if stat.S_ISREG(status.st_mode) else None
