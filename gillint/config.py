"""``[tool.gillint]`` in pyproject.toml: found, parsed and validated.

Every mistake a user can make here is a :class:`ConfigError` whose message names
the file and the key (or the line, for TOML syntax errors); the CLI prints it on
one line and exits with status 2.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".eggs", "__pycache__", "build", "dist",
    "node_modules", "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".gillint_cache",
)
# Test code: files named like tests, and folders that hold them.
DEFAULT_TEST_PATHS = ("test_*.py", "*_test.py", "tests", "test", "testing", "testing.py", "conftest.py")
TARGET_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.13t", "3.14t")
CONFIDENCES = ("high", "low")
CODE_PATTERN = re.compile(r"^GIL[0-9]{0,3}$")


class ConfigError(Exception):
    """A user mistake in configuration; the message is one line and names where."""


@dataclass
class Config:
    select: Tuple[str, ...] = ()  # empty: the rules enabled by default
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    target_version: str = ""  # "" = the running interpreter's kind (GIL or not)
    min_iterations: int = 10_000
    max_depth: int = 12
    confidence: str = "high"
    # Findings in these files are low confidence: threads in tests drive the code under test, and
    # how fast the tests run is rarely what the project ships.  ``confidence = "low"`` shows them.
    test_paths: Tuple[str, ...] = DEFAULT_TEST_PATHS
    knowledge: Tuple[Tuple[str, Mapping[str, Any]], ...] = ()
    follow_libraries: bool = True  # follow calls into pure-Python packages installed beside gillint
    library_paths: Tuple[str, ...] = ()  # more places to find the source of installed packages
    verify: Mapping[str, Any] = field(default_factory=dict)
    fix: Mapping[str, Any] = field(default_factory=dict)  # [tool.gillint.fix]: what the fixes may use
    thread_shared: Tuple[str, ...] = ()  # classes and functions that callers share between threads (GIL4xx)
    path: Optional[Path] = None  # the pyproject.toml it came from
    root: Optional[Path] = None  # the directory of that file: patterns are relative to it

    @property
    def fingerprint(self) -> str:
        """What in the configuration can change analysis results (for caches)."""
        return repr((self.target_version, self.min_iterations, self.max_depth, self.knowledge, self.follow_libraries,
                     self.library_paths))


def _codes(value: Any, where: str, key: str, known: Sequence[str]) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("%s: %s must be a list of rule codes or prefixes, like [\"GIL1\", \"GIL203\"]" % (where, key))
    for code in value:
        check_code(code, "%s: %s" % (where, key), known)
    return tuple(value)


def check_code(code: str, where: str, known: Sequence[str]) -> None:
    if code == "ALL":
        return
    if not CODE_PATTERN.match(code) or not any(k.startswith(code) for k in known):
        raise ConfigError("%s: unknown rule code %r (see `gillint rules`)" % (where, code))


def _strings(value: Any, where: str, key: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("%s: %s must be a list of strings" % (where, key))
    return tuple(value)


def _int(value: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError("%s: %s must be a whole number from %d to %d" % (where, key, low, high))
    return value


def _choice(value: Any, where: str, key: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ConfigError("%s: %s must be one of %s, not %r" % (where, key, ", ".join(choices), value))
    return value


def from_table(table: Mapping[str, Any], where: str, known_codes: Sequence[str], root: Optional[Path] = None) -> Config:
    """Validate a ``[tool.gillint]`` table; ``where`` prefixes every error (``pyproject.toml [tool.gillint]``)."""
    from . import knowledge

    config = Config(root=root)
    for key, value in table.items():
        name = key.replace("_", "-")
        if name == "select":
            config.select = _codes(value, where, key, known_codes)
        elif name == "extend-select":
            config.extend_select = _codes(value, where, key, known_codes)
        elif name == "ignore":
            config.ignore = _codes(value, where, key, known_codes)
        elif name == "exclude":
            config.exclude = _strings(value, where, key)
        elif name == "extend-exclude":
            config.extend_exclude = _strings(value, where, key)
        elif name == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError("%s: per-file-ignores must be a table of \"glob\" = [codes]" % where)
            config.per_file_ignores = tuple(
                (pattern, _codes(codes, where, "per-file-ignores.%s" % pattern, known_codes))
                for pattern, codes in value.items()
            )
        elif name == "target-version":
            config.target_version = _choice(value, where, key, TARGET_VERSIONS)
        elif name == "min-iterations":
            config.min_iterations = _int(value, where, key, 1, 10**12)
        elif name == "max-depth":
            config.max_depth = _int(value, where, key, 0, 100)
        elif name == "confidence":
            config.confidence = _choice(value, where, key, CONFIDENCES)
        elif name == "test-paths":
            config.test_paths = _strings(value, where, key)
        elif name == "knowledge":
            if not isinstance(value, dict):
                raise ConfigError("%s: knowledge must be a table with [[...knowledge.call]] entries" % where)
            label = "%s knowledge" % where
            try:
                knowledge.add_entries(knowledge.KnowledgeBase(), value, label)
            except knowledge.KnowledgeError as exc:
                raise ConfigError(str(exc)) from None
            config.knowledge = ((label, value),)
        elif name == "follow-libraries":
            if not isinstance(value, bool):
                raise ConfigError("%s: follow-libraries must be true or false" % where)
            config.follow_libraries = value
        elif name == "library-paths":
            config.library_paths = _strings(value, where, key)
        elif name == "thread-shared":
            config.thread_shared = _strings(value, where, key)
        elif name == "verify":
            if not isinstance(value, dict):
                raise ConfigError("%s: verify must be a table" % where)
            config.verify = value
        elif name == "fix":
            config.fix = _fix_table(value, where)
        else:
            raise ConfigError("%s: unknown key %r (see docs/configuration.md)" % (where, key))
    return config


def _fix_table(value: Any, where: str) -> Mapping[str, Any]:
    """``[tool.gillint.fix]``: ``process-pool = "package.module:POOL"`` names the pool the asyncio fixes use."""
    if not isinstance(value, dict):
        raise ConfigError("%s: fix must be a table" % where)
    for key, item in value.items():
        if key.replace("_", "-") != "process-pool":
            raise ConfigError("%s: unknown key %r in fix (see docs/fixes.md)" % (where, key))
        if not isinstance(item, str) or not re.match(r"^[\w.]+:[\w.]+(\(\))?$", item):
            raise ConfigError("%s: fix.process-pool must look like \"package.module:POOL\" or "
                              "\"package.module:get_pool()\"" % where)
    return {key.replace("_", "-"): item for key, item in value.items()}


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.gillint] table, walking up from ``start``."""
    directory = start if start.is_dir() else start.parent
    directory = directory.resolve()
    for candidate_dir in [directory, *directory.parents]:
        candidate = candidate_dir / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return candidate  # let load() report it
            if "[tool.gillint" in text or "tool.gillint" in text:
                return candidate
    return None


def load(path: Path, known_codes: Sequence[str], required: bool = False) -> Config:
    """Read ``[tool.gillint]`` from a pyproject.toml (``required``: a --config file must have it)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("%s: cannot read: %s" % (path, exc.strerror or exc)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError("%s: not UTF-8 (byte %d)" % (path, exc.start)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("%s: invalid TOML: %s" % (path, exc)) from None
    tool = data.get("tool", {})
    table = tool.get("gillint") if isinstance(tool, dict) else None
    if table is None:
        if required:
            raise ConfigError("%s: no [tool.gillint] table" % path)
        return Config(path=path, root=path.parent)
    if not isinstance(table, dict):
        raise ConfigError("%s: tool.gillint must be a table" % path)
    config = from_table(table, "%s [tool.gillint]" % path, known_codes, root=path.parent.resolve())
    config.path = path
    return config


def code_enabled(code: str, select: Sequence[str], extend_select: Sequence[str], ignore: Sequence[str],
                 defaults: Sequence[str]) -> bool:
    """Longest matching prefix wins, as in ruff: ``ignore GIL1`` + ``extend-select GIL101`` keeps GIL101."""
    def best(prefixes: Sequence[str]) -> int:
        lengths = [len(p) if p != "ALL" else 0 for p in prefixes if p == "ALL" or code.startswith(p)]
        return max(lengths) if lengths else -1

    # Rules on by default count as selected by the least specific prefix, like "ALL".
    positive = best(select) if select else (0 if any(code.startswith(d) for d in defaults) else -1)
    positive = max(positive, best(extend_select))
    negative = best(ignore)
    return positive >= 0 and positive > negative


def matches(path: str, patterns: Sequence[str], root: Optional[Path], base: Optional[Path] = None) -> bool:
    """gitignore-style matching of a path against patterns.

    A pattern with a ``/`` matches the path relative to ``root`` (the directory of the
    configuration file); a pattern without one matches any component of the path below
    ``base`` (the directory being walked), so that checking ``.../site-packages/pkg``
    does not exclude everything because a parent is called ``site-packages``.
    """
    from fnmatch import fnmatch

    candidate = Path(path)
    absolute = candidate.resolve()
    relative: Optional[str] = None
    if root is not None:
        try:
            relative = absolute.relative_to(root).as_posix()
        except ValueError:
            relative = None
    below = relative if relative is not None else candidate.as_posix()
    if base is not None:
        try:
            below = absolute.relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    parts = below.split("/")
    for pattern in patterns:
        cleaned = pattern.rstrip("/")
        if "/" in cleaned.lstrip("./"):
            cleaned = cleaned[2:] if cleaned.startswith("./") else cleaned.lstrip("/")
            target = relative if relative is not None else below
            if fnmatch(target, cleaned) or fnmatch(target, cleaned + "/*"):
                return True
        elif any(fnmatch(part, cleaned) for part in parts):
            return True
    return False


def user_excludes(config: "Config") -> Tuple[str, ...]:
    """The exclude patterns the user chose (not the built-in defaults): they apply to named files too."""
    chosen = () if tuple(config.exclude) == DEFAULT_EXCLUDE else tuple(config.exclude)
    return chosen + tuple(config.extend_exclude)


def merge_cli(config: Config, select: Optional[List[str]], extend_select: Optional[List[str]],
              ignore: Optional[List[str]], exclude: Optional[List[str]], known_codes: Sequence[str],
              target_version: Optional[str] = None, library_paths: Optional[List[str]] = None) -> Config:
    """Command-line options override the file: --select replaces, --extend-select, --ignore and
    --library-path add (a library path given on the command line is relative to the working directory)."""
    for label, values in (("--select", select), ("--extend-select", extend_select), ("--ignore", ignore)):
        for code in values or ():
            check_code(code, label, known_codes)
    if select:
        config.select = tuple(select)
    if extend_select:
        config.extend_select = config.extend_select + tuple(extend_select)
    if ignore:
        config.ignore = config.ignore + tuple(ignore)
    if exclude:
        config.extend_exclude = config.extend_exclude + tuple(exclude)
    if target_version:
        config.target_version = _choice(target_version, "--target-version", "value", TARGET_VERSIONS)
    given_paths = []
    for given in library_paths or ():
        path = Path(given).absolute()
        if not path.is_dir():
            raise ConfigError("--library-path %s: not a directory" % given)
        given_paths.append(str(path))
    config.library_paths = tuple(given_paths) + config.library_paths
    return config
