"""Per-option cash flows against hand calculations (flat 10 req/s, see tco_fixtures)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from tco_fixtures import API, CLOUD, ON_PREM

from inferplan.catalog.loader import Catalog
from inferplan.catalog.prices import PriceCatalog
from inferplan.errors import SpecError
from inferplan.specs.prices import RegionRecord
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco import compare_tco

Build = Callable[..., ScenarioSpec]
# IT power of the two servers: 2 x 10 kW x (0.5 + 0.5 x 0.625) = 16.25 kW; 730 h a month
IT_KWH_MONTH = 16.25 * 730
REQ_MONTH = 10 * 3600 * 730  # 26,280,000


def on_prem(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(ON_PREM)
    d.update(changes)
    return d


def run(
    build: Build,
    prices: PriceCatalog,
    regions: Catalog[RegionRecord],
    options: list[dict[str, Any]],
    **top: Any,
):
    return compare_tco(build(options, **top), prices, regions)


def test_colocation_with_power_included_charges_no_electricity(build, prices, regions) -> None:
    fac = {"kind": "colocation", "power_included": True, "usd_per_kw_month": 200, "pue": 1.3}
    r = run(build, prices, regions, [on_prem(kind="colocation", facility=fac)]).options[0]
    assert "electricity" not in r.breakdown_usd
    # rent: 2 servers x 10 kW x $200 = 4,000 a month for 24 months
    assert r.breakdown_usd["colocation"] == pytest.approx(24 * 4_000)
    # energy is still reported: 16.25 kW x 730 h x 1.3 x 24
    assert r.energy_kwh == pytest.approx(IT_KWH_MONTH * 1.3 * 24)


def test_colocation_without_power_included_meters_it(build, prices, regions) -> None:
    fac = {
        "kind": "colocation",
        "power_included": False,
        "usd_per_kw_month": 200,
        "pue": 1.3,
        "electricity_usd_per_kwh": 0.10,
    }
    r = run(build, prices, regions, [on_prem(kind="colocation", facility=fac)]).options[0]
    # 11,862.5 kWh x 1.3 x $0.10 = 1,542.125 a month
    assert r.breakdown_usd["electricity"] == pytest.approx(24 * 1_542.125)
    assert r.breakdown_usd["colocation"] == pytest.approx(24 * 4_000)


def test_colocation_rate_defaults_to_catalog_row(build, prices, regions) -> None:
    fac = {"kind": "colocation", "power_included": True}
    r = run(build, prices, regions, [on_prem(kind="colocation", facility=fac)]).options[0]
    # CBRE H2 2024 wholesale: $184.06 per kW-month x 20 kW
    assert r.breakdown_usd["colocation"] == pytest.approx(24 * 20 * 184.06)


def test_loan_spreads_hardware_and_charges_interest(build, prices, regions) -> None:
    fin = {"kind": "loan", "annual_rate": 0.12, "term_months": 12}
    r = run(build, prices, regions, [on_prem(financing=fin)]).options[0]
    cf = r.monthly_cash_flows_usd
    assert cf[0] == pytest.approx(0.0)  # nothing down, no installation
    # payment 400,000 x 0.01 / (1 - 1.01^-12) = 35,539.515; interest 12 x 35,539.515 - 400,000
    assert r.breakdown_usd["hardware"] == pytest.approx(400_000)
    assert r.breakdown_usd["financing_interest"] == pytest.approx(26_474.18, abs=0.01)
    assert cf[1] - cf[13] == pytest.approx(35_539.515, abs=1e-3)


def test_lease_has_no_residual(build, prices, regions) -> None:
    fin = {"kind": "lease", "annual_rate": 0.0, "lease_residual_share": 0.25}
    r = run(build, prices, regions, [on_prem(financing=fin)]).options[0]
    # (400,000 - 100,000) / 24 = 12,500 a month; the lessor keeps the resale value
    assert r.breakdown_usd["lease"] == pytest.approx(24 * 12_500)
    assert "residual_value" not in r.breakdown_usd and "hardware" not in r.breakdown_usd


def test_book_value_residual_when_no_share_given(build, prices, regions) -> None:
    r = run(build, prices, regions, [on_prem(residual_value_share=None, depreciation_years=4)])
    # straight line over 4 years, sold after 24 months: 50 % of 400,000
    assert r.options[0].breakdown_usd["residual_value"] == pytest.approx(-200_000)


def test_lead_time_with_bridge(build, prices, regions) -> None:
    r = run(build, prices, regions, [on_prem(lead_time_months=3, bridge="api"), API])
    own = r.option("own")
    # months 1-3 go to the API: 26,280,000 x $0.003 = 78,840 each
    assert own.breakdown_usd["bridge.api"] == pytest.approx(3 * 78_840)
    assert own.monthly_cash_flows_usd[1] == pytest.approx(78_840)
    # opex starts in month 4: staff 5,000 x 21 months
    assert own.breakdown_usd["staff"] == pytest.approx(21 * 5_000)
    assert own.unserved_share == pytest.approx(0.0)


def test_lead_time_without_bridge_is_unserved(build, prices, regions) -> None:
    own = run(build, prices, regions, [on_prem(lead_time_months=3)]).options[0]
    assert own.unserved_share == pytest.approx(3 / 24)
    assert any("not served" in w for w in own.warnings)
    assert own.tokens_served == pytest.approx(REQ_MONTH * 21 * 1500)


def test_refresh_sells_and_rebuys(build, prices, regions) -> None:
    opt = on_prem(refresh_after_years=1, refresh_price_factor=0.5, refresh_throughput_factor=2.0)
    own = run(build, prices, regions, [opt]).options[0]
    # new fleet: ceil(5,000 / (2,000 x 0.625)) = 4 replicas = 1 server at 100,000
    assert own.details["servers"] == [2, 1]
    cf = own.monthly_cash_flows_usd
    # month 12: opex + buy 100,000 - resale 0.5 x 400,000
    assert cf[12] == pytest.approx(cf[11] + 100_000 - 200_000)
    assert own.breakdown_usd["residual_value"] == pytest.approx(-200_000 - 50_000)


def test_region_defaults_for_price_and_pue(build, prices, regions) -> None:
    opt = on_prem(facility={"kind": "metered"}, region="us-va")
    own = run(build, prices, regions, [opt]).options[0]
    # EIA 2023 Virginia industrial 8.92 c/kWh; Uptime 2024 PUE 1.56
    assert own.breakdown_usd["electricity"] == pytest.approx(24 * IT_KWH_MONTH * 1.56 * 0.0892)
    assert own.co2_kg == pytest.approx(24 * IT_KWH_MONTH * 1.56 * 403 / 1000)


def test_region_without_price_asks_for_one(build, prices, regions) -> None:
    with pytest.raises(SpecError) as e:
        run(build, prices, regions, [on_prem(facility={"kind": "metered"}, region="de")])
    assert e.value.field == "options[0].facility.electricity_usd_per_kwh"


def test_unknown_region_names_the_field(build, prices, regions) -> None:
    with pytest.raises(SpecError) as e:
        run(build, prices, regions, [API], region="atlantis")
    assert e.value.field == "region"
    with pytest.raises(SpecError) as e:
        run(build, prices, regions, [on_prem(region="mars")])
    assert e.value.field == "options[0].region"


def test_catalog_server_and_default_rates(build, prices, regions) -> None:
    opt = on_prem(
        capex={"catalog_id": "dgx-h100"},
        support_share_per_year=None,
        staff_fte=None,
        staff_usd_per_fte_year=None,
    )
    own = run(build, prices, regions, [opt]).options[0]
    # DGX H100 $270k (Epoch AI); 8 replicas of 2 GPUs = 2 servers
    assert own.breakdown_usd["hardware"] == pytest.approx(540_000)
    # support-share 12.5 %/year; ops-fte 1.0 x staff-loaded-cost 128,260
    assert own.breakdown_usd["support"] == pytest.approx(0.125 * 540_000 * 2)
    assert own.breakdown_usd["staff"] == pytest.approx(128_260 * 2)


def test_cloud_reserved_from_catalog_discount(build, prices, regions) -> None:
    opt = dict(CLOUD, catalog_id="azure-nd96isr-h100-v5", commitment="reserved_1y")
    for k in ("price_usd_per_hour", "price_unit", "gpus_per_node"):
        opt.pop(k)
    c = run(build, prices, regions, [opt]).options[0]
    # 2 nodes x $98.32 x (1 - 0.35) x 730 h, every month of two 1-year terms
    assert c.monthly_cash_flows_usd[5] == pytest.approx(2 * 98.32 * 0.65 * 730)
    assert c.tco_nominal_usd == pytest.approx(24 * 2 * 98.32 * 0.65 * 730)


def test_cloud_spot_overhead_and_min_nodes(build, prices, regions) -> None:
    spot = dict(
        CLOUD, commitment="spot", spot_price_usd_per_hour=1.0, spot_interruption_overhead=0.1
    )
    floor = dict(CLOUD, name="floor", min_nodes=3)
    r = run(build, prices, regions, [spot, floor])
    # 2 nodes x 8 GPUs x $1.00 x 1.1 x 730 h
    assert r.option("cloud").monthly_cash_flows_usd[1] == pytest.approx(12_848.0)
    # needs 2 nodes but keeps 3: 3 x 8 x $2 x 730
    assert r.option("floor").monthly_cash_flows_usd[1] == pytest.approx(35_040.0)


def test_api_cached_and_batch_discounts(build, prices, regions) -> None:
    api = dict(API, cached_input_usd_per_million=0.1, batch_share=0.5, batch_discount=0.5)
    wl = {
        "requests_per_day": 864_000,
        "profile": "flat",
        "input_tokens_mean": 1000,
        "output_tokens_mean": 500,
        "cached_input_share": 0.5,
    }
    r = run(build, prices, regions, [api], workload=wl).options[0]
    # (1,000 x (0.5 x 1 + 0.5 x 0.1) + 500 x 4) / 1e6 x (1 - 0.25) = 0.0019125
    assert r.monthly_cash_flows_usd[1] == pytest.approx(REQ_MONTH * 0.0019125)


def test_api_rate_limit_warning(build, prices, regions) -> None:
    r = run(build, prices, regions, [dict(API, max_requests_per_minute=500)]).options[0]
    assert any("rate limit" in w for w in r.warnings)  # 600 requests/min at peak


def test_escalation_and_growth_step_yearly(build, prices, regions) -> None:
    wl = {
        "requests_per_day": 864_000,
        "profile": "flat",
        "input_tokens_mean": 1000,
        "output_tokens_mean": 500,
        "growth_per_year": 0.5,
    }
    fin = {"horizon_years": 2, "discount_rate": 0.1, "escalation": {"api": -0.2}}
    cf = run(build, prices, regions, [API], workload=wl, finance=fin).options[0]
    # year 2: 1.5 x the requests at 0.8 x the price
    assert cf.monthly_cash_flows_usd[12] == pytest.approx(78_840)
    assert cf.monthly_cash_flows_usd[13] == pytest.approx(78_840 * 1.5 * 0.8)
