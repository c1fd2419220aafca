"""The value analysis answers "what can this hold?" with sets of values (gillint/analysis/values.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from gillint.analysis.cost import CostModel
from gillint.analysis.model import ModuleSummary
from gillint.analysis.project import Project
from gillint.engine import Engine, read_paths


def project_of(tmp_path: Path, files: Dict[str, str]) -> Tuple[Project, Dict[str, ModuleSummary]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    engine = Engine()
    engine.run(read_paths([tmp_path], engine.config))
    by_name = {Path(m.path).name: m for m in engine.project.modules.values()}
    return engine.project, by_name


def names(values) -> List[str]:  # type: ignore[no-untyped-def]
    out = []
    for v in values:
        label = v.function.qualname if v.function else v.klass.qualname if v.klass else v.name
        out.append("%s:%s" % (v.kind, label))
    return sorted(set(out))


def test_every_assignment_counts_not_the_last(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import threading
        def fast(x): return x
        def slow(x): return x
        def pick(flag):
            if flag:
                f = fast
            else:
                f = slow
            g = fast if flag else slow
            h = flag or slow
            threading.Thread(target=f).start()
    """})
    m = mods["m.py"]
    scope = m.functions["pick"]
    assert names(project.values(m, scope, "f")) == ["function:fast", "function:slow"]
    assert names(project.values(m, scope, "g")) == ["function:fast", "function:slow"]
    assert "function:slow" in names(project.values(m, scope, "h"))


def test_constructor_arguments_reach_attributes_and_one_instance_keeps_its_own(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import threading
        class A:
            def go(self): pass
        class B:
            def go(self): pass
        class Holder:
            def __init__(self, helper, size=3):
                self.helper = helper
                self.size = size
            def run(self):
                self.helper.go()
        def main():
            first = Holder(A())
            second = Holder(B())
            threading.Thread(target=first.run).start()
            return first.helper, second.helper
    """})
    m = mods["m.py"]
    run = m.functions["Holder.run"]
    assert names(project.values(m, run, "self.helper")) == ["instance:A", "instance:B"]
    main = m.functions["main"]
    assert names(project.values(m, main, "first.helper")) == ["instance:A"]
    assert names(project.values(m, main, "second.helper.go")) == ["function:B.go"]


def test_dataclass_fields_take_annotations_and_constructor_arguments(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import dataclasses, threading
        class Tok:
            def split(self, text): return text
        class Other:
            pass
        @dataclasses.dataclass
        class Job:
            tok: Tok
            extra: object = None
            def work(self): return self.tok, self.extra
        Job(Tok(), extra=Other())
        threading.Thread(target=print).start()
    """})
    m = mods["m.py"]
    work = m.functions["Job.work"]
    assert names(project.values(m, work, "self.tok")) == ["instance:Tok"]
    assert "instance:Other" in names(project.values(m, work, "self.extra"))


def test_unpacking_containers_queues_and_views(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import queue, threading
        from multiprocessing.pool import ThreadPool
        import multiprocessing
        def a(x): return x
        def b(x): return x
        def pick(kind):
            if kind:
                return ThreadPool, False
            return multiprocessing.Pool, True
        TABLE = {"a": a, "b": b}
        jobs = queue.Queue()
        jobs.put(a)
        def use(kind):
            cls, pickled = pick(kind)
            for name, fn in TABLE.items():
                pass
            for index, fn2 in enumerate([a, b]):
                pass
            job = jobs.get()
            first = TABLE["a"]
            threading.Thread(target=job).start()
    """})
    m = mods["m.py"]
    use = m.functions["use"]
    assert names(project.values(m, use, "cls")) == ["class:multiprocessing.Pool",
                                                    "class:multiprocessing.pool.ThreadPool"]
    assert names(project.values(m, use, "fn")) == ["function:a", "function:b"]
    assert names(project.values(m, use, "fn2")) == ["function:a", "function:b"]
    assert names(project.values(m, use, "job")) == ["function:a"]
    assert names(project.values(m, use, "first")) == ["function:a", "function:b"]


def test_factories_overrides_getattr_annotations_and_defaults(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import contextlib, threading, time
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
        @contextlib.contextmanager
        def pool_of(n):
            pool = ProcessPoolExecutor(n)
            yield pool
        def plain():
            return ThreadPoolExecutor()
        class Base:
            POOL = ProcessPoolExecutor
            def start(self):
                return self.POOL()
        class Sub(Base):
            POOL = ThreadPoolExecutor
        class Tracker:
            def update(self): pass
        NAME = "update"
        def loop(tracker: "Tracker", wait=time.sleep):
            with pool_of(2) as pool:
                method = getattr(tracker, NAME)
                literal = getattr(tracker, "update")
            threading.Thread(target=loop).start()
    """})
    m = mods["m.py"]
    loop = m.functions["loop"]
    assert names(project.values(m, loop, "pool")) == ["instance:concurrent.futures.ProcessPoolExecutor"]
    assert names(project.values(m, loop, "method")) == ["function:Tracker.update"]
    assert names(project.values(m, loop, "literal")) == ["function:Tracker.update"]
    assert names(project.values(m, loop, "wait")) == ["external:time.sleep"]
    start = m.functions["Base.start"]
    assert names(project.values(m, start, "self.POOL")) == ["class:concurrent.futures.ProcessPoolExecutor",
                                                            "class:concurrent.futures.ThreadPoolExecutor"]
    assert names(project.values(m, None, "plain")) == ["function:plain"]


def test_parameters_hold_what_callers_pass_and_forwarding_apis_count(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import threading
        from concurrent.futures import ThreadPoolExecutor
        def work(data, sink): return data
        def helper(fn, items):
            with ThreadPoolExecutor() as pool:
                return list(pool.map(fn, items))
        def main(rows):
            helper(work, rows)
            threading.Thread(target=work, args=([1, 2], print)).start()
    """})
    m = mods["m.py"]
    assert names(project.values(m, m.functions["helper"], "fn")) == ["function:work"]
    assert "external:print" in names(project.values(m, m.functions["work"], "sink"))
    callers = project.callers(m, m.functions["helper"])
    assert [(c[0].path, c[2].raw) for c in callers] == [(m.path, "helper")]


def test_a_stdlib_module_in_the_tree_does_not_hide_what_the_knowledge_base_describes(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {
        "threading.py": """
            class Thread:
                def __init__(self, target=None): self.target = target
        """,
        "app.py": """
            import threading
            def crunch(xs):
                return sum(x * x for x in xs)
            def main(queue):
                threading.Thread(target=crunch).start()
                return queue.get()
        """})
    app = mods["app.py"]
    main = app.functions["main"]
    assert names(project.values(app, main, "threading.Thread")) == ["external:threading.Thread"]
    assert names(project.values(app, main, "queue"))[0].startswith("unknown:")  # the parameter, not the module


def test_cycles_terminate_and_sets_are_capped(tmp_path: Path) -> None:
    lines = ["import threading"]
    for i in range(40):
        lines.append("def f%d(x):\n    return f%d(x)" % (i, (i + 1) % 40))
    lines.append("def many(flag):")
    for i in range(30):
        lines.append("    v = f%d" % i)
    lines.append("    threading.Thread(target=v).start()")
    project, mods = project_of(tmp_path, {"m.py": "\n".join(lines) + "\n"})
    m = mods["m.py"]
    assert len(project.values(m, m.functions["many"], "v")) == 16
    assert project.values(m, m.functions["f0"], "x")  # a parameter passed round a cycle of 40 calls


@pytest.mark.parametrize("body, kind", [
    ("for line in resp.iter_lines():\n        out.append(line.decode())", "io"),
    ("with open(path) as handle:\n        for line in handle:\n            out.append(line.lower())", "io"),
    ("while True:\n        item = q.get(block=False)\n        out.append(sum(x * x for x in item))", "cpu"),
    ("while True:\n        fn, args = q.get()\n        fn(*args)", "dispatch"),
    ("for opt in user_rows:\n        out.append(opt.upper())", "cpu"),
    # a name that says it holds fields or options, whatever words are around the word
    ("for key in meta_fields_to_embed:\n        out.append(key.upper())", "light"),
    ("for key, value in zip(meta_fields_to_embed, user_rows):\n        out.append(key.upper())", "light"),
    ("for line in custom_headers_env.split(sep):\n        out.append(line.upper())", "light"),
    ("for var in standard_vars:\n        out.append(var.upper())", "light"),
    ("for column in columns:\n        out.append(column.upper())", "light"),
])
def test_the_cost_model_weighs_waits_streams_and_structure(tmp_path: Path, body: str, kind: str) -> None:
    source = "import queue\nq = queue.Queue()\ndef f(resp, out, path, columns, user_rows, meta_fields_to_embed, custom_headers_env, sep, standard_vars):\n    %s\n" % body
    project, mods = project_of(tmp_path, {"m.py": source + "import threading\nthreading.Thread(target=f).start()\n"})
    m = mods["m.py"]
    assert CostModel(project).work(m, m.functions["f"]).kind == kind


def test_super_star_imports_generators_and_unknown_names(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {
        "pkg/__init__.py": "from .tools import *\n",
        "pkg/tools.py": """
            def helper(x): return x
        """,
        "pkg/app.py": """
            import threading
            from pkg import helper
            class Base:
                def work(self): return 1
            class Child(Base):
                def work(self):
                    return super().work()
                def nothing(self):
                    return super().missing()
            def rows():
                yield helper
            def main(name):
                for fn in rows():
                    pass
                dynamic = getattr(Child(), name)
                threading.Thread(target=fn).start()
        """})
    app = mods["app.py"]
    assert names(project.values(app, app.functions["Child.work"], "super.work")) == ["function:Base.work"]
    assert names(project.values(app, app.functions["Child.nothing"], "super.missing"))[0].startswith("unknown:")
    main = app.functions["main"]
    assert names(project.values(app, main, "helper")) == ["function:helper"]  # through `from .tools import *`
    assert names(project.values(app, main, "fn")) == ["function:helper"]  # what the generator yields
    assert names(project.values(app, main, "dynamic"))[0].startswith("unknown:")  # a computed attribute name
    assert names(project.values(app, main, "nowhere"))[0].startswith("unknown:")


def test_methods_resolve_in_c3_order_and_broken_hierarchies_terminate(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import asyncio
        class Mixin:
            def read(self): return "sync"
        class AsyncMixin(Mixin):
            async def read(self): return "async"
        class Manager(Mixin):
            pass
        class AsyncManager(Manager, AsyncMixin):
            pass
        class Loop(Loop):
            pass
        class Odd(Mixin, AsyncMixin):  # no consistent order: Python refuses it, gillint goes on
            pass
        async def main():
            await AsyncManager().read()
    """})
    module = mods["m.py"]
    owner, method = project.method(module, module.classes["AsyncManager"], "read")
    assert method.qualname == "AsyncMixin.read"  # depth first would find Mixin.read through Manager
    assert [k.qualname for _, k in project.bases(module, module.classes["AsyncManager"])] == [
        "Manager", "AsyncMixin", "Mixin"]
    assert list(project.bases(module, module.classes["Loop"])) == []
    assert {k.qualname for _, k in project.bases(module, module.classes["Odd"])} == {"Mixin", "AsyncMixin"}


def test_a_built_accelerator_wins_over_its_pure_python_fallback(tmp_path: Path) -> None:
    from importlib.machinery import EXTENSION_SUFFIXES

    from gillint.config import Config
    from gillint.engine import lint_paths

    files = {
        "pkg/__init__.py": "try:\n    from ._speedups import checksum\nexcept ImportError:\n"
                           "    from ._pure import checksum\n",
        "pkg/_pure.py": "def checksum(data):\n    crc = 0\n    for byte in data:\n"
                        "        crc = (crc * 31 + byte) & 0xFFFFFFFF\n    return crc\n",
        "app.py": "import threading\nfrom pkg import checksum\n\n"
                  "def work(payload):\n    return checksum(payload)\n\n"
                  "threading.Thread(target=work, args=(b'x',)).start()\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = Config(follow_libraries=False)
    # not built (a source checkout): the fallback is what runs, and it is CPU work
    assert [d.code for d in lint_paths([tmp_path / "app.py"], config).diagnostics] == ["GIL101"]
    # built: the extension runs, and what it does is the knowledge base's to say
    (tmp_path / "pkg" / ("_speedups" + EXTENSION_SUFFIXES[0])).write_bytes(b"\x7fELF")
    assert lint_paths([tmp_path / "app.py"], config).diagnostics == []


def test_a_branch_on_a_parameter_guards_its_own_calls_only(tmp_path: Path) -> None:
    """``if cache is None:`` guards the calls in its body; a function defined there has its own body."""
    project, mods = project_of(tmp_path, {"m.py": """
        import threading
        def outer(cache=None):
            if cache is None:
                load()
                def inner(cache):
                    load()
                return inner
            else:
                raise ValueError(f"bad {cache}")
        threading.Thread(target=outer).start()
    """})
    m = mods["m.py"]
    assert [c.guard for c in m.functions["outer"].calls if c.raw == "load"] == [("cache", True)]
    assert [c.guard for c in m.functions["outer.inner"].calls if c.raw == "load"] == [None]
    assert all(c.rare for c in m.functions["outer"].calls if c.raw == "ValueError")


def test_a_default_is_read_in_the_class_body_not_from_instance_attributes(tmp_path: Path) -> None:
    project, mods = project_of(tmp_path, {"m.py": """
        import os
        import time
        import threading
        sleep = time.sleep
        class Channel:
            _write = os.write
            def __init__(self):
                self.sleep = print
            def send(self, buf, write=_write, sleep=sleep):
                write(1, buf)
                sleep(1)
        threading.Thread(target=Channel().send, args=(b"x",)).start()
    """})
    m = mods["m.py"]
    send = m.functions["Channel.send"]
    assert names(project.values(m, send, "write")) == ["external:os.write"]
    assert names(project.values(m, send, "sleep")) == ["external:time.sleep"]
