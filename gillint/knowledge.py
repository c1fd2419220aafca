"""The GIL knowledge base: what a call does to the GIL, as data.

The entries live in ``rules/*.toml`` (shipped inside the wheel as
``gillint/rules``) and users add or override entries under
``[tool.gillint.knowledge]`` with the same schema.  See ``docs/knowledge-base.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

EFFECTS = ("cpu", "releases", "io", "light")
WORKERS = ("thread", "process", "interpreter")
STARTER_FORMS = ("constructor", "function")
EXECUTOR_APIS = ("futures", "pool")


class KnowledgeError(ValueError):
    """A knowledge-base entry is malformed; the message names the source and entry."""


@dataclass(frozen=True)
class CallEntry:
    """What calling ``name`` does: effect is one of EFFECTS.

    ``blocks_loop``: one call commonly runs long enough (tens of milliseconds or more)
    to stall an event loop when made inline in an ``async def``, even when it releases
    the GIL (password hashing, big compression, image decoding).
    ``payload_blocks_loop``: the same, but only when the call is given a whole payload (an argument
    named ``body``, ``content``, ``document``...): compressing one response body at level 9.
    """

    name: str
    effect: str
    reason: str
    size_dependent: str = ""
    source: str = ""
    blocks_loop: bool = False
    payload_blocks_loop: bool = False


@dataclass(frozen=True)
class MethodEntry:
    """A method called on an object whose type is not known, matched by name.

    ``min_args``/``max_args`` bound the positional arguments so that, for
    example, ``q.get()`` (a queue wait) is told from ``d.get(key)``.
    """

    name: str
    effect: str
    reason: str
    min_args: int = 0
    max_args: int = 99
    source: str = ""


@dataclass(frozen=True)
class ArgSpec:
    keyword: Optional[str]
    position: Optional[int]


@dataclass(frozen=True)
class StarterEntry:
    """An API that runs a callable on another worker.

    ``form = "constructor"``: calling it builds the worker object and the
    callable is an argument (``threading.Thread(target=f)``);
    ``form = "function"``: calling it hands the callable over at once
    (``asyncio.to_thread(f)``).
    """

    name: str
    worker: str
    form: str
    target: ArgSpec
    args: Optional[ArgSpec]
    kwargs: Optional[ArgSpec]
    star_args: bool
    reason: str
    source: str = ""
    awaited: bool = False  # a coroutine awaits it while a worker thread runs the callable (to_thread)


@dataclass(frozen=True)
class ExecutorEntry:
    """A class whose instances run callables: ``api`` names the method family."""

    name: str
    worker: str
    api: str
    reason: str
    source: str = ""


@dataclass
class KnowledgeBase:
    calls: Dict[str, CallEntry] = field(default_factory=dict)
    call_prefixes: Dict[str, CallEntry] = field(default_factory=dict)
    methods: Dict[str, List[MethodEntry]] = field(default_factory=dict)
    starters: Dict[str, StarterEntry] = field(default_factory=dict)
    executors: Dict[str, ExecutorEntry] = field(default_factory=dict)
    fingerprint: str = ""
    _prefilter: Optional["re.Pattern[str]"] = field(default=None, repr=False, compare=False)

    def prefilter(self) -> "re.Pattern[str]":
        """Text that a file able to start work elsewhere or define a coroutine must contain: a file
        without any of it needs no summary (the engine's triage, and the flake8 plugin's shortcut)."""
        if self._prefilter is None:
            words = {"run_in_executor", "set_default_executor", "threading", "multiprocessing", "concurrent", "_thread"}
            for name in list(self.starters) + list(self.executors):
                words.add(name.rsplit(".", 1)[-1])
            words.update(("Pool", "Executor", "Thread"))
            self._prefilter = re.compile(r"\basync\s+def\b|\b(?:%s)\b" % "|".join(sorted(re.escape(w) for w in words)))
        return self._prefilter

    def call(self, qualified_name: str) -> Optional[CallEntry]:
        """The entry for a qualified call name: exact, else the longest ``mod.*``."""
        entry = self.calls.get(qualified_name)
        if entry is not None:
            return entry
        name = qualified_name
        while "." in name:
            name = name.rsplit(".", 1)[0]
            entry = self.call_prefixes.get(name)
            if entry is not None:
                return entry
        return None

    def method(self, method_name: str, positional_args: int) -> Optional[MethodEntry]:
        for entry in self.methods.get(method_name, ()):
            if entry.min_args <= positional_args <= entry.max_args:
                return entry
        return None


def _arg_spec(value: Any, where: str, key: str) -> ArgSpec:
    """``"target:1"`` -> keyword target or position 1; ``"target"``; ``"1"``."""
    if not isinstance(value, str):
        raise KnowledgeError("%s: %r must be a string like 'target:1'" % (where, key))
    keyword, _, position = value.partition(":")
    if keyword.isdigit() and not position:
        keyword, position = "", keyword
    if position and not position.isdigit():
        raise KnowledgeError("%s: %r has a position that is not a number: %r" % (where, key, value))
    return ArgSpec(keyword or None, int(position) if position else None)


_SCHEMA: Dict[str, Dict[str, type]] = {
    "call": {"name": str, "effect": str, "reason": str, "size_dependent": str, "blocks_loop": bool,
             "payload_blocks_loop": bool},
    "method": {"name": str, "effect": str, "reason": str, "min_args": int, "max_args": int},
    "starter": {
        "name": str,
        "worker": str,
        "form": str,
        "target": str,
        "args": str,
        "kwargs": str,
        "star_args": bool,
        "awaited": bool,
        "reason": str,
    },
    "executor": {"name": str, "worker": str, "api": str, "reason": str},
}
_REQUIRED = {
    "call": ("name", "effect", "reason"),
    "method": ("name", "effect", "reason"),
    "starter": ("name", "worker", "form", "target", "reason"),
    "executor": ("name", "worker", "api", "reason"),
}
_CHOICES = {"effect": EFFECTS, "worker": WORKERS, "form": STARTER_FORMS, "api": EXECUTOR_APIS}


def _check_entry(kind: str, raw: Any, where: str) -> Dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise KnowledgeError("%s: each %s entry must be a table" % (where, kind))
    label = "%s %s %r" % (where, kind, raw.get("name", "?"))
    schema = _SCHEMA[kind]
    for key, value in raw.items():
        if key not in schema:
            raise KnowledgeError("%s: unknown key %r (expected one of %s)" % (label, key, ", ".join(sorted(schema))))
        expected = schema[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise KnowledgeError("%s: %r must be %s" % (label, key, expected.__name__))
        if key in _CHOICES and value not in _CHOICES[key]:
            raise KnowledgeError("%s: %r must be one of %s, not %r" % (label, key, ", ".join(_CHOICES[key]), value))
    for key in _REQUIRED[kind]:
        if key not in raw:
            raise KnowledgeError("%s: missing required key %r" % (label, key))
    for key in ("name", "reason"):
        if key in raw and not raw[key].strip():
            raise KnowledgeError("%s: %r must not be empty" % (label, key))
    for flag in ("blocks_loop", "payload_blocks_loop"):
        if raw.get(flag) and raw["effect"] not in ("cpu", "releases"):
            raise KnowledgeError("%s: %r is only for cpu and releases entries, not %r (an io call blocks an "
                                 "event loop anyway; a light one does not)" % (label, flag, raw["effect"]))
    return dict(raw)


def add_entries(kb: KnowledgeBase, data: Mapping[str, Any], where: str) -> None:
    """Add (or override) the entries of one TOML document; ``where`` names it in errors."""
    for kind in data:
        if kind not in _SCHEMA:
            raise KnowledgeError("%s: unknown table %r (expected call, method, starter or executor)" % (where, kind))
        if not isinstance(data[kind], list):
            raise KnowledgeError("%s: %r must be an array of tables ([[%s]])" % (where, kind, kind))
    for raw in data.get("call", ()):
        item = _check_entry("call", raw, where)
        entry = CallEntry(item["name"], item["effect"], item["reason"], item.get("size_dependent", ""), where,
                          item.get("blocks_loop", False), item.get("payload_blocks_loop", False))
        if entry.name.endswith(".*"):
            kb.call_prefixes[entry.name[:-2]] = entry
        else:
            kb.calls[entry.name] = entry
    for raw in data.get("method", ()):
        item = _check_entry("method", raw, where)
        entry_m = MethodEntry(
            item["name"], item["effect"], item["reason"], item.get("min_args", 0), item.get("max_args", 99), where
        )
        existing = [e for e in kb.methods.get(entry_m.name, []) if (e.min_args, e.max_args) != (entry_m.min_args, entry_m.max_args)]
        kb.methods[entry_m.name] = [entry_m] + existing
    for raw in data.get("starter", ()):
        item = _check_entry("starter", raw, where)
        label = "%s starter %r" % (where, item["name"])
        kb.starters[item["name"]] = StarterEntry(
            name=item["name"],
            worker=item["worker"],
            form=item["form"],
            target=_arg_spec(item["target"], label, "target"),
            args=_arg_spec(item["args"], label, "args") if "args" in item else None,
            kwargs=_arg_spec(item["kwargs"], label, "kwargs") if "kwargs" in item else None,
            star_args=item.get("star_args", False),
            reason=item["reason"],
            source=where,
            awaited=item.get("awaited", False),
        )
    for raw in data.get("executor", ()):
        item = _check_entry("executor", raw, where)
        kb.executors[item["name"]] = ExecutorEntry(item["name"], item["worker"], item["api"], item["reason"], where)


def rules_dir() -> Path:
    """The bundled knowledge base: ``gillint/rules`` in a wheel, ``rules/`` in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "rules"
    if installed.is_dir():
        return installed
    return here.parent / "rules"


def bundled_files() -> List[Path]:
    directory = rules_dir()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise KnowledgeError("the bundled knowledge base is missing: no *.toml in %s" % directory)
    return files


def compiled_dir() -> Optional[Path]:
    """Where the parsed bundled files are kept between processes (the user's cache directory):
    parsing the TOML is most of the start-up of the flake8 plugin on a file with nothing to check."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative: the XDG specification says to ignore it
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gillint" if os.path.isabs(base) else None


def _parsed_bundled(use_compiled: bool = True) -> Tuple[List[Tuple[str, Dict[str, Any]]], str]:
    """(file name, parsed data) of every bundled file and the digest of their bytes; the parsed data
    comes from the compiled copy when one with the same digest exists (a JSON file; every entry still
    goes through the same validation as when read from TOML)."""
    raws = [(path.name, path.read_bytes()) for path in bundled_files()]
    digest = hashlib.sha256()
    for name, raw in raws:
        digest.update(name.encode() + b"\0" + raw)
    hexdigest = digest.hexdigest()
    directory = compiled_dir()
    compiled = directory / ("knowledge-%s.json" % hexdigest[:32]) if directory is not None else None
    if compiled is not None and use_compiled:
        try:
            stored = json.loads(compiled.read_text(encoding="utf-8"))
            if isinstance(stored, list) and [entry[0] for entry in stored] == [name for name, _ in raws]:
                return [(name, data) for name, data in stored], hexdigest
        except (OSError, ValueError, TypeError, IndexError):
            pass
    parsed = []
    for name, raw in raws:
        try:
            parsed.append((name, tomllib.loads(raw.decode("utf-8"))))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise KnowledgeError("%s: %s" % (name, exc)) from None
    if compiled is not None:
        _write_compiled(compiled, parsed)
    return parsed, hexdigest


def _write_compiled(compiled: Path, parsed: List[Tuple[str, Dict[str, Any]]]) -> None:
    from .atomic import write_atomic

    try:
        compiled.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(compiled, json.dumps(parsed).encode("utf-8"))
    except (OSError, TypeError, ValueError):  # a read-only home, or data JSON cannot hold: parse next time
        pass


def _load_bundled(use_compiled: bool = True) -> Tuple[KnowledgeBase, str]:
    kb = KnowledgeBase()
    parsed, hexdigest = _parsed_bundled(use_compiled)
    try:
        for name, data in parsed:
            add_entries(kb, data, "rules/" + name)
    except (KnowledgeError, AttributeError, TypeError, ValueError):
        if not use_compiled:
            raise
        return _load_bundled(use_compiled=False)  # a compiled copy edited by hand: the TOML decides
    return kb, hexdigest


_BUNDLED: Optional[Tuple[KnowledgeBase, str]] = None


def load(additions: Iterable[Tuple[str, Mapping[str, Any]]] = ()) -> KnowledgeBase:
    """The bundled knowledge base plus the user's additions, in order (later wins)."""
    global _BUNDLED
    if _BUNDLED is None:
        _BUNDLED = _load_bundled()
    base, digest_hex = _BUNDLED
    kb = KnowledgeBase(
        calls=dict(base.calls),
        call_prefixes=dict(base.call_prefixes),
        methods={k: list(v) for k, v in base.methods.items()},
        starters=dict(base.starters),
        executors=dict(base.executors),
    )
    digest = hashlib.sha256(digest_hex.encode())
    for where, data in additions:
        add_entries(kb, data, where)
        digest.update(repr(sorted((k, repr(v)) for k, v in data.items())).encode())
    kb.fingerprint = digest.hexdigest()[:16]
    return kb
