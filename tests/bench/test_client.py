"""One streamed request against the stub: timings, token counts and every error kind."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from inferplan.bench.client import (
    ClientSettings,
    Endpoint,
    PlannedRequest,
    StreamClient,
    send_unstreamed,
)
from inferplan.bench.results import ErrorKind, RequestRecord

from .stub_server import StubServer


async def _send(
    url: str, model: str = "stub-model", max_tokens: int = 8, timeout_s: float = 5.0,
    endpoint: Endpoint = Endpoint.CHAT, **kw: object,
) -> RequestRecord:  # fmt: skip
    settings = ClientSettings(
        base_url=url,
        model=model,
        endpoint=endpoint,
        timeout_s=timeout_s,
        **kw,  # type: ignore[arg-type]
    )
    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=timeout_s) as http:
        client = StreamClient(settings, http, lambda: time.perf_counter() - t0)
        record = RequestRecord(request_id=1)
        await client.send(PlannedRequest(1, "one two three four", max_tokens), record)
    return record


async def test_normal_stream_counts_and_orders_timestamps(stub: StubServer) -> None:
    r = await _send(stub.url, max_tokens=8)
    assert r.ok and r.http_status == 200 and r.finish_reason == "length"
    # the stub streams one token per chunk, role-only first delta excluded
    assert r.output_tokens == 8 and r.output_tokens_source == "usage"
    assert r.client_chunk_count == 8
    # prompt: 4 words + the stub's 10-token chat overhead
    assert r.input_tokens == 14 and r.input_tokens_source == "usage"
    assert r.sent_s is not None and r.first_token_s is not None and r.last_token_s is not None
    assert r.sent_s < r.first_token_s <= r.last_token_s <= (r.end_s or 0)
    assert r.token_times_s == sorted(r.token_times_s)
    assert r.ttft_s is not None and r.e2e_s is not None and r.ttft_s < r.e2e_s


async def test_no_usage_falls_back_to_client_count(stub: StubServer) -> None:
    r = await _send(stub.url, model="mode:no_usage", max_tokens=5)
    assert r.ok and r.output_tokens == 5 and r.output_tokens_source == "client_chunks"
    assert r.input_tokens is None


async def test_continuous_usage_gives_per_chunk_counts(stub: StubServer) -> None:
    r = await _send(stub.url, model="mode:continuous", max_tokens=6)
    assert r.ok and r.chunk_tokens == [1] * 6 and r.output_tokens_source == "continuous_usage"


async def test_multi_token_chunks_keep_the_server_count(stub: StubServer) -> None:
    # 16 tokens at 3 per chunk -> chunks of 3,3,3,3,3,1 = 6 chunks
    r = await _send(stub.url, model="mode:multi", max_tokens=16)
    assert r.ok and r.output_tokens == 16 and r.client_chunk_count == 6
    gaps, basis = r.itl_gaps_s()
    assert basis == "chunk" and len(gaps) == 5


@pytest.mark.parametrize("mode", ["pings", "empty_deltas"])
async def test_pings_and_empty_deltas_are_not_tokens(stub: StubServer, mode: str) -> None:
    r = await _send(stub.url, model=f"mode:{mode}", max_tokens=7)
    assert r.ok and r.client_chunk_count == 7 and r.output_tokens == 7


async def test_completions_endpoint(stub: StubServer) -> None:
    r = await _send(stub.url, endpoint=Endpoint.COMPLETIONS, max_tokens=4)
    assert r.ok and r.client_chunk_count == 4 and r.input_tokens == 4  # no chat overhead


async def test_ollama_endpoint_reads_eval_counts() -> None:
    from .stub_server import StubConfig

    async with StubServer(StubConfig(engine="ollama")) as server:
        r = await _send(server.url, endpoint=Endpoint.OLLAMA, max_tokens=5)
    assert r.ok and r.output_tokens == 5 and r.output_tokens_source == "timings"
    assert r.input_tokens == 4 and r.server_timings is not None
    assert r.server_timings["eval_duration"] == 3_000_000  # ns, as Ollama reports


@pytest.mark.parametrize(
    ("mode", "kind", "status"),
    [
        ("http429", ErrorKind.HTTP_STATUS, 429),
        ("http500", ErrorKind.HTTP_STATUS, 500),
        ("drop", ErrorKind.STREAM_ABORTED, 200),
        ("truncated", ErrorKind.TRUNCATED, 200),
        ("malformed", ErrorKind.MALFORMED, 200),
        ("error_event", ErrorKind.MALFORMED, 200),
        ("stall", ErrorKind.TIMEOUT, 200),
        ("stall_headers", ErrorKind.TIMEOUT, None),
    ],
)
async def test_each_fault_is_recorded_by_kind(
    stub: StubServer, mode: str, kind: ErrorKind, status: int | None
) -> None:
    r = await _send(stub.url, model=f"mode:{mode}", max_tokens=8, timeout_s=0.5)
    assert r.error_kind is kind, r.error_message
    assert r.http_status == status
    assert r.error_message and "\n" not in r.error_message
    assert r.end_s is not None


async def test_partial_stream_keeps_tokens_seen_before_the_drop(stub: StubServer) -> None:
    r = await _send(stub.url, model="mode:drop", max_tokens=8)
    assert r.error_kind is ErrorKind.STREAM_ABORTED
    assert r.client_chunk_count == 4  # the stub drops after half of 8


async def test_connection_refused_is_connect() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens
    r = await _send(f"http://127.0.0.1:{port}")
    assert r.error_kind is ErrorKind.CONNECT and r.http_status is None


async def test_unstreamed_probe_returns_usage(stub: StubServer) -> None:
    settings = ClientSettings(base_url=stub.url, model="stub-model")
    async with httpx.AsyncClient() as http:
        usage = await send_unstreamed(settings, http, PlannedRequest(1, "a b c", 3))
    assert usage == {"prompt_tokens": 13, "completion_tokens": 3}
