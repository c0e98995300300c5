"""Scenarios through the API: history, diff, duplicate, delete, field errors, conflicts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"


def _create(client: TestClient, doc: dict[str, Any], comment: str = "") -> dict[str, Any]:
    r = client.post(f"{API}/scenarios", json={"document": doc, "comment": comment})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_create_read_update_keeps_every_version(
    client: TestClient, default_doc: dict[str, Any]
) -> None:
    s = _create(client, default_doc, "first cut")
    assert s["version"] == 1 and s["name"] == "eu-internal-assistant"
    assert client.get(f"{API}/scenarios/{s['id']}").headers["etag"] == '"1"'

    changed = {**default_doc, "slo": {"ttft_ms": 800, "tpot_ms": 40, "percentile": 95}}
    r = client.put(f"{API}/scenarios/{s['id']}",
                   json={"document": changed, "version": 1, "comment": "tighter SLO"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.json()["document"]["slo"]["ttft_ms"] == 800

    history = client.get(f"{API}/scenarios/{s['id']}/versions").json()
    assert [(h["version"], h["comment"]) for h in history] == [(1, "first cut"),
                                                               (2, "tighter SLO")]
    v1 = client.get(f"{API}/scenarios/{s['id']}/versions/1").json()
    assert v1["document"]["slo"]["ttft_ms"] == 1000  # the example's value, unchanged


def test_diff_lists_changed_fields(client: TestClient, default_doc: dict[str, Any]) -> None:
    s = _create(client, default_doc)
    changed = {**default_doc, "finance": {"horizon_years": 3, "discount_rate": 0.08}}
    del changed["description"]
    client.put(f"{API}/scenarios/{s['id']}", json={"document": changed, "version": 1})
    d = client.get(f"{API}/scenarios/{s['id']}/diff", params={"from": 1, "to": 2}).json()
    changes = {c["path"]: c for c in d["changes"]}
    assert set(changes) == {"finance.horizon_years", "description"}
    assert changes["finance.horizon_years"] == {"path": "finance.horizon_years",
                                                "change": "changed", "old": 5, "new": 3}
    assert changes["description"]["change"] == "removed"
    assert "-  horizon_years: 5" in d["unified"] and "+  horizon_years: 3" in d["unified"]


def test_duplicate_and_compare_two_scenarios(
    client: TestClient, default_doc: dict[str, Any]
) -> None:
    s = _create(client, default_doc)
    r = client.post(f"{API}/scenarios/{s['id']}/duplicate", json={"name": "variant"})
    assert r.status_code == 201
    copy = r.json()
    assert copy["id"] != s["id"] and copy["version"] == 1 and copy["name"] == "variant"
    d = client.get(f"{API}/scenarios/diff", params={"a": s["id"], "b": copy["id"]}).json()
    assert d["changes"] == [{"path": "name", "change": "changed",
                             "old": "eu-internal-assistant", "new": "variant"}]


def test_yaml_input_and_yaml_output(client: TestClient) -> None:
    text = (
        "name: yaml-one\nmodels: [llama-3.1-8b]\n"
        "workload: {requests_per_day: 1000, input_tokens_mean: 500, output_tokens_mean: 200}\n"
        "slo: {ttft_ms: 2000, tpot_ms: 100}\nfinance: {horizon_years: 3, discount_rate: 0.1}\n"
    )
    r = client.post(f"{API}/scenarios", json={"yaml": text})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["document"]["workload"]["requests_per_day"] == 1000
    out = client.get(f"{API}/scenarios/{sid}/yaml")
    assert out.headers["content-type"].startswith("application/yaml")
    assert "requests_per_day: 1000" in out.text


def test_invalid_fields_are_all_reported_with_their_paths(
    client: TestClient, default_doc: dict[str, Any]
) -> None:
    doc = {**default_doc, "models": ["llama-3.3-70", "llama-3.1-8b"]}
    doc["workload"] = {**doc["workload"], "users": 0, "peak_to_mean_within_hour": 0.5}
    r = client.post(f"{API}/scenarios", json={"document": doc})
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["detail"]}
    assert set(errors) == {"workload.users", "workload.peak_to_mean_within_hour", "models[0]"}
    assert errors["workload.users"]["loc"] == ["body", "document", "workload", "users"]
    assert "greater than or equal to 1" in errors["workload.users"]["msg"]
    assert "llama-3.3-70b" in errors["models[0]"]["msg"]  # the suggestion


def test_cross_field_rule_names_the_field(client: TestClient, default_doc: dict[str, Any]
                                          ) -> None:
    doc = {**default_doc, "workload": {**default_doc["workload"], "requests_per_day": 100}}
    r = client.post(f"{API}/scenarios", json={"document": doc})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == ["workload.requests_per_day"]


def test_malformed_requests_get_422(client: TestClient) -> None:
    r = client.post(f"{API}/scenarios", content=b"{not json", headers={
        "content-type": "application/json"})
    assert r.status_code == 422
    r = client.post(f"{API}/scenarios", json={"document": {"name": "x"}, "yaml": "name: y"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "document"
    r = client.post(f"{API}/scenarios", json={"yaml": "name: [unclosed"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "yaml"
    r = client.post(f"{API}/scenarios", json={"document": {}, "colour": "red"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "colour"
    r = client.put(f"{API}/scenarios/1", json={"document": {}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "version"
    assert client.get(f"{API}/scenarios/0").status_code == 422
    assert client.get(f"{API}/scenarios/99999999999").status_code == 422


def test_stale_edit_gets_409_with_the_current_version(
    client: TestClient, default_doc: dict[str, Any]
) -> None:
    s = _create(client, default_doc)
    url = f"{API}/scenarios/{s['id']}"
    assert client.put(url, json={"document": default_doc, "version": 1}).status_code == 200
    r = client.put(url, json={"document": default_doc, "version": 1})
    assert r.status_code == 409
    assert r.json()["current_version"] == 2
    assert "version 2" in r.json()["detail"]
    assert client.get(url).json()["version"] == 2


def test_delete_removes_scenario_and_history(client: TestClient, default_doc: dict[str, Any]
                                             ) -> None:
    s = _create(client, default_doc)
    url = f"{API}/scenarios/{s['id']}"
    assert client.delete(url, params={"version": 7}).status_code == 409
    assert client.delete(url, params={"version": 1}).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/versions").status_code == 404
    assert client.delete(url).status_code == 404


def test_list_and_search(client: TestClient, default_doc: dict[str, Any]) -> None:
    for name in ("alpha-chat", "beta-rag", "alpha-code"):
        _create(client, {**default_doc, "name": name})
    listed = client.get(f"{API}/scenarios", params={"q": "ALPHA"}).json()
    assert listed["total"] == 2
    assert {i["name"] for i in listed["items"]} == {"alpha-chat", "alpha-code"}
    assert client.get(f"{API}/scenarios", params={"q": "%"}).json()["total"] == 0
