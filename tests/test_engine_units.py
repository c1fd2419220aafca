"""Unit tests of the engine's parts on their own: the summariser, the project model (module loading,
name splitting, what it looked for) and the cost model, each on a small source written here."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List

import libcst as cst

from gillint import knowledge
from gillint.analysis.cost import CostModel
from gillint.analysis.model import ModuleSummary
from gillint.analysis.project import Project, module_name_for
from gillint.analysis.summary import summarise

SOURCE = textwrap.dedent("""\
    import threading
    import time


    def crunch(n):
        total = 0
        for i in range(n):
            total += i * i
        return total


    def nap():
        time.sleep(1)


    class Worker(threading.Thread):
        def run(self):
            return crunch(10)
    """)


def _summary(text: str = SOURCE, name: str = "jobs") -> ModuleSummary:
    return summarise(cst.parse_module(text), name + ".py", name, False, text)


# ---------------------------------------------------------------- the summariser

def test_the_summary_has_every_function_with_its_spans_loops_and_calls() -> None:
    summary = _summary()
    assert {"crunch", "nap", "Worker.run"} <= set(summary.functions)
    crunch = summary.functions["crunch"]
    assert crunch.span[:2] == (5, 1) and crunch.name_span == (5, 5, 5, 11)
    (loop,) = crunch.loops
    assert loop.kind == "for" and loop.span[0] == 7 and "arithmetic" in loop.ops
    assert [call.raw for call in summary.functions["nap"].calls] == ["time.sleep"]
    assert summary.classes["Worker"].bases and summary.imports["threading"] == "threading"
    assert summary.source_lines == SOURCE.count("\n") + 1


def test_a_lambda_and_a_nested_function_are_functions_of_their_own() -> None:
    summary = _summary("def outer(xs):\n    def inner(x):\n        return x * 2\n    return list(map(lambda y: y + 1, xs))\n")
    nested = [q for q in summary.functions if q.startswith("outer.")]
    assert "outer.inner" in nested and any("<lambda" in q for q in nested)
    assert summary.functions["outer.inner"].parent == "outer"


# ---------------------------------------------------------------- the project model

def _package(tmp_path: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_module_names_follow_init_files_and_every_look_is_reported(tmp_path: Path) -> None:
    _package(tmp_path, {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": ""})
    looked: List[Path] = []

    def is_file(path: Path) -> bool:
        looked.append(path)
        return path.is_file()

    assert module_name_for(tmp_path / "pkg/sub/mod.py", is_file) == ("pkg.sub.mod", False, tmp_path.resolve())
    assert module_name_for(tmp_path / "pkg/__init__.py") == ("pkg", True, tmp_path.resolve())
    assert looked[-1] == tmp_path.resolve() / "__init__.py"  # where the walk stopped: part of the answer


def test_the_project_loads_modules_lazily_and_remembers_what_is_missing(tmp_path: Path) -> None:
    _package(tmp_path, {"pkg/__init__.py": "", "pkg/jobs.py": SOURCE})
    loaded: List[Path] = []
    looked: List[Path] = []

    def loader(path: Path) -> ModuleSummary:
        loaded.append(path)
        text = path.read_text(encoding="utf-8")
        return summarise(cst.parse_module(text), str(path), "pkg.jobs", False, text)

    def is_file(path: Path) -> bool:
        looked.append(path)
        return path.is_file()

    project = Project(knowledge.load(()), loader=loader, is_file=is_file)
    project.roots.append(tmp_path)
    summary, rest = project.split_module("pkg.jobs.Worker.run")
    assert summary is not None and summary.module == "pkg.jobs" and rest == ["Worker", "run"]
    assert project.module("pkg.jobs") is summary and len(loaded) == 1  # loaded once
    assert project.module("pkg.absent") is None
    before = len(looked)
    assert project.module("pkg.absent") is None and len(looked) == before  # the miss is remembered
    assert tmp_path / "pkg/absent.py" in looked and tmp_path / "pkg/absent/__init__.py" in looked
    assert project.in_project("pkg") and not project.in_project("requests")


# ---------------------------------------------------------------- the cost model

def _work(name: str, text: str = SOURCE):
    summary = _summary(text)
    project = Project(knowledge.load(()))
    project.add(summary)
    model = CostModel(project, 1000, 8)
    return model.work(summary, summary.functions[name])


def test_an_arithmetic_loop_over_data_is_cpu_work() -> None:
    work = _work("crunch")
    assert work.kind == "cpu" and "arithmetic" in work.traits and work.steps


def test_a_sleep_is_not_cpu_work() -> None:
    assert _work("nap").kind != "cpu"


def test_a_small_literal_loop_is_light() -> None:
    text = "def tiny():\n    total = 0\n    for i in range(3):\n        total += i\n    return total\n"
    assert _work("tiny", text).kind == "light"


def test_work_is_followed_into_the_functions_called() -> None:
    work = _work("Worker.run")
    assert work.kind == "cpu" and any(step.function.endswith("crunch") for step in work.steps)
