"""Partial service is priced with finance.unserved_usd_per_million_tokens, or not ranked."""

from __future__ import annotations

import copy

import pytest
from tco_fixtures import API, ON_PREM

from inferplan.tco import compare_tco, monte_carlo

LATE = dict(copy.deepcopy(ON_PREM), lead_time_months=3)  # no bridge: months 1-3 unserved
REQ_MONTH = 10 * 3600 * 730  # 26,280,000 requests a month, 1,500 tokens each
FIN = {"horizon_years": 2, "discount_rate": 0.10}


def test_unserved_tokens_are_priced(build, prices, regions) -> None:
    fin = dict(FIN, unserved_usd_per_million_tokens=2.0)
    r = compare_tco(build([LATE], finance=fin), prices, regions).options[0]
    # 3 months x 26,280,000 x 1,500 tokens = 118,260 M tokens x $2 = 236,520
    assert r.unserved_cost_usd == pytest.approx(236_520.0)
    assert r.breakdown_usd["unserved"] == pytest.approx(236_520.0)
    assert r.monthly_cash_flows_usd[1] == pytest.approx(78_840.0)  # 26,280 M tok x $2 / 1e6
    # opex 10,779.375 x 21 months + 400,000 - 200,000 resale + 236,520
    assert r.tco_nominal_usd == pytest.approx(400_000 + 21 * 10_779.375 - 200_000 + 236_520)
    assert r.served_share == pytest.approx(21 / 24)
    assert r.ranked
    # per token over every demanded token: 662,886.875 / (26,280,000 x 24 x 1,500 / 1e6)
    assert r.usd_per_million_tokens == pytest.approx(662_886.875 / 946_080)


def test_unpriced_shortfall_is_never_the_cheapest(build, prices, regions) -> None:
    r = compare_tco(build([LATE, API], finance=FIN), prices, regions)
    own = r.option("own")
    assert not own.ranked and own.unserved_cost_usd == 0.0
    assert own.npv_usd < r.option("api").npv_usd  # cheaper only because it serves less
    assert r.cheapest_by_npv == "api" and r.cheapest_by_nominal == "api"
    assert any("not ranked" in w for w in own.warnings)
    alone = compare_tco(build([LATE], finance=FIN), prices, regions)
    assert alone.cheapest_by_npv is None


def test_monte_carlo_never_counts_an_unranked_win(build, prices, regions) -> None:
    s = build([LATE, API], finance=FIN)
    mc = monte_carlo(s, prices, regions, draws=20, seed=3)
    assert mc.options["own"].probability_cheapest == 0.0
    assert mc.options["api"].probability_cheapest == 1.0
