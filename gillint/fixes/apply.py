"""Applying fixes: lint, apply the chosen fixes that do not overlap, lint again, until nothing changes.

As in ruff, fixes are applied in passes: one pass applies every chosen fix of a file whose edited
lines do not overlap a fix already taken in that pass (two fixes adding the same import overlap:
the second waits for the next pass, where it is planned again against the new text and usually
has nothing left to add).  The files are linted again after each pass, so every fix is planned on
the text it edits.  Passes stop when no chosen fix is left, or after ``MAX_PASSES``.

Files are only written at the end, and only when their text changed; a file that cannot be parsed
is never changed (it is a GIL000 finding, and the run goes on).
"""

from __future__ import annotations

import difflib
import io
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from ..config import Config
from ..diagnostics import SAFE, UNSAFE, Diagnostic, Edit
from ..engine import Engine, LintResult, SummaryCache, read_paths

MAX_PASSES = 10


@dataclass
class FixResult:
    result: LintResult  # the findings left after fixing (each still carrying its fix, or why there is none)
    original: Dict[str, str] = field(default_factory=dict)  # path -> text before any fix, for changed files
    fixed: Dict[str, str] = field(default_factory=dict)  # path -> text after the fixes
    applied: int = 0  # fixes applied
    passes: int = 0

    @property
    def changed(self) -> List[str]:
        return sorted(p for p in self.fixed if self.fixed[p] != self.original.get(p))

    def diff(self) -> str:
        chunks = []
        for path in self.changed:
            # a/ and b/ as git writes them (`patch -p1` applies the diff); an absolute path stays as it is
            before, after = (path, path) if os.path.isabs(path) else ("a/%s" % path, "b/%s" % path)
            chunks.extend(difflib.unified_diff(self.original[path].splitlines(keepends=True),
                                               self.fixed[path].splitlines(keepends=True),
                                               fromfile=before, tofile=after))
            if chunks and not chunks[-1].endswith("\n"):
                chunks[-1] += "\n\\ No newline at end of file\n"
        return "".join(chunks)


def wanted(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and fix.available and (fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE))


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits made against ``text`` (bottom up, so earlier line numbers hold)."""
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: (e.start_line, e.end_line), reverse=True):
        lines[edit.start_line - 1:edit.end_line - 1] = edit.content.splitlines(keepends=True)
    return "".join(lines)


def overlaps(a: Edit, b: Edit) -> bool:
    """Edits touching the same lines, or inserting at the same place, conflict."""
    if a.start_line == b.start_line:
        return True
    return a.start_line < b.end_line and b.start_line < a.end_line


def choose(diagnostics: Sequence[Diagnostic], unsafe: bool) -> Dict[str, List[Diagnostic]]:
    """Per file, the fixes to apply in this pass: wanted, in order, none overlapping an earlier one."""
    chosen: Dict[str, List[Diagnostic]] = {}
    taken: Dict[str, List[Edit]] = {}
    for diagnostic in diagnostics:
        if not wanted(diagnostic, unsafe):
            continue
        edits = taken.setdefault(diagnostic.path, [])
        assert diagnostic.fix is not None
        if any(overlaps(mine, other) for mine in diagnostic.fix.edits for other in edits):
            continue
        edits.extend(diagnostic.fix.edits)
        chosen.setdefault(diagnostic.path, []).append(diagnostic)
    return chosen


def fix_paths(paths: Sequence[Union[str, Path]], config: Optional[Config] = None, *, unsafe: bool = False,
              cache: Optional[SummaryCache] = None, jobs: int = 1, max_passes: int = MAX_PASSES) -> FixResult:
    """Lint ``paths`` and apply their fixes in memory (the caller writes or shows them)."""
    config = config or Config()
    files = read_paths(paths, config)
    texts: Dict[str, str] = {path: text for path, text, error in files if text is not None}
    outcome = FixResult(result=LintResult())
    for number in range(max_passes + 1):
        current = [(path, texts.get(path, text), error) for path, text, error in files]
        engine = Engine(config, cache, jobs=jobs, fixes=True)
        outcome.result = engine.run(current)
        chosen = choose(outcome.result.diagnostics, unsafe)
        if not chosen or number == max_passes:
            break
        outcome.passes += 1
        for path, diagnostics in chosen.items():
            outcome.original.setdefault(path, texts[path])
            edits = [edit for d in diagnostics for edit in d.fix.edits]  # type: ignore[union-attr]
            texts[path] = apply_edits(texts[path], edits)
            outcome.applied += len(diagnostics)
    outcome.fixed = {path: texts[path] for path in outcome.original}
    return outcome


def write_fixed(outcome: FixResult) -> List[str]:
    """Write every changed file back in its own encoding (PEP 263 cookie, BOM) and line endings (the text
    kept them)."""
    written = []
    for path in outcome.changed:
        with open(path, "rb") as handle:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(handle.read()).readline)
        with open(path, "wb") as handle:
            handle.write(outcome.fixed[path].encode(encoding))
        written.append(path)
    return written


def summary_line(outcome: FixResult, diff_only: bool) -> Tuple[str, int]:
    """One line for standard error, and how many fixable findings are left unapplied."""
    left = [d for d in outcome.result.diagnostics if d.fix is not None and d.fix.available]
    unsafe_left = sum(1 for d in left if d.fix is not None and d.fix.applicability == UNSAFE)
    verb = "Would fix" if diff_only else "Fixed"
    files = len(outcome.changed)
    line = "%s %d finding%s in %d file%s" % (verb, outcome.applied, "" if outcome.applied == 1 else "s", files,
                                            "" if files == 1 else "s")
    if unsafe_left:
        line += "; %d more fix%s available with --unsafe-fixes" % (unsafe_left, "" if unsafe_left == 1 else "es")
    return line + ".", len(left)
