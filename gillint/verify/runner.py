"""Measure each job in a child interpreter, one at a time by default, and turn figures into results.

``--jobs N`` runs N measurements at once, each pinned to cores of its own, so two
measurements never share a core; N is capped at the number of usable cores.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, TextIO

from ..engine import LintResult
from . import verdict as V
from .sandbox import AUDIT_HOOK, NAMESPACE, ChildOutcome, ChildRegistry, Interrupted, choose_isolation, describe_interpreter, run_child
from .settings import VerifySettings
from .targets import Job


@dataclass
class VerifyRun:
    """Everything one `gillint verify` produced; every report is rendered from this."""

    results: List[V.VerifyResult] = field(default_factory=list)
    lint: Optional[LintResult] = None
    jobs: List[Job] = field(default_factory=list)
    interpreter: Dict[str, Any] = field(default_factory=dict)
    isolation: str = ""
    interrupted: bool = False
    planned: int = 0
    recording: Optional[Dict[str, Any]] = None  # --from-tests: the test command and what it recorded

    def result_for(self, job: Job) -> Optional[V.VerifyResult]:
        for candidate, result in zip(self.jobs, self.results):
            if candidate is job:
                return result
        return None


class Progress:
    """``[3/12] running fixtures/verify/loops.py:20 GIL101 count_primes (9 left)`` on a terminal."""

    def __init__(self, stream: Optional[TextIO], total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.lock = threading.Lock()
        self.tty = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())

    def start(self, job: Job) -> None:
        if self.stream is None:
            return
        with self.lock:
            line = "[%d/%d] running %s (%d left)" % (self.done + 1, self.total, job.label, self.total - self.done - 1)
            if self.tty:
                self.stream.write("\r\033[K" + line[:200])
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self, result: V.VerifyResult) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.done += 1
            if not self.tty:
                self.stream.write("  -> %s (%.1fs)\n" % (result.verdict, result.seconds))
            elif self.done == self.total:
                self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def usable_cores() -> List[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


CORES_PER_MEASUREMENT = 2  # the worker thread and the probe thread; the second opinion runs two workers


def core_slots(jobs: int, cores: Optional[List[int]] = None) -> List[Optional[List[int]]]:
    """Disjoint core sets, one per concurrent measurement (no pinning when measuring one at a time).

    A measurement needs two cores of its own: on one core the probe would queue behind
    the worker for the CPU as well as for the GIL, and the queue correction would hide
    the GIL.  So ``jobs`` is capped at half the usable cores.
    """
    cores = usable_cores() if cores is None else cores
    jobs = max(1, min(jobs, len(cores) // CORES_PER_MEASUREMENT))
    if jobs == 1:
        return [None]
    per = len(cores) // jobs
    return [cores[i * per:(i + 1) * per] for i in range(jobs)]


class Verifier:
    def __init__(self, settings: VerifySettings, python: Optional[str] = None, jobs: Optional[int] = None,
                 progress: Optional[TextIO] = None) -> None:
        self.settings = settings
        self.python = python or sys.executable
        self.jobs = jobs or settings.jobs
        self.progress_stream = progress
        self.interpreter = describe_interpreter(self.python)
        self.isolation = choose_isolation(settings.network, self.python)
        self.children = ChildRegistry()

    # ------------------------------------------------------------------ one job
    def spec_for(self, job: Job, cpus: Optional[List[int]], mode: str, timeout: float) -> Dict[str, Any]:
        settings = self.settings
        target = job.settings
        memory = target.memory_mb if target is not None and target.memory_mb is not None else settings.memory_mb
        cpu_seconds = settings.cpu_seconds or int(math.ceil(timeout * 2)) + 2
        spec = job.spec()
        spec.update({
            "mode": mode,
            "windows": target.repeat if target is not None and target.repeat else settings.repeat,
            "window": settings.window,
            "tick": 0.001,
            "budget": max(1.0, timeout - 0.5),
            "cpus": cpus,
            "timing_rounds": settings.timing_rounds,
            "timing_unit": settings.timing_unit,
            "ladder": job.ladder_mode if settings.ladder and mode == "probe" else None,
            "limits": {
                "cpu_seconds": cpu_seconds,
                "address_space": memory * 2**20 if memory else None,
                "file_size": settings.file_size_mb * 2**20,
                "open_files": settings.open_files,
                "core": 0,
            },
        })
        return spec

    def timeout_for(self, job: Job) -> float:
        if job.settings is not None and job.settings.timeout is not None:
            return job.settings.timeout
        return self.settings.timeout

    def measure(self, job: Job, cpus: Optional[List[int]] = None) -> V.VerifyResult:
        began = time.perf_counter()
        result = V.VerifyResult(label=job.label, path=job.path, line=job.line,
                                code=",".join(sorted({d.code for d in job.diagnostics})) or job.code,
                                qualname=job.target.qualname, verdict=V.NOT_RUNNABLE, arguments=job.arguments,
                                interpreter=dict(self.interpreter), isolation="", recorded=job.recorded)
        if job.not_runnable:
            result.reason = job.not_runnable
            return self._finish(result, began)
        timeout = self.timeout_for(job)
        if self.interpreter.get("free_threaded_build"):
            # The GIL verdict with the GIL forced on; then whether the code scales as the build runs it:
            # with the GIL off, unless importing the code (an extension that does not declare
            # free-threading support) turns it back on, as it would for the user.
            outcome = run_child(self.spec_for(job, cpus, "probe", timeout), self.python, timeout, self.isolation,
                                ["-X", "gil=1"], registry=self.children)
            interpret(outcome, result)
            if result.verdict in V.MEASURED:
                off = run_child(self.spec_for(job, cpus, "scaling", timeout), self.python, timeout, self.isolation,
                                registry=self.children)
                result.gil_off = gil_off_summary(off)
                if result.gil_off.get("timing"):
                    result.speedups.update(V.judge_speedups(result.verdict, result.speedup_bound, {},
                                                            result.gil_off["timing"]))
        else:
            outcome = run_child(self.spec_for(job, cpus, "probe", timeout), self.python, timeout, self.isolation,
                                registry=self.children)
            interpret(outcome, result)
        return self._finish(result, began)

    def _finish(self, result: V.VerifyResult, began: float) -> V.VerifyResult:
        result.seconds = round(time.perf_counter() - began, 3)
        codes = [c for c in result.code.split(",") if c]
        result.magnitude, result.meaning = V.magnitude(codes, result)
        if result.verdict not in V.MEASURED:
            result.meaning = V.in_tests_meaning(codes, result)
        block = V.blocking_seconds(result) if result.verdict in V.MEASURED else None
        outcomes = {V.outcome(code, result.verdict, block) for code in codes} - {""}
        if result.unreliable:
            outcomes = {"inconclusive" for _ in outcomes}
        result.outcome = "/".join(sorted(outcomes))
        return result

    # ------------------------------------------------------------------ all jobs
    def run(self, jobs: Sequence[Job], lint: Optional[LintResult] = None) -> VerifyRun:
        run = VerifyRun(lint=lint, interpreter=dict(self.interpreter), planned=len(jobs),
                        isolation=NAMESPACE if self.isolation == "namespace" else AUDIT_HOOK)
        progress = Progress(self.progress_stream, len(jobs))
        slots = core_slots(self.jobs)
        if self.jobs > len(slots) and self.progress_stream is not None:
            self.progress_stream.write("gillint: measuring %d at a time, not %d: each measurement needs %d cores of its "
                                       "own and %d are usable\n" % (len(slots), self.jobs, CORES_PER_MEASUREMENT,
                                                                     len(usable_cores())))
        try:
            if len(slots) == 1:
                for job in jobs:
                    progress.start(job)
                    result = self.measure(job, slots[0])
                    run.jobs.append(job)
                    run.results.append(result)
                    progress.finish(result)
            else:
                self._run_parallel(jobs, slots, run, progress)
        except (Interrupted, KeyboardInterrupt):
            run.interrupted = True
        finally:
            progress.close()
        return run

    def _run_parallel(self, jobs: Sequence[Job], slots: List[Optional[List[int]]], run: VerifyRun,
                      progress: Progress) -> None:
        free: "queue.Queue[Optional[List[int]]]" = queue.Queue()
        for slot in slots:
            free.put(slot)
        done: Dict[int, V.VerifyResult] = {}
        stop = threading.Event()

        def task(index: int, job: Job) -> None:
            if stop.is_set():
                return
            cpus = free.get()
            try:
                if stop.is_set():
                    return
                progress.start(job)
                done[index] = self.measure(job, cpus)
                progress.finish(done[index])
            finally:
                free.put(cpus)

        pool = ThreadPoolExecutor(max_workers=len(slots))
        futures = [pool.submit(task, index, job) for index, job in enumerate(jobs)]
        try:
            for future in futures:
                while not future.done():
                    time.sleep(0.05)
                future.result()
        except KeyboardInterrupt:
            stop.set()
            # Children are in their own sessions and did not see the Ctrl-C: end them, by group.
            self.children.kill_all()
            raise
        finally:
            pool.shutdown(wait=True)
            for index, job in enumerate(jobs):
                if index in done:
                    run.jobs.append(job)
                    run.results.append(done[index])


def interpret(outcome: ChildOutcome, result: V.VerifyResult) -> None:
    """Fill ``result`` from what the child reported (and how it ended)."""
    result.isolation = outcome.isolation
    started = outcome.last("started")
    if started is not None:
        result.interpreter = dict(started.get("interpreter", {}))
        result.limits = dict(started.get("limits", {}))
        result.cpus = started.get("cpus")
    imported = outcome.last("imported")
    if imported is not None:
        result.interpreter["gil_enabled_after_import"] = imported.get("gil_enabled")
    windows = outcome.all("window")
    result.windows = [{key: w.get(key) for key in ("gil_frac", "run_frac", "wakes", "queue_corrected", "probe_queued",
                                                   "probe_queued_whole", "wall")} for w in windows]
    failed = outcome.last("failed")
    done = outcome.last("done")
    if outcome.timed_out and done is None:
        stage = "while importing the module" if imported is None and started is not None else "during the call"
        if started is None:
            stage = "before the interpreter started"
        result.verdict = V.TIMEOUT
        result.reason = "no result within %.3gs (%s); its process group was killed" % (outcome.seconds, stage)
        return
    if failed is not None:
        kind = failed.get("kind")
        message = failed.get("message", "")
        result.traceback = list(failed.get("traceback", []))
        if kind == "import":
            result.verdict, result.reason = V.NOT_RUNNABLE, "import failed: %s" % message
        elif kind == "resource":
            result.verdict, result.reason = V.NOT_RUNNABLE, "needs a resource the sandbox does not give: %s" % message
        elif kind == "not-runnable":
            result.verdict, result.reason = V.NOT_RUNNABLE, message
        elif kind == "arguments":
            result.verdict, result.reason = V.ERROR, "building the arguments failed: %s" % message
        else:
            result.verdict, result.reason = V.ERROR, "the call raised %s" % message
        return
    if done is None:
        result.verdict = V.ERROR
        result.reason = ended_without_report(outcome, imported is not None)
        result.traceback = outcome.stderr_tail
        return
    result.gil_frac = V.median([w["gil_frac"] for w in windows])
    result.run_frac = V.median([w["run_frac"] for w in windows])
    if result.gil_frac is None or result.run_frac is None:
        result.verdict, result.reason = V.ERROR, "no probe window was completed"
        return
    result.verdict = V.classify(result.gil_frac, result.run_frac)
    if result.verdict == V.PARTLY:
        result.speedup_bound = V.speedup_bound(result.gil_frac)
        result.reason = "threads can speed it up by at most about %.1fx" % result.speedup_bound
    starved = V.cpu_starved(result.windows)
    if starved is not None and result.verdict in (V.RELEASES, V.PARTLY):
        result.unreliable = True
        note = "the probe spent %d %% of its windows waiting for a CPU (the machine is oversubscribed), so a low " \
               "gil_frac may only mean it rarely ran: measure again on a quieter machine" % round(starved * 100)
        result.reason = "%s; %s" % (result.reason, note) if result.reason else note
    result.call_seconds = done.get("call_seconds")
    result.cpu_per_call = done.get("cpu_per_call")
    result.call_kind = done.get("call_kind", "")
    result.loop_block_seconds = done.get("loop_block_seconds")
    timing = outcome.last("timing")
    result.timing = {k: v for k, v in (timing or done.get("timing") or {}).items() if k != "event"}
    if timing is None and not result.timing and outcome.timed_out:
        result.timing = {"skipped": "cut off by the time limit"}
    result.speedups = V.judge_speedups(result.verdict, result.speedup_bound, result.timing)
    shown = {name: entry["median"] for name, entry in result.speedups.items() if entry.get("shown")}
    result.thread_speedup = shown.get("threads")
    result.process_speedup = shown.get("processes")
    ladder = outcome.last("ladder")
    if ladder is not None:
        result.ladder = {k: v for k, v in ladder.items() if k != "event"}
    elif outcome.timed_out:
        result.ladder = {"skipped": "cut off by the time limit"}
    result.growth = V.growth(result.ladder)
    if not done.get("returned", True):
        cut = "a call was still running after the windows and was cut off"
        result.reason = "%s; %s" % (result.reason, cut) if result.reason else cut


def ended_without_report(outcome: ChildOutcome, imported: bool) -> str:
    code = outcome.returncode
    if code is not None and code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "signal %d" % number
        if number == getattr(signal, "SIGXCPU", -1):
            return "the CPU-time limit was reached (%s)" % name
        if number == signal.SIGKILL:
            return "the child was killed (%s): out of memory, or killed from outside" % name
        return "the child crashed (%s)" % name
    if code == 70:
        return "the measuring child failed (a gillint bug; see the traceback)"
    where = "during the call" if imported else "while importing the module"
    return "the child exited with status %s %s before reporting (os._exit, or sys.exit in a thread?)" % (code, where)


def gil_off_summary(outcome: ChildOutcome) -> Dict[str, Any]:
    """The GIL-forced-off run of a free-threaded build: does the code scale on two threads?"""
    summary: Dict[str, Any] = {}
    started, imported, done = outcome.last("started"), outcome.last("imported"), outcome.last("done")
    if imported is not None:
        summary["gil_enabled_after_import"] = imported.get("gil_enabled")
        if imported.get("gil_enabled"):
            summary["gil_enabled_by"] = list(imported.get("gil_enabled_by") or [])
    if started is not None:
        summary["interpreter"] = started.get("interpreter", {})
    if outcome.timed_out:
        summary["error"] = "timed out"
    elif done is None:
        failed = outcome.last("failed")
        summary["error"] = failed.get("message") if failed else ended_without_report(outcome, imported is not None)
    else:
        scaling = dict(done.get("scaling") or {})
        summary["scaling"] = scaling
        summary["scales"] = V.scales(scaling)
        summary["timing"] = dict(done.get("timing") or {})
    return summary


def verify_jobs(jobs: Sequence[Job], settings: VerifySettings, python: Optional[str] = None,
                jobs_at_once: Optional[int] = None, lint: Optional[LintResult] = None,
                progress: Optional[TextIO] = None) -> VerifyRun:
    """Measure every job; the API under `gillint verify`."""
    return Verifier(settings, python, jobs_at_once, progress).run(jobs, lint)

