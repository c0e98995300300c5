"""Benchmark runs: upload (scrubbed of credentials), list, compare, allow-listed jobs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inferplan.api.settings import ServiceSettings, normalise_target
from inferplan.server import create_app
from inferplan.store import records
from inferplan.store.database import Store

API = "/api/v1"
SECRET = "sk-live-0123456789abcdef"
GAP_S = 0.01


def test_upload_strips_credentials(client: TestClient, make_run: Any) -> None:
    summary, jsonl = make_run([0.1, 0.2, 0.3], url="http://alice:pw123@127.0.0.1:8000/v1?key=abc")
    r = client.post(f"{API}/bench-runs", json={"summary": summary, "records_jsonl": jsonl,
                                               "name": "run a"})
    assert r.status_code == 201, r.text
    assert SECRET not in r.text
    rid = r.json()["id"]
    assert r.json()["url_host"] == "127.0.0.1:8000" and r.json()["record_count"] == 3
    stored = client.get(f"{API}/bench-runs/{rid}")
    text = stored.text + client.get(f"{API}/bench-runs/{rid}/records").text
    for leaked in (SECRET, "pw123", "alice", "key=abc"):
        assert leaked not in text
    cfg = stored.json()["summary"]["metadata"]["config"]
    assert "api_key" not in cfg and cfg["api_key_env"] == "SERVER_KEY"
    assert stored.json()["summary"]["metadata"]["url"] == "http://127.0.0.1:8000/v1"


def test_compare_two_runs(client: TestClient, make_run: Any) -> None:
    a, ja = make_run([0.1, 0.2, 0.3])
    b, jb = make_run([0.2, 0.3, 0.4])
    ida = client.post(f"{API}/bench-runs", json={"summary": a, "records_jsonl": ja}).json()["id"]
    idb = client.post(f"{API}/bench-runs", json={"summary": b, "records_jsonl": jb}).json()["id"]
    listed = client.get(f"{API}/bench-runs").json()
    assert listed["total"] == 2
    cmp = client.get(f"{API}/bench-runs/compare", params={"a": ida, "b": idb}).json()
    rows = {(r["metric"], r["stat"]): r for r in cmp["rows"]}
    # TTFT means: (0.1 + 0.2 + 0.3) / 3 = 0.2 and (0.2 + 0.3 + 0.4) / 3 = 0.3
    assert rows[("ttft_s", "mean")]["a"] == pytest.approx(0.2)
    assert rows[("ttft_s", "mean")]["diff"] == pytest.approx(0.1)
    assert rows[("ttft_s", "mean")]["change_fraction"] == pytest.approx(0.5)
    assert rows[("ttft_s", "p50")]["b"] == pytest.approx(0.3)
    # TPOT = (E2E - TTFT) / (tokens - 1) = (10 * 0.01) / 10 = 0.01 s in both runs
    assert rows[("tpot_s", "mean")]["a"] == pytest.approx(GAP_S)
    assert rows[("tpot_s", "mean")]["diff"] == pytest.approx(0.0, abs=1e-9)
    sig = {(m["stage"], m["metric"]): m for m in cmp["significance"]["metrics"]}
    assert sig[(0, "ttft_s")]["n_a"] == 3 and sig[(0, "ttft_s")]["n_b"] == 3


def test_malformed_uploads_get_field_errors(client: TestClient, make_run: Any) -> None:
    r = client.post(f"{API}/bench-runs", json={"summary": {"stages": []}})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} >= {"metadata", "counts"}
    assert r.json()["detail"][0]["loc"][:2] == ["body", "summary"]
    summary, _ = make_run([0.1])
    r = client.post(f"{API}/bench-runs", json={"summary": summary, "records_jsonl": "{]\n"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "records_jsonl"
    assert "line 1" in r.json()["detail"][0]["msg"]


def test_delete_run(client: TestClient, make_run: Any) -> None:
    summary, _ = make_run([0.1])
    rid = client.post(f"{API}/bench-runs", json={"summary": summary}).json()["id"]
    assert client.delete(f"{API}/bench-runs/{rid}").status_code == 204
    assert client.get(f"{API}/bench-runs/{rid}").status_code == 404


def test_bench_job_target_must_be_allow_listed(client: TestClient) -> None:
    r = client.post(f"{API}/bench-runs/jobs",
                    json={"url": "http://127.0.0.1:9/v1", "api_key": SECRET})
    assert r.status_code == 403
    assert "allow-list" in r.json()["detail"] and SECRET not in r.text
    r = client.post(f"{API}/bench-runs/jobs", json={"url": "http://u:p@127.0.0.1:9"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "url"


def _stub_module() -> Any:
    path = Path(__file__).resolve().parents[1] / "bench" / "stub_server.py"
    if not path.is_file():
        pytest.skip("the benchmark stub server is not in this checkout")
    spec = importlib.util.spec_from_file_location("inferplan_test_stub_server", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_bench_job_on_allow_listed_server(store: Store, wait_job: Any) -> None:
    stub = _stub_module()
    with stub.ThreadedStub(stub.StubConfig()) as server:
        settings = ServiceSettings(bench_allow=(normalise_target(server.url),))
        with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as c:
            r = c.post(f"{API}/bench-runs/jobs", json={
                "url": server.url, "concurrency": [1, 2], "max_requests": 4, "isl": 16,
                "osl": 8, "warmup": 0, "api_key": SECRET, "name": "from the service"})
            assert r.status_code == 202, r.text
            assert SECRET not in r.text
            job = wait_job(c, r.json()["id"])
            assert job["status"] == "succeeded", job
            run = c.get(f"{API}/bench-runs/{job['bench_run_id']}")
            assert run.json()["name"] == "from the service"
            assert [s["label"] for s in run.json()["stages"]] == ["concurrency 1",
                                                                  "concurrency 2"]
            assert SECRET not in run.text
            assert SECRET not in c.get(f"{API}/bench-runs/{job['bench_run_id']}/records").text
    row = records.get_bench_run(store, job["bench_run_id"])
    assert SECRET not in json.dumps(row.summary) and SECRET not in (row.records_jsonl or "")


def test_a_cancelled_bench_job_stops_and_stores_nothing(store: Store, wait_job: Any) -> None:
    import time

    stub = _stub_module()
    # 2000 requests of 8 tokens 0.05 s apart, one at a time: >= 800 s unless stopped
    with stub.ThreadedStub(stub.StubConfig(token_delay_s=0.05)) as server:
        settings = ServiceSettings(bench_allow=(normalise_target(server.url),))
        with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as c:
            r = c.post(f"{API}/bench-runs/jobs", json={
                "url": server.url, "concurrency": [1], "max_requests": 2000, "isl": 16,
                "osl": 8, "warmup": 0})
            assert r.status_code == 202, r.text
            jid = r.json()["id"]
            deadline = time.monotonic() + 30
            while c.get(f"{API}/jobs/{jid}").json()["status"] == "queued":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.5)  # a request or two under way
            assert c.post(f"{API}/jobs/{jid}/cancel").status_code == 200
            job = wait_job(c, jid)
            assert job["status"] == "cancelled", job
            assert job.get("bench_run_id") is None
            assert c.get(f"{API}/bench-runs").json()["total"] == 0


def test_credentials_are_scrubbed_by_value_wherever_they_appear(
    client: TestClient, make_run: Any
) -> None:
    """The API key sits in the config (a credential field); the same value also
    appears in a warning, an error message of a record and a note: all removed."""
    summary, jsonl = make_run([0.1, 0.2])
    summary["warnings"] = [f"server answered 401 for key {SECRET}",
                           "retried with Authorization: Bearer other-token-98765"]
    lines = jsonl.splitlines()
    first = json.loads(lines[0])
    first["error_message"] = f"HTTP 401: invalid api key {SECRET}"
    records = "\n".join([json.dumps(first), *lines[1:]]) + "\n"
    r = client.post(f"{API}/bench-runs", json={"summary": summary, "records_jsonl": records})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    text = (client.get(f"{API}/bench-runs/{rid}").text
            + client.get(f"{API}/bench-runs/{rid}/records").text)
    assert SECRET not in text and "other-token-98765" not in text
    stored = client.get(f"{API}/bench-runs/{rid}").json()["summary"]
    assert stored["warnings"] == ["server answered 401 for key [removed]",
                                  "retried with Authorization: Bearer [removed]"]


def test_bench_job_concurrency_must_be_positive(client: TestClient) -> None:
    for bad in ([0], [4, -1], [2000]):
        r = client.post(f"{API}/bench-runs/jobs",
                        json={"url": "http://127.0.0.1:9/v1", "concurrency": bad})
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["field"].startswith("concurrency["), r.text


def test_bench_list_and_run_page_count_the_same_requests(client: TestClient,
                                                         make_run: Any) -> None:
    summary, _ = make_run([0.1, 0.2, 0.3])  # three measured requests, no records uploaded
    rid = client.post(f"{API}/bench-runs", json={"summary": summary}).json()["id"]
    listed = client.get("/ui/bench").text
    page = client.get(f"/ui/bench/{rid}").text
    assert '<td class="num">3</td>' in listed
    assert "Measured requests</dt><dd>3 (3 ok)" in page
