"""`--from-tests CMD`: run the user's test command once with the argument recorder, gather what it kept.

The recording run is the user's own test command, run as they run it: with their rights,
their environment and their working directory, **outside the sandbox** (the sandbox is only
for the measurements afterwards).  The recorder (``recorder_site.py``) is injected with a
``sitecustomize.py`` first on ``PYTHONPATH``; it watches only the flagged targets.

Whatever goes wrong — the command is not found, the tests fail, the recorder breaks in
some process, the time limit — is one line in ``Recording.problems`` and the verifier
goes on with what was recorded (and with the other sources of arguments).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

RECORDER_SCRIPT = Path(__file__).with_name("recorder_site.py")
LOG_TAIL = 5


@dataclass
class Sample:
    """One recorded call: a pickle of ``{"args", "kwargs"[, "self"]}`` and its cheap size."""

    path: str
    size: int
    bytes: int
    method: bool = False


@dataclass
class TargetRecording:
    key: str
    calls: int = 0
    samples: List[Sample] = field(default_factory=list)  # largest first
    unpicklable: Dict[str, int] = field(default_factory=dict)
    too_large: int = 0
    steps: int = 0  # runs of the target's frame in the tests (a call, or a coroutine's step between awaits)
    step_max: float = 0.0  # seconds, timed under the recorder, outside the sandbox
    step_total: float = 0.0
    step_cpu_max: float = 0.0  # the most CPU time (of its thread) one run took
    step_cpu_total: float = 0.0

    def in_tests(self) -> Optional[Dict[str, Any]]:
        """How long the target ran in the tests, per call or per step between awaits (None if never)."""
        if not self.steps:
            return None
        return {"steps": self.steps, "step_max": round(self.step_max, 6),
                "step_mean": round(self.step_total / self.steps, 7), "step_cpu_max": round(self.step_cpu_max, 6),
                "cpu_share": round(self.step_cpu_total / self.step_total, 3) if self.step_total > 0 else None}

    def why_none(self, calls_cap_bytes: int) -> str:
        """Why no sample could be used (the result's not-runnable reason)."""
        if self.calls == 0:
            return "the tests never called it"
        if self.unpicklable:
            message = max(self.unpicklable, key=lambda m: self.unpicklable[m])
            return "the tests called it %d time%s but %s %s not pickle" % (
                self.calls, "" if self.calls == 1 else "s", message.replace(": ", " (", 1) + ")",
                "does" if message.startswith("the instance") else "do")
        if self.too_large:
            return "the tests called it %d times but every call's arguments were over the %d MiB cap" % (
                self.calls, calls_cap_bytes >> 20)
        return "the tests called it %d times but no call was kept" % self.calls


@dataclass
class Recording:
    command: str
    directory: Optional[Path] = None  # holds the samples while the verifier runs
    returncode: Optional[int] = None
    seconds: float = 0.0
    targets: Dict[str, TargetRecording] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)  # one line each
    sys_path: List[str] = field(default_factory=list)  # import roots of the test processes
    log: Optional[Path] = None
    max_bytes: int = 8 << 20

    def for_key(self, key: str) -> Optional[TargetRecording]:
        return self.targets.get(key)

    def cleanup(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def summary(self) -> Dict[str, Any]:
        return {"command": self.command, "returncode": self.returncode, "seconds": round(self.seconds, 2),
                "problems": list(self.problems),
                "targets": {k: {"calls": t.calls, "samples": len(t.samples),
                                "unpicklable": sum(t.unpicklable.values()), "too_large": t.too_large,
                                "in_tests": t.in_tests()}
                            for k, t in self.targets.items()}}


def target_key(module: str, qualname: str) -> str:
    return "%s:%s" % (module, qualname)


def record(command: str, targets: Sequence[Dict[str, Any]], cwd: Optional[Path] = None, timeout: float = 1800.0,
           calls: int = 3, max_bytes: int = 8 << 20, env: Optional[Dict[str, str]] = None,
           log_stream: Any = None) -> Recording:
    """Run ``command`` once with the recorder watching ``targets`` (dicts: module, qualname, path, is_method)."""
    recording = Recording(command=command, max_bytes=max_bytes)
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        recording.problems.append("--from-tests: cannot read the command %r: %s" % (command, exc))
        return recording
    if not argv:
        recording.problems.append("--from-tests: the test command is empty")
        return recording
    if not targets:
        return recording
    directory = Path(tempfile.mkdtemp(prefix="gillint-record-"))
    recording.directory = directory
    site = directory / "site"
    out = directory / "out"
    site.mkdir()
    out.mkdir()
    shutil.copyfile(RECORDER_SCRIPT, site / "sitecustomize.py")
    spec = []
    for index, target in enumerate(targets):
        entry = dict(target, index=index, key=target_key(target["module"], target["qualname"]))
        spec.append(entry)
        recording.targets[entry["key"]] = TargetRecording(entry["key"])
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join([str(site)] + [p for p in environment.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    environment.update({"GILLINT_RECORD_TARGETS": json.dumps(spec), "GILLINT_RECORD_DIR": str(out),
                        "GILLINT_RECORD_CALLS": str(calls), "GILLINT_RECORD_BYTES": str(max_bytes)})
    recording.log = directory / "test-output.log"
    began = time.perf_counter()
    try:
        with open(recording.log, "wb") as log:
            process = subprocess.Popen(argv, cwd=str(cwd) if cwd else None, env=environment, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                recording.returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                recording.problems.append("--from-tests: the test command was still running after %gs and was "
                                          "stopped; using the calls recorded until then" % timeout)
            finally:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # what the tests left running
                except (ProcessLookupError, PermissionError):
                    pass
                if recording.returncode is None:
                    process.wait()
    except FileNotFoundError:
        recording.problems.append("--from-tests: command not found: %s" % argv[0])
    except PermissionError:
        recording.problems.append("--from-tests: cannot run %s: permission denied" % argv[0])
    except OSError as exc:
        recording.problems.append("--from-tests: cannot run %s: %s" % (argv[0], exc.strerror or exc))
    recording.seconds = time.perf_counter() - began
    if recording.returncode not in (None, 0):
        tail = _log_tail(recording.log)
        recording.problems.append("--from-tests: the test command exited with status %d%s; using the calls recorded "
                                  "before it ended" % (recording.returncode, " (%s)" % tail if tail else ""))
    gather(recording, spec, out)
    return recording


def _log_tail(path: Optional[Path]) -> str:
    if path is None:
        return ""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:160] if lines else ""


def _read_sample(path: Path) -> Optional[Sample]:
    try:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(4), "big")
            meta = json.loads(handle.read(length).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return Sample(str(path), int(meta.get("size", 0)), int(meta.get("bytes", 0)), bool(meta.get("method")))


def gather(recording: Recording, spec: Sequence[Dict[str, Any]], out: Path) -> None:
    """Statistics and samples of every process, the largest distinct samples first."""
    for stats_file in sorted(out.glob("stats-*.json")):
        try:
            data = json.loads(stats_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for root in data.get("sys_path", []):
            if root not in recording.sys_path:
                recording.sys_path.append(root)
        for key, stats in data.get("targets", {}).items():
            target = recording.targets.get(key)
            if target is None:
                continue
            target.calls += int(stats.get("calls", 0))
            target.too_large += int(stats.get("too_large", 0))
            target.steps += int(stats.get("steps", 0))
            target.step_total += float(stats.get("step_total", 0.0))
            target.step_max = max(target.step_max, float(stats.get("step_max", 0.0)))
            target.step_cpu_max = max(target.step_cpu_max, float(stats.get("step_cpu_max", 0.0)))
            target.step_cpu_total += float(stats.get("step_cpu_total", 0.0))
            for message, count in stats.get("unpicklable", {}).items():
                target.unpicklable[message] = target.unpicklable.get(message, 0) + int(count)
    for error_file in sorted(out.glob("recorder-error-*.txt")):
        pid = error_file.stem.rsplit("-", 1)[-1]
        try:
            first = error_file.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            first = "its error report is empty (a plugin of the test run refused even that write?)"
        recording.problems.append("--from-tests: the recorder failed in process %s and stopped recording there: %s"
                                  % (pid, first[:200]))
    for entry in spec:
        target = recording.targets[entry["key"]]
        folder = out / ("t%d" % entry["index"])
        samples: List[Sample] = []
        seen = set()
        for path in sorted(folder.glob("*.pkl")) if folder.is_dir() else []:
            digest = path.stem.rsplit("-", 1)[-1]
            if digest in seen:
                continue
            sample = _read_sample(path)
            if sample is not None:
                seen.add(digest)
                samples.append(sample)
        samples.sort(key=lambda s: (-s.size, s.bytes))
        target.samples = samples
        if samples and target.calls == 0:
            target.calls = len(samples)  # a process that ended before writing its statistics


def load_sample(path: str) -> bytes:
    """The pickle of one sample (without its header)."""
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(4), "big")
        handle.read(length)
        return handle.read()
