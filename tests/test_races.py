"""The race rules' facts (summaries), their linking (shared places, locks, evidence) and their switches."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from gillint.analysis.summary import summarise
from gillint.config import Config, ConfigError, from_table
from gillint.engine import Engine, lint_paths, lint_source, read_paths

ROOT = Path(__file__).resolve().parent.parent
RACES = Config(select=("GIL4",))


def facts(source: str):
    module = summarise(cst.parse_module(textwrap.dedent(source)), "m.py", "m", False)
    return {f.qualname: f for f in module.functions.values()}


def kinds(function) -> list:
    return sorted((a.kind, a.place, a.span[0]) for a in function.accesses)


def races(source: str, config: Config = RACES) -> list:
    return [(d.code, d.line) for d in lint_source(textwrap.dedent(source), config=config) if d.code.startswith("GIL4")]


# ----------------------------------------------------------------------------- facts

def test_touches_of_locals_are_dropped_and_globals_kept():
    found = facts("""
        cache = {}
        def f(xs, k):
            seen = {}
            seen[k] = 1
            xs.append(1)
            cache[k] = 2
            for x in cache.items():
                pass
    """)["f"]
    assert kinds(found) == [("iterate", "cache", 8), ("mutate", "cache", 7)]


def test_acquire_release_region_and_conditional_acquire():
    function = facts("""
        def f(self):
            self._lock.acquire()
            self.n += 1
            self._lock.release()
            self.m += 1
            if self._lock.acquire(False):
                self.k = 1
    """)["f"]
    regions = {(lock, span[0], span[2]) for lock, span in function.lock_regions}
    assert ("self._lock", 3, 5) in regions and ("self._lock", 8, 8) in regions


def test_unreleased_acquire_holds_to_the_end_of_its_block():
    function = facts("""
        def f(self):
            self._lock.acquire()
            try:
                self.n += 1
            finally:
                self._lock.release()
    """)["f"]
    assert [(lock, span[0], span[2]) for lock, span in function.lock_regions] == [("self._lock", 3, 7)]


def test_locking_decorator_holds_the_lock_for_the_whole_method():
    function = facts("""
        class C:
            @synchronized
            def f(self):
                self.n += 1
    """)["C.f"]
    assert function.lock_regions[0][0] == "@synchronized"


def test_async_with_is_not_a_thread_lock_and_with_call_is_no_region():
    functions = facts("""
        async def f(self):
            async with self._lock:
                self.n += 1
        def g(self):
            with open("x") as fh:
                self.n += 1
    """)
    assert functions["f"].lock_regions == [] and functions["g"].lock_regions == []


def test_shapes_of_read_modify_write():
    function = facts("""
        def f(self, d, k):
            global total
            total = total + 1
            self.count = self.count + 1
            self.value = self.value or 3
            self.hits[k] = self.hits.get(k, 0) + 1
            self.items = [1]
            self.a, self.b = 1, 2
            del self.hits[k]
            self.name: str = "x"
    """)["f"]
    assert kinds(function) == [
        ("mutate", "self.hits", 10), ("rmw", "self.count", 5), ("rmw", "self.hits", 7), ("rmw", "total", 4),
        ("write", "self.a", 9), ("write", "self.b", 9), ("write", "self.items", 8), ("write", "self.name", 11),
        ("write", "self.value", 6),
    ]


def test_check_then_act_through_a_local_and_through_while():
    function = facts("""
        def f(self, k):
            v = self.cache.get(k)
            if v is None:
                self.cache[k] = 1
            while self.queue:
                self.queue.pop()
    """)["f"]
    acts = sorted((a.place, a.check[0]) for a in function.accesses if a.kind == "check-act")
    assert acts == [("self.cache", 4), ("self.queue", 6)]


def test_walks_and_copies():
    function = facts("""
        def f(self):
            for x in enumerate(self.rows):
                pass
            for x in list(self.rows):
                pass
            [y for y in self.cols.values()]
            for z in self.rows.items(1):
                pass
    """)["f"]
    assert sorted((a.place, a.span[0]) for a in function.accesses if a.kind == "iterate") == [
        ("self.cols", 7), ("self.rows", 3)]


def test_nonlocal_and_lambda_frames():
    functions = facts("""
        def outer():
            n = 0
            def inner():
                nonlocal n
                n += 1
            return lambda: n
    """)
    assert functions["outer.inner"].global_names == ("n",)
    assert kinds(functions["outer.inner"]) == [("rmw", "n", 6)]


# ----------------------------------------------------------------------------- linking

def test_a_lock_made_in_the_call_protects_nothing():
    assert races("""
        import threading
        class C:
            def __init__(self):
                self._lock = threading.Lock()
                self.n = 0
            def a(self):
                with self._lock:
                    self.n += 1
            def b(self):
                lock = threading.Lock()
                with lock:
                    self.n += 1
    """) == [("GIL401", 13)]


def test_a_project_context_manager_is_not_a_lock():
    assert races("""
        import threading
        class Span:
            def __enter__(self):
                return self
            def __exit__(self, *a):
                pass
        class C:
            def __init__(self):
                self.span = Span()
                self._lock = threading.RLock()
                self.n = 0
            def a(self):
                with self.span:
                    self.n += 1
            def b(self):
                with self._lock:
                    self.n = 5
    """) == [("GIL401", 15)]


def test_class_attributes_through_cls_and_thread_local_classes():
    assert races("""
        import threading
        _lock = threading.Lock()
        class Registry:
            count = 0
            @classmethod
            def add(cls):
                with _lock:
                    cls.count += 1
            @classmethod
            def drop(cls):
                cls.count -= 1
        class PerThread(threading.local):
            def __init__(self):
                self._lock = threading.Lock()
                self.n = 0
            def a(self):
                with self._lock:
                    self.n += 1
            def b(self):
                self.n += 1
    """) == [("GIL401", 12)]


def test_helpers_called_only_from_constructors_run_before_sharing():
    assert races("""
        import threading
        class C:
            def __init__(self):
                self._lock = threading.Lock()
                self.n = 0
                self._setup()
            def _setup(self):
                self.n += 1
            def a(self):
                with self._lock:
                    self.n += 1
    """) == []


def test_helper_with_an_unlocked_caller_is_not_covered():
    assert races("""
        import threading
        class C:
            def __init__(self):
                self._lock = threading.Lock()
                self.n = 0
            def a(self):
                with self._lock:
                    self._bump()
            def b(self):
                self._bump()
            def c(self):
                with self._lock:
                    self.n = 0
            def _bump(self):
                self.n += 1
    """) == [("GIL401", 16)]


def test_queue_and_event_are_safe_places():
    assert races("""
        import queue
        import threading
        jobs = queue.Queue()
        done = threading.Event()
        def put(job):
            if not done.is_set():
                jobs.put(job)
    """) == []


def test_executor_tasks_share_globals_and_pools_of_bound_methods_share_fields():
    assert races("""
        from concurrent.futures import ThreadPoolExecutor
        seen = []
        class Crawler:
            def __init__(self):
                self.pages = {}
            def visit(self, url):
                if url not in self.pages:
                    self.pages[url] = 1
                if url not in seen:
                    seen.append(url)
            def crawl(self, urls):
                with ThreadPoolExecutor() as pool:
                    pool.map(self.visit, urls)
    """) == [("GIL402", 9), ("GIL402", 11)]


def test_thread_started_once_shares_nothing():
    assert races("""
        import threading
        total = 0
        def work():
            global total
            total += 1
        threading.Thread(target=work).start()
    """) == []


def test_loop_variable_receivers_are_one_object_per_thread():
    assert races("""
        import threading
        class Job:
            def __init__(self):
                self.n = 0
            def run(self):
                self.n += 1
        def main(jobs):
            for job in jobs:
                threading.Thread(target=job.run).start()
        def main_shared(jobs):
            job = Job()
            for _ in jobs:
                threading.Thread(target=job.run).start()
    """) == [("GIL401", 7)]


def test_partial_targets_are_followed():
    assert races("""
        import functools
        import threading
        hits = {}
        def count(key, _):
            hits[key] = hits.get(key, 0) + 1
        for i in range(3):
            threading.Thread(target=functools.partial(count, "a"), args=(i,)).start()
    """) == [("GIL401", 6)]


def test_private_module_functions_are_no_public_surface():
    assert races("""
        import threading
        _cache = {}
        def _build(key):
            if key not in _cache:
                _cache[key] = key
    """) == []


# ----------------------------------------------------------------------------- switches and configuration

RMW_IN_LOOP = """\
import threading
hits = 0
def bump():
    global hits
    hits += 1
for _ in range(4):
    threading.Thread(target=bump).start()
"""


def test_on_for_free_threaded_targets_off_otherwise():
    on = lint_source(RMW_IN_LOOP, config=Config(target_version="3.14t"))
    off = lint_source(RMW_IN_LOOP, config=Config(target_version="3.13"))
    assert [d.code for d in on if d.code.startswith("GIL4")] == ["GIL401"]
    assert not [d for d in off if d.code.startswith("GIL4")]
    message = on[-1].message
    assert "`bump` (line 7) runs on several threads at once (started in a loop (line 6))" in message
    assert on[-1].remedy.value == "lock"


def test_thread_shared_must_be_a_list_of_names():
    config = from_table({"thread-shared": ["pkg.mod.Client"]}, "pyproject.toml [tool.gillint]", ["GIL401"])
    assert config.thread_shared == ("pkg.mod.Client",)
    with pytest.raises(ConfigError, match="thread-shared must be a list of strings"):
        from_table({"thread-shared": "pkg.mod.Client"}, "pyproject.toml [tool.gillint]", ["GIL401"])


def test_thread_shared_names_that_are_not_found_are_ignored(tmp_path):
    module = tmp_path / "lib.py"
    module.write_text("class C:\n    def f(self):\n        self.n += 1\n", encoding="utf-8")
    config = Config(select=("GIL4",), thread_shared=("nowhere.C", "lib", "lib.C.missing"), root=tmp_path)
    assert lint_paths([module], config).diagnostics == []


def test_triage_summarises_modules_that_make_locks_only_with_race_rules_on(tmp_path):
    module = tmp_path / "locked.py"
    module.write_text(textwrap.dedent("""
        from threading import Lock
        class C:
            def __init__(self):
                self._lock = Lock()
                self.n = 0
            def a(self):
                with self._lock:
                    self.n += 1
            def b(self):
                self.n += 1
    """), encoding="utf-8")
    with_races = Engine(Config(select=("GIL4",)))
    without = Engine(Config())
    assert [d.code for d in with_races.run(read_paths([module], with_races.config)).diagnostics] == ["GIL401"]
    without.run(read_paths([module], without.config))
    assert without.summaries == {} and with_races.record_salt != without.record_salt


def test_rules_listing_says_when_race_rules_are_on(capsys):
    from gillint.cli import main

    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "GIL401" in out and "(on for free-threaded targets)" in out


# ----------------------------------------------------------------------------- the race-pair benchmark

sys.path.insert(0, str(ROOT / "bench" / "races"))
import races as race_bench  # noqa: E402


def test_race_pairs_file_loads_and_names_a_rule_for_each_pair():
    pairs = race_bench.load_pairs()
    assert pairs and all(p.expect in race_bench.CODES and p.line <= p.end_line for p in pairs)


@pytest.mark.parametrize("extra, message", [({"colour": "red"}, "unknown keys colour"),
                                            ({"expect": "GIL101"}, "expect must be one of")])
def test_race_pairs_file_errors(tmp_path, extra, message):
    entry = {"package": "p", "before": "1", "after": "2", "path": "a.py", "line": 3, "after_line": 4,
             "expect": "GIL401", "fix": "o/r#1", "why": "w"}
    entry.update(extra)
    lines = ["[[pair]]"] + ["%s = %r" % (k, v) if not isinstance(v, str) else '%s = "%s"' % (k, v)
                            for k, v in entry.items()]
    path = tmp_path / "pairs.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(race_bench.PairError, match=message):
        race_bench.load_pairs(path)


def test_race_pair_scoring_counts_hits_before_and_after(monkeypatch, tmp_path):
    pair = race_bench.Pair("p", "1", "2", "sdist", "", "p-1/m.py", 10, 12, "p-2/m.py", 20, 20, "GIL402", "o/r#1", "w")
    tops = {"1": tmp_path / "one", "2": tmp_path / "two"}
    monkeypatch.setattr(race_bench.realworld_fetch, "ensure", lambda package, work: tops[package.version])
    findings = {tops["1"]: [{"path": str(tops["1"] / "p-1/m.py"), "line": 11, "code": "GIL402"}],
                tops["2"]: [{"path": str(tops["2"] / "p-2/m.py"), "line": 40, "code": "GIL401"}]}
    monkeypatch.setattr(race_bench, "run_gillint", lambda root, python=None: findings[root])
    result = race_bench.score([pair], tmp_path)
    assert (result["found"], result["fixed_still_reported"], result["recall"], result["precision"]) == (1, 0, 1.0, 1.0)
    assert result["rows"][0]["before_hits"] == ["p-1/m.py:11 GIL402"]
