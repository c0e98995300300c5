"""Faulty servers: every error counted by kind, good measurements kept, data survives
interruption (SIGINT), a kill (SIGKILL) and a server that dies mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from inferplan.bench import BenchConfig, run_benchmark
from inferplan.bench.results import read_records, read_summary

from .stub_server import StubServer

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
CYCLE = [
    "normal",
    "http429",
    "normal",
    "http500",
    "normal",
    "drop",
    "normal",
    "malformed",
    "normal",
    "truncated",
    "normal",
    "stall",
    "normal",
    "error_event",
]


def test_fault_mix_is_counted_by_kind_and_good_requests_kept(
    threaded_stub: Callable[..., AbstractContextManager[StubServer]], out_dir: Path
) -> None:
    with threaded_stub(cycle=CYCLE) as server:
        cfg = BenchConfig(
            url=server.url,
            max_requests=len(CYCLE),
            warmup=0,
            isl="16",
            osl="8",
            timeout_s=3.0,  # ends the stalled request; long enough for a busy machine
            calibrate_prompts=False,
            output_dir=out_dir,
        )
        outcome = run_benchmark(cfg)
    counts = outcome.summary.counts
    assert counts == {
        "ok": 7,
        "connect": 0,
        "timeout": 1,
        "http_status": 2,
        "stream_aborted": 1,
        "truncated": 1,
        "malformed": 2,
        "incomplete": 0,
        "total": 14,
    }
    records = read_records(out_dir / "records.jsonl")
    assert len(records) == 14
    good = [r for r in records if r.ok]
    assert len(good) == 7 and all(r.output_tokens == 8 == r.client_chunk_count for r in good)
    stage = outcome.summary.stages[0]
    assert stage.ttft_s.count == 7 and stage.output_tokens_total == 56  # 7 x 8, errors excluded
    statuses = sorted(r.http_status or 0 for r in records if r.error_kind == "http_status")
    assert statuses == [429, 500]


def _start_stub(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "stub_server.py"),
            "--port",
            "0",
            "--max-lifetime-s",
            "60",
            *args,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY"), line
    return proc, f"http://127.0.0.1:{line.split()[1]}"


@pytest.fixture
def slow_stub() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, url = _start_stub("--token-delay-s", "0.005")
    yield proc, url
    proc.kill()
    proc.wait(5)


def _bench(url: str, out: Path, *extra: str, own_group: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE.parent)])}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.cli_app",
            "bench",
            "--url",
            url,
            "--no-progress",
            "-o",
            str(out),
            "--isl",
            "16",
            "--osl",
            "8",
            "--warmup",
            "1",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=own_group,  # a group of its own: killed with its workers
    )


def _wait_for_lines(path: Path, n: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines")


def test_sigint_keeps_records_and_writes_a_summary(slow_stub: tuple, tmp_path: Path) -> None:
    _, url = slow_stub
    out = tmp_path / "run"
    proc = _bench(url, out, "-n", "5000")
    _wait_for_lines(out / "records.jsonl", 5)
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert stderr.strip().count("\n") == 0 and "interrupted" in stderr and "Traceback" not in stderr
    records = read_records(out / "records.jsonl")
    assert len(records) >= 5
    summary = read_summary(out / "summary.json")
    assert summary.interrupted and summary.counts["ok"] >= 4
    assert (out / "report.html").exists() and (out / "records.csv").exists()


def test_sigkill_keeps_whole_lines_and_report_rebuilds(slow_stub: tuple, tmp_path: Path) -> None:
    _, url = slow_stub
    out = tmp_path / "run"
    proc = _bench(url, out, "-n", "5000")
    _wait_for_lines(out / "records.jsonl", 5)
    proc.kill()
    proc.wait(10)
    assert not (out / "summary.json").exists()
    lines = (out / "records.jsonl").read_text().splitlines()
    assert all(json.loads(line)["request_id"] >= 0 for line in lines[:-1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE.parent)])}
    rebuilt = subprocess.run(
        [sys.executable, "-m", "bench.cli_app", "bench", "report", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert read_summary(out / "summary.json").counts["total"] >= 4


def test_server_dying_mid_run_is_a_one_line_error_and_data_is_kept(tmp_path: Path) -> None:
    stub, url = _start_stub("--token-delay-s", "0.005")
    out = tmp_path / "run"
    try:
        proc = _bench(url, out, "-n", "5000", "--timeout", "5")
        _wait_for_lines(out / "records.jsonl", 5)
        stub.kill()
        stub.wait(5)
        _, stderr = proc.communicate(timeout=60)
    finally:
        stub.kill()
    assert proc.returncode == 2
    assert stderr.strip().count("\n") == 0 and "Traceback" not in stderr
    assert stderr.startswith("error: url: run stopped") and "records kept in" in stderr
    summary = read_summary(out / "summary.json")
    assert summary.aborted_reason and summary.counts["connect"] >= 5
    assert summary.counts["ok"] >= 4


def _lines_in(paths: list[Path]) -> int:
    return sum(len(p.read_text().splitlines()) for p in paths if p.is_file())


def test_workers_killed_keep_every_finished_request(slow_stub: tuple, tmp_path: Path) -> None:
    """kill -9 of a ``--workers 2`` run: each worker's record file holds what it finished,
    and ``bench report`` rebuilds the run from them."""
    _, url = slow_stub
    out = tmp_path / "run"
    proc = _bench(url, out, "-n", "5000", "--workers", "2", "-c", "2", own_group=True)
    deadline = time.monotonic() + 60
    while _lines_in(list(out.glob("records.worker*.jsonl"))) < 6:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "workers wrote no records"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the bench and its worker processes, nothing else
    proc.communicate(timeout=10)
    files = sorted(out.glob("records.worker*.jsonl"))
    assert len(files) == 2 and not (out / "summary.json").exists()
    finished = {
        json.loads(line)["request_id"]
        for f in files
        for line in f.read_text().splitlines()[:-1]  # the last line may be cut
        if json.loads(line)["phase"] == "measure"
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE.parent)])}
    rebuilt = subprocess.run(
        [sys.executable, "-m", "bench.cli_app", "bench", "report", str(out)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert read_summary(out / "summary.json").counts["total"] >= len(finished) >= 2
