"""Pin the added cost lines and staged purchases to docs/tco-costs-worked-example.md.

The scenario is read from the page's YAML block; every expected figure is the page's
arithmetic, repeated in comments.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tco_fixtures import doc_raw

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.scenario_io import parse_scenario
from inferplan.tco import TcoComparison, compare_tco

PRICES, REGIONS = load_prices(), load_regions()


def _raw() -> dict[str, Any]:
    return doc_raw("tco-costs-worked-example.md")


def _run(raw: dict[str, Any]) -> TcoComparison:
    return compare_tco(parse_scenario(raw), PRICES, REGIONS)


@pytest.fixture(scope="module")
def result() -> TcoComparison:
    return _run(_raw())


def cents(x: float) -> float:
    return round(x, 2)


def test_staged_purchase_plan(result: TcoComparison) -> None:
    own = result.option("own-dc")
    # year 1: 2 servers (+1 spare) at month 0; year 2: 2 more (+1 spare) at month 12 + 1 - 1 - 2
    assert own.details["purchases"] == [
        {"month": 0, "servers": 2, "spares": 1},
        {"month": 10, "servers": 2, "spares": 1},
    ]
    assert own.details["peak_servers"] == 4
    assert own.unserved_share == pytest.approx(0.0)


def test_monthly_cash_flows(result: TcoComparison) -> None:
    cf = result.option("own-dc").monthly_cash_flows_usd
    assert cents(cf[0]) == 600_000.00  # 3 units x 200,000
    assert cents(cf[1]) == cents(cf[2]) == 78_840.00  # API bridge in the lead months
    # support 6,000 + insurance 500 + staff 10,000 + electricity 1,423.50 + rent 3,000
    for m in (3, 9, 11, 12):
        assert cents(cf[m]) == 20_923.50
    assert cents(cf[10]) == 620_923.50  # + tranche B
    for m in (13, 23):
        assert cents(cf[m]) == 36_847.00  # 12,000 + 1,000 + 15,000 + 2,847 + 6,000
    # 36,847 - 294,000 - 600,000 x 0.7^(14/12) + 6,000
    assert cents(cf[24]) == -646_913.36


def test_totals_breakdown_and_npv(result: TcoComparison) -> None:
    own = result.option("own-dc")
    b = own.breakdown_usd
    assert cents(b["hardware"]) == 1_200_000.00
    assert cents(b["bridge.api"]) == 157_680.00
    assert cents(b["support"]) == 204_000.00  # 6,000 x 10 + 12,000 x 12
    assert cents(b["insurance"]) == 17_000.00  # 500 x 10 + 1,000 x 12
    assert cents(b["staff"]) == 280_000.00  # 10,000 x 10 + 15,000 x 12
    assert cents(b["electricity"]) == 48_399.00  # 1,423.50 x 10 + 2,847 x 12
    assert cents(b["facility_rent"]) == 102_000.00  # 3,000 x 10 + 6,000 x 12
    assert cents(b["decommissioning"]) == 6_000.00
    assert cents(b["residual_value"]) == -689_760.36  # -294,000 - 395,760.36
    assert cents(own.tco_nominal_usd) == 1_325_318.64
    assert cents(own.npv_usd) == 1_323_982.52


def test_upfront_purchase_costs_more(result: TcoComparison) -> None:
    raw = _raw()
    raw["options"][0]["purchase"] = "upfront"
    up = _run(raw).option("own-dc")
    assert up.details["purchases"] == [{"month": 0, "servers": 4, "spares": 1}]
    # 34,132.83 a month in year 1 (4 servers at load 0.3125), 34,680.33 in year 2
    assert up.monthly_cash_flows_usd[5] == pytest.approx(34_132.833333, abs=1e-5)
    assert up.monthly_cash_flows_usd[15] == pytest.approx(34_680.333333, abs=1e-5)
    assert cents(up.tco_nominal_usd) == 1_430_172.33
    saving = up.tco_nominal_usd - result.option("own-dc").tco_nominal_usd
    assert cents(saving) == 104_853.70


def test_cloud_carries_mlops_staff(result: TcoComparison) -> None:
    c = result.option("cloud")
    assert cents(c.breakdown_usd["staff"]) == 120_000.00  # 0.5 x 120,000 x 2 years
    assert cents(c.tco_nominal_usd) == 960_960.00  # 12 x 28,360 + 12 x 51,720


def test_facility_capex_with_book_value_back(result: TcoComparison) -> None:
    raw = _raw()
    fac = raw["options"][0]["facility"]
    fac.update(capacity_cost="capex", capex_usd_per_kw=10_000, life_years=20)
    fac.pop("usd_per_kw_month")
    own = _run(raw).option("own-dc")
    # peak 4 servers x 10 kW x 10,000 at month 0; 400,000 x (1 - 24/240) back at month 24
    assert cents(own.breakdown_usd["facility_capex"]) == 400_000.00
    assert cents(own.breakdown_usd["facility_residual"]) == -360_000.00
    assert "facility_rent" not in own.breakdown_usd
    assert cents(own.tco_nominal_usd) == cents(1_325_318.64 - 102_000 + 40_000)


def test_default_facility_rent_and_dc_build_cost_come_from_the_catalogs() -> None:
    raw = _raw()
    fac = raw["options"][0]["facility"]
    fac.pop("usd_per_kw_month")
    own = _run(raw).option("own-dc")
    # CBRE wholesale rent 184.06 USD/kW-month: 20 kW x 10 months + 40 kW x 12 months
    assert own.breakdown_usd["facility_rent"] == pytest.approx(184.06 * (20 * 10 + 40 * 12))
    fac.update(capacity_cost="capex")
    own = _run(raw).option("own-dc")
    # Cushman & Wakefield 2025: 11,700 USD/kW for 40 kW; life 20 years
    assert own.breakdown_usd["facility_capex"] == pytest.approx(40 * 11_700)
    assert own.breakdown_usd["facility_residual"] == pytest.approx(-40 * 11_700 * 0.9)


def test_sunk_facility_and_default_load_power() -> None:
    raw = _raw()
    opt: dict[str, Any] = raw["options"][0]
    opt["facility"] = {
        "kind": "metered",
        "capacity_cost": "sunk",
        "pue": 1.5,
        "electricity_usd_per_kwh": 0.10,
    }
    opt["capex"] = {"catalog_id": "dgx-h100"}
    own = _run(raw).option("own-dc")
    assert not any(k.startswith("facility") for k in own.breakdown_usd)
    # DGX H100: typical draw 6.5-8.5 kW (supercluster.blog), not the 10.2 kW PSU maximum
    assert own.details["load_power_w"] == 8_500
    assert own.details["load_power_source"] == "finance:load-power-dgx-h100"


def test_staff_scale_with_servers_and_spares_round_up() -> None:
    raw = _raw()
    opt = copy.deepcopy(raw["options"][0])
    opt.update(purchase="upfront", spare_share=0.1, staff_servers_per_fte=2, bridge=None)
    raw["options"] = [opt]
    own = _run(raw).option("own-dc")
    # 4 servers: ceil(0.4) = 1 spare; staff 0.5 + 4 / 2 = 2.5 FTE x 10,000 = 25,000 a month
    assert own.details["spare_servers"] == [1]
    assert own.breakdown_usd["staff"] == pytest.approx(22 * 25_000)
