"""Load profiles with a fake backend (no network): who sends when, limits, abort, cancel."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time

import pytest

from inferplan.bench.client import PlannedRequest
from inferplan.bench.loadgen import (
    Arrival,
    LoadGenerator,
    Profile,
    StagePlan,
    arrival_offsets,
)
from inferplan.bench.prompts import TraceEntry
from inferplan.bench.results import ErrorKind, Phase, RequestRecord


class FakeBackend:
    """Each request takes ``service_s``; tracks the peak number in flight."""

    def __init__(self, service_s: float = 0.01, fail: ErrorKind | None = None) -> None:
        self.service_s = service_s
        self.fail = fail
        self.in_flight = 0
        self.peak = 0
        self.t0 = time.perf_counter()

    def clock(self) -> float:
        return time.perf_counter() - self.t0

    async def send(self, planned: PlannedRequest, record: RequestRecord) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        record.sent_s = self.clock()
        try:
            await asyncio.sleep(self.service_s)
        except asyncio.CancelledError:
            record.error_kind = ErrorKind.INCOMPLETE
            raise
        finally:
            self.in_flight -= 1
            record.end_s = self.clock()
        if self.fail is not None:
            record.error_kind = self.fail
            record.error_message = "fake"
        else:
            record.output_tokens = planned.max_tokens


def _sink() -> list[RequestRecord]:
    return []


def _make(rid: int, stage: int, phase: Phase, entry: TraceEntry | None) -> PlannedRequest:
    return PlannedRequest(rid, "p", entry.output_tokens if entry else 4, stage=stage, phase=phase)


def _gen(backend: FakeBackend, sink: list[RequestRecord], **kw: object) -> LoadGenerator:
    return LoadGenerator(backend, _make, backend.clock, sink.append, **kw)  # type: ignore[arg-type]


async def test_concurrency_limit_and_request_count() -> None:
    backend, sink = FakeBackend(0.02), _sink()
    gen = _gen(backend, sink)
    run = await gen.run_stage(StagePlan(0, Profile.CONCURRENCY, concurrency=3, max_requests=9))
    assert run.issued == 9 and len(sink) == 9 and backend.peak == 3
    assert {r.worker_id for r in run.records} == {0, 1, 2}
    assert sorted(r.request_id for r in sink) == list(range(9))
    assert gen.completed == 9 and gen.output_tokens == 36


async def test_synchronous_is_one_at_a_time() -> None:
    backend, sink = FakeBackend(0.005), _sink()
    await _gen(backend, sink).run_stage(StagePlan(0, Profile.SYNCHRONOUS, max_requests=5))
    assert backend.peak == 1
    for a, b in itertools.pairwise(sink):
        assert (a.end_s or 0) <= (b.sent_s or 0)


async def test_duration_stops_issuing_then_drains() -> None:
    backend, sink = FakeBackend(0.05), _sink()
    run = await _gen(backend, sink).run_stage(
        StagePlan(0, Profile.CONCURRENCY, concurrency=2, duration_s=0.12)
    )
    # 2 workers x ceil(0.12 / 0.05) = 3 rounds -> 6 requests on a quiet machine (fewer
    # when the machine is busy and sleeps run long): none issued after the deadline, and
    # every issued request completed (drained), never more than 3 rounds
    assert 2 <= run.issued <= 6 and all(r.error_kind is None for r in sink)
    assert all((r.scheduled_s or 0) < run.started_s + 0.12 for r in sink)
    assert run.ended_s >= max(r.end_s or 0 for r in sink)


async def test_constant_rate_schedule_and_lag() -> None:
    backend, sink = FakeBackend(0.001), _sink()
    run = await _gen(backend, sink).run_stage(
        StagePlan(0, Profile.RATE, rate_req_per_s=50, arrival=Arrival.CONSTANT, max_requests=10)
    )
    # 50 req/s -> one every 0.02 s: offsets 0, 0.02, ..., 0.18 from the stage start
    offsets = [
        (r.scheduled_s or 0) - run.started_s for r in sorted(sink, key=lambda r: r.request_id)
    ]
    assert offsets == pytest.approx([0.02 * i for i in range(10)], abs=1e-9)
    # never sent early; how late on a busy machine is benchmarks/bench_client.py's business
    # (the bound below is one a loaded machine cannot break)
    lags = [(r.sent_s or 0) - (r.scheduled_s or 0) for r in sink]
    assert min(lags) >= 0 and max(lags) < 1.0
    assert run.loop_lag_s  # the monitor sampled the loop


async def test_max_concurrency_caps_open_loop() -> None:
    backend, sink = FakeBackend(0.05), _sink()
    await _gen(backend, sink).run_stage(
        StagePlan(0, Profile.RATE, rate_req_per_s=1000, max_concurrency=2, max_requests=6)
    )
    assert backend.peak == 2 and len(sink) == 6
    assert {r.worker_id for r in sink} == {0, 1}


async def test_trace_replay_uses_trace_times_and_lengths() -> None:
    backend, sink = FakeBackend(0.001), _sink()
    trace = (TraceEntry(0.0, 5, 7), TraceEntry(0.2, 5, 9), TraceEntry(0.4, 5, 11))
    run = await _gen(backend, sink).run_stage(
        StagePlan(0, Profile.TRACE, trace=trace, trace_speedup=4.0)
    )
    offsets = sorted((r.scheduled_s or 0) - run.started_s for r in sink)
    assert offsets == pytest.approx([0.0, 0.05, 0.1])  # 0.2 s / 4 = 0.05 s
    assert sorted(r.output_tokens or 0 for r in sink) == [7, 9, 11]


def test_poisson_and_gamma_gaps() -> None:
    rng = random.Random(7)
    n, rate = 4000, 10.0
    pois = list(zip(range(n + 1), arrival_offsets(rate, Arrival.POISSON, rng), strict=False))
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(pois)]
    # exponential: mean 1/R = 0.1 s, coefficient of variation 1; sd of the mean 0.1/sqrt(4000)
    assert statistics.mean(gaps) == pytest.approx(0.1, rel=0.05)
    assert statistics.stdev(gaps) / statistics.mean(gaps) == pytest.approx(1.0, rel=0.08)
    gam = list(zip(range(n + 1), arrival_offsets(rate, Arrival.GAMMA, rng, 4.0), strict=False))
    ggaps = [b[1] - a[1] for a, b in itertools.pairwise(gam)]
    # shape 4: mean still 0.1 s, cv = 1/sqrt(4) = 0.5
    assert statistics.mean(ggaps) == pytest.approx(0.1, rel=0.05)
    assert statistics.stdev(ggaps) / statistics.mean(ggaps) == pytest.approx(0.5, rel=0.08)


async def test_consecutive_connect_errors_stop_the_run() -> None:
    backend, sink = FakeBackend(0.001, fail=ErrorKind.CONNECT), _sink()
    gen = _gen(backend, sink, abort_after_connect_errors=3)
    run = await gen.run_stage(StagePlan(0, Profile.SYNCHRONOUS, max_requests=50))
    assert run.issued == 3 and gen.stop_reason is not None and "3 requests" in gen.stop_reason


async def test_cancelled_stage_writes_incomplete_records() -> None:
    backend, sink = FakeBackend(10.0), _sink()
    gen = _gen(backend, sink)
    task = asyncio.create_task(
        gen.run_stage(StagePlan(0, Profile.CONCURRENCY, concurrency=3, max_requests=3))
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(sink) == 3 and all(r.error_kind is ErrorKind.INCOMPLETE for r in sink)


async def test_warmup_records_are_marked() -> None:
    backend, sink = FakeBackend(0.001), _sink()
    gen = _gen(backend, sink)
    await gen.run_warmup(2, 2)
    assert [r.phase for r in sink] == [Phase.WARMUP, Phase.WARMUP]
