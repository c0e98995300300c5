"""Distributed load generation: one shared schedule, one clock, merged records.

Fast tests run two local client processes (and two Ray actors, when Ray is
installed) against the in-process stub server; the slow test runs two client
processes against the real llama.cpp server of ``test_real_server``.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from inferplan.bench import BenchConfig
from inferplan.bench.loadgen import Arrival, Profile, StagePlan, arrival_offsets
from inferplan.bench.results import Phase, RequestRecord, read_records
from inferplan.bench.workers import (
    WORKERS_FILE,
    anchored_clock,
    closed_slices,
    run_distributed,
    split_stage,
    stage_offsets,
)
from inferplan.errors import SpecError

from .stub_server import StubServer

try:  # the real-server fixture (module scope: this module starts its own server)
    from .test_real_server import NO_EOS, llama_server  # noqa: F401
except ImportError:  # pragma: no cover - the fixture moved to conftest.py
    NO_EOS = {"logit_bias": {"0": -100, "2": -100}}

Stub = Callable[..., AbstractContextManager[StubServer]]


def test_open_loop_stage_is_dealt_round_robin() -> None:
    # constant 4 req/s: send offsets 0, 0.25, ..., 2.25 s for 10 requests, ids from 2
    plan = StagePlan(
        stage=0, profile=Profile.RATE, rate_req_per_s=4.0, arrival=Arrival.CONSTANT, max_requests=10
    )
    slices, next_id = split_stage(plan, 3, seed=0, id_base=2, start_s=1.0)
    assert next_id == 12
    assert [s.ids for s in slices] == [(2, 5, 8, 11), (3, 6, 9), (4, 7, 10)]
    assert slices[0].offsets_s == (0.0, 0.75, 1.5, 2.25)
    assert [s.plan.max_requests for s in slices] == [4, 3, 3]
    assert all(s.start_s == 1.0 for s in slices)


def test_shared_schedule_is_the_single_client_schedule() -> None:
    plan = StagePlan(stage=1, profile=Profile.RATE, rate_req_per_s=9.0, max_requests=25)
    slices, _ = split_stage(plan, 2, seed=7, id_base=0, start_s=0.0)
    merged = sorted(t for s in slices for t in s.offsets_s)
    one_client = arrival_offsets(9.0, Arrival.POISSON, random.Random("7:arrivals:1"))
    assert merged == [next(one_client) for _ in range(25)]


def test_duration_bounds_an_open_loop_stage() -> None:
    # 4 req/s constant for 1 s: sends at 0, 0.25, 0.5, 0.75 (1.0 is the horizon, not sent)
    plan = StagePlan(
        stage=0, profile=Profile.RATE, rate_req_per_s=4.0, arrival=Arrival.CONSTANT, duration_s=1.0
    )
    offsets, _ = stage_offsets(plan, 0)
    assert offsets == [0.0, 0.25, 0.5, 0.75]
    with pytest.raises(ValueError):
        stage_offsets(StagePlan(stage=0, profile=Profile.RATE, rate_req_per_s=1.0), 0)


def test_closed_loop_splits_users_and_budget() -> None:
    plan = StagePlan(stage=0, profile=Profile.CONCURRENCY, concurrency=5, max_requests=7)
    a, b = closed_slices(plan, 2, 5, id_base=3, start_s=0.0)
    # 5 users -> 3 + 2; 7 requests -> 4 + 3; ids 3 + w + 2j
    assert (a.plan.concurrency, b.plan.concurrency) == (3, 2)
    assert (a.plan.max_requests, b.plan.max_requests) == (4, 3)
    assert a.stride == b.stride == 2
    one, idle = closed_slices(plan, 2, 1, id_base=0, start_s=0.0)
    assert (one.plan.concurrency, one.plan.max_requests) == (1, 7)
    assert (idle.plan.concurrency, idle.plan.max_requests) == (0, 0)


def test_anchored_clocks_agree() -> None:
    t0 = time.time() - 5.0
    c1, width = anchored_clock(t0)
    c2, _ = anchored_clock(t0)
    assert width < 1e-3
    assert abs(c1() - c2()) < 1e-3  # the same instant on two anchored clocks
    assert abs(c1() - (time.time() - t0)) < 5e-3


def _measured(out: Path) -> list[RequestRecord]:
    return [r for r in read_records(out / "records.jsonl") if r.phase is Phase.MEASURE]


def test_two_process_workers_share_one_open_loop_schedule(
    threaded_stub: Stub, tmp_path: Path
) -> None:
    with threaded_stub(token_delay_s=0.002) as stub:
        cfg = BenchConfig(
            url=f"http://127.0.0.1:{stub.port}/v1",
            rate=(50.0,),
            arrival=Arrival.CONSTANT,
            max_requests=20,
            warmup=2,
            isl="16",
            osl="8",
            output_dir=tmp_path / "run",
        )
        outcome = run_distributed(cfg, 2)
        # 2 warm-up + 3 calibration (2 unstreamed, 1 streamed twin) + 20 measured
        assert stub.counters.requests == 25
    recs = _measured(tmp_path / "run")
    assert outcome.summary.counts["ok"] == 20 and len(recs) == 20
    assert [r.request_id for r in recs] == list(range(2, 22))  # after the 2 warm-up ids
    for r in recs:
        assert r.worker_id % 2 == (r.request_id - 2) % 2  # request k went to worker k mod 2
        assert r.sent_s is not None and r.scheduled_s is not None and r.sent_s >= r.scheduled_s
    # constant 50 req/s: scheduled 1/50 = 0.02 s apart on the one clock, across workers
    gaps = [b.scheduled_s - a.scheduled_s for a, b in itertools.pairwise(recs)]  # type: ignore[operator]
    assert gaps == pytest.approx([0.02] * 19, abs=1e-9)
    health = json.loads((tmp_path / "run" / WORKERS_FILE).read_text())
    assert [w["worker"] for w in health["workers"]] == [0, 1]
    assert len({w["pid"] for w in health["workers"]}) == 2
    per_worker = [(s["worker"], s["requests"], s["ok"]) for s in health["stages"]]
    assert per_worker == [(0, 10, 10), (1, 10, 10)]
    assert all("client_health" in s for s in health["stages"])


def _max_overlap(recs: list[RequestRecord]) -> int:
    events = sorted(
        [(r.sent_s, 1) for r in recs if r.sent_s is not None]
        + [(r.end_s, -1) for r in recs if r.end_s is not None]
    )
    now = top = 0
    for _, step in events:
        now += step
        top = max(top, now)
    return top


def test_two_workers_split_a_closed_loop(threaded_stub: Stub, tmp_path: Path) -> None:
    with threaded_stub(token_delay_s=0.01) as stub:
        cfg = BenchConfig(
            url=f"http://127.0.0.1:{stub.port}/v1",
            concurrency=(4,),
            max_requests=12,
            warmup=0,
            isl="16",
            osl="10",
            output_dir=tmp_path / "run",
            calibrate_prompts=False,
        )
        run_distributed(cfg, 2)
    recs = _measured(tmp_path / "run")
    assert sorted(r.request_id for r in recs) == list(range(12))
    assert {r.worker_id for r in recs} == {0, 1, 2, 3}  # 2 virtual users per worker
    # each request streams 10 tokens 10 ms apart (~0.1 s); with 4 users on the merged
    # clock at most 4 are in flight at once, and both workers' users overlap
    assert _max_overlap(recs) == 4


def test_bad_worker_options_are_rejected(tmp_path: Path) -> None:
    cfg = BenchConfig(url="http://127.0.0.1:9/v1", output_dir=tmp_path / "r")
    with pytest.raises(SpecError) as err:
        run_distributed(cfg, 0)
    assert err.value.field == "workers"
    with pytest.raises(SpecError) as err:
        run_distributed(cfg, 2, "threads")
    assert err.value.field == "executor"


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_two_ray_actor_workers(threaded_stub: Stub, tmp_path: Path) -> None:
    with threaded_stub(token_delay_s=0.002) as stub:
        cfg = BenchConfig(
            url=f"http://127.0.0.1:{stub.port}/v1",
            rate=(40.0,),
            arrival=Arrival.CONSTANT,
            max_requests=10,
            warmup=2,
            isl="16",
            osl="8",
            output_dir=tmp_path / "run",
            calibrate_prompts=False,
        )
        outcome = run_distributed(cfg, 2, "ray")
    recs = _measured(tmp_path / "run")
    assert outcome.summary.counts["ok"] == 10
    assert sorted(r.request_id for r in recs) == list(range(2, 12))
    assert {r.worker_id % 2 for r in recs} == {0, 1}
    health = json.loads((tmp_path / "run" / WORKERS_FILE).read_text())
    assert len({w["pid"] for w in health["workers"]}) == 2


@pytest.mark.slow
def test_two_workers_against_llama_cpp(llama_server: str, tmp_path: Path) -> None:
    isl, osl = 32, 16
    cfg = BenchConfig(
        url=llama_server + "/v1",
        concurrency=(2,),
        max_requests=4,
        warmup=2,
        isl=str(isl),
        osl=str(osl),
        extra_body=NO_EOS,
        output_dir=tmp_path / "run",
    )
    outcome = run_distributed(cfg, 2)
    recs = _measured(tmp_path / "run")
    assert outcome.summary.counts["ok"] == 4 and len(recs) == 4
    assert sorted(r.request_id for r in recs) == [2, 3, 4, 5]
    assert {r.worker_id % 2 for r in recs} == {0, 1}  # both client processes sent requests
    for r in recs:
        assert r.output_tokens == osl == r.client_chunk_count
        assert r.sent_s is not None and r.first_token_s is not None and r.end_s is not None
        assert r.sent_s < r.first_token_s <= (r.last_token_s or 0) <= r.end_s
    # llama-cpp-python serves one request at a time: on a correct common clock the token
    # streams of two requests never overlap (5 ms allowed for loopback delivery)
    streams = sorted((r.first_token_s, r.last_token_s) for r in recs)  # type: ignore[type-var]
    for (_, end_a), (start_b, _) in itertools.pairwise(streams):
        assert start_b >= end_a - 0.005  # type: ignore[operator]
    stage = outcome.summary.stages[0]
    window = max(r.end_s for r in recs) - min(r.sent_s for r in recs)  # type: ignore[type-var, operator]
    assert stage.output_tokens_total == 4 * osl
    assert stage.output_tokens_per_s == pytest.approx(4 * osl / window)
