"""One streamed request to an OpenAI-compatible (or Ollama) server, timed.

:class:`StreamClient` sends a :class:`PlannedRequest`, reads the streamed body
with :mod:`inferplan.bench.sse` and fills a :class:`RequestRecord` in place:
timestamps on the caller's monotonic clock, token counts from the server's
``usage`` (else llama.cpp ``timings`` / Ollama ``eval_count``, else the client's
chunk count) with their source, and the error kind when it fails. It never
raises for a server fault; only cancellation propagates (the record is then
marked ``incomplete``).

Send time: ``dispatched_s`` is when the client started the request; ``sent_s``
when its headers started to leave on a connection (httpcore's
``http11.send_request_headers.started`` / ``http2...`` trace event), so the time
spent waiting for a free pooled connection and opening a new one (``connect_s``)
is client-side queueing, not server latency. Without trace events (a mock
transport) ``sent_s`` is the dispatch time.

APIs: OpenAI chat and completions streaming
(https://platform.openai.com/docs/api-reference/chat/create, ``stream_options``
``include_usage``), vLLM's ``continuous_usage_stats`` and ``ignore_eos``
(https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html), Ollama's
``/api/generate`` (https://github.com/ollama/ollama/blob/main/docs/api.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from inferplan.bench.results import ErrorKind, Phase, RequestRecord
from inferplan.bench.sse import DONE, MalformedChunkError, NdjsonDecoder, SseDecoder, read_chunk


class Endpoint(StrEnum):
    """Which API a request goes to."""

    CHAT = "chat"
    COMPLETIONS = "completions"
    OLLAMA = "ollama"


ENDPOINT_PATHS: dict[Endpoint, str] = {
    Endpoint.CHAT: "/v1/chat/completions",
    Endpoint.COMPLETIONS: "/v1/completions",
    Endpoint.OLLAMA: "/api/generate",
}


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """What to send: the prompt and the output length asked for."""

    request_id: int
    prompt: str
    max_tokens: int
    prompt_words: int = 0
    requested_input_tokens: int | None = None
    stage: int = 0
    phase: Phase = Phase.MEASURE


@dataclass(frozen=True)
class ClientSettings:
    """How to talk to the server (all times in s)."""

    base_url: str
    model: str
    endpoint: Endpoint = Endpoint.CHAT
    api_key: str | None = None
    ignore_eos: bool = False
    include_usage: bool = True
    continuous_usage: bool = False
    temperature: float | None = 0.0
    timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    extra_body: dict[str, Any] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        """Request headers (the API key, when given, as a bearer token)."""
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def build_body(settings: ClientSettings, planned: PlannedRequest) -> dict[str, Any]:
    """The JSON body of one streamed request."""
    if settings.endpoint is Endpoint.OLLAMA:
        options: dict[str, Any] = {"num_predict": planned.max_tokens}
        if settings.temperature is not None:
            options["temperature"] = settings.temperature
        return {
            "model": settings.model,
            "prompt": planned.prompt,
            "stream": True,
            "options": options,
            **settings.extra_body,
        }
    body: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": planned.max_tokens,
        "stream": True,
    }
    if settings.endpoint is Endpoint.CHAT:
        body["messages"] = [{"role": "user", "content": planned.prompt}]
    else:
        body["prompt"] = planned.prompt
    if settings.include_usage:
        opts: dict[str, Any] = {"include_usage": True}
        if settings.continuous_usage:
            opts["continuous_usage_stats"] = True
        body["stream_options"] = opts
    if settings.ignore_eos:
        body["ignore_eos"] = True
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    body.update(settings.extra_body)
    return body


def _short(text: str, limit: int = 200) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."


def _causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def describe_connect_error(exc: BaseException, url: str) -> str:
    """Name the real cause of a failed connection: DNS, TLS, refused, or other.

    >>> describe_connect_error(ConnectionRefusedError(111, "Connection refused"),
    ...                        "http://127.0.0.1:9/v1/models")
    'connection refused by 127.0.0.1:9: no server listens on that port'
    """
    import socket
    import ssl

    parsed = httpx.URL(url)
    host = parsed.host or "?"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    chain = _causes(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        k in text for k in ("name or service not known", "nodename nor servname",
                            "temporary failure in name resolution", "name resolution",
                            "no address associated", "getaddrinfo failed")
    ):
        return f"DNS: the host name '{host}' cannot be resolved"
    if any(isinstance(e, ssl.SSLError) for e in chain) or any(
        k in text for k in ("ssl", "tls", "certificate")
    ):
        detail = next((str(e) for e in chain if isinstance(e, ssl.SSLError)), str(exc))
        hint = (" (is the server plain http? try http://)" if "wrong_version_number" in text
                else "")
        return _short(f"TLS handshake with {host}:{port} failed: {detail}{hint}")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return f"connection refused by {host}:{port}: no server listens on that port"
    if any(k in text for k in ("unreachable", "no route")):
        return f"network unreachable: no route to {host}:{port}"
    return _short(f"cannot connect to {host}:{port}: {exc or type(exc).__name__}")


def describe_http_error(status: int, content_type: str, body: str, url: str) -> str:
    """One line for a non-2xx answer; a 404/405 or an HTML page points at the URL.

    >>> describe_http_error(404, "text/html", "<html>Not Found</html>", "http://h/v1/x")
    'HTTP 404 from http://h/v1/x (an HTML page): wrong path? give the server base URL, e.g. http://HOST:PORT/v1'
    """
    html = "text/html" in content_type or body.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    )
    if status in (404, 405) or (html and status < 500):
        kind = " (an HTML page)" if html else ""
        return (f"HTTP {status} from {url}{kind}: wrong path? give the server base URL, "
                "e.g. http://HOST:PORT/v1")
    if html:
        return f"HTTP {status} from {url}: an HTML error page (a proxy or gateway?)"
    return _short(f"HTTP {status}: {body}")


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class StreamClient:
    """Sends planned requests over one shared ``httpx.AsyncClient``.

    ``clock`` returns seconds since the run start (monotonic).
    """

    def __init__(
        self, settings: ClientSettings, http: httpx.AsyncClient, clock: Callable[[], float]
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self.url = settings.base_url.rstrip("/") + ENDPOINT_PATHS[settings.endpoint]
        self._headers = settings.headers()

    async def send(self, planned: PlannedRequest, record: RequestRecord) -> None:
        """Send ``planned`` and fill ``record``; never raises except on cancellation."""
        record.requested_output_tokens = planned.max_tokens
        record.requested_input_tokens = planned.requested_input_tokens
        record.prompt_words = planned.prompt_words
        content = json.dumps(build_body(self.settings, planned)).encode()
        state = _StreamState()
        record.dispatched_s = record.sent_s = self.clock()
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                await self._exchange(content, record, state)
        except TimeoutError:
            self._fail(
                record, ErrorKind.TIMEOUT, f"no complete answer in {self.settings.timeout_s} s"
            )
        except httpx.ConnectTimeout:
            self._fail(record, ErrorKind.TIMEOUT, f"connect to {self.url} timed out")
        except httpx.ConnectError as exc:
            self._fail(record, ErrorKind.CONNECT, describe_connect_error(exc, self.url))
        except httpx.TimeoutException as exc:
            self._fail(record, ErrorKind.TIMEOUT, _short(f"{type(exc).__name__}: {exc}"))
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            self._fail(record, ErrorKind.STREAM_ABORTED, _short(f"{type(exc).__name__}: {exc}"))
        except MalformedChunkError as exc:
            self._fail(record, ErrorKind.MALFORMED, _short(str(exc)))
        except httpx.HTTPError as exc:
            self._fail(record, ErrorKind.STREAM_ABORTED, _short(f"{type(exc).__name__}: {exc}"))
        except asyncio.CancelledError:
            self._fail(record, ErrorKind.INCOMPLETE, "cancelled at the end of the run")
            raise
        else:
            if record.error_kind is None and not state.finished(self.settings.endpoint):
                record.error_kind = ErrorKind.TRUNCATED
                record.error_message = "stream ended without [DONE] or a finish_reason"
        finally:
            self._settle_counts(record, state)

    def _fail(self, record: RequestRecord, kind: ErrorKind, message: str) -> None:
        if record.error_kind is None:
            record.error_kind = kind
            record.error_message = message
        record.end_s = self.clock()

    async def _exchange(self, content: bytes, record: RequestRecord, state: _StreamState) -> None:
        endpoint = self.settings.endpoint
        clock = self.clock
        connect_started: list[float] = []

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event == "connection.connect_tcp.started":
                connect_started.append(clock())
            elif event.endswith(".send_request_headers.started"):
                record.sent_s = clock()
                if connect_started:
                    record.connect_s = record.sent_s - connect_started[0]

        async with self.http.stream(
            "POST", self.url, content=content, headers=self._headers,
            extensions={"trace": trace},
        ) as resp:
            record.http_status = resp.status_code
            ctype = resp.headers.get("content-type", "").lower()
            if resp.status_code >= 300:
                body = (await resp.aread()).decode("utf-8", errors="replace")
                record.error_kind = ErrorKind.HTTP_STATUS
                record.error_message = describe_http_error(resp.status_code, ctype, body,
                                                           self.url)
                record.end_s = self.clock()
                return
            if "text/html" in ctype:
                await resp.aread()
                record.error_kind = ErrorKind.MALFORMED
                record.error_message = (
                    f"{self.url} answered with an HTML page (HTTP {resp.status_code}, "
                    "content-type text/html), not an event stream: the URL points at a web "
                    "page or proxy, not the inference server's API"
                )
                record.end_s = self.clock()
                return
            decoder: SseDecoder | NdjsonDecoder = (
                NdjsonDecoder() if endpoint is Endpoint.OLLAMA else SseDecoder()
            )
            async for raw in resp.aiter_bytes():
                now = clock()
                for payload in decoder.feed(raw):
                    state.handle(payload, now, record, endpoint)
            now = clock()
            for payload in decoder.flush():
                state.handle(payload, now, record, endpoint)
            record.end_s = now

    def _settle_counts(self, record: RequestRecord, state: _StreamState) -> None:
        """Choose the token counts and record their source."""
        record.client_chunk_count = len(record.token_times_s)
        if record.token_times_s:
            record.last_token_s = record.token_times_s[-1]
        if state.chunk_tokens_ok and state.chunk_tokens:
            record.chunk_tokens = state.chunk_tokens
        usage, timings = state.usage, state.timings
        record.server_timings = timings
        out_n = _int_or_none(usage.get("completion_tokens")) if usage else None
        in_n = _int_or_none(usage.get("prompt_tokens")) if usage else None
        if out_n is not None:
            record.output_tokens = out_n
            record.output_tokens_source = (
                "continuous_usage" if record.chunk_tokens is not None else "usage"
            )
        if in_n is not None:
            record.input_tokens, record.input_tokens_source = in_n, "usage"
        if timings:
            t_out = _int_or_none(timings.get("predicted_n", timings.get("eval_count")))
            t_in = _int_or_none(timings.get("prompt_n", timings.get("prompt_eval_count")))
            if record.output_tokens is None and t_out is not None:
                record.output_tokens, record.output_tokens_source = t_out, "timings"
            if record.input_tokens is None and t_in is not None:
                record.input_tokens, record.input_tokens_source = t_in, "timings"
        if record.output_tokens is None and (record.error_kind is None or record.token_times_s):
            if (
                record.error_kind is None
                and record.finish_reason == "length"
                and record.requested_output_tokens
                and record.client_chunk_count <= record.requested_output_tokens
            ):
                # stopped by its length limit: exactly max_tokens were generated, however
                # many tokens each chunk carried
                record.output_tokens = record.requested_output_tokens
                record.output_tokens_source = "max_tokens"
            else:
                record.output_tokens = record.client_chunk_count
                record.output_tokens_source = "client_chunks"


class _StreamState:
    """Per-request parse state (kept out of the record until the end)."""

    __slots__ = (
        "chunk_tokens",
        "chunk_tokens_ok",
        "done",
        "finish_seen",
        "prev_completion",
        "timings",
        "usage",
    )

    def __init__(self) -> None:
        self.done = False
        self.finish_seen = False
        self.usage: dict[str, Any] | None = None
        self.timings: dict[str, float] | None = None
        self.chunk_tokens: list[int] = []
        self.chunk_tokens_ok = True
        self.prev_completion = 0

    def finished(self, endpoint: Endpoint) -> bool:
        """True once the stream said it was over ([DONE], finish_reason, Ollama done)."""
        return self.done or self.finish_seen

    def handle(self, payload: str, now: float, record: RequestRecord, endpoint: Endpoint) -> None:
        if payload == DONE:
            self.done = True
            return
        try:
            obj = json.loads(payload)
        except ValueError:
            raise MalformedChunkError(f"event is not JSON: {payload[:80]!r}") from None
        info = read_chunk(obj, endpoint)
        if info.content or info.reasoning:
            if record.first_token_s is None:
                record.first_token_s = now
            if info.content and record.first_content_s is None:
                record.first_content_s = now
            record.token_times_s.append(now)  # last_token_s is set from it at the end
            completion = _int_or_none(info.usage.get("completion_tokens")) if info.usage else None
            if completion is None:
                self.chunk_tokens_ok = False
            else:
                self.chunk_tokens.append(completion - self.prev_completion)
                self.prev_completion = completion
        if info.finish_reason is not None:
            record.finish_reason = info.finish_reason
            self.finish_seen = True
        if info.usage is not None:
            self.usage = info.usage
        if info.timings:
            self.timings = info.timings


async def send_unstreamed(
    settings: ClientSettings, http: httpx.AsyncClient, planned: PlannedRequest
) -> dict[str, int]:
    """Send ``planned`` without streaming; return ``prompt_tokens``/``completion_tokens``.

    Used to calibrate prompt lengths and to check streamed chunk counts against
    the server's own count. Raises ``httpx.HTTPError`` on transport failures and
    :class:`MalformedChunkError` when the answer carries no usage.
    """
    body = build_body(settings, planned)
    body["stream"] = False
    body.pop("stream_options", None)
    url = settings.base_url.rstrip("/") + ENDPOINT_PATHS[settings.endpoint]
    resp = await http.post(
        url,
        content=json.dumps(body).encode(),
        headers=settings.headers(),
        timeout=settings.timeout_s,
    )
    if resp.status_code >= 300:
        raise MalformedChunkError(_short(f"HTTP {resp.status_code}: {resp.text}"))
    try:
        data = resp.json()
    except ValueError:
        raise MalformedChunkError("answer is not JSON") from None
    usage: Any
    if settings.endpoint is Endpoint.OLLAMA and isinstance(data, dict):
        usage = {
            "prompt_tokens": data.get("prompt_eval_count"),
            "completion_tokens": data.get("eval_count"),
        }
    else:
        usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        raise MalformedChunkError("answer has no usage")
    out = {
        k: n
        for k in ("prompt_tokens", "completion_tokens")
        if (n := _int_or_none(usage.get(k))) is not None
    }
    if len(out) < 2:
        raise MalformedChunkError("usage lacks prompt_tokens or completion_tokens")
    return out
