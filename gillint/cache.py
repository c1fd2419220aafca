"""Per-file results kept on disk between runs (``.gillint_cache/`` at the project root).

An entry is a :class:`~gillint.parallel.FileRecord` (validation error, whether the file
needs a summary, the summary) stored as JSON under a key that covers everything the
record depends on: the file's text, path and module name, the code that made it
(gillint's version and a digest of its analysis sources), the shape of the summary
dataclasses, and the knowledge base.  Findings are never cached: they are linked
afresh from the summaries on every run, so editing a module changes the findings of
every call that reaches it.

Entries are written to a temporary file and renamed into place, so readers see a
whole entry or none and two runs at once cannot corrupt each other.  Each entry starts
with a header line naming the format, the schema, its key and a SHA-256 of its body;
an entry that fails any check (truncated, edited, planted, from another version) is
ignored and rewritten.  JSON is decoded into the dataclasses field by field against
their type hints: nothing in an entry can run code.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import typing
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from .atomic import write_atomic
from .diagnostics import ERROR_CODE, Diagnostic
from .engine import LintResult, SourceError, Stamp, SummaryCache, file_stamp, read_file
from .parallel import FileRecord

CACHE_DIR_NAME = ".gillint_cache"
FORMAT = "gillint-cache"
RUN_FORMAT = "gillint-run"
# Whole-run entries kept (one per set of paths and configuration, e.g. each pre-commit file list):
# the oldest beyond this are removed when a new one is written.
MAX_RUN_ENTRIES = 32
SCHEMA = 1
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by gillint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


class CacheFormatError(ValueError):
    """An entry that does not match the expected shape."""


# ---------------------------------------------------------------------------- JSON <-> dataclasses

_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls: type) -> Dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        all_hints = typing.get_type_hints(cls)  # resolved in the dataclass's own module
        hints = _HINTS[cls] = {f.name: all_hints[f.name] for f in dataclasses.fields(cls)}
    return hints


def to_json(value: Any) -> Any:
    """Dataclasses to dicts, tuples to lists; everything else must already be JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: to_json(getattr(value, name)) for name in _hints(type(value))}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, frozenset):  # pragma: no cover - not in today's model
        return sorted(to_json(item) for item in value)
    return value


def from_json(hint: Any, data: Any, where: str = "entry") -> Any:
    """``data`` decoded as ``hint``; CacheFormatError for anything that does not fit exactly."""
    return _decoder(hint)(data, where)


_DECODERS: Dict[Any, Any] = {}


def _decoder(hint: Any) -> Any:
    """A function (data, where) -> value for ``hint``, built once per type: warm runs decode a lot."""
    decoder = _DECODERS.get(hint)
    if decoder is None:
        decoder = _DECODERS[hint] = _make_decoder(hint)
    return decoder


def _make_decoder(hint: Any) -> Any:  # noqa: C901 - one branch per kind of type
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        cls = hint
        hints = _hints(cls)
        names = frozenset(hints)
        fields: Dict[str, Any] = {}  # name -> decoder, filled on first use (types refer to themselves)

        def decode_dataclass(data: Any, where: str) -> Any:
            if type(data) is not dict or data.keys() != names:
                raise CacheFormatError("%s: expected the fields of %s" % (where, cls.__name__))
            if not fields:
                fields.update((name, _decoder(hint)) for name, hint in hints.items())
            return cls(**{name: fields[name](value, where) for name, value in data.items()})
        return decode_dataclass
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = hint

        def decode_enum(data: Any, where: str) -> Any:
            try:
                return members(data)
            except ValueError:
                raise CacheFormatError("%s: not a %s" % (where, members.__name__)) from None
        return decode_enum
    if hint is bool:
        def decode_bool(data: Any, where: str) -> Any:
            if data is True or data is False:
                return data
            raise CacheFormatError("%s: expected a boolean" % where)
        return decode_bool
    if hint in (int, str, float):
        exact = hint

        def decode_scalar(data: Any, where: str) -> Any:
            if type(data) is exact or (exact is float and type(data) is int):
                return data
            raise CacheFormatError("%s: expected %s" % (where, exact.__name__))
        return decode_scalar
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union:
        options = [a for a in args if a is not type(None)]
        nullable = len(options) != len(args)

        def decode_union(data: Any, where: str) -> Any:
            if data is None and nullable:
                return None
            for option in options:
                try:
                    return _decoder(option)(data, where)
                except CacheFormatError:
                    continue
            raise CacheFormatError("%s: matches none of %s" % (where, hint))
        return decode_union
    if origin in (tuple, list):
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            item_hint = args[0]
            make = list if origin is list else tuple

            def decode_sequence(data: Any, where: str) -> Any:
                if type(data) is not list:
                    raise CacheFormatError("%s: expected a list" % where)
                if not data:
                    return make()
                item = _decoder(item_hint)
                return make([item(value, where) for value in data])
            return decode_sequence
        items = args
        if all(h is int for h in items):  # spans: the commonest shape by far
            def decode_ints(data: Any, where: str) -> Any:
                if type(data) is not list or len(data) != len(items) or any(type(v) is not int for v in data):
                    raise CacheFormatError("%s: expected %d integers" % (where, len(items)))
                return tuple(data)
            return decode_ints

        def decode_fixed(data: Any, where: str) -> Any:
            if type(data) is not list or len(data) != len(items):
                raise CacheFormatError("%s: expected %d items" % (where, len(items)))
            return tuple(_decoder(h)(value, where) for h, value in zip(items, data))
        return decode_fixed
    if origin is dict:
        key_hint, value_hint = args

        def decode_dict(data: Any, where: str) -> Any:
            if type(data) is not dict:
                raise CacheFormatError("%s: expected an object" % where)
            key, value = _decoder(key_hint), _decoder(value_hint)
            return {key(k, where): value(v, where) for k, v in data.items()}
        return decode_dict
    if origin is frozenset:  # pragma: no cover - not in today's model
        def decode_frozenset(data: Any, where: str) -> Any:
            if type(data) is not list:
                raise CacheFormatError("%s: expected a list" % where)
            return frozenset(_decoder(args[0])(value, where) for value in data)
        return decode_frozenset
    if hint is Any:  # pragma: no cover - not in today's model
        return lambda data, where: data
    if hint is type(None):
        def decode_none(data: Any, where: str) -> Any:
            if data is not None:
                raise CacheFormatError("%s: expected null" % where)
            return None
        return decode_none
    raise CacheFormatError("cannot decode %r" % (hint,))


def schema_fingerprint() -> str:
    """The shape of the stored dataclasses: a changed field changes every key."""
    seen: List[str] = []
    pending: List[type] = [FileRecord]
    done = set()
    while pending:
        cls = pending.pop()
        if cls in done:
            continue
        done.add(cls)
        hints = _hints(cls)
        seen.append("%s(%s)" % (cls.__name__, ",".join("%s:%s" % (k, v) for k, v in hints.items())))
        stack = list(hints.values())
        while stack:
            hint = stack.pop()
            if isinstance(hint, type) and dataclasses.is_dataclass(hint):
                pending.append(hint)
            stack.extend(typing.get_args(hint))
    return hashlib.sha256("|".join(sorted(seen)).encode()).hexdigest()


def code_fingerprint() -> str:
    """gillint's version and the sources that make records: a development edit invalidates too."""
    from . import __version__

    digest = hashlib.sha256(("%s\0%d\0%s" % (__version__, SCHEMA, schema_fingerprint())).encode())
    package = Path(__file__).resolve().parent
    sources = sorted((package / "analysis").glob("*.py"))
    sources += [package / name for name in ("engine.py", "filework.py", "parallel.py")]
    for source in sources:
        try:
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
        except OSError:  # pragma: no cover - e.g. run from a zip: the version alone
            pass
    return digest.hexdigest()


def record_key(code: str, knowledge: str, path: str, module_name: str, is_package: bool, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    digest.update(("\0%s\0%s\0%s\0%s\0%s" % (code, knowledge, path, module_name, is_package)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------- the directory

def default_cache_dir(root: Optional[Path]) -> Path:
    """``.gillint_cache`` in the project root (the directory of pyproject.toml), else the working directory."""
    return (root if root is not None else Path.cwd()) / CACHE_DIR_NAME


class DiskCache(SummaryCache):
    """File records on disk, one JSON file per key; also keeps what it read in memory."""

    def __init__(self, directory: Union[str, Path]) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.code = code_fingerprint()
        self.hits = 0
        self.misses = 0
        self.rejected = 0  # corrupted, foreign or stale entries (rewritten)
        self.written = 0
        self.run_hits = 0  # whole runs answered from the cache
        self.warning: Optional[str] = None  # set when writing failed: the run goes on without the cache
        self._records: Dict[str, FileRecord] = {}
        self._absent: set = set()  # keys with no usable entry on disk: looked up once
        self._prepared = False

    # -- the engine's interface
    def key(self, knowledge: str, path: str, module_name: str, is_package: bool, text: str) -> str:
        return record_key(self.code, knowledge, path, module_name, is_package, text)

    def get_record(self, key: str) -> Optional[FileRecord]:
        record = self._records.get(key)
        if record is not None or key in self._absent:
            return record
        entry = self._entry_path(key)
        try:
            raw = entry.read_bytes()
        except OSError:
            self.misses += 1
            self._absent.add(key)
            return None
        try:
            record = self.decode(key, raw)
        except (CacheFormatError, ValueError, TypeError, RecursionError):
            self.rejected += 1
            self._absent.add(key)
            return None
        self.hits += 1
        self._records[key] = record
        return record

    def put_record(self, key: str, record: FileRecord) -> None:
        self._records[key] = record
        if self.warning is not None:
            return
        try:
            self._prepare()
            entry = self._entry_path(key)
            entry.parent.mkdir(exist_ok=True)
            write_atomic(entry, self.encode(key, record))
            self.written += 1
        except OSError as exc:
            self.warning = "cannot write the cache in %s (%s); results are not cached" % (
                self.directory, exc.strerror or exc)

    # -- whole runs: the linked result of files that have not changed since
    def get_run(self, key: str, stamps: List[Stamp]) -> Optional[LintResult]:
        """The stored result of this run if its files are the same, with the same size and modification
        time, and so is every file the result depended on (or still absent); else None."""
        try:
            data = _unwrap(RUN_FORMAT, self._run_key(key), self._run_path(key).read_bytes())
            if type(data) is not dict or data.get("files") != [[path, list(s) if s else None] for path, s in stamps]:
                return None
            dependencies = data["dependencies"]
            if type(dependencies) is not dict:
                raise CacheFormatError("dependencies")
            for path, expected in dependencies.items():
                found = file_stamp(path)
                if (list(found) if found else None) != expected:
                    return None
            diagnostics = from_json(List[Diagnostic], data["diagnostics"], "run")
            checked = from_json(int, data["files_checked"], "run")
            sources: Dict[str, str] = {}
            for diagnostic in diagnostics:
                if diagnostic.path not in sources:
                    try:
                        sources[diagnostic.path] = read_file(diagnostic.path)
                    except SourceError:
                        if diagnostic.code != ERROR_CODE:  # a file with findings that cannot be read now
                            raise
        except (OSError, KeyError, CacheFormatError, ValueError, TypeError, RecursionError, SourceError):
            return None
        self.run_hits += 1
        return LintResult(diagnostics, checked, sources)

    def put_run(self, key: str, stamps: List[Stamp], dependencies: Dict[str, Optional[Tuple[int, int]]],
                result: LintResult) -> None:
        if self.warning is not None:
            return
        body = {"files": [[path, list(s) if s else None] for path, s in stamps],
                "dependencies": {path: list(s) if s else None for path, s in sorted(dependencies.items())},
                "files_checked": result.files_checked, "diagnostics": to_json(result.diagnostics)}
        try:
            self._prepare()
            target = self._run_path(key)
            target.parent.mkdir(exist_ok=True)
            write_atomic(target, _wrap(RUN_FORMAT, self._run_key(key), body))
            self._prune_runs(target.parent)
        except (OSError, ValueError, TypeError) as exc:
            self.warning = "cannot write the cache in %s (%s); results are not cached" % (
                self.directory, getattr(exc, "strerror", None) or exc)

    @staticmethod
    def _prune_runs(directory: Path) -> None:
        entries = []
        for entry in directory.glob("*.json"):
            try:
                entries.append((entry.stat().st_mtime_ns, entry))
            except OSError:  # removed by another run meanwhile
                continue
        for _, entry in sorted(entries, reverse=True)[MAX_RUN_ENTRIES:]:
            try:
                entry.unlink()
            except OSError:
                pass

    def _run_key(self, key: str) -> str:
        return hashlib.sha256(("%s\0%s" % (self.code, key)).encode()).hexdigest()

    def _run_path(self, key: str) -> Path:
        return self.directory / "runs" / (self._run_key(key) + ".json")

    # -- entry format
    @staticmethod
    def encode(key: str, record: FileRecord) -> bytes:
        return _wrap(FORMAT, key, to_json(record))

    @staticmethod
    def decode(key: str, raw: bytes) -> FileRecord:
        return from_json(FileRecord, _unwrap(FORMAT, key, raw))

    # -- layout
    def _entry_path(self, key: str) -> Path:
        return self.directory / "files" / key[:2] / (key[2:] + ".json")

    def _prepare(self) -> None:
        """The directory, its CACHEDIR.TAG and a .gitignore that keeps it out of version control."""
        if self._prepared:
            return
        (self.directory / "files").mkdir(parents=True, exist_ok=True)
        for name, content in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "*\n")):
            target = self.directory / name
            if not target.exists():
                write_atomic(target, content.encode())
        self._prepared = True

    def stats(self) -> Tuple[int, int, int, int]:
        return self.hits, self.misses, self.rejected, self.written


def _wrap(kind: str, key: str, data: Any) -> bytes:
    """A header line (format, schema, key, digest of the body) and the JSON body."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    header = {"format": kind, "schema": SCHEMA, "key": key, "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(header).encode() + b"\n" + body


def _unwrap(kind: str, key: str, raw: bytes) -> Any:
    """The JSON body of an entry whose header matches; CacheFormatError for anything else."""
    head, newline, body = raw.partition(b"\n")
    if not newline:
        raise CacheFormatError("no header")
    header = json.loads(head)
    if not isinstance(header, dict) or header.get("format") != kind or header.get("schema") != SCHEMA:
        raise CacheFormatError("not a gillint cache entry of this schema")
    if header.get("key") != key or header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise CacheFormatError("key or digest mismatch")
    return json.loads(body.decode("utf-8", "surrogatepass"))
