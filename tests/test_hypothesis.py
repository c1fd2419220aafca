"""Generated valid programs never crash the engine (a bounded number of examples; see bench/robustness.md)."""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from gillint.engine import lint_source  # noqa: E402

# GILLINT_HYPOTHESIS_EXAMPLES raises the count for the long run recorded in bench/robustness.md.
EXAMPLES = int(os.environ.get("GILLINT_HYPOTHESIS_EXAMPLES", "40"))
PROLOGUE = "import threading\nthreading.Thread(target=print).start()\n"  # forces the full libcst summary


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("GILLINT_HYPOTHESIS_EXAMPLES"),
          suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_grammar())
def test_generated_programs_never_crash_the_engine(source: str) -> None:
    for text in (source, PROLOGUE + source):
        for diagnostic in lint_source(text, "generated.py"):
            assert "internal error" not in diagnostic.message, (diagnostic.message, text)


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None, derandomize=not os.environ.get("GILLINT_HYPOTHESIS_EXAMPLES"),
          suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_node())
def test_generated_syntax_trees_never_crash_the_engine(source: str) -> None:
    for text in (source, PROLOGUE + source):
        for diagnostic in lint_source(text, "generated.py"):
            assert "internal error" not in diagnostic.message, (diagnostic.message, text)
