"""The shipped TCO examples price cleanly under the current rules (see
docs/tco-repricing-note.md); assertions are properties and hand figures, not snapshots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.scenario_io import load_scenario
from inferplan.tco import TcoComparison, compare_tco

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _price(name: str) -> TcoComparison:
    return compare_tco(load_scenario(EXAMPLES / name), load_prices(), load_regions())


@pytest.mark.parametrize("name", ["tco_onprem_vs_cloud.yaml", "tco_hybrid.yaml"])
def test_examples_price_finite_and_ranked(name: str) -> None:
    r = _price(name)
    json.dumps(r.model_dump(mode="json"), allow_nan=False)  # no NaN or Infinity
    for o in r.options:
        assert o.ranked and o.unserved_share == pytest.approx(0.0)
        assert math.isfinite(o.npv_usd)
    assert r.cheapest_by_npv is not None


def test_flagship_bridge_and_staged_purchases() -> None:
    r = _price("tco_onprem_vs_cloud.yaml")
    own = r.option("own-dc")
    # the bridge carries only the 4 lead months: storage 4 x $500, none after delivery
    assert own.breakdown_usd["bridge.storage"] == pytest.approx(4 * 500)
    # staged: year 1's peak needs 4 servers; the years after add up to the upfront 9
    purchases = own.details["purchases"]
    assert purchases[0] == {"month": 0, "servers": 4, "spares": 0}
    assert sum(p["servers"] for p in purchases) == own.details["peak_servers"] == 9
    # each later tranche is ordered 4 months (the lead time) before its year starts
    assert [p["month"] for p in purchases[1:]] == [8, 20, 32, 44]
    assert own.after_tax_npv_usd is not None and own.after_tax_npv_usd < own.npv_usd
    assert r.baseline == "api-70b" and own.payback_month_vs_baseline is None


def test_hybrid_never_dearer_than_its_burst_alone() -> None:
    r = _price("tco_hybrid.yaml")
    assert r.option("colo+api").npv_usd <= r.option("api-burst").npv_usd + 1e-6
    assert r.option("colo+cloud").npv_usd <= r.option("cloud-burst").npv_usd + 1e-6
    assert r.currency == "EUR" and r.fx_as_of == "2024-07-01"
