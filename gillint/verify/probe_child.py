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

import errno
import json
import math
import os
import platform
import re
import socket
import sys
import sysconfig
import threading
import time
import traceback

try:  # copied beside this script by the sandbox, imported before the script's folder leaves sys.path
    from gillint_constant import evaluate as evaluate_constant
except ImportError:  # imported as part of gillint
    from gillint.verify.constant import evaluate as evaluate_constant

NETWORK_BLOCKED = "network access is blocked by gillint verify"
RESOURCE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED,
                   errno.EADDRNOTAVAIL, errno.EACCES, errno.EPERM}
TRACEBACK_LINES = 8
GIL_ENABLED_BY = re.compile(r"GIL\) has been enabled to load module '([^']+)'")


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
    if spec.get("sample_path"):
        provided = load_sample(spec["sample_path"])
    elif spec.get("factory"):
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
    if spec.get("sample_path"):
        args, kwargs = provided.get("args", ()), provided.get("kwargs", {})
    elif spec.get("args_source") is not None:
        args = evaluate_constant(spec["args_source"])
    elif spec.get("args_json") is not None:
        args = spec["args_json"]
    elif "args" in provided:
        args = provided["args"]
    if spec.get("sample_path"):
        pass
    elif spec.get("kwargs_source") is not None:
        kwargs = evaluate_constant(spec["kwargs_source"])
    elif spec.get("kwargs_json") is not None:
        kwargs = spec["kwargs_json"]
    elif "kwargs" in provided:
        kwargs = provided["kwargs"]
    args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
    if not isinstance(kwargs, dict):
        raise NotRunnable("keyword arguments must be a dict, not %s" % type(kwargs).__name__)
    check_binding(function, args, kwargs, spec)
    return function, args, kwargs


def load_sample(path):
    """A call recorded from the project's tests: ``{"args", "kwargs"[, "self"]}`` (see recorder_site.py)."""
    import pickle

    try:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(4), "big")
            handle.read(length)
            provided = pickle.loads(handle.read())
    except Exception as exc:  # noqa: BLE001 - a class the sandbox cannot import, a damaged file
        raise NotRunnable("the arguments recorded from the tests do not unpickle in the sandbox: %s: %s"
                          % (type(exc).__name__, exc))
    if not isinstance(provided, dict):
        raise NotRunnable("the recorded sample is not a dict of args, kwargs and self")
    return provided


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


class SchedReader:
    """One thread's (CPU seconds, seconds queued for a CPU) from Linux schedstat, read with ``pread``.

    About a microsecond a read, so the probe can read it at every tick; ``works`` is False
    off Linux (and where the file cannot be opened), and ``read`` then returns None.
    """

    def __init__(self, tid):
        try:
            self.fd = os.open("/proc/self/task/%d/schedstat" % tid, os.O_RDONLY)
            self.works = hasattr(os, "pread")
        except OSError:
            self.fd, self.works = None, False

    def read(self):
        if not self.works:
            return None
        try:
            fields = os.pread(self.fd, 128, 0).split()
            return int(fields[0]) / 1e9, int(fields[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return None

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd, self.works = None, False


class Overlap:
    """At each probe tick, which workers made progress (ran on a CPU for most of the tick) since the last one.

    Two workers that scale make progress at the same time about as often as chance
    allows on the cores they get (``both`` near ``expected``); two serialised by a lock
    (or the GIL) almost never do, however busy the machine is.  Only meaningful without a
    GIL (the probe's own ticks wait for it).
    """

    PROGRESS = 0.5  # share of a tick a worker must have run to count as progressing

    def __init__(self, tids, clock=time.perf_counter):
        self.readers = [SchedReader(tid) for tid in tids]
        self.clock = clock
        self.last = None
        self.ticks = 0
        self.each = [0] * len(tids)
        self.both = 0

    def sample(self):
        now = self.clock()
        cpus = [reader.read() for reader in self.readers]
        if any(cpu is None for cpu in cpus):
            return
        if self.last is not None:
            elapsed = now - self.last[0]
            if elapsed > 0:
                progressed = [(cpu[0] - before[0]) >= self.PROGRESS * elapsed for cpu, before in zip(cpus, self.last[1])]
                self.ticks += 1
                self.each = [n + p for n, p in zip(self.each, progressed)]
                self.both += all(progressed)
        self.last = (now, cpus)

    def summary(self):
        for reader in self.readers:
            reader.close()
        if not self.ticks:
            return None
        shares = [n / self.ticks for n in self.each]
        expected = 1.0
        for share in shares:
            expected *= share
        # One precision for every share, so rounding keeps "both" <= each worker's share.
        return {"ticks": self.ticks, "progress_shares": [round(v, 4) for v in shares],
                "both": round(self.both / self.ticks, 4), "expected": round(expected, 4)}


def probe_lateness(duration, tick, on_wake=None, queue=None):
    """Sleep on an absolute grid for ``duration``: (seconds late, wake-ups, wall seconds, seconds queued).

    With a ``queue`` reader (the probe's own SchedReader), the time queued for a CPU is
    read around every sleep and counted only up to that wake-up's lateness: queueing can
    delay a wake-up by no more than it was late, and time queued while the probe was
    running its own code (preempted, GIL in hand) delayed nothing.  Counting the whole
    window's queue time instead took up to half the lateness of pure-Python code on a
    busy machine (bench/verify_repeatability_loaded.md).  None when there is no reader.
    """
    clock = time.perf_counter
    start = clock()
    end = start + duration
    target = start + tick
    lost = 0.0
    queued = 0.0 if queue is not None and queue.works else None
    wakes = 0
    while True:
        now = clock()
        before = queue.read() if queued is not None else None
        if target > now:
            time.sleep(target - now)
        woke = clock()
        late = woke - target if woke > target else 0.0
        lost += late
        if before is not None:
            after = queue.read()
            if after is not None:
                queued += min(max(0.0, after[1] - before[1]), late)
        wakes += 1
        if on_wake is not None:
            on_wake()
        if woke >= end:
            break
        target = start + tick * (math.floor((woke - start) / tick) + 1)
    return lost, wakes, clock() - start, queued


def idle_lateness(tick, duration=0.05):
    """Seconds late per wake-up with nothing else running: timer slack and wake-up cost."""
    reader = SchedReader(native_id())
    lost, wakes, _, queued = probe_lateness(duration, tick, queue=reader)
    reader.close()
    return max(0.0, lost - (queued or 0.0)) / max(wakes, 1)


def measure_window(duration, tick, idle, worker_tids, sample_overlap=False):
    """One probe window: gil_frac, each worker thread's run_frac (and, asked, how often the workers ran at once)."""
    me = native_id()
    overlap = Overlap(worker_tids) if sample_overlap else None
    reader = SchedReader(me)
    probe_before = schedstat(me)
    workers_before = [schedstat(tid) for tid in worker_tids]
    switches_before = [voluntary_switches(tid) for tid in worker_tids]
    process_before = time.process_time()
    lost, wakes, wall, attributed = probe_lateness(duration, tick, overlap.sample if overlap is not None else None,
                                                   reader)
    reader.close()
    probe_after = schedstat(me)
    workers_after = [schedstat(tid) for tid in worker_tids]
    switches_after = [voluntary_switches(tid) for tid in worker_tids]
    process_cpu = time.process_time() - process_before
    whole = probe_after[1] - probe_before[1] if probe_before and probe_after else 0.0
    queued = attributed if attributed is not None else whole
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
    measured = {
        "blocks_per_second": blocked,
        "gil_frac": round(min(1.0, gil), 4),
        "run_frac": round(min(1.0, sum(run_fracs) / len(run_fracs)), 4),
        "run_fracs": [round(min(1.0, r), 4) for r in run_fracs],
        "wall": round(wall, 4),
        "wakes": wakes,
        "probe_queued": round(queued, 5),
        "probe_queued_whole": round(whole, 5),  # the window's queue time, before attributing it to wake-ups
        "lost": round(lost, 5),
        "queue_corrected": probe_before is not None,
    }
    if overlap is not None:
        measured["overlap"] = overlap.summary()
    return measured


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


def fork_unit(unit, deadline):
    """Two forked processes each run ``unit``; seconds until both are done, or None."""
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
                return None
            time.sleep(0.0005)
    return None if failed else clock() - began


def spread(values):
    ordered = sorted(values)
    middle = ordered[len(ordered) // 2] if len(ordered) % 2 else (ordered[len(ordered) // 2 - 1] +
                                                                    ordered[len(ordered) // 2]) / 2
    return {"median": round(middle, 3), "min": round(ordered[0], 3), "max": round(ordered[-1], 3),
            "rounds": [round(v, 3) for v in values]}


def timing(function, args, kwargs, call_seconds, deadline, rounds=3, unit_seconds=0.1, processes=True):
    """Serial vs two threads (vs two forked processes), in interleaved rounds, each variant for long enough.

    One *unit* is as many calls as take about ``unit_seconds``.  A round runs the two units
    serially, on two threads at once and on two processes at once, in a rotating order so
    that a change in the machine's load falls on every variant alike.  The speedup of each
    round is kept, so the caller can show the spread (and hide a figure that is noise).
    """
    result = {"rounds_asked": rounds, "unit_seconds": unit_seconds}
    if call_seconds <= 0:
        result["skipped"] = "no call finished"
        return result
    calls = max(1, int(math.ceil(unit_seconds / call_seconds)))
    per_round = call_seconds * calls * (6 if processes else 4) + (0.03 if processes else 0.0)
    left = deadline - time.perf_counter()
    fitting = int(left // per_round) if per_round > 0 else rounds
    rounds = min(rounds, fitting)
    if rounds < 2:
        result["skipped"] = "calls too long to time in interleaved rounds within the budget (%.3gs per call)" \
            % call_seconds
        return result

    def unit():
        for _ in range(calls):
            function(*args, **kwargs)

    clock = time.perf_counter

    def serial():
        began = clock()
        unit()
        unit()
        return clock() - began

    def threads():
        pair = [threading.Thread(target=unit) for _ in range(2)]
        began = clock()
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()
        return clock() - began

    variants = [("serial", serial), ("threads", threads)]
    if processes and hasattr(os, "fork") and threading.active_count() == 1:
        variants.append(("processes", lambda: fork_unit(unit, deadline)))
    elif processes:
        result["processes_skipped"] = "fork is not available" if not hasattr(os, "fork") else \
            "other threads are running"
    times = {name: [] for name, _ in variants}
    busy_before, cpu_before, wall_before = machine_busy(), time.process_time(), clock()
    own_children_before = os.times()
    for number in range(rounds):
        shift = number % len(variants)
        for name, run in variants[shift:] + variants[:shift]:
            times[name].append(run())
    wall = clock() - wall_before
    children_cpu = (os.times()[2] + os.times()[3]) - (own_children_before[2] + own_children_before[3])
    result["free_cores"] = free_cores(busy_before, machine_busy(), time.process_time() - cpu_before + children_cpu,
                                      wall)
    result.update(rounds=rounds, calls_per_unit=calls,
                  seconds={name: [round(v, 4) if v is not None else None for v in values]
                           for name, values in times.items()})
    for name in ("threads", "processes"):
        pairs = [(s, v) for s, v in zip(times["serial"], times.get(name, [])) if v]
        if name in times and len(pairs) == len(times["serial"]):
            result[name + "_speedup"] = spread([s / v for s, v in pairs])
        elif name in times:
            result[name + "_skipped"] = "a process failed or did not finish in time"
    return result


class LoopCall:
    """A coroutine function run to completion on its own event loop in the calling thread.

    A heartbeat task wakes every half millisecond; the longest stretch in which neither it
    nor the loop got control is how long one call blocked the event loop (for a coroutine
    that never awaits, the whole call).
    """

    TICK = 0.0005

    def __init__(self, function):
        self.function = function
        self.local = threading.local()
        self.blocks = []

    def __call__(self, *args, **kwargs):
        import asyncio

        loop = getattr(self.local, "loop", None)
        if loop is None:
            loop = self.local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(self.measure(args, kwargs))

    async def measure(self, args, kwargs):
        import asyncio

        clock = time.perf_counter
        marks = [clock()]
        state = {"done": False}

        async def heartbeat():
            while not state["done"]:
                await asyncio.sleep(self.TICK)
                marks.append(clock())

        beat = asyncio.ensure_future(heartbeat())
        try:
            return await self.function(*args, **kwargs)
        finally:
            state["done"] = True
            marks.append(clock())
            beat.cancel()
            stretches = [b - a for a, b in zip(marks, marks[1:])]
            longest = max(stretches)
            if len(marks) > 2:
                longest = max(0.0, longest - self.TICK)
            if len(self.blocks) >= 20000:
                del self.blocks[:10000]
            self.blocks.append(longest)


def wrap_callable(function):
    """What one call means: a coroutine is run to completion on a loop, a generator is exhausted."""
    import inspect

    if inspect.iscoroutinefunction(function):
        return LoopCall(function), "coroutine"
    if inspect.isasyncgenfunction(function):
        async def drain(*args, **kwargs):
            async for _ in function(*args, **kwargs):
                pass
        return LoopCall(drain), "async-generator"
    if inspect.isgeneratorfunction(function):
        def exhaust(*args, **kwargs):
            for _ in function(*args, **kwargs):
                pass
        return exhaust, "generator"
    return function, "function"


# --------------------------------------------------------------------------- the size ladder

LADDER_FACTORS = (1, 10, 100)
LADDER_MAX_ITEMS = 20_000_000
LADDER_MAX_BYTES = 200 << 20


def ladder_size(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return abs(value) if abs(value) >= 2 else None
    if isinstance(value, (str, bytes, list, tuple)):
        return len(value) if len(value) >= 1 else None
    return None


def scalable_argument(args, kwargs):
    """The sized argument to scale: the largest int, str, bytes, list or tuple (position or keyword)."""
    best = None
    for where, value in [(i, v) for i, v in enumerate(args)] + [(k, v) for k, v in kwargs.items()]:
        size = ladder_size(value)
        if size is not None and (best is None or size > best[2]):
            best = (where, value, size)
    return best


def scaled(value, factor):
    if isinstance(value, int):
        return value * factor
    limit = LADDER_MAX_BYTES if isinstance(value, (str, bytes)) else LADDER_MAX_ITEMS
    if len(value) * factor > limit:
        raise MemoryError("%d items at x%d is over the ladder's cap of %d" % (len(value), factor, limit))
    return value * factor


def time_calls(function, args, kwargs, limit, least=0.05):
    """Seconds per call (repeating short calls for ``least`` seconds); None when cut off at ``limit``."""
    box = {}

    def run():
        clock = time.perf_counter
        began = clock()
        calls = 0
        try:
            while True:
                function(*args, **kwargs)
                calls += 1
                if clock() - began >= least:
                    break
        except BaseException as exc:  # noqa: B902
            box["error"] = "%s: %s" % (type(exc).__name__, exc)
            return
        box["seconds"] = (clock() - began) / calls

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(max(0.0, limit))
    if thread.is_alive():
        box["cut_off"] = True
    return box


def size_ladder(spec, function, args, kwargs, deadline, rebuild=None):
    """How the cost per call grows with the argument: x1/x10/x100 of a literal, or the recorded calls."""
    rungs = []
    def rung(entry, function, call_args, call_kwargs):
        blocks = getattr(function, "blocks", None)
        left = deadline - time.perf_counter()
        previous = [r for r in rungs if r.get("seconds")]
        if previous:
            last = previous[-1]
            growth = max(1.0, entry["size"] / max(last["size"], 1))
            predicted = last["seconds"] * growth
            if predicted * 1.5 > left / 2:
                entry["skipped"] = "would take about %.2gs per call" % predicted
                rungs.append(entry)
                return False
        before = len(blocks) if blocks is not None else 0
        box = time_calls(function, call_args, call_kwargs, left - 0.2)
        entry.update(box)
        if blocks is not None and len(blocks) > before:
            entry["loop_block_seconds"] = round(max(blocks[before:]), 6)
        if "seconds" in entry:
            entry["seconds"] = round(entry["seconds"], 7)
        rungs.append(entry)
        return "seconds" in entry

    mode = spec.get("ladder")
    if mode == "scale":
        chosen = scalable_argument(args, kwargs)
        if chosen is None:
            return {"skipped": "no argument is a sized value (int, str, bytes, list or tuple)"}
        where, value, size = chosen
        for factor in LADDER_FACTORS:
            try:
                bigger = scaled(value, factor)
            except MemoryError as exc:
                rungs.append({"factor": factor, "size": size * factor, "skipped": str(exc)})
                break
            call_args, call_kwargs = list(args), dict(kwargs)
            if isinstance(where, int):
                call_args[where] = bigger
            else:
                call_kwargs[where] = bigger
            if not rung({"factor": factor, "size": size * factor}, function, tuple(call_args), call_kwargs):
                break
        return {"mode": "scale", "argument": where, "type": type(value).__name__, "rungs": rungs}
    if mode == "samples":
        for sample in spec.get("ladder_samples", []):
            try:
                call, call_args, call_kwargs = rebuild(sample["path"])
            except BaseException as exc:  # noqa: B902 - one sample that does not load is one rung lost
                rungs.append({"size": sample.get("size"), "error": "%s: %s" % (type(exc).__name__, exc)})
                continue
            if not rung({"size": sample.get("size")}, call, call_args, call_kwargs):
                break
        return {"mode": "samples", "rungs": rungs}
    return None


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
    blocks = getattr(function, "blocks", None)
    if blocks:
        ordered = sorted(blocks)
        summary["loop_block_seconds"] = round(ordered[len(ordered) // 2], 6)
        summary["loop_block_max"] = round(ordered[-1], 6)
    summary["free_cores"] = cores
    summary["call_kind"] = spec.get("call_kind", "function")
    if worker.is_alive():
        summary["timing"] = {"skipped": "a call was still running when the windows ended (cut off)"}
        reporter.emit("done", **summary)
        return 0
    reporter.emit("done", **summary)
    # After the verdict's figures: the timing and the size ladder, each reported as it ends (a
    # time limit that cuts them off leaves the verdict standing).
    rounds = spec.get("timing_rounds", 3)
    if rounds:
        try:
            measured = timing(function, args, kwargs, summary.get("call_seconds", 0.0), deadline - 0.3, rounds,
                              spec.get("timing_unit", 0.1))
        except BaseException as exc:  # noqa: B902
            measured = {"skipped": "a call raised during the timing: %s: %s" % (type(exc).__name__, exc)}
        reporter.emit("timing", **measured)
    if spec.get("ladder"):
        try:
            until = min(deadline - 0.2, time.perf_counter() + spec.get("ladder_seconds", 3.0))
            ladder = size_ladder(spec, function, args, kwargs, until, spec.get("_rebuild"))
        except BaseException as exc:  # noqa: B902
            ladder = {"skipped": "%s: %s" % (type(exc).__name__, exc)}
        if ladder is not None:
            reporter.emit("ladder", **ladder)
    reporter.emit("finished")
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
    calls_before = [w.calls for w in pair]
    together = measure_window(window * 2, tick, idle, [w.tid for w in pair], sample_overlap=True)
    calls_during = [w.calls - before for w, before in zip(pair, calls_before)]
    for worker in pair:
        worker.stop.set()
    for worker in pair:
        worker.join(max(0.0, min(spec.get("grace", 0.5), deadline - time.perf_counter())))
        if worker.exception is not None:
            return failure(reporter, worker.exception)
    calls = sum(w.calls for w in pair)
    cpu_alone = single.cpu_seconds / single.calls if single.calls else None
    cpu_together = sum(w.cpu_seconds for w in pair) / calls if calls else None
    gil_off_timing = None
    if spec.get("timing_rounds", 3) and single.calls:
        try:
            gil_off_timing = timing(function, args, kwargs, single.call_seconds / single.calls, deadline - 0.3,
                                    spec.get("timing_rounds", 3), spec.get("timing_unit", 0.1), processes=False)
        except BaseException as exc:  # noqa: B902
            gil_off_timing = {"skipped": "a call raised during the timing: %s: %s" % (type(exc).__name__, exc)}
    reporter.emit("done", timing=gil_off_timing, scaling={
        "run_fracs": together["run_fracs"],
        "blocks_per_second": together["blocks_per_second"],
        # A thread that waits for a lock held through a long call blocks rarely per second but
        # about once per call: per call is the figure that catches it.
        "overlap": together.get("overlap"),
        "blocks_per_call": [round(b * together["wall"] / calls, 3) if b is not None and calls else None
                            for b, calls in zip(together["blocks_per_second"], calls_during)],
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

    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = importlib.import_module(spec["module"])
        except BaseException as exc:  # noqa: B902 - SystemExit at import is the module's doing
            kind = classify_exception(exc)
            reporter.emit("failed", stage="import", kind="resource" if kind == "resource" else "import",
                          message="%s: %s" % (type(exc).__name__, exc), traceback=traceback_tail(exc))
            return 0
    # A free-threaded build names the extension that turned the GIL back on in a RuntimeWarning.
    enabled_by = [match.group(1) for match in (GIL_ENABLED_BY.search(str(w.message)) for w in caught) if match]
    reporter.emit("imported", gil_enabled=gil_enabled(), gil_enabled_by=enabled_by,
                  seconds=round(time.perf_counter() - began, 4))
    try:
        function, args, kwargs = build_call(spec, module)
    except NotRunnable as exc:
        return failure(reporter, exc)
    except BaseException as exc:  # noqa: B902
        kind = classify_exception(exc)
        reporter.emit("failed", stage="arguments", kind="resource" if kind == "resource" else "arguments",
                      message="%s: %s" % (type(exc).__name__, exc), traceback=traceback_tail(exc))
        return 0
    function, spec["call_kind"] = wrap_callable(function)

    def rebuild(path):
        again, call_args, call_kwargs = build_call(dict(spec, sample_path=path), module)
        return wrap_callable(again)[0], call_args, call_kwargs

    spec["_rebuild"] = rebuild
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
