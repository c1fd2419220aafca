from __future__ import annotations

import textwrap

from gillint.engine import lint_source
from gillint.suppress import noqa_map, suppressed

CRUNCH = """
import threading

def crunch(n):
    total = 0
    for i in range(n):
        total += i * i
    return total
"""


def _lint(tail: str):
    return lint_source(textwrap.dedent(CRUNCH) + textwrap.dedent(tail), "noqa_case.py")


def test_unsuppressed_finding_is_reported() -> None:
    assert [d.code for d in _lint("threading.Thread(target=crunch).start()\n")] == ["GIL101"]


def test_bare_noqa_suppresses() -> None:
    assert _lint("threading.Thread(target=crunch).start()  # noqa\n") == []


def test_noqa_with_the_code_suppresses() -> None:
    assert _lint("threading.Thread(target=crunch).start()  # noqa: GIL101\n") == []


def test_noqa_with_a_prefix_suppresses() -> None:
    assert _lint("threading.Thread(target=crunch).start()  # noqa: GIL1\n") == []


def test_noqa_with_another_code_does_not_suppress() -> None:
    assert [d.code for d in _lint("threading.Thread(target=crunch).start()  # noqa: E501,GIL2\n")] == ["GIL101"]


def test_noqa_on_any_line_of_a_multiline_statement() -> None:
    tail = """
    worker = threading.Thread(
        target=crunch,
        args=(10,),  # noqa: GIL101
    )
    """
    assert _lint(tail) == []


def test_noqa_on_the_previous_statement_does_not_leak() -> None:
    tail = """
    x = 1  # noqa: GIL101
    threading.Thread(target=crunch).start()
    """
    assert [d.code for d in _lint(tail)] == ["GIL101"]


def test_noqa_map_reads_codes_case_insensitively() -> None:
    mapping = noqa_map("x = 1  # NOQA:gil101, GIL2\n")
    assert suppressed("GIL101", 1, mapping)
    assert suppressed("GIL203", 1, mapping)
    assert not suppressed("GIL301", 1, mapping)


def test_noqa_inside_a_string_is_not_a_comment() -> None:
    assert noqa_map("x = '# noqa'\n") == {}


def test_noqa_survives_untokenizable_text() -> None:
    mapping = noqa_map("x = (  # noqa: GIL101\n")
    assert suppressed("GIL101", 1, mapping)
