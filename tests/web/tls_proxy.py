"""A small TLS-terminating reverse proxy for the tests (run as its own process).

    python tls_proxy.py BACKEND_URL PORT CERT KEY

Listens on https://127.0.0.1:PORT, forwards every request to BACKEND_URL over plain
HTTP with the backend's own ``Host`` (as nginx's ``proxy_pass`` does by default)
and says what the browser used in ``X-Forwarded-Proto``, ``X-Forwarded-Host`` and
``X-Forwarded-For``. Responses (redirects and every ``Set-Cookie`` included) go back
unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
import uvicorn

HOP = {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
       b"trailers", b"transfer-encoding", b"upgrade", b"host", b"content-length",
       b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-for"}


def make_app(backend: str) -> Any:
    client = httpx.AsyncClient(base_url=backend, timeout=120.0, follow_redirects=False)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP]
        headers += [(b"x-forwarded-proto", b"https"), (b"x-forwarded-host", host.encode()),
                    (b"x-forwarded-for", scope["client"][0].encode())]
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        resp = await client.request(scope["method"], target, headers=headers, content=body)
        out = [(k, v) for k, v in resp.headers.raw
               if k.lower() not in HOP and k.lower() != b"content-encoding"]
        content = resp.content
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": resp.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})

    return app


def main() -> None:
    backend, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    uvicorn.run(make_app(backend), host="127.0.0.1", port=port, ssl_certfile=cert,
                ssl_keyfile=key, log_level="warning", proxy_headers=False)


if __name__ == "__main__":
    main()
