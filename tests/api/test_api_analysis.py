"""fit, perf, tco and the catalog through the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(settings: Any, tmp_path: Path) -> Any:
    """These endpoints do not depend on the database backend: SQLite only."""
    from inferplan.server import create_app
    from inferplan.store.database import open_store

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with TestClient(create_app(settings, store), base_url="http://127.0.0.1") as c:
        yield c
    store.dispose()


def test_fit_llama_8b_bf16_on_one_h100(client: TestClient) -> None:
    r = client.post(f"{API}/fit", json={"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb",
                                        "precision": "bf16", "context_tokens": 8192})
    assert r.status_code == 200, r.text
    fit = r.json()
    # Llama 3.1 8B has 8.03e9 parameters (Meta model card); bf16 = 2 bytes each:
    # 2 * 8.03e9 = 16.06e9 bytes of weights, which fit on one 80 GB H100.
    assert fit["weights_bytes"] == pytest.approx(16.06e9, rel=0.01)
    assert fit["count"] == 1 and fit["fits"] is True


def test_fit_errors_name_the_field(client: TestClient) -> None:
    r = client.post(f"{API}/fit", json={"model": "llama-3.1-8", "gpu": "h100-sxm-80gb"})
    assert r.status_code == 422
    err = r.json()["detail"][0]
    assert err["field"] == "model" and "llama-3.1-8b" in err["msg"]
    r = client.post(f"{API}/fit", json={"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb",
                                        "tp": 3})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "tp"
    r = client.post(f"{API}/fit", json={"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb",
                                        "context_tokens": -1})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "context_tokens"


def test_perf_decode_step_is_bounded_by_memory_bandwidth(client: TestClient) -> None:
    r = client.post(f"{API}/perf", json={"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb",
                                         "precision": "bf16", "batch": 1,
                                         "input_tokens": 512, "output_tokens": 128})
    assert r.status_code == 200, r.text
    perf = r.json()
    assert perf["regime"] == "static_batch"
    # Each decode step reads every weight once: 16.06e9 B / 3.35e12 B/s (H100 SXM
    # datasheet bandwidth) = 4.79 ms is the least a step can take at batch 1.
    assert perf["tpot_ms"]["p95"] >= 4.79
    assert perf["output_tokens_per_s"] <= 1 / 4.79e-3


def test_perf_rejects_two_regimes(client: TestClient) -> None:
    r = client.post(f"{API}/perf", json={"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb",
                                         "batch": 4, "concurrency": 4})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "batch"


def test_tco_compares_the_scenarios_options(client: TestClient) -> None:
    text = (ROOT / "examples" / "tco_onprem_vs_cloud.yaml").read_text(encoding="utf-8")
    names = [o["name"] for o in yaml.safe_load(text)["options"]]
    r = client.post(f"{API}/tco", json={"yaml": text, "sensitivity": True})
    assert r.status_code == 200, r.text
    res = r.json()
    assert [o["name"] for o in res["options"]] == names
    npv = {o["name"]: o["npv_usd"] for o in res["options"]}
    assert res["cheapest_by_npv"] == min(npv, key=lambda n: npv[n])
    assert res["tornado"] and res["monte_carlo"]["draws"] >= 1


def test_tco_needs_options(client: TestClient) -> None:
    doc = yaml.safe_load((ROOT / "src/inferplan/examples/default.yaml").read_text("utf-8"))
    r = client.post(f"{API}/tco", json={"document": doc})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "options"


def test_catalog_list_search_show(client: TestClient) -> None:
    kinds = {k["kind"]: k["count"] for k in client.get(f"{API}/catalog").json()}
    assert set(kinds) == {"accelerators", "models", "engines", "providers", "prices", "regions"}
    listed = client.get(f"{API}/catalog/accelerators").json()
    assert listed["total"] == kinds["accelerators"]
    assert all(i["source"] and i["as_of"] for i in listed["items"])
    found = client.get(f"{API}/catalog/accelerators", params={"q": "H100"}).json()
    assert found["total"] >= 1
    assert all("h100" in i["id"] or any("h100" in a.lower() for a in i["record"].get(
        "aliases", [])) for i in found["items"])
    rec = client.get(f"{API}/catalog/models/llama-3.1-8b").json()
    assert rec["id"] == "llama-3.1-8b" and rec["source"]
    assert client.get(f"{API}/catalog/models/no-such-model").status_code == 404
    assert client.get(f"{API}/catalog/spaceships").status_code == 422
    price = listed["items"][0]
    assert price["section"] is None
    prices = client.get(f"{API}/catalog/prices").json()["items"]
    first = prices[0]
    shown = client.get(f"{API}/catalog/prices/{first['id']}").json()
    assert shown["section"] == first["section"]
