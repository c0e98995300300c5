"""Settings of the team service, from options and the environment, checked once.

Access rules:

* bound to a loopback address (127.0.0.0/8, ::1, ``localhost``) the service needs
  no token; requests must then name a loopback host (``Host`` header), which
  stops DNS-rebinding pages from reaching it;
* bound to any other address it refuses to start unless an access token is set:
  ``INFERPLAN_API_TOKEN`` (read-write) and/or ``INFERPLAN_API_READ_TOKEN``
  (read-only), each at least 16 characters without spaces and with at least
  64 bits of estimated entropy (:func:`token_entropy_bits`), e.g.
  ``python -c "import secrets; print(secrets.token_urlsafe(32))"``;
* CORS headers are sent only to the origins listed in ``INFERPLAN_CORS_ORIGINS``
  (comma-separated) or ``--cors-origin``;
* benchmark runs requested through the API may only target the server URLs in
  ``INFERPLAN_BENCH_ALLOW`` (comma-separated) or ``--bench-allow``;
* ``X-Forwarded-*`` headers are honoured only from the reverse proxies named in
  ``INFERPLAN_TRUSTED_PROXIES`` (addresses or networks, comma-separated) or
  ``--trusted-proxy`` (see :mod:`inferplan.api.proxy`).
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from inferplan.errors import SpecError

ENV_TOKEN = "INFERPLAN_API_TOKEN"
ENV_READ_TOKEN = "INFERPLAN_API_READ_TOKEN"
ENV_CORS = "INFERPLAN_CORS_ORIGINS"
ENV_BENCH_ALLOW = "INFERPLAN_BENCH_ALLOW"
ENV_TRUSTED_PROXIES = "INFERPLAN_TRUSTED_PROXIES"
ENV_MAX_QUEUED = "INFERPLAN_MAX_QUEUED_JOBS"
MIN_TOKEN_CHARS = 16
MIN_TOKEN_BITS = 64.0
"""At least 2**64 guesses: NIST SP 800-63B 5.1.1.2 asks for a memorised secret of
8+ characters checked against known-bad values; a machine token should carry at
least 64 bits (RFC 6749 section 10.10 recommends access tokens whose guessing
probability is at most 2**-128, 2**-160 preferred; 64 bits is the floor here)."""
MAX_QUEUED_JOBS = 20
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """True for loopback addresses and names (``127.0.0.1``, ``::1``, ``localhost``)."""
    h = host.strip().strip("[]").lower()
    if h in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def token_entropy_bits(token: str) -> float:
    """Estimated entropy of ``token``: its length times the Shannon entropy of its
    character frequencies (bits per character). 20 spaces give 0 bits, a
    ``secrets.token_urlsafe(32)`` token about 200."""
    if not token:
        return 0.0
    n = len(token)
    per_char = -sum(c / n * math.log2(c / n) for c in Counter(token).values())
    return n * per_char


def check_token(name: str, token: str) -> None:
    """Refuse a token that is short, holds white space or is guessable."""
    if len(token) < MIN_TOKEN_CHARS:
        raise SpecError(name, f"too short; use at least {MIN_TOKEN_CHARS} random characters")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise SpecError(name, "contains white space or control characters; use random "
                        "letters and digits (secrets.token_urlsafe(32))")
    bits = token_entropy_bits(token)
    if bits < MIN_TOKEN_BITS:
        raise SpecError(name, f"too predictable (about {bits:.0f} bits; at least "
                        f"{MIN_TOKEN_BITS:.0f} needed); use secrets.token_urlsafe(32)")


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def normalise_origin(origin: str, field_name: str = "cors_origin") -> str:
    """``scheme://host[:port]`` of a web origin, lower-case, no path."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise SpecError(field_name, f"'{origin}' is not an origin; allowed: https://HOST[:PORT]")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def normalise_target(url: str) -> str:
    """A benchmark target as ``scheme://host:port/prefix`` (default ports filled in,
    a trailing ``/v1`` or ``/`` dropped), for comparing against the allow-list."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError("url", f"'{url}' is not a server URL; allowed: http(s)://HOST:PORT/v1")
    if parts.username or parts.password:
        raise SpecError("url", "credentials in the URL are not allowed; pass api_key")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise SpecError("url", f"'{url}' has an invalid port; allowed: 1-65535") from None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{parts.scheme}://{host}:{port}{path}"


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the app needs besides the store. Build with :meth:`from_env`."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str | None = None
    token: str | None = None
    read_token: str | None = None
    cors_origins: tuple[str, ...] = ()
    bench_allow: tuple[str, ...] = ()
    plan_workers: int = 2
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    trusted_proxies: tuple[str, ...] = ()
    max_queued_jobs: int = MAX_QUEUED_JOBS

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def auth_required(self) -> bool:
        """Tokens are checked when any is configured (always off loopback)."""
        return bool(self.token or self.read_token)

    @classmethod
    def from_env(
        cls,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        database_url: str | None = None,
        cors_origins: list[str] | None = None,
        bench_allow: list[str] | None = None,
        trusted_proxies: list[str] | None = None,
    ) -> ServiceSettings:
        """Options win over the environment; the result is checked (:meth:`check`)."""
        origins = cors_origins or _split(os.environ.get(ENV_CORS))
        allow = bench_allow or _split(os.environ.get(ENV_BENCH_ALLOW))
        proxies = trusted_proxies or _split(os.environ.get(ENV_TRUSTED_PROXIES))
        queued = os.environ.get(ENV_MAX_QUEUED, "").strip()
        if queued and not queued.isdigit():
            raise SpecError(ENV_MAX_QUEUED, f"'{queued}' is not a whole number; allowed: 1 or more")
        settings = cls(
            host=host,
            port=port,
            database_url=database_url,
            token=os.environ.get(ENV_TOKEN) or None,
            read_token=os.environ.get(ENV_READ_TOKEN) or None,
            cors_origins=tuple(normalise_origin(o) for o in origins),
            bench_allow=tuple(normalise_target(u) for u in allow),
            trusted_proxies=tuple(proxies),
            max_queued_jobs=int(queued) if queued else MAX_QUEUED_JOBS,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unsafe combinations with a :class:`SpecError` naming the setting."""
        if not 0 <= self.port <= 65535:
            raise SpecError("port", "allowed: 0-65535")
        for name, tok in ((ENV_TOKEN, self.token), (ENV_READ_TOKEN, self.read_token)):
            if tok is not None:
                check_token(name, tok)
        from inferplan.api.proxy import parse_networks

        try:
            parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise SpecError("trusted_proxy", f"{exc}; allowed: an address or a network "
                            "such as 10.0.0.0/8") from None
        if self.max_queued_jobs < 1:
            raise SpecError(ENV_MAX_QUEUED, "allowed: 1 or more")
        if self.token and self.read_token and self.token == self.read_token:
            raise SpecError(ENV_READ_TOKEN, f"must differ from {ENV_TOKEN}")
        if not self.loopback and not self.auth_required:
            raise SpecError(
                "host",
                f"'{self.host}' is not a loopback address; set {ENV_TOKEN} (read-write) "
                f"and/or {ENV_READ_TOKEN} (read-only) before serving on it",
            )
        if "*" in self.cors_origins:
            raise SpecError("cors_origin", "'*' is not allowed; list the origins")


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ENV_BENCH_ALLOW",
    "ENV_CORS",
    "ENV_MAX_QUEUED",
    "ENV_READ_TOKEN",
    "ENV_TOKEN",
    "ENV_TRUSTED_PROXIES",
    "ServiceSettings",
    "check_token",
    "is_loopback",
    "normalise_origin",
    "normalise_target",
    "token_entropy_bits",
]
