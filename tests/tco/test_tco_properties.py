"""Scenario-level properties of the TCO maths (hypothesis)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tco_fixtures import API, CLOUD, ON_PREM, make_raw

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.scenario_io import parse_scenario
from inferplan.tco import compare_tco

PRICES, REGIONS = load_prices(), load_regions()
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLO = dict(
    copy.deepcopy(ON_PREM),
    name="colo",
    kind="colocation",
    facility={
        "kind": "colocation",
        "power_included": False,
        "usd_per_kw_month": 180,
        "electricity_usd_per_kwh": 0.08,
    },
)
ESC = st.floats(min_value=-0.3, max_value=0.3)


def _scaled(raw: dict[str, Any], k: float) -> dict[str, Any]:
    """Every money figure times k (shares, rates and physical figures unchanged)."""
    money = {
        "server_price_usd",
        "installation_usd_per_server",
        "electricity_usd_per_kwh",
        "staff_usd_per_fte_year",
        "price_usd_per_hour",
        "input_usd_per_million",
        "output_usd_per_million",
        "usd_per_kw_month",
        "fixed_usd_per_month",
    }

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {key: (v * k if key in money else walk(v)) for key, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(raw)


def _options() -> list[dict[str, Any]]:
    own = copy.deepcopy(ON_PREM)
    own["capex"]["installation_usd_per_server"] = 3000
    return [own, COLO, CLOUD, API, {"kind": "hybrid", "name": "hyb", "base": "own", "burst": "api"}]


@FAST
@given(
    ESC,
    ESC,
    ESC,
    st.floats(min_value=0, max_value=1.0),
    st.sampled_from(["flat", "business_hours"]),
)
def test_npv_at_zero_rate_equals_nominal(
    e_hw: float, e_cloud: float, e_api: float, growth: float, profile: str
) -> None:
    raw = make_raw(
        _options(),
        finance={
            "horizon_years": 3,
            "discount_rate": 0.0,
            "escalation": {"hardware": e_hw, "cloud": e_cloud, "api": e_api, "electricity": e_hw},
        },
    )
    raw["workload"].update(growth_per_year=growth, profile=profile)
    for o in compare_tco(parse_scenario(raw), PRICES, REGIONS).options:
        assert o.npv_usd == pytest.approx(o.tco_nominal_usd, rel=1e-9)
        assert o.npv_usd == pytest.approx(sum(o.monthly_cash_flows_usd), rel=1e-9)


@FAST
@given(st.floats(min_value=0.05, max_value=20), st.floats(min_value=0, max_value=0.3))
def test_scaling_all_prices_scales_tco(k: float, rate: float) -> None:
    raw = make_raw(_options(), finance={"horizon_years": 2, "discount_rate": rate})
    raw["workload"]["profile"] = "business_hours"
    base = compare_tco(parse_scenario(raw), PRICES, REGIONS)
    scaled = compare_tco(parse_scenario(_scaled(raw, k)), PRICES, REGIONS)
    for a, b in zip(base.options, scaled.options, strict=True):
        assert b.tco_nominal_usd == pytest.approx(k * a.tco_nominal_usd, rel=1e-9)
        assert b.npv_usd == pytest.approx(k * a.npv_usd, rel=1e-9)
        assert b.break_even_month == a.break_even_month


@FAST
@given(
    st.floats(min_value=0.05, max_value=1.0),
    st.floats(min_value=0.05, max_value=1.0),
    st.sampled_from(["flat", "business_hours", "office_chat"]),
)
def test_higher_target_utilisation_never_raises_on_prem_cost_per_token(
    u1: float, u2: float, profile: str
) -> None:
    lo, hi = sorted((u1, u2))
    out = []
    for u in (lo, hi):
        raw = make_raw([dict(copy.deepcopy(ON_PREM), target_utilisation=u)])
        raw["workload"]["profile"] = profile
        out.append(compare_tco(parse_scenario(raw), PRICES, REGIONS).options[0])
    assert out[1].usd_per_million_tokens <= out[0].usd_per_million_tokens * (1 + 1e-12)


@FAST
@given(st.floats(min_value=0.1, max_value=1.0), st.floats(min_value=0.1, max_value=1.0))
def test_more_load_on_a_fixed_fleet_never_raises_cost_per_token(v1: float, v2: float) -> None:
    lo, hi = sorted((v1, v2))
    out = []
    for v in (lo, hi):
        raw = make_raw([dict(copy.deepcopy(ON_PREM), servers=2)])
        raw["workload"]["requests_per_day"] = 864_000 * v  # at most the fleet's capacity
        out.append(compare_tco(parse_scenario(raw), PRICES, REGIONS).options[0])
    assert out[0].unserved_share == 0 and out[1].unserved_share == 0
    assert out[1].usd_per_million_tokens <= out[0].usd_per_million_tokens * (1 + 1e-12)


@FAST
@given(
    st.floats(min_value=0, max_value=10),
    st.floats(min_value=0, max_value=10),
    st.floats(min_value=0.01, max_value=1.0),
)
def test_option_cheaper_every_month_breaks_even_at_month_1(
    p_in: float, p_out: float, cut: float
) -> None:
    dear = dict(API, name="dear", input_usd_per_million=p_in + 0.01, output_usd_per_million=p_out)
    cheap = dict(
        API,
        name="cheap",
        input_usd_per_million=(p_in + 0.01) * (1 - cut),
        output_usd_per_million=p_out * (1 - cut),
    )
    r = compare_tco(parse_scenario(make_raw([dear, cheap])), PRICES, REGIONS)
    assert r.option("cheap").break_even_month["dear"] == 1
    assert r.option("cheap").break_even_month_discounted["dear"] == 1
    assert r.option("dear").break_even_month["cheap"] is None


MONEY_KEYS = {
    "server_price_usd",
    "installation_usd_per_server",
    "networking_usd_per_server",
    "electricity_usd_per_kwh",
    "staff_usd_per_fte_year",
    "price_usd_per_hour",
    "input_usd_per_million",
    "output_usd_per_million",
    "usd_per_kw_month",
    "capex_usd_per_kw",
    "fixed_usd_per_month",
    "decommissioning_usd_per_server",
    "storage_usd_per_month",
    "unserved_usd_per_million_tokens",
    "savings_plan_usd_per_hour",
    "usd_per_unit_month",
}


def _every_price_times(raw: dict[str, Any], k: float) -> dict[str, Any]:
    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {key: (v * k if key in MONEY_KEYS else walk(v)) for key, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(raw)


def _full_options() -> list[dict[str, Any]]:
    """Every cost line: rent, capex, scaling staff, spares, insurance, decommissioning,
    staged purchases with a bridge, a cloud with MLOps staff and storage, an API."""
    own = copy.deepcopy(ON_PREM)
    own.update(
        facility={
            "kind": "metered",
            "pue": 1.4,
            "electricity_usd_per_kwh": 0.12,
            "capacity_cost": "rent",
            "usd_per_kw_month": 150,
        },
        staff_servers_per_fte=3,
        spare_share=0.2,
        insurance_share_per_year=0.01,
        failure_replacement_share_per_year=0.02,
        decommissioning_usd_per_server=800,
        residual_value_share=None,
        residual_decline_per_year=0.25,
        purchase="staged",
        lead_time_months=2,
        bridge="cloud",
    )
    own["capex"]["installation_usd_per_server"] = 4000
    built = copy.deepcopy(own)
    built.update(name="built", bridge=None, purchase="upfront")
    built["facility"] = {
        "kind": "metered",
        "pue": 1.4,
        "electricity_usd_per_kwh": 0.12,
        "capacity_cost": "capex",
        "capex_usd_per_kw": 9000,
        "life_years": 20,
    }
    cloud = dict(CLOUD, staff_fte=0.5, staff_usd_per_fte_year=100_000, storage_usd_per_month=300)
    plan = dict(
        CLOUD,
        name="plan",
        commitment="savings_plan_1y",
        reserved_discount=0.3,
        savings_plan_usd_per_hour=25,
    )
    upfront = dict(
        CLOUD,
        name="upfront",
        commitment="reserved_1y",
        reserved_discount=0.4,
        reserved_payment="partial_upfront",
        reserved_upfront_share=0.3,
    )
    api = dict(
        API,
        name="api-committed",
        enterprise_discount=0.1,
        volume_tiers=[{"above_million_tokens_per_month": 20_000, "discount": 0.15}],
        provisioned={"units": 1, "usd_per_unit_month": 9_000, "tokens_per_s_per_unit": 4_000},
    )
    return [own, built, cloud, plan, upfront, api, API]


@FAST
@given(st.floats(min_value=0.05, max_value=20), st.floats(min_value=0, max_value=0.3))
def test_doubling_every_price_doubles_every_cost(k: float, rate: float) -> None:
    fin = {
        "horizon_years": 3,
        "discount_rate": rate,
        "unserved_usd_per_million_tokens": 2.0,
        "tax": {"rate": 0.25, "depreciation": "macrs", "years": 5},
        "baseline": "cloud",
    }
    raw = make_raw(_full_options(), finance=fin)
    raw["workload"].update(profile="business_hours", growth_per_year=0.5)
    base = compare_tco(parse_scenario(raw), PRICES, REGIONS)
    scaled = compare_tco(parse_scenario(_every_price_times(raw, k)), PRICES, REGIONS)
    for a, b in zip(base.options, scaled.options, strict=True):
        assert set(a.breakdown_usd) == set(b.breakdown_usd)
        for cat, v in a.breakdown_usd.items():
            assert b.breakdown_usd[cat] == pytest.approx(k * v, rel=1e-9, abs=1e-6)
        assert b.npv_usd == pytest.approx(k * a.npv_usd, rel=1e-9)
        assert b.after_tax_npv_usd == pytest.approx(k * a.after_tax_npv_usd, rel=1e-9)
        assert b.break_even_month == a.break_even_month
        assert b.payback_month_vs_baseline == a.payback_month_vs_baseline
        if a.irr_vs_baseline is not None:
            assert b.irr_vs_baseline == pytest.approx(a.irr_vs_baseline, rel=1e-6, abs=1e-9)


@FAST
@given(
    st.floats(min_value=0.0, max_value=3.0),
    st.floats(min_value=0.0, max_value=3.0),
    st.sampled_from(["flat", "business_hours", "office_chat"]),
)
def test_more_traffic_never_lowers_a_fixed_fleet_cost(v1: float, v2: float, profile: str) -> None:
    """Fixed fleets (servers, nodes, reserved terms) with the shortfall priced or bridged."""
    lo, hi = sorted((v1, v2))
    own = dict(copy.deepcopy(ON_PREM), servers=2, staff_servers_per_fte=2)
    bridged = dict(copy.deepcopy(ON_PREM), name="bridged", servers=1, bridge="api")
    fixed_cloud = dict(CLOUD, name="fixed", nodes=2)
    reserved = dict(
        CLOUD, name="reserved", commitment="reserved_1y", reserved_discount=0.3, nodes=2
    )
    out = []
    for v in (lo, hi):
        raw = make_raw(
            [own, bridged, fixed_cloud, reserved, API],
            finance={
                "horizon_years": 2,
                "discount_rate": 0.1,
                "unserved_usd_per_million_tokens": 1.5,
            },
        )
        raw["workload"].update(requests_per_day=864_000 * v, profile=profile)
        out.append(compare_tco(parse_scenario(raw), PRICES, REGIONS))
    for a, b in zip(out[0].options, out[1].options, strict=True):
        assert b.tco_nominal_usd >= a.tco_nominal_usd * (1 - 1e-12) - 1e-9, a.name
        assert b.npv_usd >= a.npv_usd * (1 - 1e-12) - 1e-9, a.name
