"""Per-file work (validate, decide, summarise) and the worker processes that do it.

The unit of work is one file's text; its result is a :class:`FileRecord`, plain data
that is cheap to send between processes and to keep in the cache.  A worker pool runs
the work in child processes with a wall-clock limit per file: a file that takes too
long, or that kills its worker (a crash in native code, the kernel's OOM killer),
becomes that file's error and the run goes on with a fresh worker.

Nothing here imports libcst at import time; workers import it on their first parse.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Tuple

from .analysis.model import ModuleSummary

# A file whose analysis takes longer than this (wall clock, seconds) is reported as an error.
FILE_TIME_LIMIT = 120.0

# (reason, line, column) of a SourceError, as plain data.
ErrorTuple = Tuple[str, int, int]


@dataclass
class FileRecord:
    """What the engine learned about one file's text.

    ``error``: why the file cannot be checked (reported as GIL000).
    ``needs_summary``: whether the file can start work elsewhere; None if it was only
    summarised because a target lives there (never triaged).
    ``summary``: the libcst summary, when one was made.
    ``summary_error``: why a summary asked for by the linker could not be made
    (not reported: the linker treats the module as unknown, as without the cache).
    """

    error: Optional[ErrorTuple] = None
    needs_summary: Optional[bool] = None
    summary: Optional[ModuleSummary] = None
    summary_error: Optional[ErrorTuple] = None

    def answers_triage(self) -> bool:
        return self.error is not None or (self.needs_summary is not None
                                          and (not self.needs_summary or self.summary is not None))

    def answers_summary(self) -> bool:
        return self.summary is not None or self.summary_error is not None or self.error is not None


@dataclass
class Task:
    """One file to work on.  ``triage``: validate and summarise if needed; else summarise only."""

    path: str
    text: str
    module_name: str
    is_package: bool
    triage: bool = True


@dataclass
class Settings:
    """What the work depends on besides the file: sent to each worker once."""

    prefilter: str  # the pattern of Engine.prefilter
    start_names: frozenset
    time_limit: float = FILE_TIME_LIMIT


class FileTimeout(Exception):
    pass


def _error(exc: Any) -> ErrorTuple:
    return (exc.reason, exc.line, exc.column)


def do_task(task: Task, settings: Settings, _compiled: Dict[str, Any] = {}) -> FileRecord:  # noqa: B006 - a cache
    """The work for one file, in whichever process runs it.  Never raises for a bad file."""
    import re

    from .filework import SourceError, _summarise_guarded, needs_summary

    pattern = _compiled.get(settings.prefilter)
    if pattern is None:
        pattern = _compiled[settings.prefilter] = re.compile(settings.prefilter)
    record = FileRecord()
    try:
        if task.triage:
            try:
                record.needs_summary = needs_summary(task.text, task.path, pattern, settings.start_names)
                if record.needs_summary:
                    record.summary = _summarise_guarded(task.text, task.path, task.module_name, task.is_package,
                                                        validated=True)
            except SourceError as exc:
                record.error = _error(exc)
        else:
            try:
                record.summary = _summarise_guarded(task.text, task.path, task.module_name, task.is_package)
            except SourceError as exc:
                record.summary_error = _error(exc)
    except FileTimeout:
        failure = ("took longer than %g s to analyse (the per-file time limit)" % settings.time_limit, 1, 1)
        record = FileRecord(needs_summary=record.needs_summary)
        if task.triage:
            record.error = failure
        else:
            record.summary_error = failure
    except MemoryError:
        record = _failure_record(task, ("ran out of memory while analysing this file", 1, 1))
    except Exception as exc:  # a bug must cost one file, not the run
        record = _failure_record(task, ("internal error while analysing this file (%s: %s); please report it"
                                        % (type(exc).__name__, exc), 1, 1))
    return record


Work = Callable[[Task, Settings], FileRecord]  # the per-file work: do_task, or a test's slow or crashing one


def do_task_limited(task: Task, settings: Settings, work: "Work" = do_task) -> FileRecord:
    """``work`` (``do_task``) in this process, with the time limit where the platform allows it.

    A SIGALRM timer interrupts Python code; a parse inside native code finishes first.
    Worker processes are the hard limit: the pool kills a worker that overruns.
    """
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and settings.time_limit > 0)
    if not usable:
        return work(task, settings)

    def on_alarm(signum: int, frame: Any) -> None:
        raise FileTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, settings.time_limit)
    try:
        return work(task, settings)
    except FileTimeout:  # do_task reports its own; this is for any other work
        return _failure_record(task, ("took longer than %g s to analyse (the per-file time limit)"
                                      % settings.time_limit, 1, 1))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------- the pool

def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:  # pragma: no cover
            pass
    return max(1, os.cpu_count() or 1)


def _context() -> Any:
    """forkserver where the platform has it (Linux, the BSDs, macOS), else the platform's default.

    A worker forked from the main process would start with a copy of everything the main process
    holds by then (every file's text, the summaries made so far), and its touches of those objects
    turn shared pages into private copies. Workers forked from a small server that has imported only
    the analysis start light: a cold run's process tree peaks about a third lower, at the same speed.
    (Python 3.14 made forkserver the default on Linux for the same reasons.)"""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["gillint.parallel", "gillint.filework", "gillint.analysis.summary"])
        return context
    return multiprocessing.get_context()


def _worker_main(connection: Connection, settings: Settings, work: "Work" = do_task) -> None:
    # The parent handles Ctrl-C and ends its workers; a worker ignores it to avoid a traceback per process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, task = message
        try:
            record = work(task, settings)
        except BaseException as exc:  # a bug must cost one file, not the worker
            record = FileRecord()
            failure = ("internal error while analysing this file (%s: %s); please report it"
                       % (type(exc).__name__, exc), 1, 1)
            if task.triage:
                record.error = failure
            else:
                record.summary_error = failure
        try:
            connection.send((index, record))
        except (OSError, ValueError):
            return


class _Worker:
    def __init__(self, context: Any, settings: Settings, work: "Work") -> None:
        self.connection, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(child, settings, work), daemon=True)
        self.process.start()
        child.close()
        self.index: Optional[int] = None
        self.deadline = 0.0

    def give(self, index: int, task: Task, limit: float) -> None:
        self.index = index
        self.deadline = time.monotonic() + limit if limit > 0 else float("inf")
        self.connection.send((index, task))

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.connection.send(None)
            except (OSError, ValueError):
                self.process.kill()
        self.process.join(5)
        if self.process.is_alive():  # pragma: no cover - a worker that ignores the request
            self.process.kill()
            self.process.join()
        self.connection.close()


def _death_reason(process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "signal %d" % -code
        return "the analysis crashed its worker process (%s); please report it" % name
    return "the analysis ended its worker process (exit status %s); please report it" % code


def run_tasks(tasks: Sequence[Task], settings: Settings, jobs: int,
              work: "Work" = do_task) -> Iterator[Tuple[int, FileRecord]]:
    """(index, ``work(task, settings)``) for every task, in completion order.

    ``jobs`` <= 1 or a single task: in this process.  Otherwise in up to ``jobs`` worker
    processes, each file under the time limit; the workers end when this generator does.
    ``work`` must be a module-level function where workers are spawned rather than forked.
    """
    if jobs <= 1 or len(tasks) <= 1:
        for index, task in enumerate(tasks):
            yield index, do_task_limited(task, settings, work)
        return
    context = _context()
    pending: Deque[int] = deque(range(len(tasks)))
    workers: List[_Worker] = []
    try:
        workers = [_Worker(context, settings, work) for _ in range(min(jobs, len(tasks)))]
        for worker in workers:
            if pending:
                index = pending.popleft()
                worker.give(index, tasks[index], settings.time_limit)
        while any(w.index is not None for w in workers):
            busy = [w for w in workers if w.index is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy],
                         timeout=None if timeout == float("inf") else timeout)
            now = time.monotonic()
            for position, worker in enumerate(workers):
                if worker.index is None:
                    continue
                index = worker.index
                outcome: Optional[FileRecord] = None
                replace = False
                if worker.connection in ready:
                    try:
                        got_index, outcome = worker.connection.recv()
                        assert got_index == index
                    except (EOFError, OSError):
                        outcome = None
                        replace = True
                elif worker.process.sentinel in ready:
                    replace = True
                elif now >= worker.deadline:
                    failure = ("took longer than %g s to analyse (the per-file time limit)" % settings.time_limit, 1, 1)
                    outcome = _failure_record(tasks[index], failure)
                    worker.stop(kill=True)
                    replace = True
                else:
                    continue
                if outcome is None:
                    worker.process.join(5)
                    outcome = _failure_record(tasks[index], (_death_reason(worker.process), 1, 1))
                    worker.stop(kill=True)
                worker.index = None
                if replace:
                    worker = workers[position] = _Worker(context, settings, work)
                yield index, outcome
                if pending:
                    next_index = pending.popleft()
                    worker.give(next_index, tasks[next_index], settings.time_limit)
    finally:
        for worker in workers:
            try:
                worker.stop(kill=worker.index is not None)
            except Exception:  # pragma: no cover - best effort at shutdown
                pass


def _failure_record(task: Task, failure: ErrorTuple) -> FileRecord:
    if task.triage:
        return FileRecord(error=failure)
    return FileRecord(summary_error=failure)
