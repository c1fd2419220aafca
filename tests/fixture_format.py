"""Reading expectations out of fixture files.

A fixture is real Python.  A trailing comment names the findings expected on its
line: ``# GIL101`` or, with the 1-based column, ``# GIL101:9``; several are
separated by commas.  ``# negative: why`` marks a start site that must not be
reported (it is counted, and the exact-match check proves it).  Header lines
``# gillint-config: key = value`` (TOML) set [tool.gillint] options for a
single-file fixture; a fixture directory carries a pyproject.toml instead.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path
from typing import List, Optional, Tuple

EXPECT = re.compile(r"^(GIL\d{3})(?::(\d+))?$")
Expectation = Tuple[str, int, str, Optional[int]]  # path, line, code, column


def comments(text: str) -> List[Tuple[int, str]]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            found.append((token.start[0], token.string))
    return found


def expectations(path: Path, text: str) -> Tuple[List[Expectation], int]:
    """(expected findings, number of `# negative:` markers) of one file."""
    expected: List[Expectation] = []
    negatives = 0
    for line, comment in comments(text):
        for segment in comment.split("#")[1:]:
            segment = segment.strip()
            if segment.startswith("negative:"):
                negatives += 1
                continue
            if not segment.startswith("GIL"):
                continue
            for item in segment.split(","):
                match = EXPECT.match(item.strip().split(" ", 1)[0])
                if match:
                    expected.append((str(path), line, match.group(1), int(match.group(2)) if match.group(2) else None))
    return expected, negatives


def header_config(text: str) -> str:
    """TOML text from `# gillint-config:` header lines."""
    lines = []
    for line in text.splitlines():
        if line.startswith("# gillint-config:"):
            lines.append(line.split(":", 1)[1].strip())
    return "\n".join(lines)


def fixture_units(root: Path) -> List[Path]:
    """Each top-level .py file and each directory of fixtures is linted as one run."""
    return sorted(p for p in root.iterdir() if (p.suffix == ".py" or p.is_dir()) and not p.name.startswith((".", "_")))
