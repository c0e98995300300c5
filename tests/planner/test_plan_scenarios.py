"""Scenario tests of ``plan()`` whose answers can be checked by hand."""

from __future__ import annotations

from typing import Any

import pytest

from inferplan.errors import InfeasibleError, SpecError
from inferplan.planner.search import plan
from inferplan.scenario_io import parse_scenario


def _scenario(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "t",
        "models": ["llama-3.1-8b"],
        "workload": {
            "requests_per_day": 20_000,
            "profile": "business_hours",
            "input_tokens_mean": 800,
            "output_tokens_mean": 200,
        },
        "slo": {"ttft_ms": 2000, "tpot_ms": 80},
        "finance": {"horizon_years": 3, "discount_rate": 0.08},
        "region": "eu-avg",
        "candidates": {
            "accelerators": ["h100-sxm-80gb", "l40s-48gb"],
            "precisions": ["fp8"],
            "target_utilisation": 0.7,
        },
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return raw


def test_air_gapped_secret_data_recommends_only_own_hardware() -> None:
    raw = _scenario(policy={"data_class": "secret", "home_country": "DE"})
    result = plan(parse_scenario(raw))
    # secret data defaults to an air gap: only on-prem and colocation can run offline
    assert result.recommendation.kind in ("on_prem", "colocation")
    assert {o.kind for o in result.options} <= {"on_prem", "colocation"}
    assert any(r.stage == "sovereignty" and "air_gap" in r.reason for r in result.rejected)


def test_tiny_workload_without_rules_picks_an_api_or_a_small_gpu() -> None:
    # 200 requests a day: a few dollars of API tokens a month vs a server bought outright
    raw = _scenario(workload={"requests_per_day": 200})
    result = plan(parse_scenario(raw))
    rec = result.recommendation
    assert rec.kind == "api" or (rec.count is not None and rec.count <= 1)


def test_heavy_always_on_workload_prefers_owning_over_on_demand_cloud() -> None:
    raw = _scenario(
        models=["llama-3.3-70b"],
        workload={
            "requests_per_day": 20_000_000,
            "profile": "flat",
            "input_tokens_mean": 1000,
            "output_tokens_mean": 300,
        },
        finance={"horizon_years": 5, "discount_rate": 0.08},
        candidates={
            "accelerators": ["h100-sxm-80gb"],
            "precisions": ["fp8"],
            "kinds": ["on_prem", "cloud"],
        },
    )
    result = plan(parse_scenario(raw))
    owned = min(o.npv_usd for o in result.options if o.kind == "on_prem")
    cloud = [o.npv_usd for o in result.options if o.kind == "cloud"]
    assert cloud, "the catalog has on-demand H100 offers"
    assert owned < min(cloud)
    assert result.recommendation.kind == "on_prem"


def test_rule_change_flips_the_recommendation_and_names_the_rule() -> None:
    small = {"requests_per_day": 2_000}
    base = _scenario(models=["llama-3.3-70b"], workload=small)
    first = plan(parse_scenario(base))
    assert first.recommendation.kind == "api"
    strict = _scenario(
        models=["llama-3.3-70b"],
        workload=small,
        policy={"data_class": "internal", "allowed_deployment_kinds": ["on_prem", "cloud"]},
    )
    second = plan(parse_scenario(strict))
    assert second.recommendation.kind != "api"
    api_rejections = [r for r in second.rejected if r.family.startswith("api /")]
    assert api_rejections and all("deployment_kind" in r.reason for r in api_rejections)


def test_impossible_slo_names_the_nearest_option_and_what_it_takes() -> None:
    raw = _scenario(slo={"ttft_ms": 1, "tpot_ms": 1})
    with pytest.raises(InfeasibleError, match="the closest is") as exc:
        plan(parse_scenario(raw))
    text = str(exc.value)
    assert "looser targets (slo.ttft_ms, slo.tpot_ms)" in text and "more or newer GPUs" in text
    assert "\n" not in text  # one paragraph


def test_bad_scenarios_name_the_field() -> None:
    with pytest.raises(SpecError) as e:
        plan(parse_scenario(_scenario(models=["llama-9-1000b"])))
    assert e.value.field == "models[0]"
    with pytest.raises(SpecError) as e:
        parse_scenario(_scenario(workload={"requests_per_day": -5}))
    assert "requests_per_day" in e.value.field
    with pytest.raises(SpecError) as e:
        parse_scenario(
            _scenario(
                policy={
                    "data_class": "internal",
                    "air_gapped": True,
                    "allowed_deployment_kinds": ["api"],
                }
            )
        )
    assert "policy" in e.value.field
