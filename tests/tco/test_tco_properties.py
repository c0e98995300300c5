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
