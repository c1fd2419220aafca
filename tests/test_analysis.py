"""Behaviour of the analysis that fixtures alone do not pin down: options, evidence, limits."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gillint.config import Config
from gillint.engine import lint_paths, lint_source

from conftest import FIXTURES

UNKNOWN_EXECUTOR = textwrap.dedent(
    """
    import asyncio

    def crunch(data):
        total = 0
        for value in data:
            total += value * value
        return total

    async def main(executor, data):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, crunch, data)
    """
)


def test_unknown_executor_kind_is_low_confidence_and_hidden_by_default() -> None:
    assert lint_source(UNKNOWN_EXECUTOR, "x.py") == []
    (finding,) = lint_source(UNKNOWN_EXECUTOR, "x.py", Config(confidence="low"))
    assert finding.code == "GIL302" and finding.confidence.value == "low"
    assert "an executor of unknown kind" in finding.message


def test_max_depth_bounds_how_far_targets_are_followed() -> None:
    package = FIXTURES / "pipeline_pkg"
    deep = {(Path(d.path).name, d.line) for d in lint_paths([package], Config()).diagnostics}
    assert ("workers.py", 12) in deep  # score_all -> score_document -> _score
    shallow = {(Path(d.path).name, d.line) for d in lint_paths([package], Config(max_depth=1)).diagnostics}
    assert ("workers.py", 12) not in shallow
    assert ("workers.py", 14) in shallow  # normalise's loop is one call away


def test_min_iterations_sets_the_literal_loop_threshold() -> None:
    source = textwrap.dedent(
        """
        import threading

        def spin():
            acc = 0
            for i in range(5000):
                acc += i
            return acc

        threading.Thread(target=spin).start()
        """
    )
    assert lint_source(source, "x.py") == []
    assert [d.code for d in lint_source(source, "x.py", Config(min_iterations=1000))] == ["GIL101"]


def test_evidence_crosses_modules_with_a_location_per_step() -> None:
    result = lint_paths([FIXTURES / "pipeline_pkg"], Config())
    (finding,) = [d for d in result.diagnostics if d.line == 12 and d.path.endswith("workers.py")]
    steps = [(s.function, Path(s.location.path).name, s.location.line) for s in finding.evidence]
    assert steps[:3] == [
        ("pipeline.scoring.score_all", "scoring.py", 16),  # the comprehension
        ("pipeline.scoring.score_all", "scoring.py", 16),  # calls score_document
        ("pipeline.scoring.score_document", "scoring.py", 12),  # calls the heaviest of _score / normalise
    ]
    # every step is located in the module that defines its function
    for function, filename, _ in steps:
        assert function.split(".")[1] + ".py" == filename
    assert steps[-1][0] in ("pipeline.scoring._score", "pipeline.text.normalise")
    assert finding.evidence_path().startswith("score_all -> score_document -> ")
    assert finding.target is not None and finding.target.qualname == "score_all"
    assert finding.target.module_path.endswith("scoring.py")


def test_lint_source_of_a_package_file_follows_imports_from_disk() -> None:
    path = FIXTURES / "pipeline_pkg" / "pipeline" / "workers.py"
    found = lint_source(path.read_text(encoding="utf-8"), str(path))
    assert sorted((d.line, d.code) for d in found) == [(12, "GIL101"), (13, "GIL101"), (14, "GIL101"), (15, "GIL101"),
                                                       (18, "GIL102"), (22, "GIL202")]


def test_mutual_recursion_is_cpu_work_and_terminates() -> None:
    source = textwrap.dedent(
        """
        import threading

        def is_even(n):
            return True if n == 0 else is_odd(n - 1)

        def is_odd(n):
            return False if n == 0 else is_even(n - 1)

        threading.Thread(target=is_even, args=(10,)).start()
        """
    )
    (finding,) = lint_source(source, "x.py")
    assert "recursive call" in finding.message


def test_a_long_call_chain_is_cut_at_max_depth_quickly() -> None:
    lines = ["import threading"]
    for i in range(400):
        lines.append("def f%d(x):\n    return f%d(x)" % (i, i + 1))
    # a nested loop: a single pass this far down is not enough alone (see "Work many calls away")
    lines.append("def f400(x):\n    return sum(v * w for v in x for w in x)")
    lines.append("threading.Thread(target=f395, args=([1],)).start()")
    lines.append("threading.Thread(target=f0, args=([1],)).start()")
    text = "\n".join(lines) + "\n"
    found = lint_source(text, "chain.py")
    near = text.splitlines().index("threading.Thread(target=f395, args=([1],)).start()") + 1
    assert [d.line for d in found] == [near]  # f0 is 400 calls from the loop: beyond max-depth
    assert found[0].evidence[-1].function.endswith("f400")


def test_the_prefilter_still_reports_syntax_errors_in_skipped_files(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    result = lint_paths([tmp_path], Config())
    assert [(Path(d.path).name, d.code, d.line) for d in result.diagnostics] == [("plain.py", "GIL000", 1)]
    assert result.files_checked == 2


def _remedy_for(call: str, import_line: str) -> str:
    source = textwrap.dedent(
        """
        {imp}
        from concurrent.futures import ThreadPoolExecutor

        def task(body):
            return {call}

        def run(bodies):
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(task, bodies))
        """
    ).format(imp=import_line, call=call)
    config = Config()
    config.knowledge = (("test", {"call": [{"name": "mylib.crunch", "effect": "cpu", "reason": "r",
                                            "blocks_loop": True}]}),)
    found = lint_source(source, "remedy.py", config)
    assert [d.code for d in found] == ["GIL102"]
    return found[0].remedy_text


def test_the_remedy_names_an_alternative_library_only_where_one_fits() -> None:
    assert "`regex` module" in _remedy_for('re.findall(r"\\w+", body, re.M)', "import re")
    assert "orjson" in _remedy_for("json.loads(body)", "import json")
    other = _remedy_for("mylib.crunch(body)", "import mylib")
    assert "regex" not in other and "orjson" not in other and "ProcessPoolExecutor" in other
