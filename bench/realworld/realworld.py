"""Shared code of the real-world benchmark: case files, unpacked folders, matching and scoring.

fetch.py and score.py are the command-line front ends; tests/test_realworld_bench.py tests this
module without the network.  The case file format is described in CASE_FORMAT.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

try:  # Python 3.11+
    import tomllib as _toml
except ImportError:  # pragma: no cover - Python 3.9/3.10
    import tomli as _toml  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
WORK_DIR = HERE / ".work"

CODES = ("GIL101", "GIL102", "GIL103", "GIL201", "GIL202", "GIL203", "GIL301", "GIL302")
CLEAN = "clean"
DISTS = ("sdist", "wheel")
FAMILIES = ("1xx", "2xx", "3xx")

_PACKAGE_KEYS = {"name": True, "version": True, "dist": True, "root": False}
_CASE_KEYS = {"path": True, "line": True, "end_line": False, "expect": True, "why": True, "verified": False}
_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


class CaseFileError(ValueError):
    """A case file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Case:
    package: str
    path: str
    line: int
    end_line: int
    expect: str
    why: str
    verified: str = ""
    source: str = ""  # the case file, for messages

    @property
    def positive(self) -> bool:
        return self.expect != CLEAN

    def to_dict(self) -> Dict[str, Any]:
        return {"package": self.package, "path": self.path, "line": self.line, "end_line": self.end_line,
                "expect": self.expect, "why": self.why, "verified": self.verified}


@dataclass
class Package:
    name: str
    version: str
    dist: str
    root: str = ""
    cases: List[Case] = field(default_factory=list)
    source: str = ""

    @property
    def key(self) -> str:
        return normalise_name(self.name)

    @property
    def requirement(self) -> str:
        return "%s==%s" % (self.name, self.version)

    def unpack_dir(self, work: Path) -> Path:
        """The folder the archive is unpacked into (one per name, version and dist)."""
        return Path(work) / ("%s-%s-%s" % (self.key, self.version, self.dist))


def normalise_name(name: str) -> str:
    """PEP 503 normalisation: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def family(code: str) -> str:
    """``GIL102`` -> ``1xx``."""
    return code[3] + "xx" if len(code) == 6 and code.startswith("GIL") else "other"


def _check_relative(value: str, where: str, what: str) -> str:
    norm = value.replace("\\", "/").strip()
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if not parts and what == "path":
        raise CaseFileError("%s: %s is empty" % (where, what))
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or ".." in parts:
        raise CaseFileError("%s: %s %r must be relative to the archive's top folder, without '..'" % (where, what, value))
    return "/".join(parts)


def _check_keys(table: Any, spec: Dict[str, bool], where: str) -> None:
    if not isinstance(table, dict):
        raise CaseFileError("%s: expected a table" % where)
    for key, required in spec.items():
        if required and key not in table:
            raise CaseFileError("%s: missing key %r" % (where, key))
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise CaseFileError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))


def _int(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CaseFileError("%s: %s must be an integer, not %r" % (where, key, value))
    return value


def _str(value: Any, where: str, key: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise CaseFileError("%s: %s must be a non-empty string" % (where, key))
    return value


def parse_case_data(data: Dict[str, Any], source: str = "<case file>") -> Package:
    """Validate one parsed case file and return its package with its cases."""
    if not isinstance(data, dict):
        raise CaseFileError("%s: not a table" % source)
    unknown = sorted(set(data) - {"package", "case"})
    if unknown:
        raise CaseFileError("%s: unknown top-level key(s) %s" % (source, ", ".join(unknown)))
    if "package" not in data:
        raise CaseFileError("%s: missing [package] table" % source)
    pkg = data["package"]
    _check_keys(pkg, _PACKAGE_KEYS, "%s [package]" % source)
    name = _str(pkg["name"], source, "package.name")
    if not _NAME_RE.match(name):
        raise CaseFileError("%s: package.name %r is not a valid PyPI name" % (source, name))
    version = _str(pkg["version"], source, "package.version")
    if not re.match(r"^[0-9][A-Za-z0-9.+!_-]*$", version):
        raise CaseFileError("%s: package.version %r must be an exact version" % (source, version))
    dist = pkg["dist"]
    if dist not in DISTS:
        raise CaseFileError("%s: package.dist must be one of %s, not %r" % (source, "/".join(DISTS), dist))
    root = _check_relative(_str(pkg.get("root", ""), source, "package.root", allow_empty=True), source, "root")
    package = Package(name=name, version=version, dist=dist, root=root, source=source)

    raw_cases = data.get("case", [])
    if not isinstance(raw_cases, list):
        raise CaseFileError("%s: [[case]] must be an array of tables" % source)
    seen = set()
    for index, raw in enumerate(raw_cases, 1):
        where = "%s case %d" % (source, index)
        _check_keys(raw, _CASE_KEYS, where)
        path = _check_relative(_str(raw["path"], where, "path"), where, "path")
        line = _int(raw["line"], where, "line")
        if line < 1:
            raise CaseFileError("%s: line must be >= 1, not %d" % (where, line))
        end_line = _int(raw.get("end_line", line), where, "end_line")
        if end_line < line:
            raise CaseFileError("%s: end_line %d is before line %d" % (where, end_line, line))
        expect = raw["expect"]
        if expect not in CODES and expect != CLEAN:
            raise CaseFileError("%s: expect must be one of %s or %r, not %r" % (where, ", ".join(CODES), CLEAN, expect))
        why = _str(raw["why"], where, "why")
        verified = _str(raw.get("verified", ""), where, "verified", allow_empty=True)
        if (path, line) in seen:
            raise CaseFileError("%s: a second case at %s:%d" % (where, path, line))
        seen.add((path, line))
        package.cases.append(Case(package=name, path=path, line=line, end_line=end_line, expect=expect,
                                  why=why.strip(), verified=verified.strip(), source=source))
    return package


def load_case_file(path: Path) -> Package:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = _toml.load(handle)
    except (OSError, _toml.TOMLDecodeError) as exc:
        raise CaseFileError("%s: %s" % (path, exc)) from None
    package = parse_case_data(data, str(path))
    expected = normalise_name(package.name) + ".toml"
    if path.name != expected:
        raise CaseFileError("%s: the file for package %r must be named %s" % (path, package.name, expected))
    return package


def load_cases(directory: Path = CASES_DIR, only: Optional[Sequence[str]] = None) -> Tuple[List[Package], List[str]]:
    """Every valid case file of ``directory`` (sorted by name), and one error line per invalid one."""
    packages: List[Package] = []
    errors: List[str] = []
    wanted = {normalise_name(n) for n in only} if only else None
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            package = load_case_file(path)
        except CaseFileError as exc:
            errors.append(str(exc))
            continue
        if wanted is None or package.key in wanted:
            packages.append(package)
    if wanted:
        missing = wanted - {p.key for p in packages}
        for name in sorted(missing):
            errors.append("no case file for package %r" % name)
    return packages, errors


def top_folder(unpacked: Path) -> Path:
    """The archive's top folder: the single folder an sdist unpacks to, or the folder itself (wheels)."""
    unpacked = Path(unpacked)
    entries = [e for e in unpacked.iterdir() if not e.name.startswith(".")] if unpacked.is_dir() else []
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return unpacked


# ---------------------------------------------------------------------------------------------
# Matching and scoring

@dataclass(frozen=True)
class Finding:
    code: str
    path: str  # relative to the archive's top folder, '/'-separated
    line: int
    message: str = ""
    package: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"package": self.package, "code": self.code, "path": self.path, "line": self.line,
                "message": self.message}


def normalise_finding_path(path: str, top: Path, run_dir: Optional[Path] = None) -> str:
    """A finding's path made relative to ``top`` ('/'-separated).

    Relative paths are taken from ``run_dir`` (the folder gillint ran in; default: ``top``).
    A path outside ``top`` is returned made absolute and '/'-separated.
    """
    raw = path.replace("\\", "/")
    base = Path(run_dir) if run_dir is not None else Path(top)
    full = Path(raw) if os.path.isabs(raw) else base / raw
    full = Path(os.path.normpath(str(full)))
    top_norm = Path(os.path.normpath(str(top)))
    try:
        rel = full.relative_to(top_norm)
    except ValueError:
        return full.as_posix()
    return rel.as_posix()


def findings_from_json(document: Dict[str, Any], top: Path, run_dir: Optional[Path] = None,
                       package: str = "") -> List[Finding]:
    findings = []
    for diag in document.get("diagnostics", []):
        findings.append(Finding(code=str(diag["code"]),
                                path=normalise_finding_path(str(diag["path"]), top, run_dir),
                                line=int(diag["line"]), message=str(diag.get("message", "")),
                                package=package))
    return findings


def case_hits(case: Case, finding: Finding) -> bool:
    return finding.path == case.path and case.line <= finding.line <= case.end_line


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> Optional[float]:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> Optional[float]:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_dict(self) -> Dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision, "recall": self.recall}


@dataclass
class Score:
    overall: Counts = field(default_factory=Counts)
    families: Dict[str, Counts] = field(default_factory=dict)
    rules: Dict[str, Counts] = field(default_factory=dict)
    tp: List[Tuple[Case, Finding]] = field(default_factory=list)
    fn: List[Tuple[Case, List[Finding]]] = field(default_factory=list)  # with the other findings on the case
    fp: List[Tuple[Case, Finding]] = field(default_factory=list)
    clean_ok: List[Case] = field(default_factory=list)
    unlabelled: List[Finding] = field(default_factory=list)
    ignored: List[Finding] = field(default_factory=list)  # GIL000 and codes outside the rule set

    def _bump(self, code: str, attr: str) -> None:
        for table, key in ((self.families, family(code)), (self.rules, code)):
            counts = table.setdefault(key, Counts())
            setattr(counts, attr, getattr(counts, attr) + 1)
        setattr(self.overall, attr, getattr(self.overall, attr) + 1)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "families": {k: v.to_dict() for k, v in sorted(self.families.items())},
            "rules": {k: v.to_dict() for k, v in sorted(self.rules.items())},
            "true_positives": [dict(case=c.to_dict(), finding=f.to_dict()) for c, f in self.tp],
            "false_negatives": [dict(case=c.to_dict(), other_findings=[f.to_dict() for f in fs]) for c, fs in self.fn],
            "false_positives": [dict(case=c.to_dict(), finding=f.to_dict()) for c, f in self.fp],
            "clean_ok": [c.to_dict() for c in self.clean_ok],
            "unlabelled": [f.to_dict() for f in self.unlabelled],
            "ignored": [f.to_dict() for f in self.ignored],
        }


def score(cases: Iterable[Case], findings: Iterable[Finding], into: Optional[Score] = None) -> Score:
    """Score one package's findings against its cases (or add them to ``into``).

    A positive case is a TP when a finding with its expected code lies on it, else an FN.
    Every finding lying on a case whose expected code differs from the finding's code (every
    finding on a clean case, a GIL101 on a GIL102 case, ...) is an FP of the finding's code.
    Findings on no case are unlabelled and not scored.  A finding lying on two cases counts for
    each.
    """
    result = into if into is not None else Score()
    cases = list(cases)
    findings = list(findings)
    for code in CODES:
        result.rules.setdefault(code, Counts())
        result.families.setdefault(family(code), Counts())
    scored = [f for f in findings if f.code in CODES]
    result.ignored.extend(f for f in findings if f.code not in CODES)
    hit_any = set()
    for case in cases:
        on_case = [f for f in scored if case_hits(case, f)]
        hit_any.update(id(f) for f in on_case)
        if case.positive:
            matching = [f for f in on_case if f.code == case.expect]
            if matching:
                result._bump(case.expect, "tp")
                result.tp.append((case, matching[0]))
            else:
                result._bump(case.expect, "fn")
                result.fn.append((case, on_case))
        elif not on_case:
            result.clean_ok.append(case)
        for finding in on_case:
            if finding.code != case.expect:
                result._bump(finding.code, "fp")
                result.fp.append((case, finding))
    result.unlabelled.extend(f for f in scored if id(f) not in hit_any)
    return result


def fmt_ratio(value: Optional[float]) -> str:
    return "-" if value is None else "%.2f" % value
