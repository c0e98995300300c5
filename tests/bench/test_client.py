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


async def test_no_usage_length_stop_counts_max_tokens(stub: StubServer) -> None:
    r = await _send(stub.url, model="mode:no_usage", max_tokens=5)
    # finish_reason 'length': the server generated exactly max_tokens
    assert r.ok and r.finish_reason == "length"
    assert r.output_tokens == 5 and r.output_tokens_source == "max_tokens"
    assert r.input_tokens is None


async def test_no_usage_multi_token_chunks_are_not_undercounted(stub: StubServer) -> None:
    # 16 tokens at 3 per chunk = 6 chunks; no usage; the length stop says 16
    r = await _send(stub.url, model="mode:multi", max_tokens=16, include_usage=False)
    assert r.ok and r.client_chunk_count == 6
    assert r.output_tokens == 16 and r.output_tokens_source == "max_tokens"


async def test_no_usage_early_stop_counts_chunks(stub: StubServer) -> None:
    r = await _send(stub.url, model="mode:stop_early", max_tokens=8, include_usage=False)
    assert r.ok and r.finish_reason == "stop"
    assert r.output_tokens == r.client_chunk_count and r.output_tokens_source == "client_chunks"


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
    # only the stall modes need the short deadline; the others get one a busy machine
    # cannot break
    timeout_s = 0.5 if mode.startswith("stall") else 30.0
    r = await _send(stub.url, model=f"mode:{mode}", max_tokens=8, timeout_s=timeout_s)
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


async def test_send_time_is_stamped_when_the_request_leaves(stub: StubServer) -> None:
    """With one pooled connection, the second request waits for the first to finish:
    that wait is client queueing (dispatched -> sent), not TTFT."""
    import asyncio

    settings = ClientSettings(base_url=stub.url, model="stub-model", timeout_s=10)
    t0 = time.perf_counter()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        client = StreamClient(settings, http, lambda: time.perf_counter() - t0)
        a, b = RequestRecord(request_id=1), RequestRecord(request_id=2)
        await asyncio.gather(client.send(PlannedRequest(1, "one two", 40), a),
                             client.send(PlannedRequest(2, "one two", 4), b))
    assert a.ok and b.ok
    first, second = (a, b) if (a.sent_s or 0) < (b.sent_s or 0) else (b, a)
    assert first.connect_s is not None and first.connect_s >= 0  # opened the connection
    assert second.connect_s is None  # reused it
    assert second.dispatched_s is not None and second.sent_s is not None
    # the second left only after the first had ended, though both were dispatched at once
    assert second.sent_s >= (first.end_s or 0) > second.dispatched_s


@pytest.mark.parametrize(
    ("status", "ctype", "body", "fragment"),
    [
        (404, "text/html", "<html><body>Not Found</body></html>", "wrong path?"),
        (405, "application/json", '{"detail": "Method Not Allowed"}', "wrong path?"),
        (502, "text/html", "<!DOCTYPE html><html>Bad gateway</html>", "HTML error page"),
        (500, "application/json", '{"error": "boom"}', "HTTP 500: {"),
    ],
)
def test_http_errors_name_the_cause(status: int, ctype: str, body: str, fragment: str) -> None:
    from inferplan.bench.client import describe_http_error

    msg = describe_http_error(status, ctype, body, "http://h:1/v1/chat/completions")
    assert fragment in msg and "\n" not in msg


async def test_an_html_page_is_not_a_truncated_stream() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"},
                              text="<html><body>Welcome to nginx!</body></html>")

    settings = ClientSettings(base_url="http://web.example", model="m")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = StreamClient(settings, http, time.perf_counter)
        r = RequestRecord(request_id=1)
        await client.send(PlannedRequest(1, "a", 4), r)
    assert r.error_kind is ErrorKind.MALFORMED
    assert r.error_message is not None and "HTML page" in r.error_message


def test_connect_errors_tell_dns_tls_and_refused_apart() -> None:
    import socket as sock
    import ssl

    from inferplan.bench.client import describe_connect_error

    def wrapped(cause: BaseException) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except BaseException as inner:
                raise httpx.ConnectError(str(inner)) from inner
        except httpx.ConnectError as exc:
            return exc

    url = "https://llm.example:8443/v1/chat/completions"
    dns = describe_connect_error(wrapped(sock.gaierror(-2, "Name or service not known")), url)
    assert dns == "DNS: the host name 'llm.example' cannot be resolved"
    tls = describe_connect_error(
        wrapped(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")), url
    )
    assert tls.startswith("TLS handshake with llm.example:8443 failed") and "http://" in tls
    refused = describe_connect_error(wrapped(ConnectionRefusedError(111, "refused")), url)
    assert refused.startswith("connection refused by llm.example:8443")


async def test_refused_connection_message_names_the_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = await _send(f"http://127.0.0.1:{port}")
    assert r.error_message == (f"connection refused by 127.0.0.1:{port}: no server listens "
                               "on that port")
