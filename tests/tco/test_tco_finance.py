"""Pin the after-tax view, IRR, payback, currency, pilots and idle fleets to
docs/tco-finance-worked-example.md (scenario read from the page)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tco_fixtures import doc_raw

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.errors import SpecError
from inferplan.scenario_io import parse_scenario
from inferplan.tco import TcoComparison, compare_tco
from inferplan.tco.cashflow import irr, npv

PRICES, REGIONS = load_prices(), load_regions()
A = 21.7645676742  # sum of 1.1^(-m/12), m = 1..24
D24 = 1 / 1.21


def _raw() -> dict[str, Any]:
    return doc_raw("tco-finance-worked-example.md")


def _run(raw: dict[str, Any]) -> TcoComparison:
    return compare_tco(parse_scenario(raw), PRICES, REGIONS)


@pytest.fixture(scope="module")
def result() -> TcoComparison:
    return _run(_raw())


def cents(x: float | None) -> float:
    assert x is not None
    return round(x, 2)


def test_after_tax_straight_line(result: TcoComparison) -> None:
    own = result.option("own-dc")
    assert result.tax_rate == 0.25
    assert cents(own.npv_usd) == 479_319.18  # unchanged pre-tax
    cf = own.after_tax_monthly_cash_flows_usd
    assert cf is not None
    assert cents(cf[0]) == 410_000.00
    # 10,779.375 - 0.25 x (10,779.375 + 410,000 / 60)
    assert cf[5] == pytest.approx(10_779.375 - 0.25 * (10_779.375 + 410_000 / 60))
    assert cents(cf[5]) == 6_376.20
    # -189,220.625 - 4,403.18 - 0.25 x (246,000 - 200,000)
    assert cents(cf[24]) == -205_123.80
    assert cents(own.depreciation_usd) == 164_000.00
    assert cents(own.tax_on_sales_usd) == -11_500.00
    assert cents(own.after_tax_tco_nominal_usd) == 351_528.75
    assert cents(own.after_tax_npv_usd) == 373_981.80
    cloud, api = result.option("cloud"), result.option("api")
    assert cents(cloud.after_tax_npv_usd) == cents(17_520 * A)  # 381,315.23
    assert cents(api.after_tax_npv_usd) == 1_286_938.89
    assert result.cheapest_by_after_tax_npv == "own-dc"


def test_macrs_and_declining_balance_move_deductions_earlier() -> None:
    raw = _raw()
    raw["finance"]["tax"] = {"rate": 0.25, "depreciation": "macrs", "years": 5}
    own = _run(raw).option("own-dc")
    # 410,000 x (0.20 + 0.32) = 213,200 deducted; gain 200,000 - 196,800 = 3,200 taxed 800
    assert cents(own.depreciation_usd) == 213_200.00
    assert cents(own.tax_on_sales_usd) == 800.00
    assert cents(own.after_tax_tco_nominal_usd) == 351_528.75
    assert cents(own.after_tax_npv_usd) == 373_523.91
    raw["finance"]["tax"] = {"rate": 0.25, "depreciation": "declining_balance", "years": 5}
    own = _run(raw).option("own-dc")
    # 40 % of 410,000 = 164,000 in tax year 1; 40 % of the 246,000 left = 98,400 in year 2
    assert cents(own.depreciation_usd) == 262_400.00
    assert cents(own.tax_on_sales_usd) == cents(0.25 * (200_000 - 147_600))


def test_tax_rate_by_country_and_unknown_country() -> None:
    raw = _raw()
    raw["finance"]["tax"] = {"country": "uk"}
    assert _run(raw).tax_rate == 0.25  # GOV.UK main rate from April 2023
    raw["finance"]["tax"] = {"country": "us"}
    assert _run(raw).tax_rate == 0.21  # 26 U.S.C. 11(b)
    raw["finance"]["tax"] = {"country": "atlantis"}
    with pytest.raises(SpecError) as e:
        _run(raw)
    assert e.value.field == "finance.tax.country"


def test_irr_and_payback_against_the_baseline(result: TcoComparison) -> None:
    own = result.option("own-dc")
    assert result.baseline == "cloud"
    assert own.irr_vs_baseline == pytest.approx(0.1564, abs=5e-5)
    assert own.after_tax_irr_vs_baseline == pytest.approx(0.1138, abs=5e-5)
    # the IRR zeroes the NPV of the savings: -410,000, 12,580.625 x 23, 212,580.625
    s = np.full(25, 12_580.625)
    s[0], s[24] = -410_000, 212_580.625
    assert own.irr_vs_baseline is not None
    assert npv(s, own.irr_vs_baseline) == pytest.approx(0.0, abs=1e-3)
    assert own.payback_month_vs_baseline == 24
    assert own.discounted_payback_month_vs_baseline == 24
    assert result.option("cloud").irr_vs_baseline is None  # the baseline itself
    # the API costs more every month than the cloud: no investment, no IRR
    assert result.option("api").irr_vs_baseline is None
    assert result.option("api").payback_month_vs_baseline is None


def test_irr_textbook_cases() -> None:
    cf = np.zeros(13)
    cf[0], cf[12] = -100.0, 110.0
    assert irr(cf) == pytest.approx(0.10, abs=1e-12)  # 110 / 100 - 1 after one year
    assert irr(np.ones(5)) is None  # no sign change


def test_results_in_euros(result: TcoComparison) -> None:
    own = result.option("own-dc")
    assert result.currency == "EUR"
    assert result.usd_per_currency_unit == 1.0763  # Fed G.5 June 2024
    assert result.fx_as_of == "2024-07-01"
    assert own.in_currency is not None
    assert cents(own.in_currency["npv"]) == 445_339.76
    assert cents(own.in_currency["after_tax_npv"]) == 347_469.85
    raw = _raw()
    raw["finance"]["currency"] = "CHF"
    chf = _run(raw)
    assert chf.usd_per_currency_unit == pytest.approx(1 / 0.8938)  # 0.8938 CHF per USD
    raw["finance"].update(currency="GBP", usd_per_currency_unit=1.25)
    gbp = _run(raw)
    assert gbp.option("api").in_currency["tco_nominal"] == pytest.approx(1_892_160 / 1.25)


def test_eighteen_month_pilot() -> None:
    raw = _raw()
    raw["finance"] = {"horizon_months": 18, "discount_rate": 0.10}
    r = _run(raw)
    assert r.horizon_months == 18
    api, own = r.option("api"), r.option("own-dc")
    assert len(api.monthly_cash_flows_usd) == 19
    assert cents(api.tco_nominal_usd) == 1_419_120.00
    assert cents(api.npv_usd) == 1_317_099.44
    assert cents(own.tco_nominal_usd) == 404_028.75
    with pytest.raises(SpecError) as e:
        parse_scenario(
            {**raw, "finance": {"horizon_months": 18, "horizon_years": 3, "discount_rate": 0.1}}
        )
    assert e.value.field.startswith("finance")


def test_zero_traffic_prices_the_idle_fleet() -> None:
    raw = _raw()
    raw["finance"] = {"horizon_years": 2, "discount_rate": 0.10}
    raw["workload"]["requests_per_day"] = 0
    raw["options"][0]["servers"] = 2
    r = _run(raw)
    own, api = r.option("own-dc"), r.option("api")
    # idle: 10 kW x 730 h x 1.5 x 0.10 = 1,095 + support 4,000 + staff 5,000 a month
    assert cents(own.monthly_cash_flows_usd[1]) == 10_095.00
    assert cents(own.tco_nominal_usd) == 452_280.00
    assert own.usd_per_million_tokens is None and own.tokens_served == 0
    assert api.tco_nominal_usd == 0.0
    assert r.cheapest_by_npv == "api"
