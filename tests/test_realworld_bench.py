"""The real-world benchmark's case loader and scorer (bench/realworld/), without the network."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "realworld"
sys.path.insert(0, str(BENCH))

import realworld  # noqa: E402
from realworld import Case, CaseFileError, Finding, parse_case_data, score  # noqa: E402


def _data(**case_overrides):
    case = {"path": "pkg/mod.py", "line": 10, "expect": "GIL101", "why": "loop over rows"}
    case.update(case_overrides)
    case = {k: v for k, v in case.items() if v is not None}
    return {"package": {"name": "demo-pkg", "version": "1.0", "dist": "wheel"}, "case": [case]}


def _case(expect="GIL101", line=10, end_line=None, path="pkg/mod.py"):
    return Case(package="demo", path=path, line=line, end_line=end_line or line, expect=expect, why="w")


# ----------------------------------------------------------------------------- loader

def test_valid_case_file_loads():
    package = parse_case_data(_data(end_line=12, path="./pkg\\mod.py"))
    assert (package.name, package.version, package.dist, package.root) == ("demo-pkg", "1.0", "wheel", "")
    (case,) = package.cases
    assert (case.path, case.line, case.end_line, case.expect) == ("pkg/mod.py", 10, 12, "GIL101")
    assert parse_case_data(_data()).cases[0].end_line == 10


@pytest.mark.parametrize("missing", ["path", "line", "expect", "why"])
def test_missing_case_key(missing):
    with pytest.raises(CaseFileError, match="missing key '%s'" % missing):
        parse_case_data(_data(**{missing: None}))


@pytest.mark.parametrize("missing", ["name", "version", "dist"])
def test_missing_package_key(missing):
    data = _data()
    del data["package"][missing]
    with pytest.raises(CaseFileError, match="missing key '%s'" % missing):
        parse_case_data(data)


@pytest.mark.parametrize("code", ["GIL104", "gil101", "E501", "", "dirty"])
def test_bad_code(code):
    with pytest.raises(CaseFileError, match="expect must be one of"):
        parse_case_data(_data(expect=code))


@pytest.mark.parametrize("line", [0, -3])
def test_line_below_one(line):
    with pytest.raises(CaseFileError, match="line must be >= 1"):
        parse_case_data(_data(line=line))


@pytest.mark.parametrize("bad, message", [
    ({"line": "10"}, "line must be an integer"),
    ({"line": True}, "line must be an integer"),
    ({"end_line": 9}, "end_line 9 is before line 10"),
    ({"path": "../escape.py"}, "must be relative"),
    ({"path": "/abs/mod.py"}, "must be relative"),
    ({"why": "  "}, "why must be a non-empty string"),
    ({"severity": "high"}, "unknown key"),
])
def test_other_validation_errors(bad, message):
    with pytest.raises(CaseFileError, match=message):
        parse_case_data(_data(**bad))


def test_bad_dist_and_version():
    data = _data()
    data["package"]["dist"] = "egg"
    with pytest.raises(CaseFileError, match="package.dist"):
        parse_case_data(data)
    data = _data()
    data["package"]["version"] = ">=1.0"
    with pytest.raises(CaseFileError, match="exact version"):
        parse_case_data(data)


def test_duplicate_anchor_rejected():
    data = _data()
    data["case"].append(dict(data["case"][0], expect="clean"))
    with pytest.raises(CaseFileError, match="second case"):
        parse_case_data(data)


def test_load_cases_reports_bad_files_and_goes_on(tmp_path):
    (tmp_path / "good-pkg.toml").write_text(
        '[package]\nname = "Good_Pkg"\nversion = "2.0"\ndist = "sdist"\nroot = "src"\n\n'
        '[[case]]\npath = "src/a.py"\nline = 3\nexpect = "clean"\nwhy = "download pool"\n')
    (tmp_path / "bad.toml").write_text('[package]\nname = "bad"\nversion = "1"\ndist = "sdist"\n\n'
                                       '[[case]]\npath = "a.py"\nline = 0\nexpect = "clean"\nwhy = "x"\n')
    (tmp_path / "misnamed.toml").write_text('[package]\nname = "other"\nversion = "1"\ndist = "wheel"\n')
    (tmp_path / "broken.toml").write_text("[package\n")
    packages, errors = realworld.load_cases(tmp_path)
    assert [p.name for p in packages] == ["Good_Pkg"]
    assert packages[0].root == "src" and packages[0].key == "good-pkg"
    assert len(errors) == 3
    assert any("bad.toml" in e and "line must be >= 1" in e for e in errors)
    assert any("misnamed.toml" in e and "must be named other.toml" in e for e in errors)
    only, errors = realworld.load_cases(tmp_path, only=["good.pkg", "absent"])
    assert [p.name for p in only] == ["Good_Pkg"]
    assert any("no case file for package 'absent'" in e for e in errors)


def test_repository_case_files_are_valid():
    packages, errors = realworld.load_cases(realworld.CASES_DIR)
    assert errors == []
    for package in packages:
        assert package.cases, package.source


# ----------------------------------------------------------------------------- matcher and scorer

def test_tp_fn_and_fp_counting():
    cases = [_case("GIL101", 10), _case("GIL102", 20), _case("clean", 30), _case("GIL301", 40)]
    findings = [
        Finding("GIL101", "pkg/mod.py", 10),   # TP
        Finding("GIL101", "pkg/mod.py", 20),   # wrong code on a GIL102 case: FP(1xx) + FN(GIL102)
        Finding("GIL302", "pkg/mod.py", 30),   # on a clean case: FP(3xx)
        Finding("GIL101", "pkg/mod.py", 55),   # on no case: unlabelled
        Finding("GIL000", "pkg/bad.py", 1),    # unreadable file: not scored
    ]
    result = score(cases, findings)
    o = result.overall
    assert (o.tp, o.fp, o.fn) == (1, 2, 2)
    assert (result.rules["GIL101"].tp, result.rules["GIL101"].fp) == (1, 1)
    assert result.rules["GIL102"].fn == 1 and result.rules["GIL301"].fn == 1
    assert result.rules["GIL302"].fp == 1
    assert (result.families["1xx"].tp, result.families["1xx"].fp, result.families["1xx"].fn) == (1, 1, 1)
    assert (result.families["3xx"].tp, result.families["3xx"].fp, result.families["3xx"].fn) == (0, 1, 1)
    assert result.families["2xx"].precision is None
    assert o.precision == pytest.approx(1 / 3) and o.recall == pytest.approx(1 / 3)
    assert [f.line for f in result.unlabelled] == [55]
    assert [f.code for f in result.ignored] == ["GIL000"]
    assert [c.expect for c, _ in result.fn] == ["GIL102", "GIL301"]
    assert [f.code for f in result.fn[0][1]] == ["GIL101"]


def test_clean_case_without_findings_is_ok_and_scores_nothing():
    result = score([_case("clean", 5)], [Finding("GIL101", "pkg/mod.py", 4), Finding("GIL101", "pkg/mod.py", 6)])
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (0, 0, 0)
    assert len(result.clean_ok) == 1 and len(result.unlabelled) == 2


def test_end_line_span():
    case = _case("GIL102", line=10, end_line=13)
    for line, hit in ((9, False), (10, True), (12, True), (13, True), (14, False)):
        assert realworld.case_hits(case, Finding("GIL102", "pkg/mod.py", line)) is hit, line
    result = score([case], [Finding("GIL102", "pkg/mod.py", 13)])
    assert result.overall.tp == 1 and result.overall.fn == 0


def test_same_line_other_file_does_not_match():
    result = score([_case("GIL101", 10)], [Finding("GIL101", "pkg/other.py", 10)])
    assert result.overall.fn == 1 and result.overall.tp == 0 and len(result.unlabelled) == 1


def test_two_findings_on_a_positive_case_count_once():
    result = score([_case("GIL102", 10, 11)],
                   [Finding("GIL102", "pkg/mod.py", 10), Finding("GIL102", "pkg/mod.py", 11)])
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (1, 0, 0)


def test_scores_accumulate_over_packages():
    total = score([_case("GIL101", 1)], [Finding("GIL101", "pkg/mod.py", 1)])
    score([_case("GIL101", 1)], [], into=total)
    assert (total.overall.tp, total.overall.fn) == (1, 1)
    assert total.overall.recall == pytest.approx(0.5)


def test_path_normalisation(tmp_path):
    top = tmp_path / "demo-1.0"
    sub = top / "src"
    assert realworld.normalise_finding_path("pkg/mod.py", top) == "pkg/mod.py"
    assert realworld.normalise_finding_path("./pkg\\mod.py", top) == "pkg/mod.py"
    assert realworld.normalise_finding_path(str(top / "pkg" / "mod.py"), top) == "pkg/mod.py"
    assert realworld.normalise_finding_path("pkg/mod.py", top, run_dir=sub) == "src/pkg/mod.py"
    assert realworld.normalise_finding_path("../../demo-1.0/src/x.py", top, run_dir=sub) == "src/x.py"
    outside = realworld.normalise_finding_path(str(tmp_path / "elsewhere.py"), top)
    assert outside.endswith("/elsewhere.py") and outside.startswith("/")
    document = {"diagnostics": [{"code": "GIL102", "path": str(sub / "a.py"), "line": 7, "message": "m"}]}
    (finding,) = realworld.findings_from_json(document, top, package="demo")
    assert (finding.path, finding.line, finding.code, finding.package) == ("src/a.py", 7, "GIL102", "demo")


def test_top_folder(tmp_path):
    sdist = tmp_path / "sdist"
    (sdist / "demo-1.0" / "demo").mkdir(parents=True)
    (sdist / ".unpacked").write_text("x")
    assert realworld.top_folder(sdist) == sdist / "demo-1.0"
    wheel = tmp_path / "wheel"
    (wheel / "demo").mkdir(parents=True)
    (wheel / "demo-1.0.dist-info").mkdir()
    assert realworld.top_folder(wheel) == wheel


def test_family():
    assert [realworld.family(c) for c in ("GIL101", "GIL203", "GIL302", "E1")] == ["1xx", "2xx", "3xx", "other"]


# ----------------------------------------------------------------------------- dependencies

def test_installed_distributions_are_read_from_dist_info_folders(tmp_path):
    import fetch

    for name in ("Foo_Bar-1.2.dist-info", "baz-0.1.post1.dist-info", "not_a_dist", "broken.dist-info"):
        (tmp_path / name).mkdir()
    assert fetch.installed(tmp_path) == ["baz==0.1.post1", "foo-bar==1.2"]


def test_pip_errors_name_the_failure_not_the_hint():
    import fetch

    output = "Collecting x\n  error: subprocess-exited-with-error\n\nnote: ...\nhint: See above for details.\n"
    assert fetch.pip_error(output) == "error: subprocess-exited-with-error"
    assert fetch.pip_error("ERROR: No matching distribution found for x==9\n") == \
        "ERROR: No matching distribution found for x==9"
    assert fetch.pip_error("only this\n\n") == "only this"
    assert fetch.pip_error("") == "no output"


def test_dependencies_come_from_the_lock_once_there_is_one(tmp_path, monkeypatch):
    import subprocess

    import fetch

    package = parse_case_data(_data())
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        target = Path(cmd[cmd.index("--target") + 1])
        (target / "demo_pkg-1.0.dist-info").mkdir(parents=True)
        (target / "six-1.17.0.dist-info").mkdir()
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_run)
    locks = tmp_path / "locks"
    first = fetch.ensure_deps(package, tmp_path / "work", locks=locks)
    assert calls[0][-1] == "demo-pkg==1.0" and "--no-deps" not in calls[0]
    lock = (locks / "demo-pkg.txt").read_text()
    assert lock.splitlines()[1:] == ["six==1.17.0"]  # the package itself is the checked tree, not a dependency
    assert fetch.ensure_deps(package, tmp_path / "work", locks=locks) == first and len(calls) == 1
    (first / fetch.MARKER).unlink()
    fetch.ensure_deps(package, tmp_path / "work", locks=locks)
    assert calls[1][-3:] == ["--no-deps", "-r", str(locks / "demo-pkg.txt")]


def test_a_failed_dependency_install_says_why_and_leaves_nothing(tmp_path, monkeypatch):
    import subprocess

    import fetch

    package = parse_case_data(_data())

    def failing(cmd, **kwargs):
        Path(cmd[cmd.index("--target") + 1]).mkdir(parents=True)
        return subprocess.CompletedProcess(cmd, 1, "", "error: metadata-generation-failed\nhint: See above\n")

    monkeypatch.setattr(fetch.subprocess, "run", failing)
    with pytest.raises(fetch.FetchError, match="dependencies failed: error: metadata-generation-failed"):
        fetch.ensure_deps(package, tmp_path / "work", locks=tmp_path / "locks")
    assert not fetch.deps_dir(package, tmp_path / "work").exists()
    assert not (tmp_path / "locks").exists()


# ----------------------------------------------------------------------------- hand-judged precision

def test_hand_judged_precision_counts_cases_and_verdicts_and_lists_the_rest(tmp_path):
    import judged

    verdicts = tmp_path / "v.tsv"
    verdicts.write_text("package\tplace\tcode\tverdict\treason\n"
                        "alpha\ta/m.py:3\tGIL101\tTRUE\tloops over rows\n"
                        "alpha\ta/m.py:9\tGIL301\tFALSE\ta handful of items\n", encoding="utf-8")
    finding = lambda package, line, code: {"package": package, "path": "a/m.py", "line": line, "code": code,  # noqa: E731
                                           "message": "m"}
    results = {
        "packages": [{"name": "beta"}, {"name": "Alpha"}, {"name": "alpha"}, {"name": "zeta"}],
        "true_positives": [{"finding": finding("alpha", 1, "GIL101")}, {"finding": finding("zeta", 1, "GIL101")}],
        "false_positives": [{"finding": finding("beta", 2, "GIL102")}],
        "unlabelled": [finding("alpha", 3, "GIL101"), finding("alpha", 9, "GIL301"), finding("alpha", 9, "GIL302")],
    }
    outcome = judged.judge(results, judged.load_verdicts(verdicts), packages=3)
    assert outcome["packages"] == ["Alpha", "alpha", "beta"]  # alphabetical, case aside; zeta is past the cut
    assert (outcome["true"], outcome["false"]) == (2, 2)
    assert [(u["line"], u["code"]) for u in outcome["unjudged"]] == [(9, "GIL302")]
    assert outcome["precision"] == 0.5
    verdicts.write_text("package\tplace\tcode\tverdict\treason\nalpha\ta/m.py:3\tGIL101\tmaybe\tx\n", encoding="utf-8")
    with pytest.raises(ValueError, match="verdict must be TRUE or FALSE"):
        judged.load_verdicts(verdicts)
