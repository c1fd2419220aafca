"""gillint's own position pass gives exactly libcst's PositionProvider spans, and node texts exactly
``code_for_node``, on real files and on the layouts most likely to differ."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from gillint.analysis.positions import Positions
from gillint.analysis.summary import summarise

STDLIB = Path(sysconfig.get_paths()["stdlib"])
REAL_FILES = ["threading.py", "concurrent/futures/thread.py", "asyncio/base_events.py", "dataclasses.py",
              "typing.py", "argparse.py", "multiprocessing/pool.py", "json/decoder.py"]
FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("*.py"))

LAYOUTS = {
    "crlf": "import threading\r\n\r\ndef f(x):\r\n    return [i for i in\r\n            range(x)]\r\n",
    "cr": "x = 1\rif x:\r    y = (1 +\r         2)\r",
    "no trailing newline": "def f():\n    return 1",
    "empty": "",
    "only a comment": "# nothing\n",
    "tabs": "class A:\n\tdef m(self):\n\t\tif self:\n\t\t\treturn [\n\t\t\t\t1]\n",
    "decorators and comments": "@a.b(1)\n# c\n@d\nasync def f(  x ,\n y=2):  # trailing\n    await g(x)\n",
    "strings": 'x = f"{a!r:>{w}} {b}"\ny = """\nline\n"""  \\\n    + "z"\n',
    "match": "match p:\n    case [1, *rest] if rest:\n        pass\n    case {'k': v}:\n        pass\n",
    "parentheses": "y = ((a)) + (b(c)(d))[e:f, ::2]\nlambda: (yield)\n",
    "semicolons and else": "for i in x: a; b\nelse:\n  pass\ntry:\n  pass\nexcept E as e:\n  pass\nfinally:\n  pass\n",
}


def _expected(module: cst.Module):
    found = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: (r.start.line, r.start.column, r.end.line, r.end.column) for node, r in found.items()}


def _sources():
    for name in REAL_FILES:
        path = STDLIB / name
        if path.is_file():
            yield name, path.read_text(encoding="utf-8")
    for path in FIXTURES[:10]:
        yield path.name, path.read_text(encoding="utf-8")
    yield from LAYOUTS.items()


@pytest.mark.parametrize("name,text", list(_sources()), ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "")
def test_spans_and_texts_match_libcst(name: str, text: str) -> None:
    module = cst.parse_module(text)
    positions = Positions(module, text)
    expected = _expected(module)
    assert positions.spans == {id(node): span for node, span in expected.items()}
    checked = 0
    for node in expected:
        if isinstance(node, (cst.BaseExpression, cst.Arg, cst.Param, cst.Decorator, cst.SimpleStatementLine, cst.If)):
            assert positions.code(node) == module.code_for_node(node), (name, type(node).__name__, expected[node])
            checked += 1
    assert checked or not text.strip() or text.startswith("#")


def test_indented_code_is_generated_not_sliced() -> None:
    # a nested statement's code from code_for_node has no indentation; a slice of the file would
    text = "def f():\n    if x:\n        y()\n"
    module = cst.parse_module(text)
    positions = Positions(module, text)
    inner = module.body[0].body.body[0]
    assert positions.code(inner) == module.code_for_node(inner) == "if x:\n    y()\n"
    assert id(inner) not in positions.extents


def test_without_the_source_texts_are_generated() -> None:
    text = "x = call(a,\n         b)\n"
    module = cst.parse_module(text)
    positions = Positions(module)
    call = module.body[0].body[0].value
    assert positions.extents == {}
    assert positions.code(call) == "call(a,\n         b)"


def test_a_summary_is_the_same_with_and_without_the_source() -> None:
    text = (STDLIB / "concurrent/futures/thread.py").read_text(encoding="utf-8")
    with_text = summarise(cst.parse_module(text), "thread.py", "concurrent.futures.thread", False, text)
    without = summarise(cst.parse_module(text), "thread.py", "concurrent.futures.thread", False)
    assert with_text == without
    assert with_text.source_lines == text.count("\n") + 1
