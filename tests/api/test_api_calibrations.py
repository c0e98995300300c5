"""Calibration profiles: CRUD with catalog ids, unique names and version checks."""

from __future__ import annotations

from fastapi.testclient import TestClient

API = "/api/v1/calibrations"
BODY = {"name": "vllm-h100-lab", "engine": "vllm", "accelerator": "h100-sxm-80gb",
        "parameters": {"gemm_efficiency": 0.78, "bandwidth_efficiency": 0.86},
        "notes": "fitted from runs 3 and 4"}


def test_crud(client: TestClient) -> None:
    r = client.post(API, json=BODY)
    assert r.status_code == 201, r.text
    cal = r.json()
    assert cal["version"] == 1 and cal["parameters"] == BODY["parameters"]
    assert client.get(f"{API}/{cal['id']}").json()["name"] == "vllm-h100-lab"
    r = client.put(f"{API}/{cal['id']}", json={"version": 1,
                                               "parameters": {"step_overhead_s": 0.002}})
    assert r.status_code == 200
    assert r.json()["version"] == 2 and r.json()["parameters"] == {"step_overhead_s": 0.002}
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


def test_parameters_are_checked(client: TestClient) -> None:
    """Only efficiency parameters, only numbers, only within their ranges."""
    cases = [({"bandwidth_efficiency": -0.5}, "parameters.bandwidth_efficiency"),
             ({"bandwidth_efficiency": 1.5}, "parameters.bandwidth_efficiency"),
             ({"bandwidth_efficiency": "0.8"}, "parameters.bandwidth_efficiency"),
             ({"step_overhead_s": True}, "parameters.step_overhead_s"),
             ({"gemm_efficiency_max": 0.7}, "parameters.gemm_efficiency_max")]
    for params, field in cases:
        r = client.post(API, json={**BODY, "parameters": params})
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"][0]["field"] == field, r.text
    cal = client.post(API, json=BODY).json()
    r = client.put(f"{API}/{cal['id']}", json={"version": 1,
                                               "parameters": {"attention_efficiency": 0}})
    assert r.status_code == 422
    assert client.get(API).json()[0]["parameters"] == BODY["parameters"]


def test_perf_applies_a_named_profile(client: TestClient) -> None:
    """Halving the HBM bandwidth efficiency of a bandwidth-bound decode step
    (Llama 3.1 8B, bf16, batch 1 on an H100: weights streamed every token) must
    raise TPOT; the same request without the profile is unchanged."""
    base = {"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb", "engine": "vllm",
            "batch": 1, "input_tokens": 128, "output_tokens": 64}
    slow = {**BODY, "name": "slow", "parameters": {"bandwidth_efficiency": 0.4,
                                                   "kv_bandwidth_efficiency": 0.4}}
    assert client.post(API, json=slow).status_code == 201
    plain = client.post("/api/v1/perf", json=base)
    calibrated = client.post("/api/v1/perf", json={**base, "calibration": "slow"})
    assert plain.status_code == 200 and calibrated.status_code == 200, calibrated.text
    tpot = lambda r: r.json()["tpot_ms"]["mean"]  # noqa: E731
    assert tpot(calibrated) > 1.5 * tpot(plain)
    missing = client.post("/api/v1/perf", json={**base, "calibration": "nope"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "calibration"
    other = client.post("/api/v1/perf", json={**base, "gpu": "a100-sxm-80gb",
                                              "calibration": "slow"})
    assert other.status_code == 422 and other.json()["detail"][0]["field"] == "calibration"
