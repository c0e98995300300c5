"""Monte Carlo: what moves the answer is drawn, correlated where prices move together."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from tco_fixtures import API, CLOUD, ON_PREM, make_raw

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.errors import SpecError
from inferplan.scenario_io import parse_scenario
from inferplan.specs.scenario import CorrelationSpec
from inferplan.tco import monte_carlo
from inferplan.tco.sensitivity import correlated_draws

PRICES, REGIONS = load_prices(), load_regions()


def test_api_price_traffic_and_throughput_are_drawn(build, prices, regions) -> None:
    mc = monte_carlo(build([ON_PREM, CLOUD, API]), prices, regions, draws=60, seed=2)
    for k in ("api_price", "traffic", "throughput"):
        assert mc.ranges[k] == (0.8, 1.2)  # +/- tornado_step 0.2: no catalog row
        assert mc.range_sources[k] == "+/-0.2"
    assert "discount_rate" not in mc.ranges  # a policy choice, drawn only when given
    api = mc.options["api"]
    assert api.npv_p10_usd < api.npv_p50_usd < api.npv_p90_usd


def test_cloud_prices_move_both_ways(build, prices, regions) -> None:
    mc = monte_carlo(build([CLOUD]), prices, regions, draws=10, seed=0)
    # AWS cut list prices up to 45 % (2025) and raised Capacity Blocks 15 % (2026)
    assert mc.ranges["cloud_price"] == (0.55, 1.15)
    assert mc.range_sources["cloud_price"] == "catalog:cloud-price-both-ways"


def test_correlated_draws_move_together() -> None:
    ranges = {"hardware_price": (0.7, 1.3), "cloud_price": (0.55, 1.15), "staff_cost": (0.5, 1.5)}
    corr = [CorrelationSpec(factors=["hardware_price", "cloud_price"], rho=0.9)]
    d = correlated_draws(ranges, corr, 4000, seed=1)
    rho_hc = spearmanr(d["hardware_price"], d["cloud_price"]).statistic
    rho_hs = spearmanr(d["hardware_price"], d["staff_cost"]).statistic
    # Gaussian copula rho 0.9 -> Spearman 6/pi x asin(0.45) = 0.891
    assert rho_hc == pytest.approx(0.891, abs=0.02)
    assert abs(rho_hs) < 0.05
    # triangular(0.7, 1, 1.3) keeps its mean (0.7 + 1 + 1.3) / 3 = 1.0 and its bounds
    assert d["hardware_price"].mean() == pytest.approx(1.0, abs=0.01)
    assert d["cloud_price"].min() >= 0.55 and d["cloud_price"].max() <= 1.15
    assert d["cloud_price"].mean() == pytest.approx((0.55 + 1 + 1.15) / 3, abs=0.01)


def test_an_impossible_correlation_matrix_is_refused() -> None:
    ranges = {k: (0.8, 1.2) for k in ("hardware_price", "cloud_price", "api_price")}
    corr = [CorrelationSpec(factors=["hardware_price", "cloud_price", "api_price"], rho=-0.9)]
    with pytest.raises(SpecError) as e:
        correlated_draws(ranges, corr, 10, seed=0)
    assert e.value.field == "uncertainty.correlations"


def test_correlations_are_parsed_and_reported(build, prices, regions) -> None:
    unc = {
        "ranges": {"hardware_price": {"low": 0.7, "high": 1.3}},
        "correlations": [{"factors": ["hardware_price", "api_price"], "rho": 0.95}],
    }
    mc = monte_carlo(build([ON_PREM, API], uncertainty=unc), prices, regions, draws=50, seed=4)
    assert mc.correlations == [{"factors": ["hardware_price", "api_price"], "rho": 0.95}]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**31 - 1), draws=st.integers(5, 25))
def test_seeded_monte_carlo_is_reproducible_and_ordered(seed: int, draws: int) -> None:
    s = parse_scenario(make_raw([ON_PREM, CLOUD, API]))
    a = monte_carlo(s, PRICES, REGIONS, draws=draws, seed=seed)
    b = monte_carlo(s, PRICES, REGIONS, draws=draws, seed=seed)
    assert a == b
    for d in a.options.values():
        assert d.npv_p10_usd <= d.npv_p50_usd <= d.npv_p90_usd
        assert d.nominal_p10_usd <= d.nominal_p50_usd <= d.nominal_p90_usd
    assert sum(d.probability_cheapest for d in a.options.values()) == pytest.approx(1.0)
    assert np.isfinite([d.npv_p50_usd for d in a.options.values()]).all()
