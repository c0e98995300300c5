"""Server-rendered pages: each renders from the store with its key content."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"


def _scenario(client: TestClient, doc: dict[str, Any]) -> int:
    r = client.post(f"{API}/scenarios", json={"document": doc})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _plan(client: TestClient, sid: int) -> int:
    r = client.post(f"{API}/plans", json={"scenario_id": sid})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        plan = client.get(f"{API}/plans/{r.json()['plan_id']}").json()
        if plan["status"] not in ("queued", "running"):
            return int(plan["id"])
        time.sleep(0.05)
    raise AssertionError("plan did not finish")


def test_scenario_pages(client: TestClient, default_doc: dict[str, Any]) -> None:
    sid = _scenario(client, default_doc)
    client.put(f"{API}/scenarios/{sid}", json={
        "document": {**default_doc, "finance": {"horizon_years": 3, "discount_rate": 0.08}},
        "version": 1, "comment": "three years"})
    index = client.get("/ui/").text
    assert "eu-internal-assistant" in index and f'data-run-plan="{sid}"' in index
    page = client.get(f"/ui/scenarios/{sid}").text
    assert "version 2" in page and "three years" in page
    assert f"/ui/scenarios/{sid}/diff?from=1&amp;to=2" in page
    diff = client.get(f"/ui/scenarios/{sid}/diff", params={"from": 1, "to": 2}).text
    assert "finance.horizon_years" in diff and 'class="diff-add"' in diff
    edit = client.get(f"/ui/scenarios/{sid}/edit").text
    assert 'data-field="workload.users"' in edit and 'data-version="2"' in edit
    new = client.get("/ui/scenarios/new").text
    assert 'value="eu-internal-assistant"' in new
    copy = client.get("/ui/scenarios/new", params={"from": sid}).text
    assert "eu-internal-assistant (copy)" in copy
    assert client.get("/ui/scenarios/999").status_code == 404


def test_plan_pages(client: TestClient, default_doc: dict[str, Any]) -> None:
    doc = {**default_doc, "candidates": {**default_doc["candidates"], "kinds": ["api"]}}
    sid = _scenario(client, doc)
    a, b = _plan(client, sid), _plan(client, sid)
    plan = client.get(f"{API}/plans/{a}").json()
    page = client.get(f"/ui/plans/{a}").text
    assert plan["recommended_option"] in page
    assert 'id="chart-data"' in page and '/ui/static/plotly.min.js' in page
    report = client.get(f"/ui/plans/{a}/report")
    assert report.status_code == 200 and "<html" in report.text.lower()
    cmp = client.get("/ui/compare/plans", params={"a": a, "b": b}).text
    assert f"Plan #{a} and plan #{b}" in cmp
    assert "Both plans ran on the same scenario document" in cmp
    listed = client.get("/ui/plans").text
    assert f'href="/ui/plans/{a}"' in listed and f'href="/ui/plans/{b}"' in listed


def test_catalog_pages(client: TestClient) -> None:
    assert "accelerators" in client.get("/ui/catalog").text
    table = client.get("/ui/catalog/accelerators", params={"q": "h100"}).text
    assert "h100-sxm-80gb" in table and "a100-sxm-80gb" not in table
    assert "80 GB" in table  # memory shown in GB, not bytes
    item = client.get("/ui/catalog/models/llama-3.1-8b").text
    assert "llama-3.1-8b" in item and "Source" in item and "<a href=" in item


def test_plotly_is_served_by_the_app(client: TestClient) -> None:
    r = client.get("/ui/static/plotly.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "plotly" in r.text[:2000].lower() and len(r.content) > 1_000_000


def test_bench_and_calibration_pages(client: TestClient) -> None:
    assert "No benchmark runs yet" in client.get("/ui/bench").text
    client.post(f"{API}/calibrations", json={"name": "lab", "engine": "vllm",
                                             "accelerator": "h100-sxm-80gb",
                                             "parameters": {"k": 1}})
    page = client.get("/ui/calibrations").text
    assert "lab" in page and "h100-sxm-80gb" in page


def test_unknown_ui_paths_show_a_page(client: TestClient) -> None:
    r = client.get("/ui/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Not found" in r.text and 'href="/ui/"' in r.text.replace("'", '"')
    api = client.get(f"{API}/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"


def test_latency_cards_say_not_verified_without_a_latency(client: TestClient) -> None:
    """An API option has no latency prediction: the cards say so instead of a dash."""
    from inferplan.store import records

    store = client.app.state.store  # type: ignore[attr-defined]
    plan = records.create_plan(store, {"name": "api-only", "slo": {"ttft_ms": 500,
                                                                    "tpot_ms": 50}})
    rec = {"option": "provider-x model-y", "kind": "api", "provider": "provider-x",
           "model": "model-y", "npv_usd": -1000.0, "tco_nominal_usd": 1200.0,
           "usd_per_million_tokens": 2.0, "p95_ttft_ms": None, "p95_tpot_ms": None,
           "reasons": ["cheapest"]}
    records.finish_plan(store, plan.id, "succeeded", result={
        "recommendation": rec, "options": [{"name": rec["option"], "npv_usd": -1000.0,
                                            "kind": "api"}],
        "horizon_months": 60, "discount_rate": 0.08})
    page = client.get(f"/ui/plans/{plan.id}")
    assert page.status_code == 200, page.text[:500]
    assert page.text.count("not verified") == 2


def test_long_lists_are_paged(client: TestClient, app: Any) -> None:
    # 120 stored plans and scenarios: each list page shows 50 rows and links onwards, so a
    # page costs the same however many records the store holds
    from inferplan.store import records, scenarios

    store = app.state.store
    for i in range(120):
        s = scenarios.create_scenario(store, {"name": f"s-{i}", "workload": {"users": 1}})
        p = records.create_plan(store, {"name": f"s-{i}"}, s.id, 1)
        records.finish_plan(store, p.id, "succeeded", result={"recommendation": {}})
    first = client.get("/ui/plans").text
    assert first.count('class="pick2"') == 50 and "page 1 of 3" in first
    assert 'href="?page=2"' in first and "previous" not in first
    last = client.get("/ui/plans?page=3").text
    assert last.count('class="pick2"') == 20 and "page 3 of 3" in last and "next</a>" not in last
    index = client.get("/ui/?page=2").text
    assert index.count("data-run-plan=") == 50 and "page 2 of 3" in index
    assert client.get("/ui/plans?page=0").status_code == 422
