"""Each fix's safety conditions, one small program at a time: safe, unsafe with the reason, or no fix."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from gillint.config import Config, ConfigError, from_table
from gillint.diagnostics import Fix
from gillint.engine import lint_paths
from gillint.fixes.apply import apply_edits, fix_paths, overlaps, write_fixed
from gillint.diagnostics import Edit

CODES = ["GIL000", "GIL101", "GIL102", "GIL103", "GIL201", "GIL202", "GIL203", "GIL301", "GIL302"]

Found = Tuple[str, str, str, Optional[str]]  # code, applicability, reason, fixed text


def fixes(tmp_path: Path, source: str, name: str = "app.py", config: Optional[Config] = None,
          others: Optional[dict] = None) -> List[Found]:
    for other, text in (others or {}).items():
        (tmp_path / other).write_text(textwrap.dedent(text), encoding="utf-8")
    path = tmp_path / name
    text = textwrap.dedent(source)
    path.write_text(text, encoding="utf-8")
    result = lint_paths([path], config or Config(root=tmp_path), fixes=True)
    found = []
    for d in result.diagnostics:
        if d.fix is None:
            continue
        fixed = apply_edits(text, d.fix.edits) if d.fix.edits else None
        found.append((d.code, d.fix.applicability, d.fix.reason, fixed))
    return found


def one(tmp_path: Path, source: str, code: str, **kwargs) -> Tuple[str, str, Optional[str]]:
    found = [f for f in fixes(tmp_path, source, **kwargs) if f[0] == code]
    assert len(found) == 1, found
    return found[0][1], found[0][2], found[0][3]


CPU = """
def score(text):
    total = 0
    for ch in text:
        total = (total * 31 + ord(ch)) % 65521
    return total
"""


def pool_program(body: str, head: str = "from concurrent.futures import ThreadPoolExecutor\n", tail: str = "") -> str:
    return head + CPU + "\n\n" + textwrap.dedent(body) + tail


# ------------------------------------------------------------------------------------ GIL102 / GIL201

def test_thread_pool_with_literal_data_is_a_safe_fix(tmp_path: Path) -> None:
    how, reason, fixed = one(tmp_path, pool_program("""
        def run():
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(score, ["a" * 100, "b" * 100]))
        """), "GIL102")
    assert how == "safe" and reason == ""
    assert "from concurrent.futures import ProcessPoolExecutor" in fixed and "ThreadPoolExecutor" not in fixed
    assert "with ProcessPoolExecutor(4) as pool:" in fixed


def test_arguments_followed_to_the_callers(tmp_path: Path) -> None:
    """`docs` is a parameter: every caller passes plain data (a project function's list comprehension)."""
    how, _, _ = one(tmp_path, pool_program("""
        def make(n):
            return ["doc %d" % i for i in range(n)]


        def run(docs):
            with ThreadPoolExecutor() as pool:
                futures = [pool.submit(score, doc) for doc in docs]
                return [f.result() for f in futures]


        def main():
            run(make(10))
            run(sorted(["x", "y"]))
        """), "GIL102")
    assert how == "safe"


@pytest.mark.parametrize("body, reason", [
    ("""
     def run(docs):
         with ThreadPoolExecutor() as pool:
             return list(pool.map(score, docs))
     """, "`docs` is a parameter of `run` with no call that gillint can see"),
    ("""
     def run(obj):
         with ThreadPoolExecutor() as pool:
             return pool.submit(score, obj.text).result()


     def main():
         run(object())
     """, "cannot show that `obj.text` holds plain data"),
    ("""
     SEEN = []


     def log_and_score(text):
         SEEN.append(text)
         return score(text)


     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(log_and_score, "abc").result()
     """, "`log_and_score`: it changes (`.append`) `SEEN`, state shared with the caller"),
    ("""
     def noisy(text):
         print(text)
         return score(text)


     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(noisy, "abc").result()
     """, "it calls `print`"),
    ("""
     COUNT = 0


     def counted(text):
         global COUNT
         COUNT += 1
         return score(text)


     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(counted, "abc").result()
     """, "declares `global COUNT`"),
    ("""
     def fill(out, text):
         out.append(score(text))


     def run():
         results = []
         with ThreadPoolExecutor() as pool:
             pool.submit(fill, results, "abc").result()
         return results
     """, "changes (`.append`) its argument `out`"),
    ("""
     def helper(out, text):
         out[text] = score(text)


     def task(table, text):
         helper(table, text)


     def run():
         with ThreadPoolExecutor() as pool:
             pool.submit(task, {}, "abc").result()
     """, "`helper` changes its argument `out`, passed by `task`"),
    ("""
     class Scorer:
         def score(self, text):
             return score(text)


     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(Scorer().score, "abc").result()
     """, "the task is the method `Scorer.score`"),
    ("""
     with ThreadPoolExecutor() as pool:
         print(pool.submit(score, "abc").result())
     """, "the work is started at module level"),
    ("""
     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(score, "abc").result()


     run()
     """, "module-level code calls `run` when the module is imported"),
    ("""
     def more(pool):
         return pool


     def run():
         with ThreadPoolExecutor() as pool:
             more(pool)
             return pool.submit(score, "abc").result()
     """, "the pool `pool` is also used at line"),
    ("""
     def setup():
         pass


     def run():
         with ThreadPoolExecutor(2, initializer=setup) as pool:
             return pool.submit(score, "abc").result()
     """, "the pool has an initializer"),
])
def test_unsafe_thread_pool_fixes_say_why(tmp_path: Path, body: str, reason: str) -> None:
    how, why, fixed = one(tmp_path, pool_program(body), "GIL102")
    assert how == "unsafe" and reason in why, why
    assert fixed is not None and "ProcessPoolExecutor" in fixed


def test_a_task_that_changes_only_its_own_objects_is_safe(tmp_path: Path) -> None:
    how, why, _ = one(tmp_path, pool_program("""
        def bump(counts, key):
            counts[key] = counts.get(key, 0) + 1


        def histogram(text):
            counts = {}
            weight = 0
            for ch in text:
                bump(counts, ch)
                weight = (weight * 31 + ord(ch)) % 65521
            return weight, sorted(counts.items())


        def run():
            with ThreadPoolExecutor() as pool:
                return pool.submit(histogram, "abracadabra" * 1000).result()
        """), "GIL102")
    assert how == "safe", why


@pytest.mark.parametrize("body, reason", [
    ("""
     def run(docs):
         with ThreadPoolExecutor() as pool:
             return list(pool.map(lambda d: score(d), docs))
     """, "lambda"),
    ("""
     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(score, (c for c in "abc")).result()
     """, "a generator cannot be pickled"),
    ("""
     def run(pool):
         return pool.submit(score, "abc").result()


     def main():
         run(ThreadPoolExecutor())
     """, "is not created once in the function"),
    ("""
     def run():
         with ThreadPoolExecutor(2, "prefix") as pool:
             return pool.submit(score, "abc").result()
     """, "more than its size by position"),
    ("""
     def make_scorer(text):
         total = score(text)
         def scorer(other):
             return total + score(other)
         return scorer


     def run():
         with ThreadPoolExecutor() as pool:
             return pool.submit(make_scorer, "abc" * 1000).result()
     """, "returns a local function"),
])
def test_no_thread_pool_fix_when_it_would_break(tmp_path: Path, body: str, reason: str) -> None:
    how, why, fixed = one(tmp_path, pool_program(body), "GIL102")
    assert how == "none" and reason in why and fixed is None, why


def test_dotted_and_aliased_thread_pools(tmp_path: Path) -> None:
    how, _, fixed = one(tmp_path, pool_program("""
        def run():
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                return pool.submit(score, "abc").result()
        """, head="import concurrent.futures\n"), "GIL102")
    assert how == "safe" and "concurrent.futures.ProcessPoolExecutor(max_workers=2)" in fixed
    how, _, fixed = one(tmp_path, pool_program("""
        def run():
            return TPE().submit(score, "abc").result()
        """, head="# the pool\nfrom concurrent.futures import ThreadPoolExecutor as TPE\n"), "GIL102")
    assert how == "safe" and "ProcessPoolExecutor().submit" in fixed and "TPE" not in fixed
    assert fixed.startswith("# the pool\n")  # the comment above a removed import stays


def test_multiprocessing_thread_pools_become_multiprocessing_pool(tmp_path: Path) -> None:
    how, _, fixed = one(tmp_path, pool_program("""
        def run():
            with ThreadPool(2) as pool:
                return pool.map(score, ["abc", "def"])
        """, head="from multiprocessing.pool import ThreadPool\n"), "GIL201")
    assert how == "safe" and "with multiprocessing.Pool(2) as pool:" in fixed and "ThreadPool" not in fixed
    how, _, fixed = one(tmp_path, pool_program("""
        def run():
            pool = mpd.Pool(2)
            result = pool.apply(score, ("abc",))
            pool.close()
            return result
        """, head="import multiprocessing.dummy as mpd\n"), "GIL201")
    assert how == "safe" and "pool = multiprocessing.Pool(2)" in fixed


# ------------------------------------------------------------------------------------ GIL302

ASYNC_HEAD = "import asyncio\n" + CPU + "\n\n"


def test_to_thread_with_keywords_binds_them_with_partial(tmp_path: Path) -> None:
    how, _, fixed = one(tmp_path, ASYNC_HEAD + textwrap.dedent("""
        def weighted(text, weight=1):
            return score(text) * weight


        async def main():
            return await asyncio.to_thread(weighted, "abc" * 1000, weight=3)
        """), "GIL302")
    assert how == "safe"
    assert "run_in_executor(_process_pool(), functools.partial(weighted, weight=3), \"abc\" * 1000)" in fixed
    assert "import functools" in fixed and "def _process_pool():" in fixed


def test_to_thread_imported_by_name_and_not_awaited(tmp_path: Path) -> None:
    how, why, fixed = one(tmp_path, "import asyncio\nfrom asyncio import to_thread\n" + CPU + textwrap.dedent("""


        async def main():
            task = asyncio.ensure_future(to_thread(score, "abc" * 1000))
            return await task
        """), "GIL302")
    assert how == "unsafe" and "not awaited where it is made" in why
    assert "from asyncio import to_thread" not in fixed


def test_the_configured_process_pool_is_used(tmp_path: Path) -> None:
    config = from_table({"fix": {"process-pool": "app_pools:POOL"}}, "pyproject.toml", CODES, root=tmp_path)
    how, _, fixed = one(tmp_path, ASYNC_HEAD + textwrap.dedent("""
        async def main(loop):
            return await loop.run_in_executor(None, score, "abc" * 1000)
        """), "GIL302", config=config)
    assert how == "safe"
    assert "from app_pools import POOL" in fixed and "loop.run_in_executor(POOL, score" in fixed
    assert "_process_pool" not in fixed


@pytest.mark.parametrize("table, message", [
    ({"fix": {"process-pool": "no colon"}}, "fix.process-pool must look like"),
    ({"fix": {"pool": "a:b"}}, "unknown key 'pool' in fix"),
    ({"fix": "a:b"}, "fix must be a table"),
])
def test_fix_table_is_validated(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_table(table, "pyproject.toml", CODES)


def test_no_offload_fix_for_a_named_executor_or_a_taken_name(tmp_path: Path) -> None:
    how, why, _ = one(tmp_path, ASYNC_HEAD + "from concurrent.futures import ThreadPoolExecutor\n" + textwrap.dedent("""
        POOL = ThreadPoolExecutor()


        async def main(loop):
            return await loop.run_in_executor(POOL, score, "abc" * 1000)
        """), "GIL302")
    assert how == "none" and "names its executor" in why
    how, why, _ = one(tmp_path, ASYNC_HEAD + textwrap.dedent("""
        _PROCESS_POOL = 3


        async def main():
            return await asyncio.to_thread(score, "abc" * 1000)
        """), "GIL302")
    assert how == "none" and "already binds" in why


# ------------------------------------------------------------------------------------ GIL301

HEAVY = """
def rank(rows):
    scored = []
    for row in rows:
        distance = 0
        for other in rows:
            distance += abs(row - other)
        scored.append((distance, row))
    return sorted(scored)
"""


def test_inline_call_in_a_coroutine_is_awaited_in_a_process_pool(tmp_path: Path) -> None:
    how, why, fixed = one(tmp_path, "import asyncio\n" + HEAVY + textwrap.dedent("""

        async def handle():
            return rank(list(range(100)))
        """), "GIL301")
    assert how == "safe", why
    assert "return await asyncio.get_running_loop().run_in_executor(_process_pool(), rank, list(range(100)))" in fixed


@pytest.mark.parametrize("body, reason", [
    ("""
     async def handle(rows):
         best = rank(rows)[0]
         return best
     """, "part of a larger expression"),
    ("""
     async def handle(rows):
         total = 0
         for row in rows:
             for other in rows:
                 total += abs(row - other)
         return total
     """, "a loop written in the coroutine itself"),
])
def test_no_coroutine_fix(tmp_path: Path, body: str, reason: str) -> None:
    how, why, _ = one(tmp_path, "import asyncio\n" + HEAVY + textwrap.dedent(body), "GIL301")
    assert how == "none" and reason in why, why


def test_a_method_call_in_a_coroutine_is_unsafe(tmp_path: Path) -> None:
    how, why, fixed = one(tmp_path, "import asyncio\n" + textwrap.dedent("""
        class Ranker:
            def rank(self, rows):
                scored = []
                for row in rows:
                    distance = 0
                    for other in rows:
                        distance += abs(row - other)
                    scored.append((distance, row))
                return sorted(scored)

            async def handle(self, rows):
                ranked = self.rank(rows=list(rows))
                return ranked
        """), "GIL301")
    assert how == "unsafe" and "method `Ranker.rank`" in why
    assert "functools.partial(self.rank, rows=list(rows))" in fixed


# ------------------------------------------------------------------------------------ GIL203

PROCESS_HEAD = "from concurrent.futures import ProcessPoolExecutor\n" + CPU + "\n\n"


def test_a_nested_function_without_free_names_moves_to_module_level(tmp_path: Path) -> None:
    how, _, fixed = one(tmp_path, PROCESS_HEAD + textwrap.dedent("""
        def run(rows):
            # doubles each score
            def double(text):
                return 2 * score(text)

            with ProcessPoolExecutor() as pool:
                return list(pool.map(double, rows))
        """), "GIL203")
    assert how == "safe"
    assert "\n\n\n# doubles each score\ndef double(text):\n    return 2 * score(text)\n\n\ndef run(rows):\n" in fixed
    assert "pool.map(double, rows)" in fixed


def test_a_module_level_lambda_becomes_a_function(tmp_path: Path) -> None:
    how, _, fixed = one(tmp_path, PROCESS_HEAD + textwrap.dedent("""
        if __name__ == "__main__":
            with ProcessPoolExecutor() as pool:
                print(list(pool.map(lambda text: score(text), ["a"])))
        """), "GIL203")
    assert how == "safe" and "def _task(text):\n    return score(text)" in fixed and "pool.map(_task, " in fixed


@pytest.mark.parametrize("body, reason", [
    ("""
     def run(rows):
         weight = 2
         weight = 3
         with ProcessPoolExecutor() as pool:
             return list(pool.map(lambda r: score(r) * weight, rows))
     """, "bound more than once"),
    ("""
     def run(rows):
         with ProcessPoolExecutor() as pool:
             for weight in (1, 2):
                 pool.submit(lambda: score("a") * weight)
     """, "is a loop variable"),
    ("""
     def run(rows):
         def helper(r):
             return score(r)
         with ProcessPoolExecutor() as pool:
             return list(pool.map(lambda r: helper(r), rows))
     """, "a local function"),
    ("""
     def run(rows, weight):
         def weighted(r):
             return score(r) * weight
         weighted("check")
         with ProcessPoolExecutor() as pool:
             return list(pool.map(weighted, rows))
     """, "is also used at line"),
    ("""
     def run(rows, weight):
         def weighted(r, **options):
             return score(r) * weight
         with ProcessPoolExecutor() as pool:
             return list(pool.map(weighted, rows))
     """, "takes `**kwargs`"),
    ("""
     def weighted(r):
         return r


     def run(rows):
         def weighted(r):
             return score(r)
         with ProcessPoolExecutor() as pool:
             return list(pool.map(weighted, rows))
     """, "already has a `weighted`"),
    ("""
     import functools


     def run(rows):
         @functools.lru_cache()
         def cached(r):
             return score(r)
         with ProcessPoolExecutor() as pool:
             return list(pool.map(cached, rows))
     """, "decorated"),
])
def test_no_module_level_function_fix(tmp_path: Path, body: str, reason: str) -> None:
    how, why, _ = one(tmp_path, PROCESS_HEAD + textwrap.dedent(body), "GIL203")
    assert how == "none" and reason in why, why


def test_a_free_name_of_unknown_value_makes_the_lambda_fix_unsafe(tmp_path: Path) -> None:
    how, why, fixed = one(tmp_path, PROCESS_HEAD + textwrap.dedent("""
        def run(rows, weight):
            with ProcessPoolExecutor() as pool:
                return list(pool.map(lambda r: score(r) * weight, rows))
        """), "GIL203")
    assert how == "unsafe" and "pickles `weight` too" in why
    assert "def _run_task(r, *, weight):" in fixed and "functools.partial(_run_task, weight=weight)" in fixed


# ------------------------------------------------------------------------------------ GIL103

def test_event_poll_becomes_wait(tmp_path: Path) -> None:
    how, _, fixed = one(tmp_path, textwrap.dedent("""
        import threading
        import time

        stop = threading.Event()


        def wait():
            while not stop.is_set():
                time.sleep(0)
        """), "GIL103")
    assert how == "safe" and "def wait():\n    stop.wait()\n" in fixed


@pytest.mark.parametrize("source, reason", [
    ("""
     import threading

     ready = False


     def reset():
         global ready
         ready = False


     def wait():
         while not ready:
             pass
     """, "set back to False"),
    ("""
     import threading


     class Job:
         done = False

         def wait(self):
             while not self.done:
                 pass
     """, "must start as `self.done = False` once, in `__init__`"),
    ("""
     import threading

     ready = False
     ready += 1


     def wait():
         while not ready:
             pass
     """, "bound at line"),
    ("""
     import threading


     def wait(first, second):
         while first.is_alive() and not second:
             pass
     """, "only `while not flag:`"),
    ("""
     import threading

     ready = 0


     def wait():
         while not ready:
             pass
     """, "a value other than True or False"),
])
def test_no_event_fix(tmp_path: Path, source: str, reason: str) -> None:
    how, why, _ = one(tmp_path, source, "GIL103")
    assert how == "none" and reason in why, why


def test_a_flag_used_by_another_module_is_not_rewritten(tmp_path: Path) -> None:
    how, why, _ = one(tmp_path, """
        import threading

        ready = False


        def wait():
            while not ready:
                pass
        """, "GIL103", others={"other.py": "import app\n\n\ndef go():\n    app.ready = True\n"})
    assert how == "none" and "other.py" in why


# ------------------------------------------------------------------------------------ applying

def test_overlapping_edits_wait_for_the_next_pass(tmp_path: Path) -> None:
    assert overlaps(Edit(2, 2, "x\n"), Edit(2, 3, "y\n"))
    assert overlaps(Edit(2, 5, ""), Edit(4, 6, ""))
    assert not overlaps(Edit(2, 3, ""), Edit(3, 4, ""))
    path = tmp_path / "svc.py"
    path.write_text(ASYNC_HEAD + textwrap.dedent("""
        async def main():
            a = await asyncio.to_thread(score, "abc" * 1000)
            b = await asyncio.to_thread(score, "def" * 1000)
            return a, b


        if __name__ == "__main__":
            asyncio.run(main())
        """), encoding="utf-8")
    outcome = fix_paths([path], Config(root=tmp_path))
    assert outcome.applied == 2 and outcome.passes == 2  # both add the pool: the second is planned again
    assert outcome.fixed[str(path)].count("def _process_pool") == 1
    assert not [d for d in outcome.result.diagnostics if d.code == "GIL302"]
    assert fix_paths([path], Config(root=tmp_path), max_passes=1).applied == 1


def test_fixed_files_keep_their_encoding_and_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    source = pool_program("""
        def run():
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(score, ["caf\u00e9" * 100]))
        """, head="# -*- coding: latin-1 -*-\nfrom concurrent.futures import ThreadPoolExecutor\n")
    path.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    outcome = fix_paths([path], Config(root=tmp_path))
    assert write_fixed(outcome) == [str(path)]
    raw = path.read_bytes()
    assert b"ProcessPoolExecutor(4)" in raw and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert "caf\u00e9".encode("latin-1") in raw


def test_fix_object_reports_what_it_is() -> None:
    fix = Fix("unsafe", "use a ProcessPoolExecutor", "why", (Edit(1, 2, "x\n"),))
    assert fix.available and fix.to_dict()["edits"] == [{"start_line": 1, "end_line": 2, "content": "x\n"}]
    assert not Fix("none", "t", "why").available


def test_a_call_that_releases_the_gil_is_awaited_in_a_thread(tmp_path: Path) -> None:
    how, why, fixed = one(tmp_path, """
        import bcrypt


        async def register(password):
            digest = bcrypt.hashpw(password, bcrypt.gensalt(12))
            return digest
        """, "GIL301")
    assert "await asyncio.to_thread(bcrypt.hashpw, password, bcrypt.gensalt(12))" in fixed and "import asyncio" in fixed
    assert how == "unsafe" and "`bcrypt.gensalt(12)` may be changed by other coroutines" in why
    how, why, fixed = one(tmp_path, """
        import asyncio
        import bcrypt


        async def register(password, salt):
            return bcrypt.hashpw(password, salt)
        """, "GIL301")
    assert how == "safe" and "return await asyncio.to_thread(bcrypt.hashpw, password, salt)" in fixed


# ------------------------------------------------------------------------------------ the checks themselves

class _Judge:
    """DataCheck.expression with names answered from a table (no project needed for the shapes)."""

    def __init__(self, names=None) -> None:
        from gillint.fixes.safety import DataCheck

        self.check = DataCheck.__new__(DataCheck)
        self.names = names or {}

    def __call__(self, text: str, iterable: bool = False) -> Optional[str]:
        import libcst as cst

        return self.check.expression(cst.parse_expression(text), lambda n: self.names.get(n, "unknown %s" % n),
                                     iterable)


@pytest.mark.parametrize("text", [
    "1", "'a' 'b'", "f'{x}'", "1.5", "2j", "...", "True", "None", "[1, (2, 3), {4}]", "{'a': 1, **{}}",
    "[c * 2 for c in 'abc' if c]", "{k: v for k, v in [(1, 2)]}", "-1 + 2 * 3", "not True or 1 < 2",
    "'a' if 1 else 'b'", "'abc'[1:]", "sorted([3, 1], reverse=True)", "' '.join(['a', 'b'])", "'A'.lower()",
])
def test_plain_data_shapes(text: str) -> None:
    assert _Judge()(text) is None


@pytest.mark.parametrize("text, reason", [
    ("(c for c in 'abc')", "a generator cannot be pickled"),
    ("lambda: 1", "a lambda cannot be pickled"),
    ("obj.attr", "`obj.attr` holds plain data"),
    ("make(**options)", "`**` arguments"),
    ("os.getcwd()", "`os.getcwd(...)` returns plain data"),
    ("data", "unknown data"),
    ("helper()", "unknown helper()"),
    ("[x async for x in y]", "unknown y"),
    ("await thing", "cannot show that this expression is plain data"),
    ("open('f').read().split()", "returns plain data"),
])
def test_not_plain_data(text: str, reason: str) -> None:
    assert reason in (_Judge()(text) or "")


def test_a_generator_is_fine_where_only_its_elements_are_sent() -> None:
    assert _Judge()("(c * 2 for c in 'abc')", iterable=True) is None


def test_side_effects_seen_in_a_function_body() -> None:
    import libcst as cst

    from gillint.fixes.safety import _Effects

    def effects(source: str, params=("arg",)):
        visitor = _Effects(params)
        cst.parse_module(textwrap.dedent(source)).visit(visitor)
        return visitor.problems

    assert effects("""
        def f(arg):
            local = []
            local.append(1)
            x, *rest = 1, 2, 3
            with open_thing() as handle:
                pass
            (y := 2)
            for i in range(3):
                local[i] = i
            def inner():
                SHARED.append(1)
            g = lambda: SHARED.append(2)
            class C:
                SHARED.append(3)
        """) == []  # nested definitions run only when called; the rest binds and changes locals
    found = effects("""
        def f(arg):
            nonlocal other
            arg.x = 1
            del arg[0]
            SHARED += 1
            SHARED.y += 1
            logging.info("x")
            sys.stdout.write("y")
        """)
    assert any("nonlocal other" in p for p in found)
    assert any("writes into its argument `arg`" in p for p in found)
    assert any("deletes from its argument `arg`" in p for p in found)
    assert any("updates `SHARED`" in p for p in found)
    assert any("`logging.info`" in p for p in found) and any("`sys.stdout.write`" in p for p in found)
    assert effects("""
        def f(arg):
            local = {}
            local["k"] = arg
            total: int = 0
            total += 1
            return local
        """) == []


def test_a_suppressed_finding_is_not_fixed(tmp_path: Path) -> None:
    path = tmp_path / "quiet.py"
    path.write_text(pool_program("""
        def run():
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(score, ["a" * 100]))  # noqa: GIL102
        """), encoding="utf-8")
    outcome = fix_paths([path], Config(root=tmp_path))
    assert outcome.applied == 0 and outcome.changed == [] and outcome.result.diagnostics == []


def test_fix_safety_sections_sit_before_the_references() -> None:
    from gillint.fixes.docs import SAFETY, with_fix_safety

    assert with_fix_safety("## What it does\nx\n\n## References\n- y", "GIL102").index("## Fix safety") < \
        with_fix_safety("## What it does\nx\n\n## References\n- y", "GIL102").index("## References")
    without_references = with_fix_safety("## What it does\nx", "GIL103")
    assert without_references.startswith("## What it does\nx\n\n## Fix safety\n")
    assert without_references.endswith(SAFETY["GIL103"].rstrip())
    assert with_fix_safety("text", "GIL999") == "text"


def test_offload_without_the_function_by_position_has_no_fix(tmp_path: Path) -> None:
    how, why, _ = one(tmp_path, ASYNC_HEAD + textwrap.dedent("""
        async def main(loop):
            return await loop.run_in_executor(None, score, *["abc" * 1000])
        """), "GIL302")
    assert how == "none" and "`*` or `**` arguments" in why
