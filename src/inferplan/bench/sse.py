"""Incremental decoding of streamed completion bodies (SSE and NDJSON).

Server-sent events follow the WHATWG HTML Living Standard, section 9.2
"Server-sent events" (https://html.spec.whatwg.org/multipage/server-sent-events.html):
lines end with CRLF, LF or CR; a line starting with ``:`` is a comment (used as a
keep-alive ping); ``data:`` lines (one optional space after the colon) accumulate,
joined by LF; an empty line dispatches the event. ``event``, ``id`` and ``retry``
fields are read and ignored. OpenAI-compatible servers end the stream with the
event ``[DONE]``.

Ollama's native API streams one JSON object per line (NDJSON) instead.

Then :func:`read_chunk` reads one decoded completion chunk (chat, completions
or Ollama) into a :class:`ChunkInfo`: role-only and empty deltas carry no text,
a usage-only final chunk has no choices, reasoning deltas count as generated
tokens but not as visible content.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any

DONE = "[DONE]"


class SseDecoder:
    """Feed raw body bytes, get back the ``data`` payload of each complete event.

    >>> d = SseDecoder()
    >>> d.feed(b': ping\\n\\ndata: {"a": 1}\\n\\nda')
    ['{"a": 1}']
    >>> d.feed(b'ta: [DONE]\\n\\n')
    ['[DONE]']
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._skip_lf = False
        self._data: list[str] = []
        self.comments = 0

    def feed(self, raw: bytes) -> list[str]:
        """Decode ``raw`` and return the payloads of the events it completed."""
        text = self._decoder.decode(raw)
        if self._skip_lf and text:
            # the previous feed ended on CR: an LF now is the second half of CRLF
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        text = self._buffer + text
        ends_cr = text.endswith("\r")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        if ends_cr:
            lines.pop()  # every line is complete; drop the empty tail
            self._buffer = ""
            self._skip_lf = True
        else:
            self._buffer = lines.pop()
        return self._lines(lines)

    def _lines(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            if not line:
                if self._data:
                    out.append("\n".join(self._data))
                    self._data = []
                continue
            if line[0] == ":":
                self.comments += 1
                continue
            field, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if field == "data":
                self._data.append(value)
            # event / id / retry / unknown fields: ignored (WHATWG 9.2.6)
        return out

    def flush(self) -> list[str]:
        """End of body: return a last event that had no closing blank line."""
        tail, self._buffer = self._buffer, ""
        return self._lines([tail, ""] if tail else [""])


class NdjsonDecoder:
    """Feed raw bytes, get back each complete non-empty line (Ollama's stream)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self.comments = 0

    def feed(self, raw: bytes) -> list[str]:
        """Decode ``raw`` and return the lines it completed."""
        lines = (self._buffer + self._decoder.decode(raw)).split("\n")
        self._buffer = lines.pop()
        return [ln.strip() for ln in lines if ln.strip()]

    def flush(self) -> list[str]:
        """End of body: return a last line without a newline."""
        tail, self._buffer = self._buffer.strip(), ""
        return [tail] if tail else []


@dataclass(slots=True)
class ChunkInfo:
    """What one streamed chunk carried."""

    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, float] | None = None
    done: bool = False  # Ollama's final object


class MalformedChunkError(ValueError):
    """A decoded event is valid JSON but not a completion chunk."""


def _reasoning_of(delta: dict[str, Any]) -> str:
    value = delta.get("reasoning_content") or delta.get("reasoning") or ""
    return value if isinstance(value, str) else ""


def _timings_of(obj: dict[str, Any]) -> dict[str, float] | None:
    timings = obj.get("timings")
    if not isinstance(timings, dict):
        return None
    return {k: float(v) for k, v in timings.items() if isinstance(v, int | float)}


# Ollama native API duration fields, in ns (https://github.com/ollama/ollama/blob/main/docs/api.md)
OLLAMA_TIMING_FIELDS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
    "prompt_eval_cached_count",
)


def read_chunk(obj: Any, endpoint: str) -> ChunkInfo:
    """Interpret one decoded JSON chunk of ``endpoint`` (chat, completions, ollama).

    Raises :class:`MalformedChunkError` when ``obj`` is not a chunk of that API,
    or the server streamed an ``error`` object.
    """
    if not isinstance(obj, dict):
        raise MalformedChunkError(f"chunk is a {type(obj).__name__}, not an object")
    if "error" in obj and "choices" not in obj:
        raise MalformedChunkError(f"server error in stream: {str(obj['error'])[:200]}")
    info = ChunkInfo()
    if endpoint == "ollama":
        text = obj.get("response")
        if text is None:
            message = obj.get("message")
            text = message.get("content") if isinstance(message, dict) else None
            if isinstance(message, dict):
                info.reasoning = _reasoning_of({"reasoning": message.get("thinking")})
        if text is None and "done" not in obj:
            raise MalformedChunkError("Ollama chunk has neither response nor done")
        info.content = text if isinstance(text, str) else ""
        if obj.get("done"):
            info.done = True
            info.finish_reason = str(obj.get("done_reason") or "stop")
            info.timings = {
                k: float(obj[k])
                for k in OLLAMA_TIMING_FIELDS
                if isinstance(obj.get(k), int | float)
            }
        return info
    choices = obj.get("choices")
    usage = obj.get("usage")
    if isinstance(usage, dict):
        info.usage = usage
    info.timings = _timings_of(obj)
    if choices is None:
        if info.usage is None:
            raise MalformedChunkError("chunk has neither choices nor usage")
        return info
    if not isinstance(choices, list):
        raise MalformedChunkError("choices is not a list")
    if not choices:
        return info  # usage-only final chunk
    choice = choices[0]
    if not isinstance(choice, dict):
        raise MalformedChunkError("choice is not an object")
    if endpoint == "chat":
        delta = choice.get("delta")
        if isinstance(delta, dict):
            content = delta.get("content")
            info.content = content if isinstance(content, str) else ""
            info.reasoning = _reasoning_of(delta)
    else:
        text = choice.get("text")
        info.content = text if isinstance(text, str) else ""
    reason = choice.get("finish_reason")
    if isinstance(reason, str) and reason:
        info.finish_reason = reason
    return info
