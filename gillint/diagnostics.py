"""The one result type of gillint, and the data it carries.

Everything a front end shows (text, JSON, SARIF, GitHub annotations, flake8, the
verifier) is built from :class:`Diagnostic`.  These are plain frozen dataclasses so
they can be compared in tests, sent between processes and written to JSON.

Lines are 1-based.  Columns are 1-based too (as shown to people and in SARIF);
the flake8 adapter converts to flake8's 0-based offsets.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional, Tuple


class Remedy(str, enum.Enum):
    """What to use instead; every diagnostic names exactly one primary remedy."""

    PROCESSES = "processes"  # ProcessPoolExecutor / multiprocessing
    VECTORISE = "vectorise"  # numpy & co: C loops that release the GIL
    NATIVE = "native"  # a C/Cython/Rust extension that releases the GIL
    ASYNCIO = "asyncio"  # I/O concurrency on one thread
    THREADS = "threads"  # threads are the right tool (for I/O sent to processes)
    EVENT = "event"  # threading.Event / Condition instead of spinning
    PICKLABLE = "picklable"  # make the callable importable so it can be pickled
    FREE_THREADED = "free-threaded"  # runs in parallel on a free-threaded build; check races
    LOCK = "lock"  # hold one lock around every touch of shared state, or stop sharing it
    NONE = "none"  # nothing to change (errors, information)


class Confidence(str, enum.Enum):
    HIGH = "high"
    LOW = "low"  # shown only when `confidence = "low"` is configured


@dataclass(frozen=True)
class Location:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EvidenceStep:
    """One step of the path from the start site to the work that holds the GIL.

    ``function`` is the qualified name of the function the step is in
    (``pkg.mod.Class.method``), ``note`` says what happens there
    ("calls _score", "loop over rows doing arithmetic", "re.findall holds the GIL").
    """

    function: str
    note: str
    location: Location

    def to_dict(self) -> Dict[str, Any]:
        return {"function": self.function, "note": self.note, "location": self.location.to_dict()}


@dataclass(frozen=True)
class VerifyTarget:
    """What `gillint verify` needs to run the flagged work in a child interpreter.

    ``module_path`` is the file that defines the function, ``qualname`` its
    dotted name inside that module (``Worker.run``, ``outer.<locals>.inner`` is
    never produced: nested functions are not importable and carry no target).
    ``args_source`` / ``kwargs_source`` are the Python source of literal
    arguments found at the start site (``"(10_000,)"``, ``"{'n': 3}"``), or
    None when the start site gives none; ``kind`` is the worker kind the code
    was sent to (``thread``, ``process``, ``event-loop``...).
    """

    module_path: str
    qualname: str
    kind: str
    start_line: int
    args_source: Optional[str] = None
    kwargs_source: Optional[str] = None
    is_method: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Edit:
    """Replace lines ``start_line`` up to (not including) ``end_line`` with ``content`` (1-based;
    ``start_line == end_line`` inserts before that line).  Fixes are whole lines: diffs and SARIF
    replacements read naturally, and two fixes conflict exactly when their lines overlap."""

    start_line: int
    end_line: int
    content: str

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


# How far a fix can be trusted, as in ruff: ``safe`` keeps the program's behaviour and is applied by
# --fix; ``unsafe`` may change it (the reason says how) and needs --unsafe-fixes; ``none``: no fix,
# and the reason says why.
SAFE, UNSAFE, NO_FIX = "safe", "unsafe", "none"


@dataclass(frozen=True)
class Fix:
    applicability: str
    title: str  # what the fix does, in a few words
    reason: str = ""  # why it is unsafe, or why there is no fix
    edits: Tuple[Edit, ...] = ()

    @property
    def available(self) -> bool:
        return self.applicability in (SAFE, UNSAFE) and bool(self.edits)

    def to_dict(self) -> Dict[str, Any]:
        return {"applicability": self.applicability, "title": self.title, "reason": self.reason,
                "edits": [edit.to_dict() for edit in self.edits]}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    remedy: Remedy = Remedy.NONE
    remedy_text: str = ""
    evidence: Tuple[EvidenceStep, ...] = ()
    confidence: Confidence = Confidence.HIGH
    target: Optional[VerifyTarget] = None
    properties: Tuple[Tuple[str, Any], ...] = field(default=(), compare=False)
    fix: Optional[Fix] = field(default=None, compare=False)  # only when fixes were asked for (gillint.fixes)

    @property
    def location(self) -> Location:
        return Location(self.path, self.line, self.column, self.end_line, self.end_column)

    @property
    def sort_key(self) -> Tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def evidence_path(self) -> str:
        """``worker -> process_chunk -> _score (loop at scoring.py:42)``."""
        return describe_path(self.evidence)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "remedy": self.remedy.value,
            "remedy_text": self.remedy_text,
            "confidence": self.confidence.value,
            "evidence": [step.to_dict() for step in self.evidence],
            "target": self.target.to_dict() if self.target else None,
            "properties": dict(self.properties),
            "fix": self.fix.to_dict() if self.fix is not None else None,
        }


def describe_path(steps: Tuple[EvidenceStep, ...]) -> str:
    """``worker -> process_chunk -> _score (loop over rows doing arithmetic at scoring.py:42)``."""
    if not steps:
        return ""
    names: list = []
    for step in steps:
        short = step.function.rsplit(".", 1)[-1] if step.function else "<module>"
        if short.startswith("<lambda"):
            short = "<lambda>"
        if not names or names[-1] != short:
            names.append(short)
    last = steps[-1]
    where = "%s:%d" % (last.location.path.replace("\\", "/").rsplit("/", 1)[-1], last.location.line)
    return "%s (%s at %s)" % (" -> ".join(names), last.note, where)


# The code for files that could not be read, decoded or parsed.  It is always
# reported: nothing is silently skipped.
ERROR_CODE = "GIL000"
ERROR_NAME = "unreadable-file"


def file_error(path: str, reason: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(
        code=ERROR_CODE,
        name=ERROR_NAME,
        message="could not check file: %s" % reason,
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
    )
