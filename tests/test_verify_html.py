"""`gillint verify --html`: a self-contained page with a chart per finding, checked as a browser shows it."""

from __future__ import annotations

import re
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pytest

from conftest import ROOT
from gillint.verify import verdict as V
from gillint.verify.html import render_html
from gillint.verify.runner import VerifyRun

sys.path.insert(0, str(ROOT / "bench"))


def _timed(serial, threads, processes, free=1.9):
    def figures(values):
        ordered = sorted(values)
        return {"median": ordered[len(ordered) // 2], "min": ordered[0], "max": ordered[-1], "rounds": values}

    return {"free_cores": free, "rounds": len(serial), "seconds": {"serial": serial, "threads": threads,
                                                                   "processes": processes},
            "threads_speedup": figures([s / t for s, t in zip(serial, threads)]),
            "processes_speedup": figures([s / p for s, p in zip(serial, processes)])}


def _result(label, verdict, timing=None, ladder=None, gil_off=None, **fields):
    result = V.VerifyResult(label=label, path="app.py", line=3, code="GIL101", qualname="f", verdict=verdict,
                            gil_frac=0.88 if verdict == V.GIL_BOUND else 0.02, run_frac=1.0, call_seconds=0.05,
                            timing=timing or {}, ladder=ladder, gil_off=gil_off, arguments="literals at the start site",
                            **fields)
    result.speedups = V.judge_speedups(verdict, None, result.timing, (gil_off or {}).get("timing"))
    result.magnitude, result.meaning = V.magnitude(["GIL101"], result)
    result.growth = V.growth(ladder)
    return result


def sample_run() -> VerifyRun:
    ladder = {"mode": "scale", "rungs": [{"factor": 1, "size": 1000, "seconds": 0.001},
                                         {"factor": 10, "size": 10000, "seconds": 0.0105},
                                         {"factor": 100, "size": 100000, "seconds": 0.11}]}
    results = [
        _result("app.py:3 GIL101 crunch", V.GIL_BOUND, _timed([0.2, 0.21, 0.2], [0.2, 0.2, 0.21], [0.11, 0.1, 0.1]),
                ladder, gil_off={"scales": True, "timing": _timed([0.3, 0.3, 0.31], [0.15, 0.16, 0.15],
                                                                  [0.15, 0.15, 0.15])}),
        _result("app.py:9 GIL101 digest <b>", V.RELEASES, _timed([0.2, 0.2, 0.2], [0.2, 0.1, 0.3], [0.1, 0.1, 0.1],
                                                                 free=0.4)),
        V.VerifyResult(label="app.py:12 GIL101 tally", path="app.py", line=12, code="GIL101", qualname="tally",
                       verdict=V.NOT_RUNNABLE, reason="the tests never called it"),
    ]
    return VerifyRun(results=results, interpreter={"implementation": "cpython", "version": "3.11.7",
                                                   "free_threaded_build": False, "gil_enabled": True},
                     isolation="network namespace (unshare -rn)", planned=3,
                     recording={"command": "python -m pytest -q", "returncode": 0})


def test_the_page_is_self_contained_with_a_chart_per_measured_finding() -> None:
    page = render_html(sample_run())
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<link" not in page
    cards = page.split('<section class="card">')[1:]
    assert len(cards) == 3
    first, second, third = cards
    assert first.count("<svg") == 2  # timing bars and the size ladder
    for label in ("serial", "2 threads", "2 processes", "2 threads, GIL off"):
        assert ">%s</text>" % label in first
    assert "2.00x" in first and "holds the GIL for 50 ms per call" in first
    assert "grows about linearly" in first and "x1, x10, x100" in first
    assert "noise, not shown" in second and "within the noise" in second
    assert "<b>" not in second.split("</h2>")[0].replace("<h2>", "")  # labels are escaped
    assert "&lt;b&gt;" in second
    assert "<svg" not in third and "the tests never called it" in third
    assert "python -m pytest -q" in page
    bars = re.findall(r'<rect x="130" y="\d+" width="([\d.]+)"', first)
    assert len(bars) == 4 and float(bars[2]) < float(bars[0])  # processes took about half the serial time


@pytest.mark.slow
def test_verify_writes_the_page(run_gillint, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import threading\n\n\ndef crunch(n):\n    total = 0\n    for i in range(n):\n"
                                     "        total += i * i\n    return total\n\n\n"
                                     "threading.Thread(target=crunch, args=(20_000,)).start()\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.gillint]\n[tool.gillint.verify]\ntiming-rounds = 2\nladder = false\n"
                                             "timing-unit = 0.03\n", encoding="utf-8")
    done = run_gillint("verify", ".", "--html", "report.html", cwd=str(tmp_path))
    assert done.returncode == 1, done.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "app.py:11 GIL101 crunch" in page and page.count("<svg") >= 1
    assert "evidence: crunch (loop over range(n)" in page
    unwritable = run_gillint("verify", ".", "--html", str(tmp_path / "missing" / "r.html"), cwd=str(tmp_path))
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


def _png_pixels(path: Path):
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of (r, g, b)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, channels)])
        previous = line
    return rows


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (apt-get install -y chromium)")
@pytest.mark.slow
def test_chromium_renders_the_charts(tmp_path: Path) -> None:
    from verify_report_screenshot import screenshot

    html = tmp_path / "report.html"
    html.write_text(render_html(sample_run()), encoding="utf-8")
    png = tmp_path / "report.png"
    screenshot(html, png, 760, 440)  # the first card and its two charts; small, as decoding is pure Python
    rows = _png_pixels(png)
    assert len(rows) == 440 and len(rows[0]) == 760
    colours = {}
    for row in rows:
        for pixel in row:
            colours[pixel] = colours.get(pixel, 0) + 1

    def near(target, tolerance=6):
        return sum(n for c, n in colours.items() if all(abs(a - b) <= tolerance for a, b in zip(c, target)))

    assert near((0xc0, 0x39, 0x2b)) > 500  # the gil-bound badge, the threads bar and the ladder line
    assert near((0x1e, 0x84, 0x49)) > 300  # the releases-gil badge and the processes bar
    assert near((0x5d, 0x6d, 0x7e)) > 300  # the serial bar
    assert near((0x24, 0x71, 0xa3)) > 100  # the GIL-off bar


def test_the_screenshot_script_reports_a_missing_browser(monkeypatch) -> None:
    import verify_report_screenshot as script

    monkeypatch.setattr(script.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="no chromium on PATH"):
        script.find_chromium()


def test_the_text_table_shows_stable_speedups_with_their_spread_and_marks_disagreements() -> None:
    from gillint.verify.report import render_text

    run = sample_run()
    crunch, digest, _ = run.results
    crunch.verdict = V.GIL_BOUND
    crunch.speedups = V.judge_speedups(V.GIL_BOUND, None, _timed([0.2, 0.2, 0.2], [0.105, 0.1, 0.1],
                                                                 [0.1, 0.1, 0.1]))
    crunch.gil_off = {"scales": True}
    digest.gil_off = {"error": "timed out"}
    digest.timing = {"skipped": "no call finished"}
    text = render_text(run)
    row = next(line for line in text.splitlines() if line.startswith("app.py:3 GIL101 crunch"))
    assert "2.00x!±0.05" in row and "2.00x" in row.split()[-2]
    assert "although the probe says it holds the GIL; the probe decides the verdict" in text
    assert "with the GIL off: scales on two threads" in text and "with the GIL off: timed out" in text
    assert "speed-ups not measured: no call finished" in text
    assert "arguments recorded with `python -m pytest -q`" in text
    digest_row = next(line for line in text.splitlines() if line.startswith("app.py:9"))
    assert digest_row.split()[-3:-1] == ["noise", "noise"]
    tally_row = next(line for line in text.splitlines() if line.startswith("app.py:12 GIL101 tally"))
    assert tally_row.split()[-4:-1] == ["-", "-", "-"]
