"""Reserved payment options, savings plans, API volume tiers, enterprise discounts and
provisioned throughput, against hand calculations (flat 10 req/s, see tco_fixtures).

The cloud load needs 2 nodes x 8 GPUs x $2 = $32 an hour on demand, every hour
(23,360 a month); the API lists $0.003 a request = $2 per 1M tokens (78,840 a month,
39,420 M tokens). A = sum of 1.1^(-m/12) for m = 1..24 = 21.7645676742.
"""

from __future__ import annotations

import pytest
from tco_fixtures import API, CLOUD, make_raw

from inferplan.errors import SpecError
from inferplan.scenario_io import parse_scenario
from inferplan.tco import compare_tco

A = 21.7645676742
RES = dict(CLOUD, commitment="reserved_1y", reserved_discount=0.4)


def _one(build, prices, regions, opt):
    return compare_tco(build([opt]), prices, regions).options[0]


def test_reserved_no_partial_all_upfront(build, prices, regions) -> None:
    # 2 nodes x 16 GPU-h x $2 x 0.6 x 730 h = 14,016 a month; 168,192 a 12-month term
    none = _one(build, prices, regions, RES)
    assert none.monthly_cash_flows_usd[1] == pytest.approx(14_016)
    assert round(none.npv_usd, 2) == round(14_016 * A, 2)  # 305,052.18
    full = _one(build, prices, regions, dict(RES, reserved_payment="all_upfront"))
    cf = full.monthly_cash_flows_usd
    assert cf[0] == pytest.approx(168_192) and cf[12] == pytest.approx(168_192)
    assert cf[1] == pytest.approx(0.0) and cf[24] == pytest.approx(0.0)
    assert full.tco_nominal_usd == pytest.approx(none.tco_nominal_usd)
    assert round(full.npv_usd, 2) == 321_093.82  # 168,192 x (1 + 1/1.1)
    part = _one(
        build,
        prices,
        regions,
        dict(RES, reserved_payment="partial_upfront", reserved_upfront_share=0.5),
    )
    assert part.breakdown_usd["cloud_upfront"] == pytest.approx(2 * 84_096)
    assert part.monthly_cash_flows_usd[5] == pytest.approx(7_008)
    assert round(part.npv_usd, 2) == 313_073.00  # 84,096 x (1 + 1/1.1) + 7,008 x A


def test_partial_upfront_needs_its_share() -> None:
    with pytest.raises(SpecError) as e:
        parse_scenario(make_raw([dict(RES, reserved_payment="partial_upfront")]))
    assert "reserved_upfront_share" in e.value.field


def test_savings_plan_under_and_over_committed(build, prices, regions) -> None:
    sp = dict(CLOUD, commitment="savings_plan_1y", reserved_discount=0.3)
    # usage at the plan rate 32 x 0.7 = 22.4 $/h; commitment 20: 20 + 2.4 / 0.7 a hour
    under = _one(build, prices, regions, dict(sp, savings_plan_usd_per_hour=20))
    assert under.monthly_cash_flows_usd[1] == pytest.approx((20 + 2.4 / 0.7) * 730)
    # commitment 30 > 22.4 used: the whole commitment is paid, 30 x 730
    over = _one(build, prices, regions, dict(sp, savings_plan_usd_per_hour=30))
    assert over.monthly_cash_flows_usd[1] == pytest.approx(21_900)
    with pytest.raises(SpecError):
        parse_scenario(make_raw([sp]))  # no commitment given


def test_api_volume_tiers_and_enterprise_discount(build, prices, regions) -> None:
    tiers = [
        {"above_million_tokens_per_month": 10_000, "discount": 0.1},
        {"above_million_tokens_per_month": 30_000, "discount": 0.2},
    ]
    api = dict(API, volume_tiers=tiers, enterprise_discount=0.05)
    r = _one(build, prices, regions, api)
    # 39,420 M tokens: 10,000 x $2 + 20,000 x $1.80 + 9,420 x $1.60 = 71,072; x 0.95
    assert r.monthly_cash_flows_usd[1] == pytest.approx(71_072 * 0.95)
    with pytest.raises(SpecError):
        parse_scenario(make_raw([dict(API, volume_tiers=list(reversed(tiers)))]))


def test_provisioned_throughput_with_spill_over(build, prices, regions) -> None:
    prov = {"units": 2, "usd_per_unit_month": 20_000, "tokens_per_s_per_unit": 5_000}
    r = _one(build, prices, regions, dict(API, provisioned=prov))
    # 10,000 tok/s provisioned = 6.667 of the 10 req/s (1,500 tokens each); the other
    # 3.333 req/s x 3,600 x 730 = 8,760,000 requests x $0.003 = 26,280 a month
    assert r.breakdown_usd["api_provisioned"] == pytest.approx(24 * 40_000)
    assert r.monthly_cash_flows_usd[1] == pytest.approx(40_000 + 26_280)
    assert r.details["provisioned_share_of_requests"] == pytest.approx(2 / 3)
