"""The argument recorder, injected into the user's own test run as ``sitecustomize``.

`gillint verify --from-tests CMD` copies this file into a temporary directory as
``sitecustomize.py``, puts that directory first on ``PYTHONPATH`` and runs CMD.  Every
Python process of the test run (subprocesses and pool workers included) then imports
it at start-up.  It imports nothing from gillint and only the standard library, and it
is configured by environment variables:

``GILLINT_RECORD_TARGETS``  JSON list of ``{"key", "module", "qualname", "path", "is_method"}``
``GILLINT_RECORD_DIR``      where samples and statistics are written
``GILLINT_RECORD_CALLS``    samples kept per target and process (the largest calls), default 3
``GILLINT_RECORD_BYTES``    largest pickled sample kept, default 8 MiB

It watches only the flagged targets: with ``sys.monitoring`` (3.12+) the start event
of every other function is disabled after its first call, so the rest of the test run
runs at full speed; before 3.12 a ``sys.setprofile`` hook (on every thread) compares the
name of each called function with the targets' names and returns at once otherwise.

For each call of a target it measures the arguments' size cheaply (lengths, integer
values, a few levels deep) and keeps the largest few, pickled at the moment of the
call (the function may change them afterwards).  A method keeps its instance separately
so that an instance that does not pickle can be told from arguments that do not.
Each kept sample is one file ``<target>/<pid>-<n>.pkl`` (written at once: pool workers
end with ``os._exit``), and ``stats-<pid>.json`` says per target how many calls were
seen and why some could not be kept.  Any error of the recorder's own stops recording
in that process and is written to ``recorder-error-<pid>.txt``; the tests go on.
After everything, any other ``sitecustomize`` that this file shadows is run.
"""

import hashlib
import json
import os
import pickle
import sys
import threading
import time

CO_GENERATOR_LIKE = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator
PICKLE_ATTEMPTS = 50  # per target and process; after that only calls twice as large as any tried are pickled
_TOOL_NAME = "gillint-recorder"


def cheap_size(value, depth=0):
    """A rough measure of how much work an argument carries, without walking all of it."""
    try:
        if value is None or isinstance(value, bool):
            return 1
        if isinstance(value, int):
            return min(abs(value), 1 << 40)
        if isinstance(value, float):
            return 1
        if isinstance(value, (str, bytes, bytearray)):
            return len(value)
        if isinstance(value, memoryview):
            return value.nbytes
        nbytes = getattr(type(value), "nbytes", None)
        if nbytes is not None and not callable(nbytes):  # numpy arrays and the like
            return int(value.nbytes)
        if isinstance(value, (list, tuple, set, frozenset, dict)):
            count = len(value)
            if count == 0 or depth >= 2:
                return max(count, 1)
            first = next(iter(value.values() if isinstance(value, dict) else value))
            return count * max(1, cheap_size(first, depth + 1))
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict) and depth < 2:
            return 1 + sum(cheap_size(v, depth + 1) for v in list(attributes.values())[:32])
        length = getattr(value, "__len__", None)
        if length is not None:
            return int(length())
    except Exception:  # noqa: BLE001 - a size is only a hint
        pass
    return 1


def import_roots(search_path=None):
    """This process's sys.path, absolute ('' is the working directory), for the sandbox to import from."""
    roots = []
    for entry in sys.path if search_path is None else search_path:
        try:
            root = os.path.abspath(entry) if entry else os.getcwd()
        except OSError:
            continue
        if root not in roots:
            roots.append(root)
    return roots


def write_file(path, data):
    """Atomically: a reader never sees half a sample."""
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)
    temporary = "%s.%d.tmp" % (path, threading.get_ident())  # the writer thread and a caller may both write
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def write_stats_file(path, targets_json, search_path):
    """(On the writer thread where needed: making the import roots absolute touches the file system.)"""
    data = '{"pid": %d, "python": %s, "sys_path": %s, "targets": %s}' % (
        os.getpid(), json.dumps(sys.version.split()[0]), json.dumps(import_roots(search_path)), targets_json)
    write_file(path, data.encode("utf-8"))


def remove_file(path):
    try:
        os.remove(path)
    except OSError:
        pass


class Recorder:
    def __init__(self, targets, out_dir, calls, max_bytes):
        self.out_dir = out_dir
        self.calls_kept = max(1, calls)
        self.max_bytes = max_bytes
        self.targets = targets
        self.names = frozenset(t["qualname"].rsplit(".", 1)[-1] for t in targets)
        self.by_qualname = {}
        for target in targets:
            self.by_qualname.setdefault(target["qualname"], []).append(target)
        self.code_cache = {}  # code object -> target dict or None
        self.first_resume = {}  # code object -> offset of the first RESUME (3.11 generators)
        self.reset()
        self.failed = False
        self.last_stats = 0.0

    def reset(self):
        """Per-process state (cleared in a forked child, whose samples are its own).

        The lock is new too: a fork while another thread held it would leave the child's copy
        locked for ever, and the child's first call of a target would hang.
        """
        self.lock = threading.Lock()
        self.kept = {}  # key -> list of (size, digest, path)
        self.stats = {}  # key -> {"calls", "kept", "pickled", "unpicklable": {msg: n}, "too_large": n}
        self.serial = 0
        self.writer = None  # the thread that writes for event-loop threads (none survives a fork)
        self.queue = None
        self.running = {}  # id(frame) -> when its current step began
        self.pid = os.getpid()

    # ------------------------------------------------------------------ matching
    def match(self, code, frame):
        try:
            return self.code_cache[code]
        except KeyError:
            pass
        found = None
        qualname = getattr(code, "co_qualname", None)
        filename = code.co_filename  # compared as it is: no file-system call inside someone's event loop
        module = frame.f_globals.get("__name__") if frame is not None else None
        for target in self.targets:
            if target["qualname"].rsplit(".", 1)[-1] != code.co_name:
                continue
            if qualname is not None:
                if qualname != target["qualname"]:
                    continue
                if filename in target["paths"] or module == target["module"]:
                    found = target
                    break
            elif module == target["module"] or filename in target["paths"]:
                # No co_qualname before 3.11: the module's own object must have this code.
                if self._resolves_to(frame, target["qualname"], code):
                    found = target
                    break
        self.code_cache[code] = found
        return found

    @staticmethod
    def _resolves_to(frame, qualname, code):
        obj = None
        parts = qualname.split(".")
        obj = frame.f_globals.get(parts[0])
        for part in parts[1:]:
            if obj is None:
                return False
            obj = getattr(obj, "__dict__", {}).get(part, getattr(obj, part, None))
        obj = getattr(obj, "__func__", obj)
        return getattr(obj, "__code__", None) is code

    def is_first_start(self, code, frame):
        """Generators and coroutines fire a call event at every resume: keep only the first."""
        if not code.co_flags & CO_GENERATOR_LIKE:
            return True
        if sys.version_info < (3, 11):
            return frame.f_lasti < 0
        offset = self.first_resume.get(code)
        if offset is None:
            import dis

            offset = next((i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), 0)
            self.first_resume[code] = offset
        return frame.f_lasti <= offset

    # ------------------------------------------------------------------ timing in the tests
    def step_began(self, frame):
        self.running[id(frame)] = (time.perf_counter(), time.thread_time())

    def step_ended(self, target, frame):
        """One run of the target's frame (a whole call, or one step of a coroutine between awaits)."""
        began = self.running.pop(id(frame), None)
        if began is None:
            return
        seconds = time.perf_counter() - began[0]
        cpu = time.thread_time() - began[1]
        with self.lock:
            if os.getpid() != self.pid:
                self.reset()
            stats = self.stats.setdefault(target["key"], self.new_stats())
            stats["steps"] += 1
            stats["step_total"] += seconds
            if seconds > stats["step_max"]:
                stats["step_max"] = seconds
            stats["step_cpu_total"] += cpu
            if cpu > stats["step_cpu_max"]:
                stats["step_cpu_max"] = cpu
            self.maybe_write_stats()

    @staticmethod
    def new_stats():
        return {"calls": 0, "kept": 0, "pickled": 0, "unpicklable": {}, "too_large": 0, "largest_size": 0,
                "steps": 0, "step_total": 0.0, "step_max": 0.0, "step_cpu_max": 0.0,
                "step_cpu_total": 0.0, "largest_attempt": 0}

    # ------------------------------------------------------------------ recording
    def record(self, target, frame):
        code = frame.f_code
        local = frame.f_locals
        count = code.co_argcount + code.co_kwonlyargcount
        names = code.co_varnames
        args = [local[name] for name in names[:code.co_argcount]]
        kwargs = {name: local[name] for name in names[code.co_argcount:count]}
        index = count
        if code.co_flags & 0x04:  # *args
            args.extend(local[names[index]])
            index += 1
        if code.co_flags & 0x08:  # **kwargs
            kwargs.update(local[names[index]])
        payload = {"args": args, "kwargs": kwargs}
        if target.get("is_method") and args:
            payload["self"] = args[0]
            payload["args"] = args[1:]
        size = sum(cheap_size(v) for v in payload["args"]) + sum(cheap_size(v) for v in kwargs.values())
        if size <= 1 and "self" in payload:
            size = cheap_size(payload["self"])
        key = target["key"]
        with self.lock:
            if os.getpid() != self.pid:
                self.reset()
            stats = self.stats.setdefault(key, self.new_stats())
            stats["calls"] += 1
            stats["largest_size"] = max(stats["largest_size"], size)
            kept = self.kept.setdefault(key, [])
            if len(kept) >= self.calls_kept and size <= min(k[0] for k in kept):
                self.maybe_write_stats()
                return
            if stats["pickled"] >= PICKLE_ATTEMPTS and size < 2 * stats["largest_attempt"]:
                # Many calls already pickled (or found unpicklable): only a clearly larger call is worth a try.
                self.maybe_write_stats()
                return
            stats["pickled"] += 1
            stats["largest_attempt"] = max(stats["largest_attempt"], size)
        try:
            blob = pickle.dumps(self.freeze(payload), protocol=4)
        except Exception as exc:  # noqa: BLE001 - what does not pickle is reported, not raised
            what = "the instance" if "self" in payload and not self.pickles(payload["self"]) else "the arguments"
            message = "%s: %s: %s" % (what, type(exc).__name__, str(exc)[:200])
            with self.lock:
                stats["unpicklable"][message] = stats["unpicklable"].get(message, 0) + 1
                self.write_stats()
            return
        if len(blob) > self.max_bytes:
            with self.lock:
                stats["too_large"] += 1
                self.write_stats()
            return
        digest = hashlib.sha1(blob).hexdigest()[:16]
        with self.lock:
            if any(k[1] == digest for k in kept):
                return
            folder = os.path.join(self.out_dir, "t%d" % target["index"])
            self.serial += 1
            path = os.path.join(folder, "%d-%d-%s.pkl" % (self.pid, self.serial, digest))
            meta = json.dumps({"size": size, "bytes": len(blob), "method": "self" in payload}).encode()
            self.io(write_file, path, len(meta).to_bytes(4, "big") + meta + blob)
            kept.append((size, digest, path))
            kept.sort(key=lambda k: -k[0])
            while len(kept) > self.calls_kept:
                _, _, dropped = kept.pop()
                self.io(remove_file, dropped)
            stats["kept"] = len(kept)
            self.write_stats()

    @staticmethod
    def freeze(payload):
        return {"args": tuple(payload["args"]), "kwargs": dict(payload["kwargs"]),
                **({"self": payload["self"]} if "self" in payload else {})}

    @staticmethod
    def pickles(value):
        try:
            pickle.dumps(value, protocol=4)
        except Exception:  # noqa: BLE001
            return False
        return True

    def maybe_write_stats(self):
        now = time.monotonic()
        if now - self.last_stats > 0.5:
            self.write_stats()

    def write_stats(self):
        self.last_stats = time.monotonic()
        path = os.path.join(self.out_dir, "stats-%d.json" % os.getpid())
        self.io(write_stats_file, path, json.dumps(self.stats), list(sys.path))

    def io(self, function, *args):
        """File I/O now, or on a writer thread when this thread runs an event loop.

        Test suites may forbid blocking calls inside the event loop (blockbuster, asyncio debug
        checks); the recorder's own writes must not trip them.  A writer thread is not waited
        for by ``os._exit`` (pool workers), so outside a loop the write happens at once.
        """
        asyncio = sys.modules.get("asyncio")
        if asyncio is not None and asyncio._get_running_loop() is not None:
            if self.writer is None:
                import queue

                self.queue = queue.Queue()
                self.writer = threading.Thread(target=self.write_queued, name="gillint-recorder-writer",
                                               daemon=True)
                self.writer.start()
            self.queue.put((function, args))
            return
        function(*args)

    def write_queued(self):
        while True:
            function, args = self.queue.get()
            try:
                function(*args)
            except Exception as exc:  # noqa: BLE001
                self.fail(exc)
            finally:
                self.queue.task_done()

    def drain(self):
        if self.writer is not None and os.getpid() == self.pid:
            self.queue.join()

    def fail(self, exc):
        """The recorder's own error: stop recording here, say why, let the tests go on."""
        if self.failed:
            return
        self.failed = True
        stop()
        import traceback

        text = "%s: %s\n%s" % (type(exc).__name__, exc,
                               "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        try:
            write_file(os.path.join(self.out_dir, "recorder-error-%d.txt" % os.getpid()), text.encode("utf-8"))
        except Exception:  # noqa: BLE001 - even this may be refused inside a loop: try from a thread
            try:
                thread = threading.Thread(target=write_file, args=(os.path.join(
                    self.out_dir, "recorder-error-%d.txt" % os.getpid()), text.encode("utf-8")), daemon=True)
                thread.start()
                thread.join(5)
            except Exception:  # noqa: BLE001
                pass


_recorder = None
_monitoring_tool = None


def _target_for(recorder, code, depth=2):
    """(target, frame) when ``code`` is a target's, else None (and the caller disables the event)."""
    frame = sys._getframe(depth)
    target = recorder.match(code, frame)
    return None if target is None else (target, frame)


def _on_start_monitoring(code, offset):  # 3.12+: sys.monitoring PY_START
    recorder = _recorder
    if recorder is None or code.co_name not in recorder.names:
        return sys.monitoring.DISABLE
    try:
        found = _target_for(recorder, code)
        if found is None:
            return sys.monitoring.DISABLE
        recorder.record(found[0], found[1])
        recorder.step_began(found[1])
    except Exception as exc:  # noqa: BLE001
        recorder.fail(exc)
    return None


def _on_resume_monitoring(code, offset):  # 3.12+: PY_RESUME, a coroutine or generator going on
    recorder = _recorder
    if recorder is None or code.co_name not in recorder.names:
        return sys.monitoring.DISABLE
    try:
        found = _target_for(recorder, code)
        if found is None:
            return sys.monitoring.DISABLE
        recorder.step_began(found[1])
    except Exception as exc:  # noqa: BLE001
        recorder.fail(exc)
    return None


def _on_stop_monitoring(code, offset, value):  # 3.12+: PY_RETURN / PY_YIELD
    recorder = _recorder
    if recorder is None or code.co_name not in recorder.names:
        return sys.monitoring.DISABLE
    try:
        found = _target_for(recorder, code)
        if found is None:
            return sys.monitoring.DISABLE
        recorder.step_ended(found[0], found[1])
    except Exception as exc:  # noqa: BLE001
        recorder.fail(exc)
    return None


def _on_call_profile(frame, event, arg):  # before 3.12: sys.setprofile
    if event != "call" and event != "return":
        return
    recorder = _recorder
    code = frame.f_code
    if recorder is None or code.co_name not in recorder.names:
        return
    try:
        target = recorder.match(code, frame)
        if target is None:
            return
        if event == "return":
            recorder.step_ended(target, frame)
            return
        if recorder.is_first_start(code, frame):
            recorder.record(target, frame)
        recorder.step_began(frame)
    except Exception as exc:  # noqa: BLE001
        recorder.fail(exc)


def stop():
    global _recorder
    _recorder = None
    if _monitoring_tool is not None:
        try:
            sys.monitoring.set_events(_monitoring_tool, 0)
            sys.monitoring.free_tool_id(_monitoring_tool)
        except Exception:  # noqa: BLE001
            pass
    else:
        sys.setprofile(None)
        threading.setprofile(None)


def start(environ=None):
    """Start recording as the environment says; returns the recorder (None when not configured)."""
    global _recorder, _monitoring_tool
    environ = os.environ if environ is None else environ
    spec = environ.get("GILLINT_RECORD_TARGETS")
    out_dir = environ.get("GILLINT_RECORD_DIR")
    if not spec or not out_dir:
        return None
    targets = json.loads(spec)
    for index, target in enumerate(targets):
        target.setdefault("index", index)
        target.setdefault("key", "%s:%s" % (target["module"], target["qualname"]))
        target["paths"] = {target["path"], os.path.realpath(target["path"])} if target.get("path") else set()
    recorder = Recorder(targets, out_dir, int(environ.get("GILLINT_RECORD_CALLS", "3")),
                        int(environ.get("GILLINT_RECORD_BYTES", str(8 << 20))))
    _recorder = recorder
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=recorder.reset)
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None and environ.get("GILLINT_RECORD_HOOK") != "profile":
        for tool in (monitoring.PROFILER_ID, 4, 5, 3, 2, 1):
            try:
                monitoring.use_tool_id(tool, _TOOL_NAME)
            except ValueError:
                continue
            _monitoring_tool = tool
            events = monitoring.events
            monitoring.register_callback(tool, events.PY_START, _on_start_monitoring)
            monitoring.register_callback(tool, events.PY_RESUME, _on_resume_monitoring)
            monitoring.register_callback(tool, events.PY_RETURN, _on_stop_monitoring)
            monitoring.register_callback(tool, events.PY_YIELD, _on_stop_monitoring)
            monitoring.set_events(tool, events.PY_START | events.PY_RESUME | events.PY_RETURN | events.PY_YIELD)
            break
    if _monitoring_tool is None:
        threading.setprofile(_on_call_profile)
        sys.setprofile(_on_call_profile)
    import atexit

    def at_exit():
        recorder.drain()
        if os.getpid() == recorder.pid or recorder.stats:
            recorder.write_stats()
        recorder.drain()

    atexit.register(at_exit)
    return recorder


def _chain_shadowed_sitecustomize():
    """Run the ``sitecustomize`` this file hides (Debian's, a virtualenv's...), as Python would have."""
    here = os.path.dirname(os.path.abspath(__file__))
    import importlib.machinery
    import importlib.util

    search = [p for p in sys.path if p and os.path.abspath(p) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", search)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


if __name__ == "sitecustomize":
    try:
        start()
    except Exception as _exc:  # noqa: BLE001 - never break the user's tests
        try:
            with open(os.path.join(os.environ.get("GILLINT_RECORD_DIR", "."), "recorder-error-%d.txt" % os.getpid()),
                      "w", encoding="utf-8") as _handle:
                _handle.write("%s: %s\n" % (type(_exc).__name__, _exc))
        except Exception:  # noqa: BLE001
            pass
    try:
        _chain_shadowed_sitecustomize()
    except Exception:  # noqa: BLE001
        pass
