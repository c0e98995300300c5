"""Access rules: loopback needs nothing, other addresses need tokens; read-only and
read-write tokens; no cross-site writes; no CORS unless configured; hosts checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inferplan.api.settings import ServiceSettings
from inferplan.errors import SpecError
from inferplan.server import create_app
from inferplan.store.database import open_store

RW = "rw-token-0123456789abcdef"
RO = "ro-token-0123456789abcdef"
API = "/api/v1"


def _client(settings: ServiceSettings, tmp_path: Path, base: str = "http://127.0.0.1"
            ) -> Iterator[TestClient]:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with TestClient(create_app(settings, store), base_url=base) as c:
        yield c
    store.dispose()


@pytest.fixture
def open_client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(ServiceSettings(), tmp_path)


@pytest.fixture
def token_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServiceSettings(host="0.0.0.0", token=RW, read_token=RO)
    yield from _client(settings, tmp_path, "http://10.1.2.3:8321")


def test_other_addresses_need_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERPLAN_API_TOKEN", raising=False)
    monkeypatch.delenv("INFERPLAN_API_READ_TOKEN", raising=False)
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        with pytest.raises(SpecError) as err:
            ServiceSettings.from_env(host=host)
        assert err.value.field == "host"
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert ServiceSettings.from_env(host=host).auth_required is False
    monkeypatch.setenv("INFERPLAN_API_READ_TOKEN", RO)
    assert ServiceSettings.from_env(host="0.0.0.0").read_token == RO
    monkeypatch.setenv("INFERPLAN_API_TOKEN", "short")
    with pytest.raises(SpecError, match="at least 16"):
        ServiceSettings.from_env(host="0.0.0.0")


def test_loopback_without_tokens_checks_the_host_header(open_client: TestClient) -> None:
    assert open_client.get(f"{API}/scenarios").status_code == 200
    assert open_client.get(f"{API}/scenarios", headers={"host": "localhost:8321"}
                           ).status_code == 200
    # a page that rebinds its own name to 127.0.0.1 sends its own host name
    r = open_client.get(f"{API}/scenarios", headers={"host": "evil.example:8321"})
    assert r.status_code == 400


def test_tokens_and_roles(token_client: TestClient, default_doc: dict[str, Any]) -> None:
    r = token_client.get(f"{API}/scenarios")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    bad = token_client.get(f"{API}/scenarios", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    ro = {"authorization": f"Bearer {RO}"}
    rw = {"authorization": f"Bearer {RW}"}
    assert token_client.get(f"{API}/scenarios", headers=ro).status_code == 200
    denied = token_client.post(f"{API}/scenarios", json={"document": default_doc}, headers=ro)
    assert denied.status_code == 403 and "read-only" in denied.json()["detail"]
    assert token_client.post(f"{API}/scenarios", json={"document": default_doc},
                             headers=rw).status_code == 201
    for resp in (r, bad, denied):
        assert RW not in resp.text and RO not in resp.text
    # the UI redirects to its sign-in page; static files and health stay public
    page = token_client.get("/ui/plans", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")
    assert token_client.get("/ui/static/app.css").status_code == 200
    assert token_client.get("/healthz").status_code == 200


def test_ui_sign_in_sets_an_http_only_cookie(token_client: TestClient) -> None:
    wrong = token_client.post("/ui/login", data={"token": "wrong", "next": "/ui/plans"})
    assert wrong.status_code == 401
    ok = token_client.post("/ui/login", data={"token": RW, "next": "https://evil.example/"},
                           follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/ui/"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert token_client.get("/ui/plans").status_code == 200
    assert token_client.get(f"{API}/scenarios").status_code == 200


def test_cross_site_writes_are_refused(open_client: TestClient, default_doc: dict[str, Any]
                                       ) -> None:
    url = f"{API}/scenarios"
    body = {"document": default_doc}
    assert open_client.post(url, json=body, headers={"origin": "https://evil.example"}
                            ).status_code == 403
    assert open_client.post(url, json=body, headers={"sec-fetch-site": "cross-site"}
                            ).status_code == 403
    same = open_client.post(url, json=body, headers={"origin": "http://127.0.0.1"})
    assert same.status_code == 201
    # reads are not writes
    assert open_client.get(url, headers={"origin": "https://evil.example"}).status_code == 200


def test_no_cors_headers_unless_configured(open_client: TestClient, tmp_path: Path) -> None:
    r = open_client.get(f"{API}/scenarios", headers={"origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = open_client.options(f"{API}/scenarios", headers={
        "origin": "https://app.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    settings = ServiceSettings(cors_origins=("https://app.example",))
    for c in _client(settings, tmp_path / "cors"):
        r = c.get(f"{API}/scenarios", headers={"origin": "https://app.example"})
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        other = c.get(f"{API}/scenarios", headers={"origin": "https://other.example"})
        assert "access-control-allow-origin" not in other.headers
        assert c.post(f"{API}/scenarios", json={"yaml": "name: x"},
                      headers={"origin": "https://app.example"}).status_code == 422


def test_pages_carry_a_content_security_policy(open_client: TestClient) -> None:
    r = open_client.get("/ui/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


def test_api_keys_are_not_echoed_in_errors(open_client: TestClient) -> None:
    secret = "sk-echo-check-123456"
    r = open_client.post(f"{API}/bench-runs/jobs", json={"url": 5, "api_key": secret})
    assert r.status_code == 422 and secret not in r.text
    r = open_client.post(f"{API}/bench-runs/jobs", json={"url": "x", "api_key": [secret]})
    assert r.status_code == 422 and secret not in r.text
