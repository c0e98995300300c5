"""Access control and browser safety for every request (one HTTP middleware).

In order:

1. a path or query holding an encoded NUL (``%00``) is refused (422); body
   limits are :mod:`inferplan.api.limits`;
2. without tokens (loopback only), the ``Host`` header must name a loopback host,
   so a web page that rebinds its own domain to 127.0.0.1 cannot reach the API;
3. with tokens, a request must carry one, as ``Authorization: Bearer TOKEN`` or
   the ``inferplan_token`` cookie set by the UI's sign-in page (HttpOnly,
   SameSite=Strict). The read-only token allows GET and HEAD only;
4. a state-changing request that comes from another web origin is refused unless
   that origin is configured for CORS, so no other site can make a browser write
   to the store. A browser says where a request comes from in ``Sec-Fetch-Site``
   (a header pages cannot set; https://www.w3.org/TR/fetch-metadata/): only
   ``same-origin`` and ``none`` (typed address, bookmark) pass. Without it the
   ``Origin`` header must be the app's own origin; ``Origin: null`` (an opaque
   origin: sandboxed frames, ``data:`` pages) is refused;
5. responses carry ``nosniff``, ``Referrer-Policy: same-origin``, frame denial and,
   on HTML pages, a Content-Security-Policy that allows only the app's own scripts.
   ``same-origin`` and not ``no-referrer``: under ``no-referrer`` a browser sends
   ``Origin: null`` with the app's own form posts (Fetch standard, "serializing a
   request origin"), which rule 4 must refuse.

Behind a reverse proxy the scheme and host the browser used come from
:mod:`inferplan.api.proxy` (trusted proxies only).

Tokens are compared in constant time (:func:`inferplan.http_shared.token_role`) and
never logged.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inferplan.api.settings import ServiceSettings, is_loopback
from inferplan.http_shared import COOKIE, presented_token, token_is_valid, token_role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = ("/ui/login", "/ui/static/", "/healthz")
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host.lower()}"


def _cross_site(request: Request, settings: ServiceSettings) -> bool:
    origin = (request.headers.get("origin") or "").lower().rstrip("/")
    if origin and origin != "null" and origin in settings.cors_origins:
        return False
    site = request.headers.get("sec-fetch-site", "").lower()
    if site:
        return site not in ("same-origin", "none")
    if origin == "null":
        return True
    return bool(origin) and origin != _own_origin(request)


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _deny(request: Request, status: int, detail: str) -> Response:
    if status == 401 and not _is_api(request.url.path) and request.method in SAFE_METHODS:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
    headers = {"WWW-Authenticate": 'Bearer realm="inferplan"'} if status == 401 else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _harden(request: Request, response: Response) -> Response:
    _harden_headers(request.url.path, response.headers)
    return response


def _harden_headers(path: str, h: MutableHeaders) -> None:
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    ctype = h.get("content-type", "")
    if ctype.startswith("text/html"):
        report = path.endswith("/report")
        h.setdefault("Content-Security-Policy", REPORT_CSP if report else PAGE_CSP)
        if not report:
            h.setdefault("X-Frame-Options", "DENY")
    if _is_api(path):
        h.setdefault("Cache-Control", "no-store")


def check_request(request: Request, settings: ServiceSettings) -> Response | None:
    """The refusal for ``request``, or None when it may proceed."""
    raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw:
        where = "query" if b"%00" in request.scope.get("query_string", b"") else "path"
        return JSONResponse({"detail": [{"loc": [where], "field": where, "msg": "contains a "
                                         "NUL character (%00), which cannot be stored",
                                         "type": "storable_text"}]}, 422)
    if not settings.auth_required:
        host = urlsplit("//" + request.headers.get("host", "")).hostname or ""
        if not (is_loopback(host) or host in settings.extra_hosts):
            return JSONResponse({"detail": "host not allowed; use 127.0.0.1 or localhost"}, 400)
    path = request.url.path
    if request.method not in SAFE_METHODS and _cross_site(request, settings):
        return JSONResponse({"detail": "cross-site request refused"}, status_code=403)
    if settings.auth_required and not path.startswith(PUBLIC_PATHS):
        role = token_role(settings, presented_token(request))
        if role is None:
            return _deny(request, 401, "an access token is required (Authorization: Bearer)")
        if role == "ro" and request.method not in SAFE_METHODS and path != "/ui/logout":
            return _deny(request, 403, "this token is read-only")
    return None


class Guard:
    """ASGI middleware applying :func:`check_request` and the response headers (a
    plain ASGI class: no per-request task group or body streams, unlike
    ``@app.middleware``)."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        refusal = check_request(request, self.settings)
        if refusal is not None:
            await _harden(request, refusal)(scope, receive, send)
            return

        async def hardened_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                _harden_headers(path, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, hardened_send)


def install_security(app: FastAPI, settings: ServiceSettings) -> None:
    """Add the middleware described in the module docstring to ``app``."""
    app.add_middleware(Guard, settings=settings)


__all__ = ["COOKIE", "install_security", "presented_token", "token_is_valid"]
