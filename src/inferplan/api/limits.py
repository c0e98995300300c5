"""Limits every request is held to before any handler or database sees it.

* **Body size.** At most :data:`MAX_BODY_BYTES` per request body, counted as the
  bytes arrive, so a chunked upload (no ``Content-Length``) is cut off too (413).
* **JSON shape.** At most :data:`MAX_DEPTH` levels, :data:`MAX_ITEMS` entries per
  list or mapping and :data:`MAX_NODES` values in one body; a shared YAML anchor
  counts once per use, so alias bombs stop here.
* **Text.** No string (value or key) may hold a NUL character or a lone UTF-16
  surrogate (U+D800..U+DFFF): PostgreSQL refuses NUL in text
  (https://www.postgresql.org/docs/current/datatype-character.html) and neither
  can be encoded as UTF-8, so such a request is refused whole with 422 instead
  of being half stored and breaking every page that lists it. Strings inside
  scenario documents, benchmark summaries and calibration parameters are at
  most :data:`MAX_TEXT_CHARS` characters.
* **YAML.** At most :data:`MAX_YAML_ALIASES` alias uses per document.
* **Errors.** A 422 answer lists at most :data:`MAX_ERRORS` field errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import yaml

MAX_BODY_BYTES = 80 * 2**20
MAX_DEPTH = 32
MAX_ITEMS = 10_000
MAX_NODES = 200_000
MAX_TEXT_CHARS = 10_000
MAX_YAML_ALIASES = 100
MAX_ERRORS = 50

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LimitError(ValueError):
    """A value breaks a limit; ``path`` is the dotted path inside the checked value."""

    def __init__(self, path: str, message: str, kind: str = "too_large") -> None:
        self.path = path
        self.message = message
        self.kind = kind
        super().__init__(f"{path}: {message}")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    m = BAD_TEXT.search(text)
    if m is None:
        return None
    ch = m.group(0)
    if ch == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored"
    return f"contains a lone surrogate (U+{ord(ch):04X}), which is not valid Unicode text"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_value(value: Any, path: str = "", max_text: int | None = MAX_TEXT_CHARS) -> None:
    """Walk a parsed JSON/YAML value and raise :class:`LimitError` at the first
    string that cannot be stored, the first oversized container or string, or
    when it is too deep or holds too many values (shared objects count per use)."""
    nodes = 0
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        v, p, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise LimitError(path or "body", f"more than {MAX_NODES} values in all")
        if isinstance(v, str):
            problem = text_problem(v)
            if problem:
                raise LimitError(p or "body", problem, "storable_text")
            if max_text is not None and len(v) > max_text:
                raise LimitError(p or "body", f"text longer than {max_text} characters")
            continue
        if isinstance(v, dict | list | tuple):
            if depth >= MAX_DEPTH:
                raise LimitError(p or "body", f"nested deeper than {MAX_DEPTH} levels")
            if len(v) > MAX_ITEMS:
                raise LimitError(p or "body", f"more than {MAX_ITEMS} entries")
            if isinstance(v, dict):
                for k, item in v.items():
                    key = str(k)
                    problem = text_problem(key)
                    if problem:
                        raise LimitError(p or "body", f"a key {problem}", "storable_text")
                    if max_text is not None and len(key) > max_text:
                        raise LimitError(p or "body", f"a key longer than {max_text} characters")
                    stack.append((item, _join(p, key), depth + 1))
            else:
                stack.extend((item, _join(p, i), depth + 1) for i, item in enumerate(v))


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader counting alias uses (billion-laughs documents)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise LimitError("yaml", f"more than {MAX_YAML_ALIASES} alias (*name) uses")
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the alias limit (raises :class:`LimitError`)."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class BodyTooLarge(Exception):
    """The request body passed :data:`MAX_BODY_BYTES` while it was being read."""


class BodyLimit:
    """ASGI middleware: a request body above ``limit`` bytes gets 413, whether it
    came with a ``Content-Length`` or chunked; reading stops at the limit."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"body larger than {self.limit} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _send_413(send, detail)
            return
        seen = 0
        too_large = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, too_large
            if too_large:
                raise BodyTooLarge()
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    raise BodyTooLarge()
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal started
            if too_large:  # whatever the app answers, the client gets the 413
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await _send_413(send, detail)


async def _send_413(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MAX_ERRORS",
    "MAX_ITEMS",
    "MAX_NODES",
    "MAX_TEXT_CHARS",
    "MAX_YAML_ALIASES",
    "BodyLimit",
    "LimitError",
    "check_value",
    "load_yaml",
    "text_problem",
]
