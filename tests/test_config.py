from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gillint.cli import known_codes
from gillint.config import Config, ConfigError, code_enabled, find_pyproject, load, matches
from gillint.engine import lint_paths

CODES = known_codes()
THREAD_CODE = textwrap.dedent(
    """
    import threading

    def crunch(n):
        total = 0
        for i in range(n):
            total += i * i
        return total

    threading.Thread(target=crunch).start()
    """
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_full_table_is_read(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", """
        [tool.gillint]
        select = ["GIL1"]
        extend-select = ["GIL102"]
        ignore = ["GIL101"]
        exclude = ["vendored"]
        extend-exclude = ["generated/*.py"]
        per-file-ignores = { "tests/*" = ["GIL1"] }
        target-version = "3.13t"
        min-iterations = 500
        max-depth = 3
        confidence = "low"

        [[tool.gillint.knowledge.call]]
        name = "fastscore.score_rows"
        effect = "releases"
        reason = "our C extension releases the GIL"
    """)
    config = load(pyproject, CODES)
    assert config.select == ("GIL1",)
    assert config.extend_select == ("GIL102",)
    assert config.ignore == ("GIL101",)
    assert config.exclude == ("vendored",)
    assert config.extend_exclude == ("generated/*.py",)
    assert config.per_file_ignores == (("tests/*", ("GIL1",)),)
    assert config.target_version == "3.13t"
    assert (config.min_iterations, config.max_depth, config.confidence) == (500, 3, "low")
    assert config.knowledge[0][1]["call"][0]["name"] == "fastscore.score_rows"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("select = \"GIL1\"", "select must be a list of rule codes"),
        ("select = [\"GIL999\"]", "unknown rule code 'GIL999'"),
        ("ignore = [\"E501\"]", "unknown rule code 'E501'"),
        ("colour = true", "unknown key 'colour'"),
        ("target-version = \"2.7\"", "target-version must be one of"),
        ("max-depth = -1", "max-depth must be a whole number from 0 to 100"),
        ("min-iterations = true", "min-iterations must be a whole number"),
        ("per-file-ignores = [\"x\"]", "per-file-ignores must be a table"),
        ("confidence = \"medium\"", "confidence must be one of high, low"),
        ("[[tool.gillint.knowledge.call]]\nname = \"x.y\"\neffect = \"fast\"\nreason = \"r\"", "'effect' must be one of"),
        ("[[tool.gillint.knowledge.call]]\nname = \"x.y\"\neffect = \"cpu\"", "missing required key 'reason'"),
        ("knowledge = 3", "knowledge must be a table"),
        ("verify = 3", "verify must be a table"),
        ("follow-libraries = \"yes\"", "follow-libraries must be true or false"),
        ("library-paths = \"vendor\"", "library-paths must be a list of strings"),
        ("test-paths = \"tests\"", "test-paths must be a list of strings"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    pyproject = write(tmp_path / "pyproject.toml", "[tool.gillint]\n" + body + "\n")
    with pytest.raises(ConfigError) as error:
        load(pyproject, CODES)
    message = str(error.value)
    assert str(pyproject) in message
    assert expected in message
    assert "\n" not in message


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", "[tool.gillint]\nselect = [\"GIL1\"\nignore = 3\n")
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line"):
        load(pyproject, CODES)


def test_non_utf8_config(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_bytes(b"[tool.gillint]\nselect = ['\xff']\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(pyproject, CODES)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "nope.toml", CODES, required=True)


def test_required_table(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.gillint\] table"):
        load(pyproject, CODES, required=True)
    assert load(pyproject, CODES).select == ()


def test_find_pyproject_walks_up_to_the_one_with_a_gillint_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.gillint]\nselect = [\"GIL1\"]\n")
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'inner'\n")
    source = write(tmp_path / "pkg" / "src" / "mod.py", "x = 1\n")
    assert find_pyproject(source) == (tmp_path / "pyproject.toml").resolve()


def test_longest_prefix_wins() -> None:
    defaults = ["GIL1", "GIL2"]
    assert code_enabled("GIL101", (), (), (), defaults)
    assert not code_enabled("GIL101", (), (), ("GIL1",), defaults)
    assert code_enabled("GIL101", (), ("GIL101",), ("GIL1",), defaults)
    assert not code_enabled("GIL901", (), (), (), defaults)
    assert code_enabled("GIL901", ("ALL",), (), (), defaults)
    assert not code_enabled("GIL102", ("GIL101",), (), (), defaults)


def test_exclude_patterns(tmp_path: Path) -> None:
    assert matches(str(tmp_path / "a" / "build" / "x.py"), ["build"], tmp_path)
    assert matches(str(tmp_path / "gen" / "x_pb2.py"), ["*_pb2.py"], tmp_path)
    assert matches(str(tmp_path / "gen" / "x.py"), ["gen/*.py"], tmp_path)
    assert not matches(str(tmp_path / "src" / "x.py"), ["gen/*.py", "build"], tmp_path)


def test_config_drives_the_engine(tmp_path: Path) -> None:
    write(tmp_path / "app" / "work.py", THREAD_CODE)
    write(tmp_path / "tests" / "test_work.py", THREAD_CODE)
    write(tmp_path / "vendored" / "lib.py", THREAD_CODE)
    write(tmp_path / "pyproject.toml", """
        [tool.gillint]
        exclude = ["vendored"]
        per-file-ignores = { "tests/*" = ["GIL101"] }
    """)
    config = load(tmp_path / "pyproject.toml", CODES)
    result = lint_paths([tmp_path], config)
    assert [Path(d.path).name for d in result.diagnostics] == ["work.py"]
    assert result.files_checked == 2


@pytest.mark.parametrize("options, shown", [
    ("", ["work.py"]),
    ("confidence = \"low\"", ["work.py", "test_work.py", "conftest.py", "helpers.py"]),
    ("test-paths = []", ["work.py", "test_work.py", "conftest.py", "helpers.py"]),
    ("test-paths = [\"conftest.py\"]", ["work.py", "test_work.py", "helpers.py"]),
])
def test_findings_in_test_code_are_low_confidence(tmp_path: Path, options: str, shown: list) -> None:
    project = tmp_path / "test" / "checkout"  # a folder called test above the project does not count
    write(project / "app" / "work.py", THREAD_CODE)
    write(project / "app" / "tests" / "test_work.py", THREAD_CODE)
    write(project / "conftest.py", THREAD_CODE)
    write(project / "testing" / "helpers.py", THREAD_CODE)
    write(project / "pyproject.toml", "[tool.gillint]\n" + options + "\n")
    result = lint_paths([project], load(project / "pyproject.toml", CODES))
    assert sorted(Path(d.path).name for d in result.diagnostics) == sorted(shown)
    assert result.files_checked == 4


def test_target_version_free_threaded_changes_the_message(tmp_path: Path) -> None:
    path = write(tmp_path / "w.py", THREAD_CODE)
    default = lint_paths([path], Config()).diagnostics
    free = lint_paths([path], Config(target_version="3.13t")).diagnostics
    assert [d.remedy.value for d in default] == ["vectorise"]
    assert [d.remedy.value for d in free] == ["free-threaded"]
    assert "free-threaded build" in free[0].message


def test_default_excludes_apply_below_the_walked_directory_only(tmp_path: Path) -> None:
    package = tmp_path / "lib" / "site-packages" / "pkg"
    write(package / "work.py", THREAD_CODE)
    write(package / "build" / "generated.py", THREAD_CODE)
    result = lint_paths([package], Config())
    assert [Path(d.path).name for d in result.diagnostics] == ["work.py"]
    # a file named explicitly is never hidden by the built-in defaults...
    named = lint_paths([package / "build" / "generated.py"], Config())
    assert [Path(d.path).name for d in named.diagnostics] == ["generated.py"]
    # ...but the user's own excludes apply to it (pre-commit names every staged file)
    mine = lint_paths([package / "build" / "generated.py"], Config(extend_exclude=("build",)))
    assert mine.files_checked == 0


def test_nothing_to_check_is_said(run_gillint, tmp_path: Path) -> None:
    write(tmp_path / "src" / "gen" / "x.py", THREAD_CODE)
    result = run_gillint("check", "src", "--exclude", "gen", cwd=tmp_path)
    assert result.returncode == 0
    assert "gillint: warning: no Python files to check in src" in result.stderr


def test_library_path_on_the_command_line_is_followed_and_checked(run_gillint, tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "library_pkg"
    app = fixture / "app"
    # the pure-Python checksum of the fixture's stand-in site-packages is followed only when given
    found = run_gillint("check", "--no-config", "--no-cache", "--format", "json", "--library-path",
                        str(fixture / "site"), str(app), cwd=tmp_path)
    assert found.returncode == 1, found.stderr
    import json
    assert [(d["code"], d["line"]) for d in json.loads(found.stdout)["diagnostics"]] == [("GIL102", 10)]
    without = run_gillint("check", "--no-config", "--no-cache", "--format", "json", str(app), cwd=tmp_path)
    assert without.returncode == 0, without.stderr
    # a folder that is not there is a usage error naming it, not a silent no-op
    missing = run_gillint("check", "--no-config", "--no-cache", "--library-path", "nowhere", str(app), cwd=tmp_path)
    assert missing.returncode == 2
    assert "--library-path nowhere: not a directory" in missing.stderr


@pytest.mark.parametrize("options, codes", [("", []), ("confidence = \"low\"", ["GIL203"])])
def test_a_value_only_test_code_hands_over_makes_a_low_confidence_finding(tmp_path: Path, options: str,
                                                                         codes: list) -> None:
    """GIL203 on a nested callback that only a test passes: the finding sits in the library, but it is as
    sure as the test that makes it."""
    write(tmp_path / "scanner" / "__init__.py", "")
    write(tmp_path / "scanner" / "scan.py", """
        import multiprocessing


        def _progress(hosts, callback):
            for host in hosts:
                callback(host)


        def scan(hosts, callback=None):
            multiprocessing.Process(target=_progress, args=(hosts, callback)).start()
    """)
    write(tmp_path / "tests" / "test_scan.py", """
        from scanner.scan import scan


        async def test_scan():  # a coroutine test: the file is read like any that defines one
            def callback(host):
                return host
            scan(["localhost"], callback=callback)
    """)
    write(tmp_path / "pyproject.toml", "[tool.gillint]\n" + options + "\n")
    result = lint_paths([tmp_path], load(tmp_path / "pyproject.toml", CODES))
    assert [(Path(d.path).name, d.code) for d in result.diagnostics] == [("scan.py", code) for code in codes]
