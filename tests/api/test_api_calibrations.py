"""Calibration profiles: CRUD with catalog ids, unique names and version checks."""

from __future__ import annotations

from fastapi.testclient import TestClient

API = "/api/v1/calibrations"
BODY = {"name": "vllm-h100-lab", "engine": "vllm", "accelerator": "h100-sxm-80gb",
        "parameters": {"gemm_efficiency_max": 0.78, "bandwidth_efficiency": 0.86},
        "notes": "fitted from runs 3 and 4"}


def test_crud(client: TestClient) -> None:
    r = client.post(API, json=BODY)
    assert r.status_code == 201, r.text
    cal = r.json()
    assert cal["version"] == 1 and cal["parameters"] == BODY["parameters"]
    assert client.get(f"{API}/{cal['id']}").json()["name"] == "vllm-h100-lab"
    r = client.put(f"{API}/{cal['id']}", json={"version": 1, "parameters": {"x": 1.5}})
    assert r.status_code == 200
    assert r.json()["version"] == 2 and r.json()["parameters"] == {"x": 1.5}
    assert r.json()["notes"] == BODY["notes"]  # fields left out are kept
    stale = client.put(f"{API}/{cal['id']}", json={"version": 1, "notes": "late"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert [c["name"] for c in client.get(API).json()] == ["vllm-h100-lab"]
    assert client.delete(f"{API}/{cal['id']}").status_code == 204
    assert client.get(f"{API}/{cal['id']}").status_code == 404


def test_names_are_unique_and_ids_checked(client: TestClient) -> None:
    assert client.post(API, json=BODY).status_code == 201
    dup = client.post(API, json=BODY)
    assert dup.status_code == 409 and "exists already" in dup.json()["detail"]
    bad = client.post(API, json={**BODY, "name": "other", "engine": "vlm",
                                 "accelerator": "h100-sxm-81gb"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["detail"]} == {"engine", "accelerator"}
    alias = client.post(API, json={**BODY, "name": "alias", "accelerator": "h100",
                                   "engine": "vllm-v1"})
    assert alias.status_code == 201
    assert (alias.json()["accelerator"], alias.json()["engine"]) == ("h100-sxm-80gb", "vllm")
