"""Prometheus parsing, metric deltas, engine detection against emulating stubs."""

from __future__ import annotations

import httpx
import pytest

from inferplan.bench.server import (
    Engine,
    derive_server_metrics,
    is_loopback,
    metrics_delta,
    parse_prometheus,
    probe_server,
)

from .stub_server import StubConfig, StubServer

EXPOSITION = """\
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{model_name="m",engine="0"} 1200.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 3.0
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 4.0
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.5
vllm:time_to_first_token_seconds_count{model_name="m"} 4.0
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 2.0 1700000000000
odd{path="a \\"quoted\\" }value"} NaN
not a sample line
"""


def test_parse_labels_types_and_timestamps() -> None:
    snap = parse_prometheus(EXPOSITION)
    assert snap.values['vllm:prompt_tokens_total{engine="0",model_name="m"}'] == 1200.0
    assert snap.values['vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"}'] == 4.0
    assert snap.values['vllm:num_requests_running{model_name="m"}'] == 2.0  # timestamp dropped
    assert 'odd{path="a \\"quoted\\" }value"}' in snap.values
    assert snap.types["vllm:time_to_first_token_seconds"] == "histogram"


def test_delta_differences_counters_and_keeps_gauges() -> None:
    before = parse_prometheus(EXPOSITION)
    after = parse_prometheus(
        EXPOSITION.replace("1200.0", "1500.0")
        .replace('_sum{model_name="m"} 0.5', '_sum{model_name="m"} 1.1')
        .replace('_count{model_name="m"} 4.0', '_count{model_name="m"} 7.0')
        .replace('running{model_name="m"} 2.0', 'running{model_name="m"} 5.0')
    )
    delta = metrics_delta(before, after)
    assert delta['vllm:prompt_tokens_total{engine="0",model_name="m"}'] == 300.0
    assert delta['vllm:num_requests_running{model_name="m"}'] == 5.0
    derived = derive_server_metrics(Engine.VLLM, delta)
    # TTFT mean over the window: (1.1 - 0.5) s / (7 - 4) requests = 0.2 s
    assert derived["ttft_mean_s"] == pytest.approx(0.2)
    assert derived["prompt_tokens"] == 300.0


def test_llama_cpp_rates() -> None:
    delta = {
        "llamacpp:prompt_tokens_total": 600.0,
        "llamacpp:prompt_seconds_total": 0.5,
        "llamacpp:tokens_predicted_total": 200.0,
        "llamacpp:tokens_predicted_seconds_total": 4.0,
    }
    d = derive_server_metrics(Engine.LLAMA_CPP, delta)
    assert d["prefill_tok_per_s"] == 1200.0 and d["decode_tok_per_s"] == 50.0  # 600/0.5, 200/4


@pytest.mark.parametrize(
    ("engine", "expected", "version", "context"),
    [
        ("vllm", Engine.VLLM, "0.0.0-stub", 4096),
        ("llamacpp", Engine.LLAMA_CPP, "b0-stub", 4096),
        ("ollama", Engine.OLLAMA, "0.0.0-stub", 4096),
        ("plain", Engine.UNKNOWN, None, 4096),
    ],
)
async def test_detection(engine: str, expected: Engine, version: str | None, context: int) -> None:
    async with StubServer(StubConfig(engine=engine)) as server, httpx.AsyncClient() as http:
        info = await probe_server(http, server.url)
    assert info.reachable and info.engine is expected
    assert info.engine_version == version and info.models == ["stub-model"]
    assert info.max_context_tokens == context
    assert info.metrics_available == (engine in ("vllm", "llamacpp"))


async def test_unreachable_server() -> None:
    async with httpx.AsyncClient() as http:
        info = await probe_server(http, "http://127.0.0.1:9", timeout_s=1.0)
    assert not info.reachable and info.engine is Engine.UNKNOWN


def test_loopback() -> None:
    assert is_loopback("http://127.0.0.1:8000") and is_loopback("http://localhost/v1")
    assert is_loopback("http://[::1]:80") and not is_loopback("http://10.0.0.1:80")
