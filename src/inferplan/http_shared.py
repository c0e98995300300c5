"""What the REST API and the web UI share over HTTP, below both faces.

* the sign-in token: the cookie that carries it (:data:`COOKIE`), the token a
  request presents (:func:`presented_token`) and its role against the configured
  tokens (:func:`token_role`, compared in constant time with ``hmac.compare_digest``);
* record-id parameters bounded to the 32-bit integer range of both databases
  (:data:`MAX_ID`, :data:`PathId`, :data:`QueryId`).

Neither :mod:`inferplan.api` nor :mod:`inferplan.web` is imported here, so the two
faces never import each other; the app that mounts both is :mod:`inferplan.server`.

Example::

    >>> from types import SimpleNamespace
    >>> token_role(SimpleNamespace(token="rw-secret", read_token=None), "rw-secret")
    'rw'
"""

from __future__ import annotations

import hmac
from typing import Annotated, Protocol

from fastapi import Path, Query, Request

COOKIE = "inferplan_token"
"""Name of the HttpOnly, SameSite=Strict cookie the UI's sign-in page sets."""

MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]
"""A record id in a path (bounded to the 32-bit integer range of both databases)."""
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]


class TokenSettings(Protocol):
    """The configured tokens: read-write and read-only (None when not set)."""

    @property
    def token(self) -> str | None: ...
    @property
    def read_token(self) -> str | None: ...


def token_role(settings: TokenSettings, presented: str | None) -> str | None:
    """``"rw"``, ``"ro"`` or None for a presented token."""
    if not presented:
        return None
    given = presented.encode()
    if settings.token and hmac.compare_digest(given, settings.token.encode()):
        return "rw"
    if settings.read_token and hmac.compare_digest(given, settings.read_token.encode()):
        return "ro"
    return None


def token_is_valid(settings: TokenSettings, token: str) -> bool:
    """Whether ``token`` is one of the configured tokens (the sign-in page)."""
    return token_role(settings, token) is not None


def presented_token(request: Request) -> str | None:
    """The bearer token of the request, else the sign-in cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.cookies.get(COOKIE)


__all__ = [
    "COOKIE",
    "MAX_ID",
    "PathId",
    "QueryId",
    "TokenSettings",
    "presented_token",
    "token_is_valid",
    "token_role",
]
