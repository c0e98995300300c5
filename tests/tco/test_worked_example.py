"""Pin ``compare_tco`` to the hand calculation in docs/tco-worked-example.md, to the cent.

The scenario is read from the YAML block of that page, so page and test use the same
inputs. Every expected figure below is the page's arithmetic, repeated in comments.
"""

from __future__ import annotations

import pytest
from tco_fixtures import doc_raw

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.scenario_io import parse_scenario
from inferplan.tco import TcoComparison, compare_tco


@pytest.fixture(scope="module")
def result() -> TcoComparison:
    spec = parse_scenario(doc_raw("tco-worked-example.md"))
    return compare_tco(spec, load_prices(), load_regions())


def cents(x: float) -> float:
    return round(x, 2)


def test_own_dc_monthly_cash_flows(result: TcoComparison) -> None:
    cf = result.option("own-dc").monthly_cash_flows_usd
    assert len(cf) == 25
    # month 0: 2 servers x 200,000 + 2 x 5,000 installation
    assert cents(cf[0]) == 410_000.00
    # opex: electricity 2 x 10 kW x (0.5 + 0.5 x 0.625) x 730 h x 1.5 x 0.10 = 1,779.375
    #       + support 0.12 x 400,000 / 12 = 4,000 + staff 0.5 x 120,000 / 12 = 5,000
    for m in range(1, 24):
        assert cf[m] == pytest.approx(10_779.375, abs=1e-6)
    # month 24: opex minus resale 0.5 x 400,000
    assert cf[24] == pytest.approx(-189_220.625, abs=1e-6)


def test_totals_npv_and_residual(result: TcoComparison) -> None:
    own, cloud, api = (result.option(n) for n in ("own-dc", "cloud", "api"))
    # 410,000 + 24 x 10,779.375 - 200,000
    assert cents(own.tco_nominal_usd) == 468_705.00
    # 410,000 + 10,779.375 x A - 200,000 / 1.21, A = sum_{m=1..24} 1.1^(-m/12) = 21.7645676742
    assert cents(own.npv_usd) == 479_319.18
    assert cents(own.breakdown_usd["residual_value"]) == -200_000.00
    assert cents(own.breakdown_usd["electricity"]) == 42_705.00  # 24 x 1,779.375
    assert cents(own.breakdown_usd["support"]) == 96_000.00
    assert cents(own.breakdown_usd["staff"]) == 120_000.00
    assert cents(own.breakdown_usd["installation"]) == 10_000.00
    # cloud: 2 nodes x 8 GPUs x $2 x 730 h = 23,360 a month
    assert cents(cloud.monthly_cash_flows_usd[1]) == 23_360.00
    assert cents(cloud.tco_nominal_usd) == 560_640.00
    assert cents(cloud.npv_usd) == 508_420.30  # 23,360 x A
    # api: 26,280,000 requests x (1,000 x $1 + 500 x $4) / 1e6 = 78,840 a month
    assert cents(api.monthly_cash_flows_usd[1]) == 78_840.00
    assert cents(api.tco_nominal_usd) == 1_892_160.00
    assert cents(api.npv_usd) == 1_715_918.52  # 78,840 x A


def test_break_even_months(result: TcoComparison) -> None:
    own, cloud, api = (result.option(n) for n in ("own-dc", "cloud", "api"))
    # 410,000 / (78,840 - 10,779.375) = 6.02 -> month 7
    assert own.break_even_month["api"] == 7
    # only the resale value at month 24 brings own-dc below the cloud
    assert own.break_even_month["cloud"] == 24
    assert cloud.break_even_month["api"] == 1
    assert api.break_even_month["own-dc"] is None
    assert cloud.break_even_month["own-dc"] is None


def test_per_token_energy_and_co2(result: TcoComparison) -> None:
    own, cloud, api = (result.option(n) for n in ("own-dc", "cloud", "api"))
    # 26,280,000 x 24 x 1,500 = 946,080 M tokens
    assert own.tokens_served == pytest.approx(946_080e6)
    assert round(own.usd_per_million_tokens or 0, 4) == 0.4954  # 468,705 / 946,080
    assert round(cloud.usd_per_million_tokens or 0, 4) == 0.5926  # 560,640 / 946,080
    assert round(api.usd_per_million_tokens or 0, 4) == 2.0000
    # 17,793.75 kWh x 24; CO2 at us-avg 383.6 g/kWh
    assert cents(own.energy_kwh or 0) == 427_050.00
    assert cents(own.co2_kg or 0) == 163_816.38
    assert api.energy_kwh is None
