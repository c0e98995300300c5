"""A small, fast OpenAI-compatible streaming server for tests and client benchmarks.

Raw asyncio HTTP/1.1 (keep-alive, chunked bodies), loopback only. Each request
streams ``max_tokens`` tokens (one word each); its prompt counts one token per
whitespace-separated word, plus ``CHAT_OVERHEAD_TOKENS`` for chat requests (a
stand-in for a chat template).

The behaviour of a request is its *mode*: the ``model`` field ``mode:NAME``, else
the next entry of ``StubConfig.cycle``, else ``StubConfig.mode``. Modes:

normal, no_usage (never sends usage), continuous (usage in every chunk), multi
(``multi_token`` tokens per chunk), pings (comment line before every token),
empty_deltas (an empty delta between tokens), stall (one token, then silence),
stall_headers (no answer at all), drop (half the tokens, then the connection is
reset), truncated (tokens, then a clean end without finish_reason or [DONE]),
http429, http500, malformed (one event that is not JSON), error_event (an
``error`` object in the stream), stop_early (finish_reason "stop" after half).

Engine emulation (``StubConfig.engine``): ``vllm`` (``/version``, ``vllm:``
metrics, ``owned_by: vllm``), ``llamacpp`` (``/props``, ``llamacpp:`` metrics,
``timings`` in the last chunk), ``ollama`` (``/api/version``, ``/api/generate``),
``plain`` (nothing but ``/v1``).

Run alone: ``python tests/bench/stub_server.py --port 0`` prints ``READY <port>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

CHAT_OVERHEAD_TOKENS = 10
STALL_S = 30.0


@dataclass
class StubConfig:
    mode: str = "normal"
    cycle: list[str] = field(default_factory=list)
    engine: str = "vllm"
    token_delay_s: float = 0.0
    ttft_s: float = 0.0
    multi_token: int = 3


@dataclass
class StubCounters:
    requests: int = 0
    prompt_tokens: int = 0
    generation_tokens: int = 0
    modes: list[str] = field(default_factory=list)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(obj: Any) -> bytes:
    return _chunk(b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n")


class StubServer:
    """Serve on ``127.0.0.1``; ``await start()`` returns the port."""

    def __init__(self, config: StubConfig | None = None) -> None:
        self.config = config or StubConfig()
        self.counters = StubCounters()
        self._cycle = itertools.cycle(self.config.cycle) if self.config.cycle else None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.port = 0

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def __aenter__(self) -> StubServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- HTTP framing ---------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                keep = await self._route(method, path.split("?")[0], body, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    def _respond(writer: asyncio.StreamWriter, status: str, body: bytes, ctype: str) -> None:
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: keep-alive\r\n\r\n".encode()
            + body
        )

    async def _route(self, method: str, path: str, body: bytes, w: asyncio.StreamWriter) -> bool:
        eng = self.config.engine
        js = "application/json"
        if method == "GET":
            if path == "/v1/models":
                owner = {"vllm": "vllm", "llamacpp": "llamacpp"}.get(eng, "stub")
                data = {
                    "object": "list",
                    "data": [
                        {
                            "id": "stub-model",
                            "object": "model",
                            "owned_by": owner,
                            "max_model_len": 4096,
                        }
                    ],
                }
                self._respond(w, "200 OK", json.dumps(data).encode(), js)
            elif (path, eng) in (("/version", "vllm"), ("/api/version", "ollama")):
                self._respond(w, "200 OK", b'{"version": "0.0.0-stub"}', js)
            elif path == "/props" and eng == "llamacpp":
                props = {"default_generation_settings": {"n_ctx": 2048}, "build_info": "b0-stub"}
                self._respond(w, "200 OK", json.dumps(props).encode(), js)
            elif path == "/metrics" and eng in ("vllm", "llamacpp"):
                self._respond(w, "200 OK", self._metrics().encode(), "text/plain")
            else:
                self._respond(w, "404 Not Found", b'{"error": "not found"}', js)
            await w.drain()
            return True
        try:
            req = json.loads(body)
        except ValueError:
            self._respond(w, "400 Bad Request", b'{"error": "bad json"}', js)
            return True
        if path in ("/v1/chat/completions", "/v1/completions", "/api/generate"):
            return await self._completion(path, req, w)
        self._respond(w, "404 Not Found", b'{"error": "not found"}', js)
        return True

    def _metrics(self) -> str:
        c = self.counters
        if self.config.engine == "llamacpp":
            return (
                "# TYPE llamacpp:prompt_tokens_total counter\n"
                f"llamacpp:prompt_tokens_total {c.prompt_tokens}\n"
                "# TYPE llamacpp:tokens_predicted_total counter\n"
                f"llamacpp:tokens_predicted_total {c.generation_tokens}\n"
                "# TYPE llamacpp:prompt_seconds_total counter\n"
                f"llamacpp:prompt_seconds_total {c.prompt_tokens / 1000}\n"
                "# TYPE llamacpp:tokens_predicted_seconds_total counter\n"
                f"llamacpp:tokens_predicted_seconds_total {c.generation_tokens / 100}\n"
            )
        lab = 'model_name="stub-model"'
        return (
            "# HELP vllm:prompt_tokens_total Prompt tokens.\n"
            "# TYPE vllm:prompt_tokens_total counter\n"
            f"vllm:prompt_tokens_total{{{lab}}} {c.prompt_tokens}.0\n"
            "# TYPE vllm:generation_tokens_total counter\n"
            f"vllm:generation_tokens_total{{{lab}}} {c.generation_tokens}.0\n"
            "# TYPE vllm:request_success_total counter\n"
            f'vllm:request_success_total{{finished_reason="length",{lab}}} {c.requests}.0\n'
            "# TYPE vllm:num_requests_running gauge\n"
            f"vllm:num_requests_running{{{lab}}} 0.0\n"
        )

    # --- completions --------------------------------------------------------------

    def _mode(self, req: dict[str, Any]) -> str:
        model = str(req.get("model", ""))
        if model.startswith("mode:"):
            return model[5:]
        if self._cycle is not None:
            return next(self._cycle)
        return self.config.mode

    async def _completion(self, path: str, req: dict[str, Any], w: asyncio.StreamWriter) -> bool:
        mode = self._mode(req)
        c = self.counters
        c.requests += 1
        c.modes.append(mode)
        chat = path == "/v1/chat/completions"
        ollama = path == "/api/generate"
        prompt = req["messages"][-1]["content"] if chat else str(req.get("prompt", ""))
        prompt_n = len(prompt.split()) + (CHAT_OVERHEAD_TOKENS if chat else 0)
        if ollama:
            n_out = int(req.get("options", {}).get("num_predict", 16))
        else:
            n_out = int(req.get("max_tokens", 16))
        if mode == "stop_early":
            n_out = max(1, n_out // 2)
        js = "application/json"
        if mode in ("http429", "http500"):
            status = "429 Too Many Requests" if mode == "http429" else "500 Internal Server Error"
            self._respond(w, status, b'{"error": {"message": "stub says no"}}', js)
            await w.drain()
            return True
        if mode == "stall_headers":
            await asyncio.sleep(STALL_S)
            return False
        c.prompt_tokens += prompt_n
        usage = {
            "prompt_tokens": prompt_n,
            "completion_tokens": n_out,
            "total_tokens": prompt_n + n_out,
        }
        if not req.get("stream"):
            c.generation_tokens += n_out
            text = " ".join(f"w{i}" for i in range(n_out))
            if ollama:
                out: dict[str, Any] = {
                    "response": text,
                    "done": True,
                    "prompt_eval_count": prompt_n,
                    "eval_count": n_out,
                }
            else:
                msg = (
                    {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
                )
                out = {"choices": [{"index": 0, "finish_reason": "length", **msg}], "usage": usage}
            self._respond(w, "200 OK", json.dumps(out).encode(), js)
            await w.drain()
            return True
        ctype = "application/x-ndjson" if ollama else "text/event-stream"
        w.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nTransfer-Encoding: chunked\r\n"
            "Connection: keep-alive\r\n\r\n".encode()
        )
        if self.config.ttft_s:
            await w.drain()
            await asyncio.sleep(self.config.ttft_s)
        if ollama:
            await self._stream_ollama(w, n_out, prompt_n)
            return True
        return await self._stream_openai(w, req, mode, chat, n_out, usage)

    async def _stream_ollama(self, w: asyncio.StreamWriter, n_out: int, prompt_n: int) -> None:
        for i in range(n_out):
            w.write(_chunk(json.dumps({"response": f" w{i}", "done": False}).encode() + b"\n"))
            self.counters.generation_tokens += 1
            await self._pace(w)
        final = {
            "response": "",
            "done": True,
            "done_reason": "length",
            "total_duration": 5000000,
            "load_duration": 1000,
            "prompt_eval_count": prompt_n,
            "prompt_eval_duration": 1000000,
            "eval_count": n_out,
            "eval_duration": 3000000,
        }
        w.write(_chunk(json.dumps(final).encode() + b"\n") + b"0\r\n\r\n")
        await w.drain()

    async def _pace(self, w: asyncio.StreamWriter) -> None:
        if self.config.token_delay_s:
            await w.drain()
            await asyncio.sleep(self.config.token_delay_s)

    async def _stream_openai(
        self,
        w: asyncio.StreamWriter,
        req: dict[str, Any],
        mode: str,
        chat: bool,
        n_out: int,
        usage: dict[str, int],
    ) -> bool:
        opts = req.get("stream_options") or {}
        want_usage = bool(opts.get("include_usage")) and mode != "no_usage"
        continuous = (
            bool(opts.get("continuous_usage_stats")) and want_usage
        ) or mode == "continuous"
        obj_kind = "chat.completion.chunk" if chat else "text_completion"
        base = {"id": "cmpl-stub", "object": obj_kind, "model": "stub-model"}

        def choice(text: str | None, finish: str | None = None) -> dict[str, Any]:
            if chat:
                delta = {} if text is None else {"content": text}
                return {"index": 0, "delta": delta, "finish_reason": finish}
            return {"index": 0, "text": text or "", "finish_reason": finish}

        if chat:
            w.write(
                _event(
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}
                        ],
                    }
                )
            )
        per_chunk = self.config.multi_token if mode == "multi" else 1
        sent = 0
        cut = n_out // 2
        while sent < n_out:
            k = min(per_chunk, n_out - sent)
            text = "".join(f" w{sent + j}" for j in range(k))
            sent += k
            self.counters.generation_tokens += k
            if mode == "pings":
                w.write(_chunk(b": ping\n\n"))
            ev: dict[str, Any] = {**base, "choices": [choice(text)]}
            if continuous:
                ev["usage"] = {**usage, "completion_tokens": sent}
            w.write(_event(ev))
            if mode == "empty_deltas":
                w.write(_event({**base, "choices": [choice("")]}))
            if mode == "malformed" and sent == 1:
                w.write(_chunk(b'data: {"choices": [\n\n'))
            if mode == "error_event" and sent == 1:
                w.write(_event({"error": {"message": "engine failure"}}))
                break
            if mode == "stall" and sent == 1:
                await w.drain()
                await asyncio.sleep(STALL_S)
                return False
            if mode == "drop" and sent >= max(1, cut):
                await w.drain()
                w.transport.abort()
                return False
            await self._pace(w)
        if mode == "truncated":
            w.write(b"0\r\n\r\n")
            await w.drain()
            return True
        finish = "stop" if mode == "stop_early" else "length"
        last: dict[str, Any] = {**base, "choices": [choice(None, finish)]}
        if self.config.engine == "llamacpp":
            last["timings"] = {
                "prompt_n": usage["prompt_tokens"],
                "prompt_ms": 1.0,
                "predicted_n": n_out,
                "predicted_ms": 10.0,
            }
        w.write(_event(last))
        if want_usage:
            w.write(_event({**base, "choices": [], "usage": usage}))
        w.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await w.drain()
        return True


class ThreadedStub:
    """A :class:`StubServer` on its own event loop in a daemon thread (for sync callers)."""

    def __init__(self, config: StubConfig | None = None) -> None:
        self.server = StubServer(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(5)
        return self.server

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.server.close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="normal")
    parser.add_argument("--engine", default="vllm")
    parser.add_argument("--token-delay-s", type=float, default=0.0)
    parser.add_argument("--max-lifetime-s", type=float, default=600.0)
    args = parser.parse_args()

    async def serve() -> None:
        server = StubServer(
            StubConfig(mode=args.mode, engine=args.engine, token_delay_s=args.token_delay_s)
        )
        port = await server.start(args.port)
        print(f"READY {port}", flush=True)
        await asyncio.sleep(args.max_lifetime_s)  # stops by itself
        await server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
