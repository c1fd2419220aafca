"""Run the measuring child: a fresh interpreter in its own process group, with limits and no network.

The child (``probe_child.py``) is copied into a temporary directory and run with a
clean environment: a temporary HOME, TMPDIR and working directory, a fixed
PYTHONHASHSEED, native thread pools pinned to one thread and no bytecode written.
Resource limits are set by the child before it imports anything of the user's.
The network is cut with a new user and network namespace (``unshare -rn``) where
that works, else by an audit hook in the child (best effort); which one was used
is part of every result.  On a wall-clock timeout, or when gillint itself is
interrupted, the whole process group is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

CHILD_SCRIPT = Path(__file__).with_name("probe_child.py")
# Copied beside the child script, which imports them by these names (it cannot import gillint).
CHILD_MODULES = {"gillint_constant.py": Path(__file__).with_name("constant.py")}
THREAD_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                         "VECLIB_MAXIMUM_THREADS", "RAYON_NUM_THREADS", "BLIS_NUM_THREADS")
PASSED_THROUGH = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "SYSTEMROOT")
STDERR_TAIL = 12
NAMESPACE = "network namespace (unshare -rn)"
AUDIT_HOOK = "audit hook (best effort: refuses connects and name lookups off this host)"

_namespace_works: Dict[str, bool] = {}


@dataclass
class ChildOutcome:
    events: List[Dict[str, Any]] = field(default_factory=list)
    returncode: Optional[int] = None
    timed_out: bool = False
    interrupted: bool = False
    seconds: float = 0.0
    stderr_tail: List[str] = field(default_factory=list)
    isolation: str = ""

    def last(self, event: str) -> Optional[Dict[str, Any]]:
        for item in reversed(self.events):
            if item.get("event") == event:
                return item
        return None

    def all(self, event: str) -> List[Dict[str, Any]]:
        return [item for item in self.events if item.get("event") == event]


class Interrupted(Exception):
    """Ctrl-C arrived while a child was running; the child's group has been killed."""

    def __init__(self, outcome: ChildOutcome) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


class ChildRegistry:
    """The measuring children running now, so an interrupt can end them all (by process group)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: List["subprocess.Popen[bytes]"] = []

    def add(self, process: "subprocess.Popen[bytes]") -> None:
        with self._lock:
            self._running.append(process)

    def discard(self, process: "subprocess.Popen[bytes]") -> None:
        with self._lock:
            if process in self._running:
                self._running.remove(process)

    def kill_all(self) -> None:
        with self._lock:
            running = list(self._running)
        for process in running:
            _kill_group(process)


def namespace_available(python: str) -> bool:
    """Whether ``unshare -rn`` can start this interpreter here (checked once per interpreter)."""
    if python not in _namespace_works:
        unshare = shutil.which("unshare")
        works = False
        if unshare is not None:
            try:
                works = subprocess.run([unshare, "-rn", python, "-c", "pass"], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0
            except (OSError, subprocess.SubprocessError):
                works = False
        _namespace_works[python] = works
    return _namespace_works[python]


def choose_isolation(network: str, python: str) -> str:
    """``namespace`` or ``audit-hook`` for the configured ``network`` choice."""
    if network == "audit-hook":
        return "audit-hook"
    if namespace_available(python):
        return "namespace"
    if network == "namespace":
        raise OSError("network = \"namespace\" is configured but `unshare -rn` does not work on this machine")
    return "audit-hook"


def child_environment(scratch: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update({
        "HOME": str(scratch / "home"),
        "TMPDIR": str(scratch / "tmp"),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",
    })
    for name in THREAD_POOL_VARIABLES:
        env[name] = "1"
    if extra:
        env.update(extra)
    return env


def _read_events(path: Path) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return events
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(item, dict):
            events.append(item)
    return events


def _tail(path: Path, lines: int = STDERR_TAIL) -> List[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 8192))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def _kill_group(process: "subprocess.Popen[bytes]") -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    except AttributeError:  # pragma: no cover - no process groups (Windows)
        process.kill()


def run_child(spec: Dict[str, Any], python: str, timeout: float, isolation: str,
              interpreter_options: Sequence[str] = (), env_extra: Optional[Dict[str, str]] = None,
              registry: Optional[ChildRegistry] = None, script: Optional[Path] = None) -> ChildOutcome:
    """Run one measurement; always returns what the child reported, whatever happened to it.

    ``script`` runs another child script instead of the probe (``gillint deps`` imports
    extension modules this way); the probe is still copied beside it, as ``gillint_probe``,
    so it can reuse the probe's limits and network guard.
    """
    scratch = Path(tempfile.mkdtemp(prefix="gillint-verify-"))
    outcome = ChildOutcome(isolation=NAMESPACE if isolation == "namespace" else AUDIT_HOOK)
    try:
        for name in ("work", "home", "tmp"):
            (scratch / name).mkdir()
        probe = scratch / "gillint_probe.py"
        shutil.copyfile(CHILD_SCRIPT, probe)
        for name, module in CHILD_MODULES.items():
            shutil.copyfile(module, scratch / name)
        if script is not None:
            runs = scratch / ("gillint_" + script.name)
            shutil.copyfile(script, runs)
        else:
            runs = probe
        result_path = scratch / "result.jsonl"
        spec = dict(spec, result_path=str(result_path), network=isolation)
        spec_path = scratch / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        command = [python, "-B", *interpreter_options, str(runs), str(spec_path)]
        if isolation == "namespace":
            command = [shutil.which("unshare") or "unshare", "-rn", *command]
        began = time.perf_counter()
        with open(scratch / "stdout", "wb") as out, open(scratch / "stderr", "wb") as err:
            process = subprocess.Popen(command, cwd=str(scratch / "work"), env=child_environment(scratch, env_extra),
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            if registry is not None:
                registry.add(process)
            try:
                outcome.returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                outcome.timed_out = True
            except KeyboardInterrupt:
                outcome.interrupted = True
            finally:
                # Always: the code under test may have left processes behind in its group.
                _kill_group(process)
                if outcome.returncode is None:
                    outcome.returncode = process.wait()
                if registry is not None:
                    registry.discard(process)
        outcome.seconds = time.perf_counter() - began
        outcome.events = _read_events(result_path)
        outcome.stderr_tail = _tail(scratch / "stderr")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if outcome.interrupted:
        raise Interrupted(outcome)
    return outcome


INTERPRETER_QUERY = (
    "import json, platform, sys, sysconfig\n"
    "print(json.dumps({'executable': sys.executable, 'version': platform.python_version(),"
    " 'implementation': sys.implementation.name, 'version_info': list(sys.version_info[:2]),"
    " 'free_threaded_build': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),"
    " 'gil_enabled': getattr(sys, '_is_gil_enabled', lambda: True)()}))\n"
)


def describe_interpreter(python: str) -> Dict[str, Any]:
    """Version, implementation and build of an interpreter (raises OSError when it cannot run)."""
    try:
        done = subprocess.run([python, "-I", "-c", INTERPRETER_QUERY], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OSError("cannot run %s: %s" % (python, exc)) from None
    if done.returncode != 0:
        raise OSError("cannot run %s: %s" % (python, (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1]))
    try:
        info = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise OSError("%s did not describe itself (is it a Python interpreter?)" % python) from None
    if tuple(info.get("version_info", (0, 0))) < (3, 9):
        raise OSError("%s is Python %s; the verifier needs 3.9 or newer" % (python, info.get("version")))
    return info
