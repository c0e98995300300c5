"""Compliance as its own cost line; cloud terms (on demand vs reserved) compared."""

from __future__ import annotations

from typing import Any

import pytest

from inferplan.catalog.prices import load_prices
from inferplan.planner.search import plan
from inferplan.report.html import render_plan_html
from inferplan.scenario_io import parse_scenario


def _raw(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "costs",
        "models": ["llama-3.1-8b"],
        "workload": {
            "requests_per_day": 100_000,
            "profile": "flat",
            "input_tokens_mean": 800,
            "output_tokens_mean": 200,
        },
        "slo": {"ttft_ms": 2000, "tpot_ms": 80},
        "finance": {"horizon_years": 3, "discount_rate": 0.08},
        "region": "eu-avg",
        "candidates": {"accelerators": ["h100-sxm-80gb"], "precisions": ["fp8"]},
    }
    raw.update(over)
    return raw


def test_air_gap_costs_are_their_own_line_from_a_hand_calculation() -> None:
    raw = _raw(policy={"data_class": "secret", "home_country": "DE"})
    result = plan(parse_scenario(raw))
    pick = next(o for o in result.options if o.name == result.recommendation.option)
    assert pick.kind in ("on_prem", "colocation")
    # air gap: 0.5 FTE operations + offline updates 4 x 5 / 220 = 0.0909 FTE, plus 5,000 USD
    # a year for media and staging; staff-loaded cost 128,260 USD (prices.yaml); 3 years
    yearly = (0.5 + 0.0909) * 128_260 + 5_000
    assert pick.breakdown_usd["compliance"] == pytest.approx(3 * yearly, rel=1e-6)
    # the base operations staff stays its own line: ops-fte 1.0 x 128,260 x 3 years
    assert pick.breakdown_usd["staff"] == pytest.approx(3 * 128_260, rel=1e-6)
    drivers = {d["driver"] for d in pick.compliance_drivers}
    assert {"air_gap_operations", "offline_model_updates"} <= drivers
    page = render_plan_html(result, parse_scenario(raw))
    assert "Compliance costs" in page and "air gap operations" in page


def test_every_cloud_term_the_catalog_prices_is_tried_and_the_cheapest_ranks_first() -> None:
    # always-on flat load: a 3-year reservation (Azure ND H100 v5: 55 % off) beats on demand
    raw = _raw(
        workload={
            "requests_per_day": 3_000_000,
            "profile": "flat",
            "input_tokens_mean": 800,
            "output_tokens_mean": 200,
        },
        candidates={
            "accelerators": ["h100-sxm-80gb"],
            "precisions": ["fp8"],
            "kinds": ["cloud"],
            "providers": ["azure"],
        },
    )
    result = plan(parse_scenario(raw))
    row = load_prices().cloud.get("azure-nd96isr-h100-v5")
    assert row.reserved_3y_discount is not None
    names = [o.name for o in result.options]
    terms = {o.commitment for o in result.options}
    assert terms == {"on_demand", "reserved_1y", "reserved_3y"}
    assert result.recommendation.option == names[0]
    assert result.options[0].commitment == "reserved_3y"


def test_a_reserved_term_longer_than_the_horizon_is_not_offered() -> None:
    raw = _raw(
        finance={"horizon_years": 2, "discount_rate": 0.08},
        candidates={
            "accelerators": ["h100-sxm-80gb"],
            "precisions": ["fp8"],
            "kinds": ["cloud"],
            "providers": ["azure"],
        },
    )
    result = plan(parse_scenario(raw))
    assert {o.commitment for o in result.options} == {"on_demand", "reserved_1y"}


def test_the_sensitivity_keeps_the_compliance_line() -> None:
    # an air-gapped fleet pays air-gap operations every month: a price factor that moves
    # one cost up or down must leave the NPV on either side of the base case, never below
    # both (which is what dropping the compliance line from the tornado did)
    from pathlib import Path

    from inferplan.scenario_io import load_scenario

    examples = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
    spec = load_scenario(examples / "01-airgapped-ministry.yaml")
    result = plan(spec)
    pick = next(o for o in result.options if o.name == result.recommendation.option)
    assert pick.breakdown_usd.get("compliance", 0.0) > 0
    for bar in result.sensitivity:
        lo, hi = bar["npv_low_usd"].get(pick.name), bar["npv_high_usd"].get(pick.name)
        if lo is None or hi is None:
            continue
        assert min(lo, hi) <= pick.npv_usd * (1 + 1e-9) <= max(lo, hi) * (1 + 1e-9) or lo == hi


def test_a_reserved_fleet_holds_the_spare_an_on_demand_fleet_does_not_need() -> None:
    # a voice agent on a 1-GPU node: a fleet fixed for its term holds N+1 like an own
    # fleet, priced; an on-demand fleet autoscales (a failed node is replaced) and holds none
    from pathlib import Path

    from inferplan.scenario_io import load_scenario

    examples = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
    raw = load_scenario(examples / "06-strict-latency-voice.yaml").model_dump(
        mode="json", exclude_none=True
    )
    raw["candidates"].update(
        accelerators=["l40s-48gb"], kinds=["cloud"], providers=["aws"], precisions=["fp8"]
    )
    result = plan(parse_scenario(raw))
    by_term = {o.commitment: o for o in result.options if "aws-g6e-xlarge " in o.name}
    od, r3 = by_term["on_demand"], by_term["reserved_3y"]
    assert od.spare_replicas == 0 and r3.spare_replicas == 1
    assert r3.replicas == od.replicas + 1 and r3.peak_devices == r3.replicas
    # priced: 3-year term over the 3-year horizon, 1 GPU per node, replicas + 1 nodes
    # billed 24/7: nodes x reserved USD/h x 730 h x 36 months
    row = load_prices().cloud.get("aws-g6e-xlarge")
    assert row.gpus_per_node == 1 and row.reserved_3y_usd_per_hour is not None
    expected = r3.replicas * row.reserved_3y_usd_per_hour * 730 * 36
    assert r3.breakdown_usd["cloud_compute"] == pytest.approx(expected, rel=1e-6)
    rec = result.recommendation
    if rec.commitment in ("reserved_1y", "reserved_3y"):
        assert "spare replica" in rec.headline and "reservation" in rec.headline


def test_the_headline_of_a_reserved_pick_shows_its_spare() -> None:
    from inferplan.planner.report_data import headline
    from inferplan.results.plan import Recommendation

    raw = _raw(candidates={"accelerators": ["h100-sxm-80gb"], "precisions": ["fp8"]})
    rec = Recommendation(
        option="cloud x reserved_3y",
        kind="cloud",
        provider="aws",
        region="us-east-1",
        hardware="l40s-48gb",
        count=3,
        replicas=3,
        spare_replicas=1,
        commitment="reserved_3y",
        precision="fp8",
        engine="vllm",
        model="llama-3.1-8b",
        tco_nominal_usd=1.0,
        npv_usd=1.0,
        usd_per_million_tokens=1.0,
        p95_ttft_ms=None,
        p95_tpot_ms=None,
        reasons=[],
    )
    text = headline(rec, parse_scenario(raw))
    assert "rent 3 x l40s-48gb (2 serve the peak + 1 spare replica) on a 3-year reservation" in text
