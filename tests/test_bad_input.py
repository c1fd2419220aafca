"""Bad input: each case gets a clear GIL000 message and the other files of the run are still reported."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List

import pytest

from gillint import engine
from gillint.config import Config
from conftest import CPU_BOUND_SCRIPT
from gillint.engine import lint_paths

GOOD = CPU_BOUND_SCRIPT
GOOD_FINDING = ("good.py", 11, "GIL101")


def _run(tmp_path: Path, paths: List[str], jobs: int = 1):
    (tmp_path / "good.py").write_text(GOOD)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        return lint_paths(["good.py"] + paths, Config(), jobs=jobs)
    finally:
        os.chdir(old)


def _only_error(result, name: str):
    errors = [d for d in result.diagnostics if d.code == "GIL000" and Path(d.path).name == name]
    assert len(errors) == 1, result.diagnostics
    return errors[0]


def _good_still_reported(result) -> None:
    assert [(Path(d.path).name, d.line, d.code) for d in result.diagnostics if Path(d.path).name == "good.py"] \
        == [GOOD_FINDING]


@pytest.mark.parametrize("jobs", [1, 2])
def test_non_utf8_bytes_without_a_cookie_name_the_byte_and_line(tmp_path: Path, jobs: int) -> None:
    (tmp_path / "latin.py").write_bytes(b"x = 1\ny = '\xe9t\xe9'\n")
    result = _run(tmp_path, ["latin.py"], jobs)
    error = _only_error(result, "latin.py")
    assert "cannot decode as utf-8: byte 0xe9 at line 2" in error.message
    assert error.line == 2
    _good_still_reported(result)


def test_non_utf8_bytes_with_a_matching_cookie_are_checked(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ny = '\xe9t\xe9'\n")
    result = _run(tmp_path, ["latin.py"])
    assert not [d for d in result.diagnostics if Path(d.path).name == "latin.py"]
    assert result.files_checked == 2
    _good_still_reported(result)


def test_bytes_the_cookie_cannot_decode_are_reported(tmp_path: Path) -> None:
    (tmp_path / "ascii.py").write_bytes(b"# coding: ascii\ny = '\xe9'\n")
    result = _run(tmp_path, ["ascii.py"])
    assert "cannot decode as ascii: byte 0xe9 at line 2" in _only_error(result, "ascii.py").message
    _good_still_reported(result)


def test_an_unknown_cookie_encoding_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cookie.py").write_bytes(b"# coding: no-such-codec\nx = 1\n")
    result = _run(tmp_path, ["cookie.py"])
    assert "no-such-codec" in _only_error(result, "cookie.py").message
    _good_still_reported(result)


def test_a_bom_is_accepted_and_positions_are_unchanged(tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    result = _run(tmp_path, ["bom.py"])
    assert [(Path(d.path).name, d.line, d.code) for d in result.diagnostics] == [("bom.py", 11, "GIL101"), GOOD_FINDING]


def test_nul_bytes_are_reported_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "nul.py").write_bytes(b"x = 1\ny = 2\0\n")
    result = _run(tmp_path, ["nul.py"])
    error = _only_error(result, "nul.py")
    assert "NUL byte (line 2)" in error.message and error.line == 2
    _good_still_reported(result)


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_crlf_and_cr_line_endings_give_the_same_findings(tmp_path: Path, newline: bytes) -> None:
    (tmp_path / "crlf.py").write_bytes(GOOD.encode().replace(b"\n", newline))
    result = _run(tmp_path, ["crlf.py"])
    assert [(Path(d.path).name, d.line, d.code) for d in result.diagnostics] == [("crlf.py", 11, "GIL101"), GOOD_FINDING]


def test_mixed_line_endings_give_the_same_findings(tmp_path: Path) -> None:
    lines = GOOD.encode().split(b"\n")
    mixed = b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(lines[:-1]))
    (tmp_path / "mixed.py").write_bytes(mixed)
    result = _run(tmp_path, ["mixed.py"])
    assert [(Path(d.path).name, d.line, d.code) for d in result.diagnostics] == [GOOD_FINDING, ("mixed.py", 11, "GIL101")]


def test_an_empty_file_is_checked_and_clean(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    result = _run(tmp_path, ["empty.py"])
    assert result.files_checked == 2
    _good_still_reported(result)
    assert len(result.diagnostics) == 1


def test_a_file_over_the_size_limit_is_reported_not_parsed(tmp_path: Path) -> None:
    line = b"x = 1  # " + b"padding " * 12 + b"\n"
    (tmp_path / "huge.py").write_bytes(line * (10 * 1024 * 1024 // len(line) + 1))
    result = _run(tmp_path, ["huge.py"])
    message = _only_error(result, "huge.py").message
    assert "file too large to check (10.5 MB; the limit is 4.2 MB)" in message
    _good_still_reported(result)


@pytest.mark.parametrize("expression", [
    "(" * 2000 + "1" + ")" * 2000,
    "[" * 2000 + "]" * 2000,
])
def test_nesting_2000_levels_deep_is_a_syntax_error_as_for_python(tmp_path: Path, expression: str) -> None:
    (tmp_path / "deep.py").write_text("import threading\nthreading.Thread(target=print).start()\nx = %s\n" % expression)
    result = _run(tmp_path, ["deep.py"], jobs=2)
    assert "too many nested parentheses" in _only_error(result, "deep.py").message
    _good_still_reported(result)


@pytest.mark.parametrize("expression", ["-" * 2000 + "1", "not " * 2000 + "1", "+".join(["1"] * 2000), "a" + ".b" * 2000,
                                        "lambda: " * 2000 + "1", "f" + "()" * 2000])
def test_operators_chained_2000_deep_are_checked_or_reported_without_a_crash(tmp_path: Path, expression: str) -> None:
    (tmp_path / "deep.py").write_text("import threading\nthreading.Thread(target=print).start()\nx = %s\n" % expression)
    result = _run(tmp_path, ["deep.py"], jobs=1)
    assert result.files_checked == 2
    for diagnostic in result.diagnostics:
        if Path(diagnostic.path).name == "deep.py":
            assert diagnostic.code == "GIL000" and "nested" in diagnostic.message
    _good_still_reported(result)


def test_a_file_the_parser_rejects_is_reported_with_the_parsers_message(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    result = _run(tmp_path, ["broken.py"], jobs=2)
    error = _only_error(result, "broken.py")
    assert error.message.startswith("could not check file: syntax error:") and error.line == 1
    _good_still_reported(result)


def test_a_directory_named_like_a_python_file_is_walked_not_read(tmp_path: Path) -> None:
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text("y = 1\n")
    result = _run(tmp_path, ["x.py"])
    assert result.files_checked == 2
    _good_still_reported(result)


def test_a_directory_named_like_a_python_file_found_while_walking_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "x.py").mkdir(parents=True)
    result = _run(tmp_path, ["pkg"])
    assert result.files_checked == 1
    _good_still_reported(result)


def test_a_symlink_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "mod.py").write_text("y = 1\n")
    os.symlink("..", str(tmp_path / "tree" / "sub" / "up"))
    os.symlink("loop.py", str(tmp_path / "loop.py"))  # a link to itself
    result = _run(tmp_path, ["tree", "loop.py"])
    assert result.files_checked == 3
    assert "broken symlink" in _only_error(result, "loop.py").message  # a link to itself never resolves
    _good_still_reported(result)


def test_a_broken_symlink_is_reported(tmp_path: Path) -> None:
    os.symlink("missing-target.py", str(tmp_path / "dangling.py"))
    result = _run(tmp_path, ["dangling.py"])
    assert "broken symlink" in _only_error(result, "dangling.py").message
    _good_still_reported(result)


def test_a_broken_symlink_found_while_walking_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    os.symlink("missing-target.py", str(tmp_path / "pkg" / "dangling.py"))
    result = _run(tmp_path, ["pkg"])
    assert "no such file" in _only_error(result, "dangling.py").message
    _good_still_reported(result)


def test_a_path_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    result = _run(tmp_path, ["no_such_dir/missing.py"])
    assert "no such file or directory" in _only_error(result, "missing.py").message
    _good_still_reported(result)


def test_a_file_deleted_during_the_run_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "doomed.py").write_text("y = 1\n")
    discover = engine.iter_python_files

    def deleting(paths, config):  # discovery sees the file; it is gone before it is read
        for found, error in discover(paths, config):
            if found.endswith("doomed.py"):
                os.unlink(found)
            yield found, error

    monkeypatch.setattr(engine, "iter_python_files", deleting)
    result = _run(tmp_path, ["doomed.py"])
    assert "no such file (deleted or a broken symlink?)" in _only_error(result, "doomed.py").message
    _good_still_reported(result)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_named_pipe_is_reported_instead_of_blocking_the_run(tmp_path: Path) -> None:
    os.mkfifo(str(tmp_path / "pipe.py"))  # opening it for reading would wait for a writer for ever
    result = _run(tmp_path, ["."])
    assert "not a regular file" in _only_error(result, "pipe.py").message
    _good_still_reported(result)


@pytest.mark.skipif(sys.platform == "win32" or (hasattr(os, "geteuid") and os.geteuid() == 0),
                    reason="as root (or on Windows) mode 000 does not stop reading")
def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("y = 1\n")
    secret.chmod(0)
    try:
        result = _run(tmp_path, ["secret.py"])
    finally:
        secret.chmod(0o644)
    assert "permission denied" in _only_error(result, "secret.py").message
    _good_still_reported(result)


def test_a_read_refused_by_the_system_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads mode-000 files, so the refusal is simulated at open() for this one file."""
    (tmp_path / "secret.py").write_text("y = 1\n")
    real_open = open

    def refusing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(engine, "open", refusing_open, raising=False)
    result = _run(tmp_path, ["secret.py"])
    assert "permission denied" in _only_error(result, "secret.py").message
    _good_still_reported(result)


def test_an_os_error_while_reading_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flaky.py").write_text("y = 1\n")
    real_open = open

    def failing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith("flaky.py"):
            raise OSError(5, "Input/output error", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(engine, "open", failing_open, raising=False)
    result = _run(tmp_path, ["flaky.py"])
    assert "cannot read: Input/output error" in _only_error(result, "flaky.py").message
    _good_still_reported(result)


def test_every_bad_input_at_once_through_the_command_line(tmp_path: Path, run_gillint) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "latin.py").write_bytes(b"y = '\xe9'\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\0\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "x.py").mkdir()
    os.symlink("nowhere.py", str(tmp_path / "dangling.py"))
    completed = run_gillint("check", "--no-config", "--no-cache", "-q", "--jobs", "2", ".", "missing.py", cwd=str(tmp_path))
    assert completed.returncode == 1, completed.stderr
    lines = completed.stdout.splitlines()
    assert "good.py:11:1: GIL101" in completed.stdout
    for name in ("latin.py", "nul.py", "broken.py", "dangling.py", "missing.py"):
        assert any(line.startswith(name + ":") and "GIL000" in line for line in lines), (name, lines)
    assert not completed.stderr
