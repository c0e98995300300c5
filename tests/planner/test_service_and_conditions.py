"""Serve all the demand (spares, lead times, unserved penalty) and conditions that are
not passes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.errors import InfeasibleError
from inferplan.planner.search import plan
from inferplan.report.html import render_plan_html
from inferplan.scenario_io import parse_scenario

REQUESTS_PER_DAY = 200_000


def _raw(**cand: Any) -> dict[str, Any]:
    return {
        "name": "service",
        "models": ["llama-3.1-8b"],
        "workload": {
            "requests_per_day": REQUESTS_PER_DAY,
            "profile": "flat",
            "input_tokens_mean": 800,
            "output_tokens_mean": 200,
        },
        "slo": {"ttft_ms": 2000, "tpot_ms": 80},
        "finance": {"horizon_years": 3, "discount_rate": 0.08},
        "region": "eu-avg",
        "candidates": {
            "accelerators": ["h100-sxm-80gb"],
            "precisions": ["fp8"],
            "kinds": ["on_prem"],
            **cand,
        },
    }


def test_own_fleet_buys_a_spare_replica_and_pays_for_it() -> None:
    n1 = plan(parse_scenario(_raw()))
    n0 = plan(parse_scenario(_raw(spare_replicas=0)))
    a = next(o for o in n1.options if o.name == n1.recommendation.option)
    b = next(o for o in n0.options if o.name == a.name)
    assert a.replicas == b.replicas + 1 and a.spare_replicas == 1
    assert a.npv_usd >= b.npv_usd
    # the headline names whole servers, GPUs per server, GPUs in use and the spare
    head = n1.recommendation.headline
    assert re.search(r"buy \d+ servers? with 8 x h100-sxm-80gb", head), head
    in_use = (a.replicas - 1) * a.devices_per_replica
    gpus = f"{in_use} GPU serves" if in_use == 1 else f"{in_use} GPUs serve"
    assert f"{gpus} the peak + 1 spare replica" in head


def test_lead_time_without_a_bridge_is_not_ranked_unless_unserved_demand_is_priced() -> None:
    raw = _raw(lead_time_months=6)
    with pytest.raises(InfeasibleError, match="unserved"):
        plan(parse_scenario(raw))
    raw["finance"]["unserved_usd_per_million_tokens"] = 2.0
    result = plan(parse_scenario(raw))
    pick = next(o for o in result.options if o.name == result.recommendation.option)
    # 6 lead months unserved: flat traffic is R x 730 / 24 requests a month, 1,000 tokens each
    tokens = 6 * REQUESTS_PER_DAY * 730 / 24 * 1000
    assert pick.breakdown_usd["unserved"] == pytest.approx(tokens / 1e6 * 2.0, rel=1e-6)
    assert not any("unserved" in k and k != "unserved" for k in pick.breakdown_usd)


def test_lead_time_is_bridged_by_an_allowed_rented_option() -> None:
    raw = _raw(lead_time_months=4, kinds=["on_prem", "cloud"])
    result = plan(parse_scenario(raw))
    owned = [o for o in result.options if o.kind == "on_prem"]
    assert owned and all(o.unserved_share <= 0.01 for o in owned)
    assert all(any(k.startswith("bridge.") for k in o.breakdown_usd) for o in owned)


def test_conditions_are_listed_never_reported_as_passes() -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw["candidates"]["kinds"] = ["colocation"]
    spec = parse_scenario(raw)
    result = plan(spec)
    rec = result.recommendation
    assert rec.conditions, "a colocation operator not named is a condition to check"
    assert all(c in rec.headline for c in rec.conditions)
    assert "conditions:" in rec.headline
    assert not any("passes every data rule" in r for r in rec.reasons)
    assert any("only under" in r for r in rec.reasons)
    assert result.model_dump(mode="json")["recommendation"]["conditions"] == rec.conditions
    page = render_plan_html(result, spec)
    assert "Conditions of this recommendation" in page
    # every ranked option lists its own conditions
    for o in result.options:
        warns = [f for f in o.findings if f.get("severity") == "warn"]
        to_do = [c for f in o.findings if f.get("severity") == "condition" for c in f["conditions"]]
        assert len(o.conditions) >= len(warns) + len(to_do)
        assert all(any(c in x for x in o.conditions) for c in to_do)


def test_contracts_and_attestations_reach_the_headline() -> None:
    # personal data in an EU country: an EU cloud or API is allowed only once its
    # processor contract (GDPR Art. 28) is signed, which the headline must say
    raw = yaml.safe_load(default_scenario_text())
    raw["policy"] = {"data_class": "regulated_personal", "home_country": "DE",
                     "allowed_countries": ["EU"]}
    raw["candidates"]["kinds"] = ["api"]
    rec = plan(parse_scenario(raw)).recommendation
    assert any("data-processing agreement" in c or "DPA" in c for c in rec.conditions)
    assert all(c in rec.headline for c in rec.conditions)


def test_figures_older_than_a_year_behind_the_pick_are_flagged() -> None:
    # the same plan read on two dates: every catalog figure behind the pick that is more
    # than 12 months older than the reading date is listed, in the JSON and the report
    import datetime as dt

    spec = parse_scenario(yaml.safe_load(default_scenario_text()))
    fresh = plan(spec, today=dt.date(2000, 1, 1)).recommendation
    assert fresh.stale_figures == []  # nothing is older than a year before 2000
    later = plan(spec, today=dt.date(2040, 1, 1))
    rec = later.recommendation
    assert rec.stale_figures, "every figure is more than a year old in 2040"
    assert all(dt.date.fromisoformat(f["as_of"]) < dt.date(2039, 1, 1) for f in rec.stale_figures)
    assert any(f["item"].startswith("price ") for f in rec.stale_figures)
    page = render_plan_html(later, spec)
    assert "Figures older than 12 months" in page


def test_the_analyses_never_change_the_answer() -> None:
    # the terminal summary skips the tornado, the Monte Carlo and the latency curve; the
    # recommendation and every option must be exactly those of the full analysis
    spec = parse_scenario(yaml.safe_load(default_scenario_text()))
    full, quick = plan(spec), plan(spec, analyses=False)
    assert full.monte_carlo is not None and full.sensitivity and full.latency_curve
    assert quick.monte_carlo is None and not quick.sensitivity and not quick.latency_curve
    assert quick.recommendation == full.recommendation
    assert quick.options == full.options and quick.rejected == full.rejected
