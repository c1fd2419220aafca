"""The measuring child's new parts, run here on real threads, forked processes and event loops.

(The child normally runs inside the sandbox, where coverage cannot follow it; these tests
call its functions directly.)
"""

from __future__ import annotations

import asyncio
import time

import pytest

from gillint.verify import probe_child as child
from gillint.verify import verdict as V


def spin(seconds):
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += 1
    return total


def count(n):
    total = 0
    for i in range(n):
        total += i
    return total


def test_sleeping_calls_speed_up_on_threads_and_a_gil_bound_loop_does_not() -> None:
    deadline = time.perf_counter() + 30
    sleeping = child.timing(time.sleep, (0.02,), {}, 0.02, deadline, rounds=2, unit_seconds=0.1)
    assert sleeping["rounds"] == 2 and sleeping["calls_per_unit"] == 5
    assert set(sleeping["seconds"]) == {"serial", "threads", "processes"}
    # Timings never decide a test (the machines are shared): what the figures are is checked, and
    # the figures themselves are recorded by bench/verify_repeatability.py.
    for variant in ("threads_speedup", "processes_speedup"):
        assert len(sleeping[variant]["rounds"]) == 2 and all(r > 0 for r in sleeping[variant]["rounds"])
        assert min(sleeping[variant]["rounds"]) <= sleeping[variant]["median"] <= max(sleeping[variant]["rounds"])
    began = time.perf_counter()
    count(200_000)
    per_call = time.perf_counter() - began
    looping = child.timing(count, (200_000,), {}, per_call, deadline, rounds=2, unit_seconds=0.05, processes=False)
    assert "processes" not in looping["seconds"] and looping["free_cores"] is not None
    judged = V.judge_speedups(V.GIL_BOUND, None, looping)["threads"]
    # whatever the load made of it, a figure that contradicts "gil-bound" is never shown unexplained
    if judged["shown"] and judged["median"] >= 1.3:
        assert judged.get("disagrees") and "note" in judged


def test_timing_is_skipped_rather_than_cut_short() -> None:
    soon = time.perf_counter() + 0.5
    assert "too long" in child.timing(spin, (0.2,), {}, 0.2, soon)["skipped"]
    assert child.timing(spin, (0.2,), {}, 0.0, soon)["skipped"] == "no call finished"


def test_a_coroutine_is_run_on_a_loop_and_its_longest_block_is_measured() -> None:
    async def handler(first, second):
        spin(first)
        await asyncio.sleep(0.05)
        spin(second)
        return "ok"

    call, kind = child.wrap_callable(handler)
    assert kind == "coroutine"
    assert call(0.03, 0.005) == "ok"
    (block,) = call.blocks
    assert 0.025 < block < 0.07  # the first stretch, not the whole call (which also slept 50 ms and spun again)

    async def quick():
        return 1

    quick_call, _ = child.wrap_callable(quick)
    quick_call()
    assert quick_call.blocks[0] < 0.005


def test_generators_are_exhausted() -> None:
    seen = []

    def produce(count):
        for i in range(count):
            seen.append(i)
            yield i

    call, kind = child.wrap_callable(produce)
    assert kind == "generator"
    call(3)
    assert seen == [0, 1, 2]

    async def agen(count):
        for i in range(count):
            seen.append(-i)
            yield i

    async_call, async_kind = child.wrap_callable(agen)
    assert async_kind == "async-generator"
    async_call(2)
    assert seen[-2:] == [0, -1]
    assert child.wrap_callable(len) == (len, "function")


def test_the_largest_sized_argument_is_scaled() -> None:
    assert child.scalable_argument((True, 5, "abc"), {"rows": [1] * 10}) == ("rows", [1] * 10, 10)
    assert child.scalable_argument((1, None, 2.5), {}) is None
    assert child.scaled(7, 10) == 70 and child.scaled("ab", 3) == "ababab" and child.scaled((1,), 2) == (1, 1)
    with pytest.raises(MemoryError):
        child.scaled([0] * 1000, 10 ** 6)


def test_the_size_ladder_times_each_scale_until_the_next_would_not_fit() -> None:
    def linear(n):
        total = 0
        for i in range(n):
            total += i
        return total

    ladder = child.size_ladder({"ladder": "scale"}, linear, (20_000,), {}, time.perf_counter() + 3)
    assert ladder["mode"] == "scale" and ladder["argument"] == 0 and ladder["type"] == "int"
    timed = [r for r in ladder["rungs"] if "seconds" in r]
    assert [r["factor"] for r in timed][:2] == [1, 10]
    assert 2 < timed[1]["seconds"] / timed[0]["seconds"] < 40  # ten times the work (on a busy machine, roughly)
    assert "grows" in V.growth(ladder)
    tight = child.size_ladder({"ladder": "scale"}, linear, (200_000,), {}, time.perf_counter() + 0.3)
    # x100 of 200,000 iterations cannot fit in 0.3 s: the ladder stops before it, saying why when it
    # could time the smaller rungs (on a starved machine even x1 may not finish, which stops it too)
    assert len([r for r in tight["rungs"] if "seconds" in r]) < 3
    assert any("would take about" in r.get("skipped", "") for r in tight["rungs"]) or not any(
        "seconds" in r for r in tight["rungs"][1:])
    none = child.size_ladder({"ladder": "scale"}, linear, (), {"flag": True}, time.perf_counter() + 1)
    assert none == {"skipped": "no argument is a sized value (int, str, bytes, list or tuple)"}
    assert child.size_ladder({}, linear, (1,), {}, time.perf_counter() + 1) is None
    failing = child.size_ladder({"ladder": "scale"}, lambda n: 1 // (n - 20), (2,), {}, time.perf_counter() + 1)
    assert any("ZeroDivisionError" in r.get("error", "") for r in failing["rungs"])


def test_a_recorded_ladder_times_each_recorded_call(tmp_path) -> None:
    import json
    import pickle

    paths = []
    for size in (10, 1000):
        path = tmp_path / ("%d.pkl" % size)
        meta = json.dumps({"size": size}).encode()
        path.write_bytes(len(meta).to_bytes(4, "big") + meta + pickle.dumps({"args": (list(range(size)),),
                                                                           "kwargs": {}}))
        paths.append({"path": str(path), "size": size})
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(b"\x00\x00\x00\x02{}garbage")
    paths.insert(0, {"path": str(broken), "size": 1})

    def rebuild(path):
        provided = child.load_sample(path)
        return sum, provided["args"], provided["kwargs"]

    ladder = child.size_ladder({"ladder": "samples", "ladder_samples": paths}, sum, (), {},
                               time.perf_counter() + 2, rebuild)
    assert ladder["mode"] == "samples"
    assert "do not unpickle" in ladder["rungs"][0]["error"]
    assert [r["size"] for r in ladder["rungs"][1:]] == [10, 1000]
    assert all(r["seconds"] > 0 for r in ladder["rungs"][1:])


def test_a_call_that_does_not_return_is_cut_off() -> None:
    box = child.time_calls(spin, (1.0,), {}, 0.1)
    assert box == {"cut_off": True}


class _InflatedQueue:
    """A schedstat reader whose queue time grows by 50 ms between every two reads, as a busy kernel can report."""

    works = True

    def __init__(self):
        self.queued = 0.0

    def read(self):
        self.queued += 0.05
        return 0.0, self.queued


def test_queue_time_is_counted_only_up_to_each_wake_ups_lateness() -> None:
    lost, wakes, wall, queued = child.probe_lateness(0.05, 0.001, queue=_InflatedQueue())
    assert wakes >= 5 and wall >= 0.05
    # 50 ms reported per wake-up, yet a wake-up can only have been delayed by as long as it was late.
    assert queued <= lost + 1e-9
    lost, wakes, wall, queued = child.probe_lateness(0.02, 0.001)
    assert queued is None  # no reader: the caller falls back to the window's schedstat


def test_a_window_reports_queue_time_both_attributed_and_whole() -> None:
    measured = child.measure_window(0.05, 0.001, 0.0, [child.native_id()])
    assert 0 <= measured["probe_queued"] <= measured["probe_queued_whole"] + 0.005
    assert "overlap" not in measured


def test_overlap_counts_the_ticks_in_which_each_worker_and_both_progressed() -> None:
    import threading

    stop = threading.Event()
    tids = []

    def spin_until_stopped():
        tids.append(child.native_id())
        while not stop.is_set():
            pass

    workers = [threading.Thread(target=spin_until_stopped) for _ in range(2)]
    for worker in workers:
        worker.start()
    while len(tids) < 2:
        time.sleep(0.001)
    try:
        measured = child.measure_window(0.1, 0.001, 0.0, tids, sample_overlap=True)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    overlap = measured["overlap"]
    assert overlap["ticks"] >= 1 and len(overlap["progress_shares"]) == 2
    assert 0 <= overlap["both"] <= min(overlap["progress_shares"])
    assert overlap["expected"] == pytest.approx(overlap["progress_shares"][0] * overlap["progress_shares"][1], abs=1e-3)


def test_sched_reader_off_linux_or_for_a_gone_thread_reads_nothing() -> None:
    reader = child.SchedReader(2 ** 22 + 12345)  # no such thread
    assert reader.works is False and reader.read() is None
    reader.close()
