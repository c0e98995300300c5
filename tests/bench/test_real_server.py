"""Benchmark a real llama.cpp server (llama-cpp-python) running SmolLM2-135M-Instruct.

The server (``llama_server.py``) runs on 127.0.0.1 with one thread; requests are short
(32 input, 16 output tokens): the module takes about 10-20 s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inferplan.bench import BenchConfig, run_benchmark
from inferplan.bench.client import Endpoint
from inferplan.bench.prompts import LengthDist, PromptCalibration, PromptFactory
from inferplan.bench.results import Phase, read_records

from .llama_server import NO_EOS, ServerUnavailable, start_llama_server

__all__ = ["NO_EOS", "llama_server"]

pytestmark = pytest.mark.slow

ISL, OSL = 32, 16


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with start_llama_server(tmp_path_factory.mktemp("llama")) as url:
            yield url
    except ServerUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def sweep(llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "sweep"
    cfg = BenchConfig(
        url=llama_server + "/v1",
        concurrency=(1, 2),
        max_requests=6,
        warmup=1,
        isl=str(ISL),
        osl=str(OSL),
        extra_body=NO_EOS,
        output_dir=out,
        slo_ttft_s=5.0,
    )
    run_benchmark(cfg)
    return out


def test_engine_and_metadata(sweep: Path) -> None:
    meta = json.loads((sweep / "run.json").read_text())
    assert meta["engine"] == "llama-cpp-python" and meta["engine_version"]
    assert meta["client"]["server_is_local"] and meta["client"]["cpu_count"]
    assert meta["server_info"]["metrics_available"] is False  # this server has no /metrics


def test_usage_tokens_equal_streamed_tokens(sweep: Path) -> None:
    cal = json.loads((sweep / "run.json").read_text())["prompt_calibration"]
    # the same deterministic request, unstreamed (server usage) and streamed (chunks)
    assert cal["twin_unstreamed_completion_tokens"] == cal["twin_streamed_chunks"] > 0
    records = [r for r in read_records(sweep / "records.jsonl") if r.phase is Phase.MEASURE]
    assert len(records) == 12 and all(r.ok for r in records)
    for r in records:
        assert r.client_chunk_count == OSL == r.output_tokens and r.finish_reason == "length"


def test_timestamps_are_consistent(sweep: Path) -> None:
    for r in read_records(sweep / "records.jsonl"):
        assert r.sent_s is not None and r.first_token_s is not None and r.end_s is not None
        assert r.sent_s < r.first_token_s <= (r.last_token_s or 0) <= r.end_s
        assert r.ttft_s is not None and r.e2e_s is not None and 0 < r.ttft_s < r.e2e_s
        assert r.token_times_s == sorted(r.token_times_s)
        # TPOT = (E2E - TTFT) / (16 - 1)
        assert r.tpot_s == pytest.approx((r.e2e_s - r.ttft_s) / (OSL - 1))


def test_throughput_is_tokens_over_window(sweep: Path) -> None:
    summary = json.loads((sweep / "summary.json").read_text())
    records = read_records(sweep / "records.jsonl")
    for stage in summary["stages"]:
        mine = [r for r in records if r.phase is Phase.MEASURE and r.stage == stage["stage"]]
        window = max(r.end_s or 0 for r in mine) - min(r.sent_s or 0 for r in mine)
        tokens = sum(r.output_tokens or 0 for r in mine)
        assert tokens == 6 * OSL == stage["output_tokens_total"]
        assert stage["window_s"] == pytest.approx(window)
        assert stage["output_tokens_per_s"] == pytest.approx(tokens / window)
        assert stage["goodput_rps"] == pytest.approx(6 / window)  # all met TTFT < 5 s
        assert not stage["client_health"]["client_limited"], stage["client_health"]


def test_queueing_shows_at_concurrency_2(sweep: Path) -> None:
    # one llama.cpp context serves one request at a time: at concurrency 2 a request's
    # first token comes only after the other client's request has finished. Checked on
    # the timestamps of one stage, so a machine whose speed changes cannot break it.
    records = [r for r in read_records(sweep / "records.jsonl") if r.stage == 1]
    waited = 0
    for r in records:
        assert r.sent_s is not None and r.first_token_s is not None
        waited += any(
            o is not r and o.last_token_s is not None
            and r.sent_s < o.last_token_s <= r.first_token_s
            for o in records
        )
    assert len(records) >= 6 and waited >= len(records) // 2


def test_calibrated_prompt_hits_the_input_length(sweep: Path, llama_server: str) -> None:
    cal = json.loads((sweep / "run.json").read_text())["prompt_calibration"]
    factory = PromptFactory(
        LengthDist.parse("isl", "64"),
        LengthDist.parse("osl", "1"),
        seed=99,
        calibration=PromptCalibration(cal["tokens_per_word"], cal["overhead_tokens"]),
    )
    planned = factory.make(12345)
    answer = httpx.post(
        llama_server + "/v1/chat/completions",
        timeout=60,
        json={
            "model": "m",
            "max_tokens": 1,
            "messages": [{"role": "user", "content": planned.prompt}],
        },
    )
    assert abs(answer.json()["usage"]["prompt_tokens"] - 64) <= 3


def test_completions_endpoint(llama_server: str, tmp_path: Path) -> None:
    cfg = BenchConfig(
        url=llama_server,
        endpoint=Endpoint.COMPLETIONS,
        max_requests=2,
        warmup=0,
        isl="16",
        osl="8",
        extra_body=NO_EOS,
        output_dir=tmp_path / "c",
        calibrate_prompts=False,
    )
    outcome = run_benchmark(cfg)
    assert outcome.summary.counts["ok"] == 2
    assert outcome.summary.stages[0].output_tokens_total == 16
