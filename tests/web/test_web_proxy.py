"""Signing in and out behind a TLS-terminating reverse proxy: a real proxy process
in front of the app, a real headless Chromium in front of the proxy."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from inferplan.api.settings import ServiceSettings
from inferplan.server import create_app
from inferplan.store.database import open_store

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = secrets.token_urlsafe(24)
API = "/api/v1"


def _settings(trusted: tuple[str, ...]) -> ServiceSettings:
    return ServiceSettings(token=TOKEN, trusted_proxies=trusted)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """Tokens required; the proxy on 127.0.0.1 is trusted."""
    store = open_store(f"sqlite:///{tmp_path / 'proxy.db'}")
    app = create_app(_settings(("127.0.0.1",)), store)
    yield app
    app.state.jobs.shutdown()
    store.dispose()


def test_behind_the_proxy_the_cookie_is_secure_and_cross_site_writes_refused(
    tls_proxy: str, default_doc: dict[str, Any]
) -> None:
    with httpx.Client(base_url=tls_proxy, verify=False, timeout=30) as c:
        page = c.get("/ui/plans")
        assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")
        signed = c.post("/ui/login", data={"token": TOKEN, "next": "/ui/plans"},
                        headers={"origin": tls_proxy, "sec-fetch-site": "same-origin"})
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/plans"
        cookie = signed.headers["set-cookie"].lower()
        assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        auth = {"authorization": f"Bearer {TOKEN}"}
        body = {"document": default_doc}
        # the browser's origin is the proxy's https://localhost:PORT, which the app
        # knows from the trusted forwarded headers
        own = c.post(f"{API}/scenarios", json=body, headers={**auth, "origin": tls_proxy})
        assert own.status_code == 201, own.text
        for hdrs in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
                     {"origin": tls_proxy.replace("https", "http")}, {"origin": "null"}):
            r = c.post(f"{API}/scenarios", json=body, headers={**auth, **hdrs})
            assert r.status_code == 403, hdrs


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'u.db'}")
    forged = {"x-forwarded-proto": "https", "x-forwarded-host": "evil.example"}
    for trusted, secure in (((), False), (("10.0.0.0/8",), False)):
        app = create_app(_settings(trusted), store)
        with TestClient(app, base_url="http://127.0.0.1") as c:  # peer "testclient"
            r = c.post("/ui/login", data={"token": TOKEN}, headers=forged,
                       follow_redirects=False)
            assert r.status_code == 303
            assert ("; secure" in r.headers["set-cookie"].lower()) is secure
            # the forged host did not become the app's own origin
            w = c.post(f"{API}/scenarios/validate", json={"yaml": "name: x"},
                       headers={**forged, "origin": "https://evil.example",
                                "authorization": f"Bearer {TOKEN}"})
            assert w.status_code == 403
    store.dispose()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")
def test_sign_in_run_a_plan_sign_out_in_chromium(tls_proxy: str, default_doc: dict[str, Any]
                                                  ) -> None:
    from playwright.sync_api import sync_playwright

    doc = {**default_doc, "name": "through-the-proxy",
           "candidates": {**default_doc["candidates"], "kinds": ["api"]}}
    with httpx.Client(base_url=tls_proxy, verify=False, timeout=30,
                      headers={"authorization": f"Bearer {TOKEN}"}) as c:
        sid = c.post(f"{API}/scenarios", json={"document": doc}).json()["id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        ctx = browser.new_context(ignore_https_errors=True)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{tls_proxy}/ui/scenarios/{sid}")
        page.wait_for_url("**/ui/login?next=*")
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/ui/scenarios/{sid}")
        (cookie,) = [k for k in ctx.cookies() if k["name"] == "inferplan_token"]
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        page.click("#run-plan")  # a fetch POST to /api/v1/plans with the cookie
        page.wait_for_url("**/ui/plans/*")
        plan_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        rec = page.wait_for_selector("#recommendation", timeout=120_000)
        with httpx.Client(base_url=tls_proxy, verify=False, timeout=30,
                          headers={"authorization": f"Bearer {TOKEN}"}) as c:
            stored = c.get(f"{API}/plans/{plan_id}").json()
        assert stored["status"] == "succeeded"
        assert stored["recommended_option"] in rec.inner_text()

        page.click("text=Sign out")
        page.wait_for_url("**/ui/login")
        assert [k for k in ctx.cookies() if k["name"] == "inferplan_token"] == []
        page.goto(f"{tls_proxy}/ui/plans")
        page.wait_for_url("**/ui/login?next=*")
        assert errors == []
        browser.close()
