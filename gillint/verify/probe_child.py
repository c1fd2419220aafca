"""The measuring child: imports one target, calls it on a worker thread and probes the GIL.

This file runs as a script inside a fresh interpreter (which may be a different
Python from the one running gillint), so it imports nothing from gillint and only
the standard library.  It reads a JSON spec (the path is its one argument) and
appends JSON lines to the spec's ``result_path``: ``started``, ``imported``, one
``window`` per probe window, then ``done`` or ``failed``.  Lines already written
survive a crash, a hang or ``os._exit`` in the code under test.

How a window is measured (see docs/verify.md):

* the main thread is the probe: it sleeps until the next tick of an absolute
  1 ms grid and records how late it woke; lateness is time it could not get the
  GIL or a CPU;
* the time it spent queued for a CPU (Linux ``schedstat``) and its own idle
  lateness are subtracted; what is left, over the time the probe was not queued
  for a CPU, is ``gil_frac``;
* the worker thread's (CPU time + time queued for a CPU) / wall time is ``run_frac``.
"""

import ast
import errno
import json
import math
import os
import platform
import socket
import sys
import sysconfig
import threading
import time
import traceback

NETWORK_BLOCKED = "network access is blocked by gillint verify"
RESOURCE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED,
                   errno.EADDRNOTAVAIL, errno.EACCES, errno.EPERM}
TRACEBACK_LINES = 8


class Reporter:
    def __init__(self, path):
        self.handle = open(path, "a", encoding="utf-8")

    def emit(self, event, **fields):
        fields["event"] = event
        self.handle.write(json.dumps(fields, default=repr) + "\n")
        self.handle.flush()


class NotRunnable(Exception):
    """The target cannot be called as asked (no instance, arguments that do not fit...)."""


# --------------------------------------------------------------------------- environment

def interpreter_info():
    build = sysconfig.get_config_var("Py_GIL_DISABLED")
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "free_threaded_build": bool(build),
        "gil_enabled": gil_enabled(),
    }


def gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def apply_limits(limits):
    """Resource limits for this process and everything it starts; what was applied is reported."""
    applied = {}
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return {"unsupported": "no resource module on this platform"}
    names = {"cpu_seconds": "RLIMIT_CPU", "address_space": "RLIMIT_AS", "file_size": "RLIMIT_FSIZE",
             "open_files": "RLIMIT_NOFILE", "core": "RLIMIT_CORE"}
    for key, name in names.items():
        value = limits.get(key)
        which = getattr(resource, name, None)
        if value is None or which is None:
            continue
        try:
            soft, hard = resource.getrlimit(which)
            wanted = int(value)
            if hard != resource.RLIM_INFINITY and wanted > hard:
                wanted = hard
            # The hard limit is one second above for CPU so SIGXCPU (soft) comes before SIGKILL.
            new_hard = wanted + 1 if key == "cpu_seconds" and (hard == resource.RLIM_INFINITY or hard > wanted + 1) else wanted
            resource.setrlimit(which, (wanted, new_hard))
            applied[key] = wanted
        except (ValueError, OSError) as exc:
            applied[key] = "not applied: %s" % exc
    return applied


def block_network():
    """Best effort without a network namespace: refuse connects and name lookups off this host."""
    local_hosts = {"localhost", "127.0.0.1", "::1", None, ""}

    def is_local(address):
        if isinstance(address, tuple) and address:
            return address[0] in local_hosts or str(address[0]).startswith("127.")
        return True  # AF_UNIX paths and the like

    def hook(event, args):
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[1] if len(args) > 1 else None
            if not is_local(address):
                raise PermissionError(errno.EACCES, NETWORK_BLOCKED)
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                       "socket.gethostbyaddr", "socket.getnameinfo"):
            host = args[0] if args else None
            if isinstance(host, tuple):
                host = host[0]
            if host not in local_hosts and not str(host).startswith("127."):
                raise PermissionError(errno.EACCES, NETWORK_BLOCKED)

    sys.addaudithook(hook)


def pin_cpus(cpus):
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, set(cpus))
        except OSError:
            pass


# --------------------------------------------------------------------------- the call

def classify_exception(exc):
    """'resource' when the code needs something the sandbox does not give (network, files)."""
    if isinstance(exc, socket.gaierror):
        return "resource"
    if isinstance(exc, PermissionError) and NETWORK_BLOCKED in str(exc):
        return "resource"
    if isinstance(exc, FileNotFoundError):
        return "resource"
    if isinstance(exc, (ConnectionError, OSError)) and getattr(exc, "errno", None) in RESOURCE_ERRNOS \
            and not isinstance(exc, (PermissionError, FileNotFoundError)):
        return "resource"
    return "error"


def traceback_tail(exc):
    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip().splitlines()
    return lines[-TRACEBACK_LINES:]


def load_object(dotted):
    """``module:attr.attr`` (a factory) imported with the project on sys.path."""
    import importlib

    module_name, _, attribute = dotted.partition(":")
    obj = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def resolve_target(module, qualname):
    """(owner, attribute name, object): owner is the class for methods."""
    owner, obj = None, module
    for part in qualname.split("."):
        owner, obj = obj, getattr(obj, part)
    return owner, qualname.split(".")[-1], obj


def needs_instance(owner, name):
    import inspect

    if not inspect.isclass(owner):
        return False
    static = inspect.getattr_static(owner, name)
    return inspect.isfunction(static)


def build_call(spec, module):
    owner, name, function = resolve_target(module, spec["qualname"])
    provided = {}
    if spec.get("factory"):
        provided = load_object(spec["factory"])()
        if not isinstance(provided, dict) or set(provided) - {"args", "kwargs", "self"}:
            raise NotRunnable("the factory %s must return a dict with keys args, kwargs and/or self, not %r"
                              % (spec["factory"], type(provided).__name__ if not isinstance(provided, dict) else sorted(provided)))
    if spec.get("is_method") or needs_instance(owner, name):
        if "self" not in provided:
            raise NotRunnable("`%s` is a method: it needs an instance, which only a factory in "
                              "[tool.gillint.verify] can give (return {\"self\": ..., \"args\": ...})" % spec["qualname"])
        function = getattr(provided["self"], name)
    args, kwargs = (), {}
    if spec.get("args_source") is not None:
        args = ast.literal_eval(spec["args_source"])
    elif spec.get("args_json") is not None:
        args = spec["args_json"]
    elif "args" in provided:
        args = provided["args"]
    if spec.get("kwargs_source") is not None:
        kwargs = ast.literal_eval(spec["kwargs_source"])
    elif spec.get("kwargs_json") is not None:
        kwargs = spec["kwargs_json"]
    elif "kwargs" in provided:
        kwargs = provided["kwargs"]
    args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
    if not isinstance(kwargs, dict):
        raise NotRunnable("keyword arguments must be a dict, not %s" % type(kwargs).__name__)
    check_binding(function, args, kwargs, spec)
    return function, args, kwargs


def check_binding(function, args, kwargs, spec):
    import inspect

    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # builtins without a signature: let the call decide
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        if not args and not kwargs and not spec.get("arguments_given"):
            raise NotRunnable("no arguments: `%s%s` needs %s; give them in [tool.gillint.verify] or with a "
                              "`# gillint: verify(...)` comment on the start line" % (spec["qualname"], signature, exc))
        raise NotRunnable("the arguments do not fit `%s%s`: %s" % (spec["qualname"], signature, exc))


# --------------------------------------------------------------------------- measuring

def schedstat(tid):
    """(seconds on a CPU, seconds queued for a CPU) of one thread, or None off Linux."""
    try:
        with open("/proc/self/task/%d/schedstat" % tid) as handle:
            fields = handle.read().split()
        return int(fields[0]) / 1e9, int(fields[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def voluntary_switches(tid):
    """How often a thread has blocked (waited on a lock, the GIL, I/O) so far, or None off Linux."""
    try:
        with open("/proc/self/task/%d/status" % tid) as handle:
            for line in handle:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def native_id():
    return threading.get_native_id() if hasattr(threading, "get_native_id") else 0


def machine_busy():
    """(busy jiffies, total jiffies) summed over all CPUs, or None."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def cpu_count():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Worker(threading.Thread):
    """Calls the target again and again until told to stop; one call is never interrupted."""

    def __init__(self, function, args, kwargs):
        threading.Thread.__init__(self, name="gillint-worker", daemon=True)
        self.function, self.args, self.kwargs = function, args, kwargs
        self.stop = threading.Event()
        self.started_at = threading.Event()
        self.tid = 0
        self.calls = 0
        self.call_seconds = 0.0
        self.cpu_seconds = 0.0
        self.exception = None

    def run(self):
        self.tid = native_id()
        self.started_at.set()
        clock = time.perf_counter
        cpu = time.thread_time
        try:
            while not self.stop.is_set():
                began, began_cpu = clock(), cpu()
                self.function(*self.args, **self.kwargs)
                self.call_seconds += clock() - began
                self.cpu_seconds += cpu() - began_cpu
                self.calls += 1
        except BaseException as exc:  # noqa: B902 - SystemExit and the like are findings too
            self.exception = exc


def warm_up(worker, longest):
    """Let the first call finish (one-time set-up: caches, lazy imports), waiting at most ``longest``."""
    worker.started_at.wait()
    clock = time.perf_counter
    until = clock() + longest
    time.sleep(0.02)
    while worker.calls == 0 and worker.exception is None and clock() < until:
        time.sleep(0.005)


def probe_lateness(duration, tick):
    """Sleep on an absolute grid for ``duration``; (seconds late in total, wake-ups, wall seconds)."""
    clock = time.perf_counter
    start = clock()
    end = start + duration
    target = start + tick
    lost = 0.0
    wakes = 0
    while True:
        now = clock()
        if target > now:
            time.sleep(target - now)
        woke = clock()
        if woke > target:
            lost += woke - target
        wakes += 1
        if woke >= end:
            break
        target = start + tick * (math.floor((woke - start) / tick) + 1)
    return lost, wakes, clock() - start


def idle_lateness(tick, duration=0.05):
    """Seconds late per wake-up with nothing else running: timer slack and wake-up cost."""
    me = native_id()
    before = schedstat(me)
    lost, wakes, _ = probe_lateness(duration, tick)
    after = schedstat(me)
    queued = after[1] - before[1] if before and after else 0.0
    return max(0.0, lost - queued) / max(wakes, 1)


def measure_window(duration, tick, idle, worker_tids):
    """One probe window: gil_frac and each worker thread's run_frac."""
    me = native_id()
    probe_before = schedstat(me)
    workers_before = [schedstat(tid) for tid in worker_tids]
    switches_before = [voluntary_switches(tid) for tid in worker_tids]
    process_before = time.process_time()
    lost, wakes, wall = probe_lateness(duration, tick)
    probe_after = schedstat(me)
    workers_after = [schedstat(tid) for tid in worker_tids]
    switches_after = [voluntary_switches(tid) for tid in worker_tids]
    process_cpu = time.process_time() - process_before
    queued = probe_after[1] - probe_before[1] if probe_before and probe_after else 0.0
    # The share of the time the probe had a CPU that it lost waiting for the GIL.  Dividing by
    # the whole window instead would let other load on the machine dilute the figure.
    gil = max(0.0, lost - queued - wakes * idle) / max(wall - queued, wall * 0.05)
    run_fracs = []
    for before, after in zip(workers_before, workers_after):
        if before and after:
            run_fracs.append(((after[0] - before[0]) + (after[1] - before[1])) / wall)
        else:  # no schedstat: the process's CPU time, without the queue correction
            run_fracs.append(process_cpu / wall / max(len(worker_tids), 1))
    blocked = [round((after - before) / wall, 1) if before is not None and after is not None else None
               for before, after in zip(switches_before, switches_after)]
    return {
        "blocks_per_second": blocked,
        "gil_frac": round(min(1.0, gil), 4),
        "run_frac": round(min(1.0, sum(run_fracs) / len(run_fracs)), 4),
        "run_fracs": [round(min(1.0, r), 4) for r in run_fracs],
        "wall": round(wall, 4),
        "wakes": wakes,
        "probe_queued": round(queued, 5),
        "queue_corrected": probe_before is not None,
    }


def free_cores(busy_before, busy_after, own_cpu, wall):
    """Cores idle apart from this process over an interval, from /proc/stat."""
    if busy_before is None or busy_after is None or wall <= 0:
        return None
    total = busy_after[1] - busy_before[1]
    if total <= 0:
        return None
    machine = os.cpu_count() or 1
    busy_cores = machine * (busy_after[0] - busy_before[0]) / total
    others = max(0.0, busy_cores - own_cpu / wall)
    return round(min(cpu_count(), machine - others), 2)


def second_opinion(function, args, kwargs, call_seconds, cores_free, deadline):
    """Serial vs two threads (and vs two forked processes): a timing recorded beside the probe."""
    opinion = {"free_cores": cores_free}
    if cores_free is None or cores_free < 1.5:
        opinion["skipped"] = "fewer than 1.5 cores were idle"
        return opinion
    if call_seconds <= 0 or call_seconds > 0.15:
        opinion["skipped"] = "calls too long to time within the budget" if call_seconds > 0 else "no call finished"
        return opinion
    repeat = max(1, int(math.ceil(0.03 / call_seconds)))
    needed = call_seconds * repeat * 5 + 0.05
    if time.perf_counter() + needed > deadline:
        opinion["skipped"] = "not enough time left in the budget"
        return opinion

    def unit():
        for _ in range(repeat):
            function(*args, **kwargs)

    clock = time.perf_counter
    began = clock()
    unit()
    unit()
    serial = clock() - began
    threads = [threading.Thread(target=unit) for _ in range(2)]
    began = clock()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    threaded = clock() - began
    opinion.update(serial=round(serial, 4), threads=round(threaded, 4),
                   thread_speedup=round(serial / threaded, 3) if threaded > 0 else None)
    if hasattr(os, "fork") and threading.active_count() == 1:
        opinion.update(process_opinion(unit, serial, deadline))
    else:
        opinion["processes_skipped"] = "fork is not available" if not hasattr(os, "fork") else "other threads are running"
    return opinion


def process_opinion(unit, serial, deadline):
    import warnings

    clock = time.perf_counter
    children = []
    began = clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the forked child
                code = 0
                try:
                    unit()
                except BaseException:  # noqa: B902
                    code = 1
                os._exit(code)
            children.append(pid)
    failed = False
    while children:
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.remove(pid)
                failed = failed or status != 0
        if children:
            if clock() > deadline:
                for pid in children:
                    try:
                        os.kill(pid, 9)
                        os.waitpid(pid, 0)
                    except OSError:
                        pass
                return {"processes_skipped": "the processes did not finish in time"}
            time.sleep(0.001)
    elapsed = clock() - began
    if failed:
        return {"processes_skipped": "a process failed"}
    return {"processes": round(elapsed, 4), "process_speedup": round(serial / elapsed, 3) if elapsed > 0 else None}


# --------------------------------------------------------------------------- modes

def run_probe(spec, reporter, function, args, kwargs, deadline):
    tick = spec.get("tick", 0.001)
    window = spec.get("window", 0.2)
    windows = spec.get("windows", 3)
    idle = idle_lateness(tick)
    worker = Worker(function, args, kwargs)
    worker.start()
    warm_up(worker, spec.get("warm_up", 0.25))
    busy_before, cpu_before, wall_before = machine_busy(), time.process_time(), time.perf_counter()
    results = []
    for _ in range(windows):
        if worker.exception is not None:
            break
        measured = measure_window(window, tick, idle, [worker.tid])
        results.append(measured)
        reporter.emit("window", **measured)
    cores = free_cores(busy_before, machine_busy(), time.process_time() - cpu_before, time.perf_counter() - wall_before)
    worker.stop.set()
    grace = max(0.0, min(spec.get("grace", 0.5), deadline - time.perf_counter()))
    worker.join(grace)
    if worker.exception is not None:
        return failure(reporter, worker.exception)
    summary = {"idle_lateness": round(idle, 6), "calls": worker.calls, "returned": not worker.is_alive()}
    if worker.calls:
        summary["call_seconds"] = round(worker.call_seconds / worker.calls, 6)
        summary["cpu_per_call"] = round(worker.cpu_seconds / worker.calls, 6)
    if worker.is_alive():
        summary["second_opinion"] = {"skipped": "a call was still running when the windows ended (cut off)",
                                     "free_cores": cores}
    elif spec.get("second_opinion", True):
        try:
            summary["second_opinion"] = second_opinion(function, args, kwargs, summary.get("call_seconds", 0.0),
                                                       cores, deadline)
        except BaseException as exc:  # noqa: B902
            return failure(reporter, exc)
    reporter.emit("done", **summary)
    return 0


def run_scaling(spec, reporter, function, args, kwargs, deadline):
    """Two workers at once: does each keep running (scales) or wait on a lock (does not)?"""
    tick = spec.get("tick", 0.001)
    window = spec.get("window", 0.2)
    idle = idle_lateness(tick)
    single = Worker(function, args, kwargs)
    single.start()
    single.started_at.wait()
    time.sleep(0.02)
    alone = measure_window(window, tick, idle, [single.tid])
    single.stop.set()
    single.join(max(0.0, min(spec.get("grace", 0.5), deadline - time.perf_counter())))
    if single.exception is not None:
        return failure(reporter, single.exception)
    if single.is_alive():
        reporter.emit("done", scaling={"skipped": "a call did not return, so two could not be compared"},
                      alone=alone)
        return 0
    pair = [Worker(function, args, kwargs) for _ in range(2)]
    for worker in pair:
        worker.start()
        worker.started_at.wait()
    time.sleep(0.02)
    together = measure_window(window * 2, tick, idle, [w.tid for w in pair])
    for worker in pair:
        worker.stop.set()
    for worker in pair:
        worker.join(max(0.0, min(spec.get("grace", 0.5), deadline - time.perf_counter())))
        if worker.exception is not None:
            return failure(reporter, worker.exception)
    calls = sum(w.calls for w in pair)
    cpu_alone = single.cpu_seconds / single.calls if single.calls else None
    cpu_together = sum(w.cpu_seconds for w in pair) / calls if calls else None
    reporter.emit("done", scaling={
        "run_fracs": together["run_fracs"],
        "blocks_per_second": together["blocks_per_second"],
        "run_frac_alone": alone["run_frac"],
        "cpu_per_call_alone": round(cpu_alone, 6) if cpu_alone else None,
        "cpu_per_call_together": round(cpu_together, 6) if cpu_together else None,
    }, alone=alone, together=together)
    return 0


def failure(reporter, exc):
    kind = "not-runnable" if isinstance(exc, NotRunnable) else classify_exception(exc)
    reporter.emit("failed", stage="call", kind=kind, message="%s: %s" % (type(exc).__name__, exc)
                  if not isinstance(exc, NotRunnable) else str(exc), traceback=traceback_tail(exc)
                  if not isinstance(exc, NotRunnable) else [])
    return 0


def main(spec_path):
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    began = time.perf_counter()
    deadline = began + spec.get("budget", 5.0)
    reporter = Reporter(spec["result_path"])
    pin_cpus(spec.get("cpus"))
    limits = apply_limits(spec.get("limits", {}))
    if spec.get("network") == "audit-hook":
        block_network()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    reporter.emit("started", interpreter=interpreter_info(), limits=limits, pid=os.getpid(), cpus=cpus)
    # The script's own directory is not the project: the project's import roots are.
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd(), os.path.dirname(os.path.abspath(__file__)))]
    for root in reversed(spec.get("sys_path", [])):
        sys.path.insert(0, root)
    import importlib

    try:
        module = importlib.import_module(spec["module"])
    except BaseException as exc:  # noqa: B902 - SystemExit at import is the module's doing
        kind = classify_exception(exc)
        reporter.emit("failed", stage="import", kind="resource" if kind == "resource" else "import",
                      message="%s: %s" % (type(exc).__name__, exc), traceback=traceback_tail(exc))
        return 0
    reporter.emit("imported", gil_enabled=gil_enabled(), seconds=round(time.perf_counter() - began, 4))
    try:
        function, args, kwargs = build_call(spec, module)
    except NotRunnable as exc:
        return failure(reporter, exc)
    except BaseException as exc:  # noqa: B902
        kind = classify_exception(exc)
        reporter.emit("failed", stage="arguments", kind="resource" if kind == "resource" else "arguments",
                      message="%s: %s" % (type(exc).__name__, exc), traceback=traceback_tail(exc))
        return 0
    if spec.get("mode") == "scaling":
        return run_scaling(spec, reporter, function, args, kwargs, deadline)
    return run_probe(spec, reporter, function, args, kwargs, deadline)


if __name__ == "__main__":
    try:
        status = main(sys.argv[1])
    except BaseException:  # noqa: B902 - anything here is a bug in the prober: say so on stderr
        traceback.print_exc()
        status = 70
    sys.stdout.flush()
    sys.stderr.flush()
    # Worker threads may still be inside a call that never returns: do not wait for them.
    os._exit(status)
