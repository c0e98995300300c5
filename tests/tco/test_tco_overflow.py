"""A bridge or a burst bills only what it carries (flat 10 req/s, see tco_fixtures)."""

from __future__ import annotations

import copy

import pytest
from tco_fixtures import API, CLOUD, ON_PREM

from inferplan.tco import compare_tco

# CLOUD: 8-GPU nodes at $2 per GPU-hour; the flat load needs 2 nodes every hour.
NODE_MONTH = 8 * 2.0 * 730  # 11,680 USD per node-month
BRIDGE = dict(CLOUD, min_nodes=1, storage_usd_per_month=500)


def test_bridge_bills_only_the_lead_months(build, prices, regions) -> None:
    own = dict(copy.deepcopy(ON_PREM), lead_time_months=3, bridge="cloud")
    r = compare_tco(build([own, BRIDGE]), prices, regions).option("own")
    # months 1-3: 2 nodes x 11,680 = 23,360 each; months 4-24 the owned fleet serves all
    # and the bridge keeps no min_nodes floor: 0 (it was 1 node x 11,680 x 21 = 245,280)
    assert r.breakdown_usd["bridge.cloud_compute"] == pytest.approx(3 * 23_360)
    # storage only in the 3 months the bridge carries traffic: 3 x 500 (was 24 x 500)
    assert r.breakdown_usd["bridge.storage"] == pytest.approx(1_500)
    assert r.monthly_cash_flows_usd[4] == pytest.approx(r.monthly_cash_flows_usd[5])


def test_standalone_cloud_keeps_its_floor_and_storage(build, prices, regions) -> None:
    c = compare_tco(build([dict(BRIDGE, min_nodes=3)]), prices, regions).options[0]
    # standalone: max(3, 2) = 3 nodes x 11,680 + 500 storage, every month
    assert c.monthly_cash_flows_usd[1] == pytest.approx(3 * NODE_MONTH + 500)


def test_hybrid_at_full_base_costs_what_the_base_costs(build, prices, regions) -> None:
    hyb = {"kind": "hybrid", "name": "hyb", "base": "own", "burst": "cloud", "base_servers": 2}
    r = compare_tco(build([ON_PREM, BRIDGE, hyb]), prices, regions)
    # 2 servers serve the whole load: the burst carries nothing and bills nothing
    assert r.option("hyb").tco_nominal_usd == pytest.approx(r.option("own").tco_nominal_usd)
    assert r.option("hyb").npv_usd == pytest.approx(r.option("own").npv_usd)
    searched = {"kind": "hybrid", "name": "hyb2", "base": "own", "burst": "cloud"}
    r2 = compare_tco(build([ON_PREM, BRIDGE, searched]), prices, regions)
    assert r2.option("hyb2").npv_usd <= r2.option("own").npv_usd + 1e-6


def test_cloud_base_autoscales_under_its_size(build, prices, regions) -> None:
    base = dict(CLOUD, name="od")
    hyb = {"kind": "hybrid", "name": "hyb", "base": "od", "burst": "api", "base_servers": 3}
    h = compare_tco(build([base, API, hyb]), prices, regions).option("hyb")
    # a base of up to 3 on-demand nodes runs min(3, max(1, 2 needed)) = 2 nodes: 23,360 a month
    assert h.breakdown_usd["base.cloud_compute"] == pytest.approx(24 * 2 * NODE_MONTH)
    assert "burst.api" not in h.breakdown_usd
