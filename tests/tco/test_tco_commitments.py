"""Pin reserved payment options, savings plans, API tiers, enterprise discounts and
provisioned throughput to docs/tco-commitments-worked-example.md (scenario read from
the page; figures are the page's hand arithmetic, repeated in comments)."""

from __future__ import annotations

from typing import Any

import pytest
from tco_fixtures import API, CLOUD, doc_raw, make_raw

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.errors import SpecError
from inferplan.scenario_io import parse_scenario
from inferplan.tco import TcoComparison, compare_tco

A = 21.7645676742  # sum of 1.1^(-m/12), m = 1..24
RES = dict(CLOUD, commitment="reserved_1y", reserved_discount=0.4)


def _raw() -> dict[str, Any]:
    return doc_raw("tco-commitments-worked-example.md")


@pytest.fixture(scope="module")
def result() -> TcoComparison:
    return compare_tco(parse_scenario(_raw()), load_prices(), load_regions())


def test_reserved_no_partial_all_upfront(result: TcoComparison) -> None:
    none = result.option("reserved-monthly")
    # $32 x 0.6 x 730 h = 14,016 a month
    assert none.monthly_cash_flows_usd[1] == pytest.approx(14_016)
    assert round(none.npv_usd, 2) == round(14_016 * A, 2) == 305_052.18
    full = result.option("reserved-all-upfront")
    cf = full.monthly_cash_flows_usd
    assert cf[0] == pytest.approx(168_192) and cf[12] == pytest.approx(168_192)
    assert cf[1] == pytest.approx(0.0) and cf[24] == pytest.approx(0.0)
    assert full.tco_nominal_usd == pytest.approx(none.tco_nominal_usd) == 336_384
    assert round(full.npv_usd, 2) == 321_093.82  # 168,192 x (1 + 1/1.1)
    part = result.option("reserved-half-upfront")
    assert part.breakdown_usd["cloud_upfront"] == pytest.approx(2 * 84_096)
    assert part.monthly_cash_flows_usd[5] == pytest.approx(7_008)
    assert round(part.npv_usd, 2) == 313_073.00  # 84,096 x (1 + 1/1.1) + 7,008 x A


def test_partial_upfront_needs_its_share() -> None:
    with pytest.raises(SpecError) as e:
        parse_scenario(make_raw([dict(RES, reserved_payment="partial_upfront")]))
    assert "reserved_upfront_share" in e.value.field


def test_savings_plan_under_and_over_committed(result: TcoComparison) -> None:
    # plan-rate usage 32 x 0.7 = 22.40 $/h; commitment 20: 20 + 2.40 / 0.7 an hour
    under = result.option("savings-plan-20")
    assert under.monthly_cash_flows_usd[1] == pytest.approx((20 + 2.4 / 0.7) * 730)
    assert round(under.monthly_cash_flows_usd[1], 2) == 17_102.86
    # commitment 30 > 22.40 used: the whole commitment, 30 x 730
    over = result.option("savings-plan-30")
    assert over.monthly_cash_flows_usd[1] == pytest.approx(21_900)
    sp = dict(CLOUD, commitment="savings_plan_1y", reserved_discount=0.3)
    with pytest.raises(SpecError):
        parse_scenario(make_raw([sp]))  # no commitment given


def test_api_volume_tiers_and_enterprise_discount(result: TcoComparison) -> None:
    r = result.option("api-tiers")
    # 10,000 x $2 + 20,000 x $1.80 + 9,420 x $1.60 = 71,072, x 0.95
    assert round(r.monthly_cash_flows_usd[1], 2) == 67_518.40
    tiers = _raw()["options"][5]["volume_tiers"]
    with pytest.raises(SpecError):
        parse_scenario(make_raw([dict(API, volume_tiers=list(reversed(tiers)))]))


def test_provisioned_throughput_with_spill_over(result: TcoComparison) -> None:
    r = result.option("api-provisioned")
    # 3.333 req/s x 3,600 x 730 = 8,760,000 requests x $0.003 = 26,280 + fee 40,000
    assert r.breakdown_usd["api_provisioned"] == pytest.approx(24 * 40_000)
    assert round(r.monthly_cash_flows_usd[1], 2) == 66_280.00
    assert r.details["provisioned_share_of_requests"] == pytest.approx(2 / 3)
