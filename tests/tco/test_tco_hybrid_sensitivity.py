"""Hybrid split search, tornado and Monte Carlo."""

from __future__ import annotations

import copy

import pytest
from tco_fixtures import API, CLOUD, ON_PREM

from inferplan.tco import compare_tco, monte_carlo, tornado

HYB = {"kind": "hybrid", "name": "hyb", "base": "own", "burst": "api"}


def test_fixed_split_sends_the_overflow_to_the_burst(build, prices, regions) -> None:
    r = compare_tco(build([ON_PREM, API, dict(HYB, base_servers=1)]), prices, regions)
    h = r.option("hyb")
    # 1 server = 4 replicas x 1,000 x 0.625 = 2,500 tok/s, half of the 5,000 demanded
    assert h.details["base_share_of_requests"] == pytest.approx(0.5)
    assert h.breakdown_usd["burst.api"] == pytest.approx(24 * 78_840 / 2)
    assert h.breakdown_usd["base.hardware"] == pytest.approx(200_000)
    assert h.unserved_share == pytest.approx(0.0)


def test_search_finds_the_cheapest_split(build, prices, regions) -> None:
    own = copy.deepcopy(ON_PREM)
    own["output_tokens_per_s_per_replica"] = 250  # 8 servers at full peak
    opts = [own, API, HYB]
    best = compare_tco(
        build(
            opts,
            workload={
                "requests_per_day": 864_000,
                "profile": "business_hours",
                "input_tokens_mean": 1000,
                "output_tokens_mean": 500,
            },
        ),
        prices,
        regions,
    )
    h = best.option("hyb")
    brute = []
    for k in range(h.details["base_units_full_peak"] + 1):
        r = compare_tco(
            build(
                [own, API, dict(HYB, base_servers=k)],
                workload={
                    "requests_per_day": 864_000,
                    "profile": "business_hours",
                    "input_tokens_mean": 1000,
                    "output_tokens_mean": 500,
                },
            ),
            prices,
            regions,
        )
        brute.append(r.option("hyb").npv_usd)
    assert h.npv_usd == pytest.approx(min(brute))
    # never dearer than either pure option
    assert h.npv_usd <= best.option("own").npv_usd + 1e-6
    assert h.npv_usd <= best.option("api").npv_usd + 1e-6


def test_hybrid_with_cloud_base(build, prices, regions) -> None:
    base = dict(CLOUD, name="res", commitment="reserved_1y", reserved_discount=0.4)
    burst = dict(CLOUD, name="od")
    r = compare_tco(
        build(
            [
                base,
                burst,
                {"kind": "hybrid", "name": "h", "base": "res", "burst": "od", "base_servers": 1},
            ]
        ),
        prices,
        regions,
    )
    h = r.option("h")
    # 1 reserved node at 16 x 0.6 $/h + 1 on-demand node at $16/h, 730 h a month
    assert h.monthly_cash_flows_usd[1] == pytest.approx(730 * (16 * 0.6 + 16))


def test_monte_carlo_is_seeded_and_consistent(build, prices, regions) -> None:
    s = build(
        [ON_PREM, CLOUD, API], uncertainty={"ranges": {"api_price": {"low": 0.5, "high": 1.5}}}
    )
    a = monte_carlo(s, prices, regions, draws=40, seed=7)
    b = monte_carlo(s, prices, regions, draws=40, seed=7)
    assert a == b
    assert sum(d.probability_cheapest for d in a.options.values()) == pytest.approx(1.0)
    for d in a.options.values():
        assert d.npv_p10_usd <= d.npv_p50_usd <= d.npv_p90_usd
    assert a.ranges["api_price"] == (0.5, 1.5)
    assert a.ranges["hardware_price"] == (0.7, 1.3)  # catalog row hardware-price-range
    api = a.options["api"]
    assert api.npv_p10_usd < api.npv_p90_usd


def test_tornado_sorted_and_isolated(build, prices, regions) -> None:
    s = build([ON_PREM, API], uncertainty={"tornado_step": 0.1})
    bars = tornado(s, prices, regions)
    swings = [b.swing_usd for b in bars]
    assert swings == sorted(swings, reverse=True)
    hw = next(b for b in bars if b.factor == "hardware_price")
    # hardware does not move the API; it moves own by 30 % of the 200,000 net of resale,
    # discounted, plus support (12 %/year of hardware)
    assert hw.npv_low_usd["api"] == pytest.approx(hw.npv_high_usd["api"])
    assert hw.npv_high_usd["own"] > hw.npv_low_usd["own"]
    staff = next(b for b in bars if b.factor == "staff_cost")
    assert (staff.low, staff.high) == (0.5, 1.5)  # catalog row staff-range
    tr = next(b for b in bars if b.factor == "traffic")
    assert (tr.low, tr.high) == (0.9, 1.1)  # tornado_step
