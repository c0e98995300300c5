"""The scheme, host and client a request had before a trusted reverse proxy.

A TLS-terminating proxy (nginx, Caddy, a load balancer) talks plain HTTP to the
service and says what the browser used in ``X-Forwarded-Proto``,
``X-Forwarded-Host`` and ``X-Forwarded-For`` (the de-facto headers; nginx:
https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header).
Anyone can send those headers, so they are honoured only when the connection
comes from an address the operator named (``--trusted-proxy``,
``INFERPLAN_TRUSTED_PROXIES``: addresses or networks such as ``10.0.0.0/8``).
From such a peer the right-most value of each header is taken (the one the
nearest proxy wrote) and the request's scheme, ``Host`` and client address are
rewritten before anything else looks at them, so the session cookie is
``Secure`` behind HTTPS and the same-origin check compares against the origin
the browser used. From any other peer the headers are ignored.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HOST_RE = re.compile(r"\A(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?\Z")


def parse_networks(values: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """``10.0.0.1``, ``10.0.0.0/8``, ``::1`` -> networks; a bad entry raises ValueError."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def _last(value: bytes | None) -> str | None:
    if not value:
        return None
    part = value.decode("latin-1").split(",")[-1].strip()
    return part or None


def _trusted(client: Any, networks: tuple[Network, ...]) -> bool:
    if not networks or not client:
        return False
    try:
        ip = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return False
    return any(ip in net for net in networks)


class ForwardedHeaders:
    """ASGI middleware applying the rules of the module docstring."""

    def __init__(self, app: ASGIApp, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _trusted(scope.get("client"),
                                                               self.networks):
            headers = dict(scope["headers"])
            proto = _last(headers.get(b"x-forwarded-proto"))
            host = _last(headers.get(b"x-forwarded-host"))
            client = _last(headers.get(b"x-forwarded-for"))
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else (
                    "wss" if proto == "https" else "ws")
            if host and HOST_RE.match(host):
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"]
                scope["headers"].append((b"host", host.encode("latin-1")))
            if client:
                with contextlib.suppress(ValueError):
                    scope["client"] = (str(ipaddress.ip_address(client)), 0)
        await self.app(scope, receive, send)


__all__ = ["ForwardedHeaders", "parse_networks"]
