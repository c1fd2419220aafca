#!/usr/bin/env python3
"""Benchmark gillint against flake8, Fixit and ruff on the standard library, and profile it.

    python bench/run.py                 # 5 interleaved rounds; writes bench/results.md
    python bench/run.py --rounds 3      # fewer rounds
    python bench/run.py --without Fixit # leave out a run (Fixit on the whole corpus takes many minutes)
    python bench/run.py profile         # where gillint's time goes; writes bench/profile.md

The corpus is the running Python's standard library without site-packages and without
its test/tests, idlelib and lib2to3 folders, copied to a temporary directory (so that the
"touched" run can edit a file and no tool finds a configuration file).  Each round runs
every measurement once, in the same order (A B C ... A B C ...), and the report gives
medians: wall time, CPU time (user + system of the tool and all its processes) and the
peak memory of the tool's whole process tree (sampled from /proc; on other systems the
largest single process).

flake8, Fixit and ruff are installed into a virtual environment of their own under the
user's cache directory (``$XDG_CACHE_HOME/gillint-bench`` or ``~/.cache/gillint-bench``,
or ``--tools DIR``), never into the project.  gillint runs from the interpreter that runs
this script.  This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXCLUDED_DIRS = {"site-packages", "dist-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__"}
OTHER_TOOLS = ("flake8", "fixit", "ruff")
TOUCHED_FILE = Path("concurrent") / "futures" / "thread.py"  # has start sites: its summary must be remade


# ---------------------------------------------------------------------------- corpus

def stdlib_files() -> List[Path]:
    top = Path(sysconfig.get_paths()["stdlib"])
    found: List[Path] = []
    for directory, dirnames, filenames in os.walk(str(top)):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        found.extend(Path(directory, name).relative_to(top) for name in sorted(filenames) if name.endswith(".py"))
    return found


def make_corpus(target: Path, files: Sequence[Path], every: int = 1) -> Tuple[int, int]:
    """Copy every ``every``-th file (a spread sample) to ``target``; (files, bytes)."""
    top = Path(sysconfig.get_paths()["stdlib"])
    count = size = 0
    for index, relative in enumerate(files):
        if index % every:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(top / relative), str(destination))
        count += 1
        size += destination.stat().st_size
    return count, size


# ---------------------------------------------------------------------------- the other tools

def tools_dir(given: Optional[str]) -> Path:
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gillint-bench"


def ensure_tools(directory: Path) -> Path:
    """A virtual environment with flake8 (pyflakes + pycodestyle only), Fixit and ruff; its bin directory."""
    venv = directory / ("venv-%d.%d" % sys.version_info[:2])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    if not all((bin_dir / tool).exists() or (bin_dir / (tool + ".exe")).exists() for tool in OTHER_TOOLS):
        directory.mkdir(parents=True, exist_ok=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
                       + list(OTHER_TOOLS), check=True)
    return bin_dir


def versions(bin_dir: Path) -> Dict[str, str]:
    listing = subprocess.run([str(bin_dir / "python"), "-m", "pip", "list", "--format", "json",
                              "--disable-pip-version-check"], capture_output=True, text=True, check=True)
    wanted = {"flake8", "pyflakes", "pycodestyle", "fixit", "libcst", "ruff"}
    found = {item["name"].lower(): item["version"] for item in json.loads(listing.stdout) if item["name"].lower() in wanted}
    from gillint import __version__
    import libcst  # noqa: F401 - the version gillint uses

    try:
        from importlib.metadata import version
        found["libcst (gillint's)"] = version("libcst")
    except Exception:  # pragma: no cover
        pass
    found["gillint"] = __version__ + _git_revision()
    return found


def _git_revision() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "gillint"], cwd=str(ROOT), capture_output=True, text=True)
    except OSError:
        return ""
    if done.returncode != 0:
        return ""
    return " (%s%s)" % (done.stdout.strip(), ", with local changes" if dirty.stdout.strip() else "")


# ---------------------------------------------------------------------------- measuring

def _tree_rss(root_pid: int, cpu: Optional[Dict[int, float]] = None) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc).  ``cpu``, when
    given, receives each of them's CPU seconds so far (user + system)."""
    children: Dict[int, List[int]] = {}
    rss: Dict[int, int] = {}
    ticks: Dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        ticks[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        if cpu is not None and pid in ticks:
            cpu[pid] = max(cpu.get(pid, 0.0), ticks[pid])
        stack.extend(children.get(pid, ()))
    return total


def measure(command: Sequence[str], cwd: Path) -> Dict[str, float]:
    """Wall and CPU seconds and peak memory (MB) of one run of ``command``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(list(command), cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    seen: Dict[int, float] = {}  # CPU seconds of every process of the tree, as last sampled
    sampling = os.path.isdir("/proc")

    def sample() -> None:
        while process.poll() is None:
            try:
                peak[0] = max(peak[0], _tree_rss(process.pid, seen))
            except Exception:  # pragma: no cover - a process ending while read
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if sampling:
        sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    if sampling:
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The kernel adds a process's CPU time to its parent's only when the parent waits for it: workers
    # started by a fork server are not waited for by the tool, so the samples of the tree count too.
    cpu = max((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), sum(seen.values()))
    largest = after.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    if process.returncode < 0 or (command[1:3] == ["-m", "gillint"] and process.returncode not in (0, 1)):
        raise SystemExit("%s failed (%s):\n%s" % (" ".join(command), process.returncode, stderr.decode(errors="replace")[-2000:]))
    return {"wall": wall, "cpu": cpu, "mem": max(peak[0], largest if not sampling else 0) / 1e6}


def gillint_command(target: str, *extra: str) -> List[str]:
    return [sys.executable, "-m", "gillint", "check", "--no-config", "--exit-zero", "-q", *extra, target]


# ---------------------------------------------------------------------------- the benchmark

def run_benchmark(rounds: int, tools: Path, output: Path, without: Sequence[str] = ()) -> None:
    bin_dir = ensure_tools(tools)
    tool_versions = versions(bin_dir)
    files = stdlib_files()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="gillint-bench-") as scratch:
        work = Path(scratch)
        corpora = {}
        for name, every in (("all", 1), ("half", 2), ("quarter", 4)):
            corpora[name] = make_corpus(work / name / "lib", files, every)
        cache = work / "cache"
        touched = work / "all" / "lib" / TOUCHED_FILE
        original = touched.read_bytes()
        measure(gillint_command("lib", "--cache-dir", str(cache)), work / "all")  # fill the cache for "warm"
        cases = [
            ("gillint cold", lambda i: gillint_command("lib", "--no-cache"), "all"),
            ("gillint warm", lambda i: gillint_command("lib", "--cache-dir", str(cache)), "all"),
            ("gillint one file touched", lambda i: _touch(touched, original, i) or
             gillint_command("lib", "--cache-dir", str(cache)), "all"),
            ("flake8", lambda i: [str(bin_dir / "flake8"), "--isolated", "-j", "auto", "--exit-zero", "lib"], "all"),
            ("Fixit", lambda i: [str(bin_dir / "fixit"), "lint", "lib"], "all"),
            ("Fixit, 1/4 corpus", lambda i: [str(bin_dir / "fixit"), "lint", "lib"], "quarter"),
            ("ruff", lambda i: [str(bin_dir / "ruff"), "check", "--isolated", "--no-cache", "--select", "ALL",
                                "--exit-zero", "-q", "lib"], "all"),
            ("gillint cold, 1/2 corpus", lambda i: gillint_command("lib", "--no-cache"), "half"),
            ("gillint cold, 1/4 corpus", lambda i: gillint_command("lib", "--no-cache"), "quarter"),
        ]
        cases = [case for case in cases if case[0] not in without]
        samples: Dict[str, List[Dict[str, float]]] = {name: [] for name, _, _ in cases}
        for index in range(rounds):
            for name, command, corpus in cases:
                result = measure(command(index), work / corpus)
                samples[name].append(result)
                print("round %d  %-26s %7.2f s wall %7.2f s CPU %7.1f MB" % (index + 1, name, result["wall"],
                                                                             result["cpu"], result["mem"]), flush=True)
            # Written after every round: an interrupted run still leaves the rounds it finished.
            load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
            medians = {name: {key: statistics.median(s[key] for s in runs) for key in ("wall", "cpu", "mem")}
                       for name, runs in samples.items()}
            output.write_text(render(medians, samples, corpora, tool_versions, index + 1, load_before, load_after),
                              encoding="utf-8")
            print("wrote %s (%d of %d rounds)" % (output, index + 1, rounds), flush=True)
        touched.write_bytes(original)


def _touch(path: Path, original: bytes, index: int) -> None:
    """A real edit (the text changes), so the file's cache entry no longer applies."""
    path.write_bytes(original + b"\n# touched in round %d at %f\n" % (index, time.time()))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def render(medians, samples, corpora, tool_versions, rounds, load_before, load_after) -> str:  # type: ignore[no-untyped-def]
    from gillint.parallel import available_cores

    all_files, all_bytes = corpora["all"]
    missing = {"wall": float("nan"), "cpu": float("nan"), "mem": float("nan")}
    cold, warm, touched = medians["gillint cold"], medians["gillint warm"], medians["gillint one file touched"]
    flake8, fixit, ruff = (medians.get(name, missing) for name in ("flake8", "Fixit", "ruff"))
    fixit_quarter = medians.get("Fixit, 1/4 corpus", missing)
    quarter = medians.get("gillint cold, 1/4 corpus", missing)
    lines = [
        "# Benchmark results",
        "",
        "Produced by `python bench/run.py --rounds %d` on %s (UTC). Do not edit by hand: rerun it." % (
            rounds, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        "",
        "## Machine",
        "",
        "- cores available to the process: %d (%s)" % (available_cores(), _cpu_model()),
        "- Python %s (%s), %s" % (platform.python_version(), platform.python_implementation(), platform.platform()),
        "- load average before / after: %s / %s (the machine is shared: wall times are noisy, CPU times less so)" % (
            _load(load_before), _load(load_after)),
        "- versions: %s" % ", ".join("%s %s" % item for item in sorted(tool_versions.items())),
        "",
        "## Corpus",
        "",
        "The standard library of Python %s without site-packages, test/tests, idlelib and lib2to3: "
        "%d files, %.1f MB. Subsets take every 2nd / 4th file: %d files (%.1f MB) and %d files (%.1f MB)." % (
            platform.python_version(), all_files, all_bytes / 1e6, corpora["half"][0], corpora["half"][1] / 1e6,
            corpora["quarter"][0], corpora["quarter"][1] / 1e6),
        "",
        "## Medians of %d interleaved rounds" % rounds,
        "",
        "| run | wall s | CPU s | peak memory MB | command |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    commands = {
        "gillint cold": "gillint check --no-cache (--jobs: all cores)",
        "gillint warm": "gillint check with a filled cache, nothing changed",
        "gillint one file touched": "as warm, after editing %s" % TOUCHED_FILE.as_posix(),
        "flake8": "flake8 --isolated -j auto (pyflakes + pycodestyle, default checks)",
        "Fixit": "fixit lint (default rules)",
        "Fixit, 1/4 corpus": "fixit lint (default rules)",
        "ruff": "ruff check --isolated --no-cache --select ALL",
        "gillint cold, 1/2 corpus": "gillint check --no-cache",
        "gillint cold, 1/4 corpus": "gillint check --no-cache",
    }
    for name, values in medians.items():
        lines.append("| %s | %.2f | %.2f | %.0f | %s |" % (name, values["wall"], values["cpu"], values["mem"], commands[name]))
    lines += [
        "",
        "## Ratios (medians, wall time unless noted)",
        "",
        "| ratio | value | aim |",
        "| --- | ---: | --- |",
        "| gillint cold / flake8 | %.2f | at most 0.30 %s |" % (cold["wall"] / flake8["wall"], _met(cold["wall"] <= 0.3 * flake8["wall"])),
        "| gillint cold / flake8, CPU | %.2f | |" % (cold["cpu"] / flake8["cpu"]),
        "| gillint cold / Fixit | %.2f | |" % (cold["wall"] / fixit["wall"]),
        "| gillint cold / Fixit, 1/4 corpus | %.2f | |" % (quarter["wall"] / fixit_quarter["wall"]),
        "| gillint cold / ruff | %.2f | |" % (cold["wall"] / ruff["wall"]),
        "| gillint warm / ruff (cold) | %.2f | at most 0.25 %s |" % (warm["wall"] / ruff["wall"], _met(warm["wall"] <= 0.25 * ruff["wall"])),
        "| gillint one file touched / ruff (cold) | %.2f | at most 0.30 %s |" % (touched["wall"] / ruff["wall"], _met(touched["wall"] <= 0.3 * ruff["wall"])),
        "| gillint warm / Fixit | %.2f | |" % (warm["wall"] / fixit["wall"]),
        "| gillint peak memory, cold, MB | %.0f | at most 300 %s |" % (cold["mem"], _met(cold["mem"] <= 300)),
        "",
        "## How cost grows with the corpus (gillint cold, CPU seconds per MB)",
        "",
        "| corpus | files | MB | wall s | CPU s | CPU s per MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, key, corpus in (("1/4", "gillint cold, 1/4 corpus", "quarter"), ("1/2", "gillint cold, 1/2 corpus", "half"),
                               ("all", "gillint cold", "all")):
        files, size = corpora[corpus]
        values = medians[key]
        lines.append("| %s | %d | %.1f | %.2f | %.2f | %.2f |" % (label, files, size / 1e6, values["wall"], values["cpu"],
                                                                 values["cpu"] / (size / 1e6)))
    lines += ["", "## Every round", "", "| run | " + " | ".join("round %d wall / CPU s" % (i + 1) for i in range(rounds)) + " |",
              "| --- |" + " ---: |" * rounds]
    for name, runs in samples.items():
        lines.append("| %s | %s |" % (name, " | ".join("%.2f / %.2f" % (r["wall"], r["cpu"]) for r in runs)))
    lines.append("")
    return "\n".join(lines)


def _met(condition: bool) -> str:
    return "(met)" if condition else "(**not met**)"


def _load(value: Optional[Tuple[float, float, float]]) -> str:
    return "n/a" if value is None else "%.1f" % value[0]


# ---------------------------------------------------------------------------- profile

def run_profile(output: Path) -> None:
    """Where a cold single-process run spends its CPU time, phase by phase (no cache, --jobs 1)."""
    import collections
    import cProfile
    import io
    import pstats

    import libcst

    from gillint import engine, filework
    from gillint.analysis.positions import Positions
    from gillint.config import Config
    from gillint.report import render as render_report

    timings: "collections.Counter[str]" = collections.Counter()
    depth = collections.Counter()

    def timed(name, function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            depth[name] += 1
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                depth[name] -= 1
                if not depth[name]:
                    timings[name] += time.process_time() - started
        return wrapper

    filework._validate_only = timed("validate (CPython ast.parse)", filework._validate_only)
    filework._has_start_candidates = timed("triage (walk of the ast)", filework._has_start_candidates)
    libcst.parse_module = timed("libcst parse", libcst.parse_module)
    Positions.__init__ = timed("positions", Positions.__init__)
    filework._summarise_guarded = timed("summaries, all (parse + positions + walk)", filework._summarise_guarded)
    engine.Engine.check = timed("linking and checks (with the modules they load)", engine.Engine.check)
    read_paths = timed("discovery and reading", engine.read_paths)
    with tempfile.TemporaryDirectory(prefix="gillint-profile-") as scratch:
        count, size = make_corpus(Path(scratch) / "lib", stdlib_files())
        old = os.getcwd()
        os.chdir(scratch)
        profiler = cProfile.Profile()
        try:
            started = time.process_time()
            files = read_paths(["lib"], Config())
            run_engine = engine.Engine(Config(), None, jobs=1)
            result = run_engine.run(files)
            output_started = time.process_time()
            render_report("text", result, color=False, statistics=False, quiet=True)
            timings["output (text report)"] += time.process_time() - output_started
            total = time.process_time() - started
            summarised = sum(1 for s in run_engine.summaries.values() if s is not None)
            triaged = sum(1 for path in run_engine.summaries if path in run_engine.texts)
            first = collections.Counter(timings)  # the profiled pass below goes through the same timers
            # A second, profiled pass of the same run for the function-level table.
            profiler.enable()
            engine.Engine(Config(), None, jobs=1).run(files)
            profiler.disable()
        finally:
            os.chdir(old)
    timings = first
    walk = timings["summaries, all (parse + positions + walk)"] - timings["libcst parse"] - timings["positions"]
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)
    # paths of this checkout and of the environment say nothing to a reader: keep them relative
    prefixes = sorted({str(HERE.parent) + os.sep} | {path + os.sep for path in sys.path if path.endswith("site-packages")},
                      key=len, reverse=True)
    table = []
    for line in [line for line in stream.getvalue().splitlines() if line.strip()][-26:]:
        for prefix in prefixes:
            line = line.replace(prefix, "site-packages/" if prefix.rstrip(os.sep).endswith("site-packages") else "")
        table.append(line)
    lines = [
        "# Where gillint's time goes",
        "",
        "Produced by `python bench/run.py profile`: one cold run on the benchmark corpus (%d files, %.1f MB) "
        "in one process (--jobs 1, no cache), CPU seconds per phase. Phases nest: summaries are made both "
        "for the files given (%d of them need one) and for modules the linker loads during checks." % (
            count, size / 1e6, triaged),
        "",
        "| phase | CPU s | share |",
        "| --- | ---: | ---: |",
    ]
    rows = [("discovery and reading", timings["discovery and reading"]),
            ("validate (CPython ast.parse)", timings["validate (CPython ast.parse)"]),
            ("triage (walk of the ast)", timings["triage (walk of the ast)"]),
            ("summaries: libcst parse", timings["libcst parse"]),
            ("summaries: positions (gillint.analysis.positions)", timings["positions"]),
            ("summaries: the summariser's own walk", walk),
            ("linking and checks (with the modules they load)", timings["linking and checks (with the modules they load)"]),
            ("output (text report)", timings["output (text report)"])]
    for name, seconds in rows:
        lines.append("| %s | %.2f | %.0f%% |" % (name, seconds, 100 * seconds / total))
    lines += ["| total | %.2f | |" % total, "",
              "%d summaries made in all. Findings: %d." % (summarised, len(result.diagnostics)), "",
              "## Functions by own time (cProfile, second pass)", "", "```"] + table + ["```", ""]
    output.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=("bench", "profile"), default="bench")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--tools", help="where to keep the other tools' virtual environment")
    parser.add_argument("--output", help="the report (default bench/results.md or bench/profile.md)")
    parser.add_argument("--without", action="append", default=[], metavar="RUN",
                        help="leave a run out, by its name in the report (e.g. Fixit); repeatable")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.mode == "profile":
        run_profile(Path(args.output) if args.output else HERE / "profile.md")
    else:
        run_benchmark(args.rounds, tools_dir(args.tools), Path(args.output) if args.output else HERE / "results.md",
                      args.without)
    return 0


if __name__ == "__main__":
    sys.exit(main())
