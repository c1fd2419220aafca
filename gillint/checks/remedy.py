"""Choosing what to recommend from the evidence of a finding."""

from __future__ import annotations

from typing import Tuple

from ..analysis.cost import Work
from ..diagnostics import Remedy


def picklable_note(name: str) -> str:
    return ("`%s` and its arguments are pickled to reach the worker processes, so it must be a "
            "module-level function (not a lambda, nested function or bound method of a local class)" % name)


def for_cpu_work(work: Work, name: str, free_threaded: bool = False) -> Tuple[Remedy, str]:
    """The remedy for CPU-bound Python that was sent to threads."""
    if free_threaded:
        return (Remedy.FREE_THREADED,
                "on the free-threaded build this work runs in parallel across threads; check that the data it "
                "shares with other threads is locked or not shared (without the GIL, unsynchronised updates race), "
                "and that every C extension it imports supports free-threading")
    traits = work.traits
    if "io" in traits:
        return (Remedy.ASYNCIO,
                "split the I/O from the computation: keep the I/O on threads or asyncio, and send the CPU-heavy part "
                "to a ProcessPoolExecutor (loop.run_in_executor(process_pool, ...)); %s" % picklable_note(name))
    if "gil-call" in traits and not traits & {"arithmetic", "string", "collection", "recursion"}:
        return (Remedy.PROCESSES,
                "this library call holds the GIL for its whole run: run `%s` in a ProcessPoolExecutor or "
                "multiprocessing.Pool instead%s; %s" % (name, _alternative(work), picklable_note(name)))
    if traits & {"arithmetic"} and not traits & {"string", "recursion"}:
        return (Remedy.VECTORISE,
                "vectorise the arithmetic with numpy (array operations run in C and release the GIL, so threads then "
                "scale), move it into a C/Cython/Rust extension that releases the GIL, or run `%s` in a "
                "ProcessPoolExecutor; %s" % (name, picklable_note(name)))
    return (Remedy.PROCESSES,
            "run `%s` in a concurrent.futures.ProcessPoolExecutor or multiprocessing.Pool: each process has its own "
            "GIL; %s. On Python 3.13t/3.14t (free-threaded) threads would run it in parallel." % (name, picklable_note(name)))


def _alternative(work: Work) -> str:
    """A library that does the same call with less of the GIL, for the calls where one is well known."""
    call = work.steps[-1].note.split(" ", 1)[0] if work.steps else ""
    if call.startswith(("re.", ".match", ".search", ".findall", ".sub", ".finditer")):
        return (", or use the `regex` module, which matches with the GIL released when given "
                "concurrent=True")
    if call.startswith(("json.", "simplejson.", "ujson.")):
        return ", or parse with orjson (several times faster, though it keeps the GIL)"
    return ""
