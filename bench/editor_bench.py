"""The editor case: what the gillint flake8 plugin adds to one `flake8` run on one ~1,000-line file.

An editor starts a fresh `flake8` process on every save, so each sample here is a whole process:
start-up, plugin loading, imports, checks.  The cases, each run ``--runs`` times (medians):

* flake8 without the plugin / with the plugin,
* on a file without thread code / on the same file plus a few thread start sites / on a copy of
  the threaded file edited after the project was checked (what a save meets).

As a user would, the project is checked once with ``gillint check .`` before the samples: the
plugin then reads the records of ``.gillint_cache/`` and summarises only what changed since.

"Without the plugin" runs the same flake8, in the same environment, with gillint's entry point
filtered out of flake8's plugin discovery, so the only difference is the plugin.  An empty file
gives flake8's start-up cost, so "flake8's own checks" = (flake8 on the file) - (flake8 on an
empty file).  A second part times the stages inside the plugin for the threaded file.

    python bench/editor_bench.py                  # prints a Markdown report
    python bench/editor_bench.py --runs 21 --write bench/editor-results.md
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Dict, List, Tuple

DRIVER = textwrap.dedent("""\
    import sys
    from flake8.plugins import finder

    if sys.argv[1] == "without":
        original = finder.find_plugins
        finder.find_plugins = lambda *a, **k: [p for p in original(*a, **k) if p.package != "gillint"]
    from flake8.main.cli import main

    sys.exit(main(sys.argv[2:]))
    """)

STAGES = textwrap.dedent("""\
    import sys, time
    clock = time.process_time  # CPU time of this process: steadier than wall time on a busy machine
    t0 = clock()
    from gillint.flake8_plugin import GillintChecker
    from gillint import engine
    t1 = clock()
    import libcst
    t2 = clock()
    from gillint.analysis.summary import summarise
    text = open(sys.argv[1], encoding="utf-8").read()
    t3 = clock()
    module = engine.parse(text, sys.argv[1])
    t4 = clock()
    summarise(module, sys.argv[1], "threads", False)
    t5 = clock()
    cache = engine.SummaryCache()
    found = engine.lint_source(text, sys.argv[1], cache=cache, apply_noqa=False)
    t6 = clock()
    engine.lint_source(text, sys.argv[1], cache=cache, apply_noqa=False)  # summary cached: the rest alone
    t7 = clock()
    print(t1 - t0, t2 - t1, t4 - t3, t5 - t4, t7 - t6, len(found))
    """)


def module_text(blocks: int) -> str:
    """Ordinary library code: functions with loops and branches, small classes, no threads."""
    parts = ['"""Generated benchmark module: reports over order rows."""', "", "import json", "import re", "",
             'WORD = re.compile(r"[a-z]+")', ""]
    for i in range(blocks):
        parts.append(textwrap.dedent('''\

            def transform_{i}(rows, factor={i}):
                """Scale the rows of block {i} and keep those above the factor."""
                total = 0
                kept = []
                for row in rows:
                    if row.get("value", 0) > factor:
                        total += row["value"] * factor
                        kept.append({{"id": row["id"], "score": total}})
                return kept, total


            class Record{i}:
                """One record of block {i}."""

                def __init__(self, name, values):
                    self.name = name
                    self.values = list(values)

                def describe(self):
                    words = WORD.findall(self.name.lower())
                    summary = {{"name": self.name, "words": words}}
                    summary["n"] = len(self.values)
                    return json.dumps(summary)
            ''').format(i=i))
    return "\n".join(parts)


def threaded_text(blocks: int) -> str:
    starts = "\n".join("    threads.append(threading.Thread(target=transform_%d, args=(rows,)))" % i for i in range(5))
    return module_text(blocks) + textwrap.dedent('''\


        import threading  # noqa: E402


        def start_all(rows):
            """Run five transforms on threads."""
            threads = []
        {starts}
            for thread in threads:
                thread.start()
            return threads
        ''').format(starts=starts)


def sample(command: List[str], cwd: str) -> Tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int, workdir: str, files: Dict[str, str]) -> Dict[Tuple[str, str], Tuple[float, float]]:
    driver = os.path.join(workdir, "flake8_driver.py")
    Path(driver).write_text(DRIVER, encoding="utf-8")
    cases = [(plugin, name) for name in files for plugin in ("without", "with")]
    samples: Dict[Tuple[str, str], List[Tuple[float, float]]] = {case: [] for case in cases}
    edited = Path(files["threads_edited"])
    original = edited.read_text(encoding="utf-8")
    saves = iter(range(10 ** 6))

    def one(case: Tuple[str, str]) -> Tuple[float, float]:
        if case[1] == "threads_edited":  # every sample is a new save: its summary is not in the cache
            edited.write_text(original + "\n# save %d\n" % next(saves), encoding="utf-8")
        return sample([sys.executable, driver, case[0], "--isolated", files[case[1]]], workdir)

    for case in cases:  # warm the file cache and the .pyc files
        one(case)
    for _ in range(runs):
        for case in cases:  # interleaved, so that load changes on the machine hit every case alike
            samples[case].append(one(case))
    return {case: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for case, values in samples.items()}


def stages(runs: int, workdir: str, path: str) -> List[float]:
    script = os.path.join(workdir, "stages.py")
    Path(script).write_text(STAGES, encoding="utf-8")
    rows = []
    for _ in range(max(3, runs // 3)):
        out = subprocess.run([sys.executable, script, path], cwd=workdir, capture_output=True, text=True, check=True)
        rows.append([float(x) for x in out.stdout.split()])
    return [statistics.median(column) for column in zip(*rows)]


def report(runs: int, results: Dict[Tuple[str, str], Tuple[float, float]], stage_times: List[float],
           lines: Dict[str, int]) -> str:
    import flake8

    def ms(seconds: float) -> str:
        return "%.0f ms" % (seconds * 1000)

    base_wall, base_cpu = results[("without", "empty")]
    out = []
    out.append("# Editor case: the flake8 plugin on one file\n")
    out.append("Reproduce: `python bench/editor_bench.py --runs %d --write bench/editor-results.md` "
               "(needs gillint and flake8 installed in the running interpreter).\n" % runs)
    out.append("Python %s, flake8 %s, %s, %d CPUs. Every sample is one fresh `flake8 --isolated FILE` process, as an "
               "editor runs it on save; medians of %d runs, cases interleaved. Wall = what the user waits; CPU = "
               "user+system time of the process (steadier on a busy machine).\n"
               % (platform.python_version(), flake8.__version__, platform.system(), os.cpu_count() or 0, runs))
    out.append("| file | lines | flake8 alone (wall / CPU) | flake8 + gillint (wall / CPU) | added by gillint "
               "(wall / CPU) |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for name in ("empty", "no_threads", "threads", "threads_edited"):
        (w0, c0), (w1, c1) = results[("without", name)], results[("with", name)]
        out.append("| %s | %d | %s / %s | %s / %s | **%s / %s** |" % (
            name, lines[name], ms(w0), ms(c0), ms(w1), ms(c1), ms(w1 - w0), ms(c1 - c0)))
    own_wall = results[("without", "no_threads")][0] - base_wall
    own_cpu = results[("without", "no_threads")][1] - base_cpu
    added_plain = results[("with", "no_threads")][0] - results[("without", "no_threads")][0]
    added_plain_cpu = results[("with", "no_threads")][1] - results[("without", "no_threads")][1]
    added_threads = results[("with", "threads")][0] - results[("without", "threads")][0]
    added_edited = results[("with", "threads_edited")][0] - results[("without", "threads_edited")][0]
    out.append("")
    out.append("flake8's own default checks (pycodestyle, pyflakes, mccabe) on the file without thread code: "
               "%s wall / %s CPU (flake8 on it minus flake8 on an empty file).\n" % (ms(own_wall), ms(own_cpu)))
    out.append("- No thread code: gillint adds %s wall / %s CPU (aim: at most 100 ms): %s."
               % (ms(added_plain), ms(added_plain_cpu), "met" if added_plain <= 0.1 else "NOT met"))
    out.append("- Thread code, unchanged since `gillint check .`: gillint adds %s wall (aim: at most 300 ms): %s."
               % (ms(added_threads), "met" if added_threads <= 0.3 else "NOT met"))
    out.append("- Thread code edited since the check (its summary is made again, the other modules' are read): "
               "gillint adds %s wall.\n" % ms(added_edited))
    imports, libcst_import, parse, summarise, rest, found = stage_times
    out.append("Inside the plugin, threaded file (CPU time, medians, one process each):\n")
    out.append("| stage | time |")
    out.append("| --- | ---: |")
    out.append("| import the plugin and the engine (no libcst) | %s |" % ms(imports))
    out.append("| import libcst (only when a file's summary must be made) | %s |" % ms(libcst_import))
    out.append("| libcst parse (one per file) | %s |" % ms(parse))
    out.append("| summarise the module (positions and the summarising visit) | %s |" % ms(summarise))
    out.append("| link, classify, check and report (%d findings) | %s |" % (found, ms(rest)))
    out.append("")
    inside = libcst_import + parse + summarise + rest
    out.append("When a summary must be made (the edited file), the time inside the plugin goes to importing libcst "
               "(%.0f%%), the summary (%.0f%%) and the libcst parse (%.0f%%); linking, classifying and checking are "
               "%.0f%%. A file unchanged since `gillint check .` skips the first three: its record is read from the "
               "cache. The file without thread code needs no summary at all."
               % tuple(100 * x / inside for x in (libcst_import, summarise, parse, rest)))
    out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per case (default 15)")
    parser.add_argument("--blocks", type=int, default=40, help="code blocks in the generated file (40 = ~1,000 lines)")
    parser.add_argument("--write", metavar="FILE", help="write the Markdown report here as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        texts = {"empty": "", "no_threads": module_text(args.blocks), "threads": threaded_text(args.blocks)}
        files = {}
        for name, text in texts.items():
            files[name] = os.path.join(workdir, name + ".py")
            Path(files[name]).write_text(text, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "gillint", "check", "--no-config", "--exit-zero", "-q", "."], cwd=workdir,
                       stdout=subprocess.DEVNULL, check=True)
        # a save: the threaded file with one line changed, after the project was checked
        texts["threads_edited"] = texts["threads"].replace('"""Run five transforms on threads."""',
                                                           '"""Run five transforms on threads, edited."""')
        files["threads_edited"] = os.path.join(workdir, "threads_edited.py")
        Path(files["threads_edited"]).write_text(texts["threads_edited"], encoding="utf-8")
        lines = {name: text.count("\n") for name, text in texts.items()}
        results = measure(args.runs, workdir, files)
        stage_times = stages(args.runs, workdir, files["threads"])
    document = report(args.runs, results, stage_times, lines)
    print(document)
    if args.write:
        Path(args.write).write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
