"""One request cannot break a page: text that cannot be stored is refused whole,
and every request is held to size and shape limits."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inferplan.api.limits import MAX_ERRORS, MAX_NODES, BodyLimit
from inferplan.api.settings import ServiceSettings, token_entropy_bits
from inferplan.errors import SpecError

API = "/api/v1"
SURROGATE = '"bad \\ud800 text"'  # a lone surrogate, as JSON writes it
NUL = '"bad \\u0000 text"'


def _raw(**fields: str) -> str:
    """A JSON object from already encoded values (so bad escapes reach the server)."""
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


def _post_raw(client: TestClient, url: str, body: str) -> Any:
    return client.post(url, content=body.encode(), headers={"content-type": "application/json"})


def _everything_still_lists(client: TestClient) -> None:
    for url in ("/scenarios", "/plans", "/bench-runs", "/calibrations", "/jobs"):
        r = client.get(API + url)
        assert r.status_code == 200, (url, r.text)
        data = r.json()
        assert (data["total"] if isinstance(data, dict) else len(data)) == 0, url
    assert client.get("/ui/").status_code == 200
    assert client.get("/ui/plans").status_code == 200
    assert client.get("/ui/bench").status_code == 200


@pytest.mark.parametrize("bad", [SURROGATE, NUL])
def test_unstorable_text_is_refused_at_the_door(
    client: TestClient, default_doc: dict[str, Any], make_run: Any, bad: str
) -> None:
    doc = json.dumps(default_doc)
    with_bad_name = doc.replace(json.dumps(default_doc["name"]), bad, 1)
    summary, jsonl = make_run([0.1, 0.2])
    first = json.loads(jsonl.splitlines()[0])
    first["finish_reason"] = "PLACEHOLDER"
    records = json.dumps(first) + "\n" + jsonl.split("\n", 1)[1]
    code = "ud800" if bad == SURROGATE else "u0000"
    cal = {"name": '"c"', "engine": '"vllm"', "accelerator": '"h100-sxm-80gb"'}
    cases = [
        ("/scenarios", _raw(document=with_bad_name), "document.name"),
        ("/scenarios/validate", _raw(document=with_bad_name), "document.name"),
        ("/plans", _raw(document=with_bad_name), "document.name"),
        ("/scenarios", _raw(document=doc, comment=bad), "comment"),
        ("/scenarios", _raw(yaml=bad), "yaml"),
        ("/calibrations", _raw(**cal, parameters=_raw(step_overhead_s=bad)),
         "parameters.step_overhead_s"),
        ("/calibrations", _raw(**{**cal, "name": bad}), "name"),
        ("/bench-runs", json.dumps({"summary": summary}).replace(
            '"model": "m-8b"', f'"model": {bad}', 1), "summary.metadata.model"),
        ("/bench-runs", json.dumps({"summary": summary, "records_jsonl": records}).replace(
            '\\"PLACEHOLDER\\"', f'\\"bad \\\\{code} text\\"'), "records_jsonl"),
    ]
    for url, body, field in cases:
        r = _post_raw(client, API + url, body)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["detail"][0]["field"] == field, (url, r.text)
    # YAML's own escapes reach the same check after parsing
    esc = "\\0" if bad == NUL else "\\ud800"
    r = client.post(f"{API}/scenarios", json={"yaml": f'name: "x{esc}y"\n'})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "yaml.name"
    _everything_still_lists(client)


def test_nul_in_a_query_or_path_is_refused(client: TestClient) -> None:
    assert client.get(f"{API}/scenarios?q=a%00b").status_code == 422
    assert client.get(f"{API}/catalog/models/a%00b").status_code == 422
    assert client.get(f"{API}/scenarios?q=ab").status_code == 200


def test_a_chunked_body_over_the_limit_is_cut_off() -> None:
    """The limit counts bytes as they arrive: without Content-Length, reading stops
    at the first chunk past the limit and the answer is 413."""
    chunk = b"x" * 1000
    received = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunk, "more_body": received < 1000}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    async def app(scope: Any, rcv: Any, snd: Any) -> None:
        while (await rcv()).get("more_body"):
            pass
        await snd({"type": "http.response.start", "status": 200, "headers": []})
        await snd({"type": "http.response.body", "body": b"read it all"})

    scope = {"type": "http", "headers": [(b"transfer-encoding", b"chunked")]}
    asyncio.run(BodyLimit(app, limit=5000)(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert received == 6  # 6 x 1000 bytes is the first total above 5000
    assert b"read it all" not in b"".join(m.get("body", b"") for m in sent)


def test_chunked_upload_through_the_app_gets_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(90):
            yield b" " * 2**20  # 90 MiB in all, no Content-Length

    r = client.post(f"{API}/scenarios", content=chunks(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert client.get(f"{API}/scenarios").status_code == 200


def test_validation_errors_are_capped(client: TestClient, default_doc: dict[str, Any]) -> None:
    # 5,000 wrong model ids: one error each, but the answer lists MAX_ERRORS and a count
    r = client.post(f"{API}/scenarios", json={"document": {**default_doc,
                                                          "models": list(range(5000))}})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert len(detail) == MAX_ERRORS + 1
    assert detail[-1]["type"] == "too_many_errors"
    # a list of two million values is refused before any field is validated
    r = _post_raw(client, f"{API}/scenarios",
                  _raw(document=_raw(models="[" + ",".join(["1"] * 2_000_000) + "]")))
    assert r.status_code == 422 and len(r.json()["detail"]) == 1
    assert r.json()["detail"][0]["field"] == "document.models"


def test_yaml_alias_expansion_is_bounded(client: TestClient) -> None:
    # nine levels of nine aliases: 9**9 = 387,420,489 values from 280 characters
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    text = "\n".join(lines) + "\n"
    r = client.post(f"{API}/scenarios", json={"yaml": text})
    assert r.status_code == 422
    assert f"more than {MAX_NODES} values" in r.json()["detail"][0]["msg"]
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    r = client.post(f"{API}/scenarios", json={"yaml": many})
    assert r.status_code == 422 and "alias" in r.json()["detail"][0]["msg"]


def test_text_fields_have_sizes(client: TestClient, default_doc: dict[str, Any]) -> None:
    r = client.post(f"{API}/scenarios", json={"document": {**default_doc,
                                                          "description": "d" * 10_001}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "document.description"
    assert client.post(f"{API}/scenarios", json={"document": default_doc,
                                                 "comment": "c" * 501}).status_code == 422
    ok = client.post(f"{API}/scenarios", json={"document": {**default_doc,
                                                           "description": "d" * 10_000}})
    assert ok.status_code == 201


def test_token_entropy() -> None:
    # hand calculations: 16 distinct characters once each = 16 x log2(16) = 64 bits;
    # "ab" x 10 = 20 characters x 1 bit; 20 equal characters = 0 bits
    assert token_entropy_bits("0123456789abcdef") == pytest.approx(64.0)
    assert token_entropy_bits("ab" * 10) == pytest.approx(20.0)
    assert token_entropy_bits(" " * 20) == 0.0
    for weak in (" " * 20, "a" * 24, "ab" * 12, "0123456789abcde f"):
        with pytest.raises(SpecError) as err:
            ServiceSettings(host="0.0.0.0", token=weak).check()
        assert err.value.field == "INFERPLAN_API_TOKEN"
    ServiceSettings(host="0.0.0.0", token=secrets.token_urlsafe(32)).check()
