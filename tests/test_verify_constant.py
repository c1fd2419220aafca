"""Arguments written as constant expressions: evaluated on the syntax tree, with size caps, never with eval."""

from __future__ import annotations

from pathlib import Path

import pytest

from gillint.verify import constant
from gillint.verify.constant import NotConstant, evaluate
from gillint.verify.pragma import PragmaError, parse_arguments


@pytest.mark.parametrize("source, value", [
    ('"word " * 40', "word " * 40),
    ("list(range(1000))", list(range(1000))),
    ("bytes(4096)", bytes(4096)),
    ("bytearray(b'ab') * 2", bytearray(b"abab")),
    ("(2 ** 20, -5, ~3, not 0, 7 // 2, 7 % 4, 1 << 10, 1024 >> 2, 6 & 3, 6 | 3, 6 ^ 3, 3 / 2, +1.5)",
     (2 ** 20, -5, ~3, True, 3, 3, 1 << 10, 256, 2, 7, 5, 1.5, 1.5)),
    ("[0.5] * 3 + [1.0]", [0.5, 0.5, 0.5, 1.0]),
    ("dict(n=3, rows=[[1, 2]] * 2)", {"n": 3, "rows": [[1, 2], [1, 2]]}),
    ("{1: 'a', **{2: 'b'}}", {1: "a", 2: "b"}),
    ("[*range(3), *'ab']", [0, 1, 2, "a", "b"]),
    ("(tuple('ab'), set([1, 1]), frozenset({2}), str(12), int('7'), float('2.5'), complex(1, 2), bool(0))",
     (("a", "b"), {1}, frozenset({2}), "12", 7, 2.5, 1 + 2j, False)),
    ("range(10**30)", range(10 ** 30)),  # a range is lazy: only materialising it counts
    ("{'a', 'b'}", {"a", "b"}),
    ("None", None),
])
def test_constant_expressions_are_evaluated(source: str, value) -> None:
    assert evaluate(source) == value
    assert constant.problem(source) == ""


@pytest.mark.parametrize("source, message", [
    ('"x" * 10**12', '"x" * 10**12 would make 1000000000000 items, over the cap of 10000000'),
    ("list(range(10**30))", "list(range(10**30)) would make 1000000000000000000000000000000 items"),
    ("bytes(10**9)", "bytes(10**9) would make 1000000000 items"),
    ("[[0] * 6_000_000, [1] * 6_000_000]", "would hold more than 10000000 items in all"),
    ("10**10**10", "10**10**10 is an integer of more than 100000 bits"),
    ("1 << 10**9", "is an integer of more than 100000 bits"),
    ("load_rows()", "load_rows() calls load_rows, which is not evaluated (only list, tuple"),
    ("open('/etc/passwd').read()", "calls open('/etc/passwd').read, which is not evaluated"),
    ("__import__('os').system('true')", "calls __import__('os').system, which is not evaluated"),
    ("rows", "rows is a name: its value is only known when the program runs"),
    ("x.y", "x.y is not a constant expression"),
    ("[i for i in range(3)]", "is not a constant expression"),
    ("'%s' % 3", "%-formatting is not evaluated"),
    ("1 / 0", "1 / 0: ZeroDivisionError"),
    ("{[1]: 2}", "unhashable type"),
    ("{[1]}", "unhashable type"),
    ("[*5]", "only a sized constant can be unpacked"),
    ("{**[1]}", "only a dict can be unpacked"),
    ("list(*'ab')", "*arguments are not evaluated"),
    ("dict(**{'a': 1})", "**arguments are not evaluated"),
    ("list('ab', x=1)", "keyword arguments are only evaluated for dict()"),
    ("list('a', 'b')", "too many arguments"),
    ("list(5)", "list() of int is not evaluated"),
    ("str([0] * 9_000_000)", "would make 72000032 items"),
    ("1 +", "not an expression"),
    ("[" * 200 + "]" * 200, "nested more than 100 levels deep"),
    ("-" * 5000 + "1", "deep"),  # the parser refuses it, or (3.9) the evaluator does
])
def test_anything_else_is_refused_with_the_reason(source: str, message: str) -> None:
    with pytest.raises(NotConstant) as error:
        evaluate(source)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert constant.problem(source) == str(error.value)


def test_evaluation_never_calls_the_programs_names(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = "list(open(%r, 'w'))" % str(marker)
    assert "calls open, which is not evaluated" in constant.problem(source)
    assert not marker.exists()


def test_comments_and_args_accept_constant_expressions() -> None:
    arguments = parse_arguments('"word " * 40, data=bytes(16)')
    assert arguments.args_source == '("word " * 40,)'
    assert evaluate(arguments.kwargs_source) == {"data": bytes(16)}
    with pytest.raises(PragmaError) as error:
        parse_arguments('"x" * 10**12')
    assert "is not a constant expression" in str(error.value) and "over the cap" in str(error.value)
