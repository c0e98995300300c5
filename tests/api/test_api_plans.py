"""Plans as jobs: progress, result, cancel, re-run, compare, restart recovery."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inferplan.api import routes_plans
from inferplan.api.settings import ServiceSettings
from inferplan.server import create_app
from inferplan.store import records
from inferplan.store.database import Store

API = "/api/v1"


def _scenario(client: TestClient, doc: dict[str, Any]) -> int:
    r = client.post(f"{API}/scenarios", json={"document": doc})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_plan_runs_as_job_and_stores_its_result(
    client: TestClient, default_doc: dict[str, Any], wait_job: Any
) -> None:
    sid = _scenario(client, default_doc)
    r = client.post(f"{API}/plans", json={"scenario_id": sid})
    assert r.status_code == 202, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/plans/{body['plan_id']}"
    job = wait_job(client, body["job"]["id"])
    assert job["status"] == "succeeded" and job["progress"] == 1.0
    plan = client.get(f"{API}/plans/{body['plan_id']}").json()
    assert plan["status"] == "succeeded"
    assert plan["scenario_id"] == sid and plan["scenario_version"] == 1
    rec = plan["result"]["recommendation"]
    assert plan["recommended_option"] == rec["option"]
    assert plan["npv_usd"] == pytest.approx(rec["npv_usd"])
    # the pick is the cheapest served option by NPV (the planner's rule)
    assert rec["npv_usd"] == min(o["npv_usd"] for o in plan["result"]["options"])
    assert plan["scenario_document"]["name"] == default_doc["name"]
    listed = client.get(f"{API}/plans", params={"scenario_id": sid}).json()
    assert [p["id"] for p in listed["items"]] == [body["plan_id"]]


def test_plan_needs_models_and_slo(client: TestClient, default_doc: dict[str, Any]) -> None:
    doc = dict(default_doc)
    del doc["slo"]
    r = client.post(f"{API}/plans", json={"document": doc})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == ["slo"]
    r = client.post(f"{API}/plans", json={"scenario_id": 1, "document": doc})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "scenario_id"
    assert client.post(f"{API}/plans", json={"scenario_id": 12345}).status_code == 404


def test_cancel_stops_a_running_plan(
    client: TestClient, default_doc: dict[str, Any], wait_job: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = threading.Event()

    def slow_plan(scenario: Any, progress: Any) -> Any:
        for i in range(400):  # at most 20 s; the cancel stops it at the next report
            progress(f"step {i}", i / 400)
            started.set()
            time.sleep(0.05)
        raise AssertionError("the plan was not cancelled")

    monkeypatch.setattr(routes_plans, "run_planner", slow_plan)
    r = client.post(f"{API}/plans", json={"document": default_doc})
    pid, jid = r.json()["plan_id"], r.json()["job"]["id"]
    assert started.wait(10)
    running = client.get(f"{API}/plans/{pid}").json()
    assert running["status"] == "running" and running["job_id"] == jid
    assert client.post(f"{API}/plans/{pid}/cancel").status_code == 200
    assert wait_job(client, jid)["status"] == "cancelled"
    plan = client.get(f"{API}/plans/{pid}").json()
    assert plan["status"] == "cancelled" and plan["result"] is None
    assert client.post(f"{API}/plans/{pid}/cancel").status_code == 409
    assert client.post(f"{API}/jobs/{jid}/cancel").json()["status"] == "cancelled"


def test_failed_plan_keeps_the_reason(
    client: TestClient, default_doc: dict[str, Any], wait_job: Any
) -> None:
    # own hardware only, and a 1 microsecond TTFT no accelerator can reach: infeasible
    doc = {**default_doc, "slo": {"ttft_ms": 0.001, "tpot_ms": 0.001},
           "candidates": {**default_doc["candidates"], "kinds": ["on_prem"]}}
    r = client.post(f"{API}/plans", json={"document": doc})
    job = wait_job(client, r.json()["job"]["id"])
    assert job["status"] == "failed"
    plan = client.get(f"{API}/plans/{r.json()['plan_id']}").json()
    assert plan["status"] == "failed" and plan["error"]
    assert plan["result"] is None


def test_rerun_and_compare(
    client: TestClient, default_doc: dict[str, Any], wait_job: Any
) -> None:
    doc = {**default_doc, "candidates": {**default_doc["candidates"], "kinds": ["api"]}}
    sid = _scenario(client, doc)
    first = client.post(f"{API}/plans", json={"scenario_id": sid}).json()
    wait_job(client, first["job"]["id"])
    changed = {**doc, "finance": {"horizon_years": 3, "discount_rate": 0.08}}
    assert client.put(f"{API}/scenarios/{sid}",
                      json={"document": changed, "version": 1}).status_code == 200
    again = client.post(f"{API}/plans/{first['plan_id']}/rerun").json()
    newest = client.post(f"{API}/plans/{first['plan_id']}/rerun", params={"latest": True}).json()
    wait_job(client, again["job"]["id"])
    wait_job(client, newest["job"]["id"])
    p_first = client.get(f"{API}/plans/{first['plan_id']}").json()
    p_again = client.get(f"{API}/plans/{again['plan_id']}").json()
    p_newest = client.get(f"{API}/plans/{newest['plan_id']}").json()
    assert p_again["rerun_of"] == first["plan_id"] and p_again["scenario_version"] == 1
    assert p_again["scenario_document"]["finance"]["horizon_years"] == 5
    assert p_newest["scenario_version"] == 2 and p_newest["status"] == "succeeded"
    # same document, same catalog: the re-run recommends the same option at the same NPV
    assert p_again["recommended_option"] == p_first["recommended_option"]
    assert p_again["npv_usd"] == pytest.approx(p_first["npv_usd"])

    cmp = client.get(f"{API}/plans/compare",
                     params={"a": first["plan_id"], "b": newest["plan_id"]}).json()
    rows = {r["field"]: r for r in cmp["rows"]}
    assert (rows["horizon (months)"]["a"], rows["horizon (months)"]["b"]) == (60, 36)  # 5*12, 3*12
    assert rows["npv_usd"]["a"] == pytest.approx(p_first["npv_usd"])
    assert rows["npv_usd"]["b"] == pytest.approx(p_newest["npv_usd"])
    assert cmp["scenario_changes"] == [{"path": "finance.horizon_years", "change": "changed",
                                        "old": 5, "new": 3}]


def test_delete_plan(client: TestClient, default_doc: dict[str, Any], wait_job: Any) -> None:
    doc = {**default_doc, "candidates": {"kinds": ["api"]}}
    r = client.post(f"{API}/plans", json={"document": doc}).json()
    wait_job(client, r["job"]["id"])
    assert client.delete(f"{API}/plans/{r['plan_id']}").status_code == 204
    assert client.get(f"{API}/plans/{r['plan_id']}").status_code == 404
    assert client.get(f"{API}/jobs/0123abcd").status_code == 404


def test_plans_left_running_are_marked_interrupted_at_start(
    store: Store, default_doc: dict[str, Any]
) -> None:
    row = records.create_plan(store, default_doc)
    records.mark_plan_running(store, row.id, "designs", 0.05)
    with TestClient(create_app(ServiceSettings(), store), base_url="http://127.0.0.1") as c:
        plan = c.get(f"{API}/plans/{row.id}").json()
    assert plan["status"] == "interrupted"
    assert plan["finished_at"] is not None


def test_plan_applies_a_named_calibration_profile(
    client: TestClient, default_doc: dict[str, Any], wait_job: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inferplan.errors import InfeasibleError

    prof = {"name": "lab", "engine": "vllm", "accelerator": "h100-sxm-80gb",
            "parameters": {"bandwidth_efficiency": 0.5}}
    assert client.post(f"{API}/calibrations", json=prof).status_code == 201
    hooks: list[Any] = []

    def capture(scenario: Any, progress: Any, efficiency_for: Any = None) -> Any:
        hooks.append(efficiency_for)
        raise InfeasibleError("stopped after capturing the calibration")

    monkeypatch.setattr(routes_plans, "run_planner", capture)
    r = client.post(f"{API}/plans", json={"document": default_doc, "calibration": "lab"})
    assert r.status_code == 202, r.text
    wait_job(client, r.json()["job"]["id"])
    assert client.get(f"{API}/plans/{r.json()['plan_id']}").json()["calibration"] == "lab"
    again = client.post(f"{API}/plans/{r.json()['plan_id']}/rerun").json()
    wait_job(client, again["job"]["id"])
    assert len(hooks) == 2
    for hook in hooks:  # the profile's efficiencies, on its accelerator and engine only
        assert (hook.accelerator, hook.engine) == ("h100-sxm-80gb", "vllm")
        assert hook.efficiency.bandwidth_efficiency == 0.5
    unknown = client.post(f"{API}/plans", json={"document": default_doc, "calibration": "x"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "calibration"
