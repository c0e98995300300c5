"""Server and card purchase prices: sourced, dated, current, and small servers exist.

The rows checked by name are the 2025-2026 additions (smaller servers and current
8-GPU figures); their expected prices are the hand sums written in each test from the
figures their sources state.
"""

from __future__ import annotations

import datetime as dt

import pytest

from inferplan.catalog import load_accelerators
from inferplan.catalog.prices import load_prices

#: Rows added for current (2025-2026) prices and small fleets.
ADDED_SERVERS = (
    "h100-sxm-8gpu-node-2026",
    "dgx-b200",
    "h100-pcie-1gpu-server",
    "h100-pcie-2gpu-server",
    "h100-pcie-4gpu-server",
    "a100-pcie-80gb-4gpu-server",
    "l40s-4gpu-pcie-server",
)
ADDED_GPUS = (
    "h100-pcie-street-2026",
    "a100-pcie-80gb-street-2026",
    "h200-sxm-retail-q1-2026",
    "b200-retail-q1-2026",
    "mi300x-street",
)
FIRST_DAY = dt.date(2024, 6, 1)
LAST_DAY = dt.date(2026, 12, 31)


def test_every_server_and_card_row_is_sourced_and_dated() -> None:
    prices = load_prices(include_end_of_life=True)
    for rec in [*prices.servers, *prices.gpus]:
        assert len(rec.source) >= 3, rec.id
        assert isinstance(rec.as_of, dt.date), rec.id
        assert rec.price_usd > 0, rec.id


@pytest.mark.parametrize("row_id", ADDED_SERVERS + ADDED_GPUS)
def test_added_rows_are_current_and_cite_a_url(row_id: str) -> None:
    found = load_prices().find(row_id)
    assert found is not None, f"{row_id} missing"
    _, rec = found
    assert FIRST_DAY <= rec.as_of <= LAST_DAY, (row_id, rec.as_of)
    assert "http" in rec.source, row_id
    # the notes say whether the figure is an estimate, a quote or a reported price
    assert any(w in rec.notes.lower() for w in ("estimate", "quote", "reported")), row_id


def test_server_power_is_positive_and_below_15_kw_per_eight_gpus() -> None:
    # an air- or liquid-cooled 8-GPU node stays below 15 kW (DGX B200: 14.3 kW);
    # racks of more GPUs scale with their GPU count
    for srv in load_prices(include_end_of_life=True).servers:
        assert srv.max_power_w is not None and srv.max_power_w > 0, srv.id
        assert srv.max_power_w < 15_000 * max(1.0, srv.gpus_per_server / 8), srv.id


def test_server_power_covers_the_gpus_it_holds() -> None:
    # the PSU rating cannot be below the GPUs' own board power (datasheet TDP)
    accs = load_accelerators()
    for srv in load_prices().servers:
        tdp_w = accs.get(srv.accelerator).tdp_w
        assert srv.max_power_w is not None
        assert srv.max_power_w >= srv.gpus_per_server * tdp_w, srv.id


def test_h100_buyers_are_not_forced_into_eight_gpus() -> None:
    # H100 has 8-GPU rows; the PCIe card now comes in 1-, 2- and 4-GPU servers
    servers = load_prices().servers
    eight = {s.gpus_per_server for s in servers if s.accelerator == "h100-sxm-80gb"}
    assert eight == {8}
    small = {s.gpus_per_server for s in servers if s.accelerator == "h100-pcie-80gb"}
    assert {1, 2, 4} <= small


def test_small_h100_servers_are_card_price_times_n_plus_one_host() -> None:
    # source: H100 PCIe $25-35k per card (midpoint $30k), host chassis $10-30k ($20k)
    servers = load_prices().servers
    for n, expected in ((1, 30_000 + 20_000), (2, 2 * 30_000 + 20_000), (4, 4 * 30_000 + 20_000)):
        assert servers.get(f"h100-pcie-{n}gpu-server").price_usd == expected
    # the card row carries the same midpoint
    assert load_prices().gpus.get("h100-pcie-street-2026").price_usd == 30_000


def test_fixed_host_makes_bigger_servers_cheaper_per_gpu() -> None:
    # with one host per server, 4 GPUs in one box cost less than in two 2-GPU boxes
    servers = load_prices().servers
    per_gpu = [servers.get(f"h100-pcie-{n}gpu-server").price_usd / n for n in (1, 2, 4)]
    assert per_gpu == sorted(per_gpu, reverse=True)
    assert 2 * servers.get("h100-pcie-2gpu-server").price_usd > servers.get(
        "h100-pcie-4gpu-server"
    ).price_usd


def test_small_pcie_server_costs_less_than_an_eight_gpu_sxm_node() -> None:
    # an expert would expect a 4-card PCIe box well below any current 8 x SXM node
    servers = load_prices().servers
    cheapest_8 = min(s.price_usd for s in servers if s.gpus_per_server == 8)
    for sid in ("h100-pcie-4gpu-server", "a100-pcie-80gb-4gpu-server", "l40s-4gpu-pcie-server"):
        assert servers.get(sid).price_usd < cheapest_8 / 1.5, sid


def test_superseded_launch_price_stays_for_reference_but_newer_figures_exist() -> None:
    servers = load_prices().servers
    launch = servers.get("dgx-h100")
    assert launch.as_of < FIRST_DAY
    assert "superseded" in launch.notes.lower()
    newer = [
        s for s in servers
        if s.accelerator == launch.accelerator and s.gpus_per_server == 8 and s.as_of >= FIRST_DAY
    ]
    assert len(newer) >= 2


def test_end_of_life_rows_are_not_offered_by_default() -> None:
    every = load_prices(include_end_of_life=True).servers
    offered = {s.id for s in load_prices().servers}
    eol = [s.id for s in every if s.end_of_life]
    assert eol, "the catalog keeps at least one end-of-life row for reference"
    assert not set(eol) & offered


def test_a_superseded_price_names_a_newer_row_of_the_same_configuration() -> None:
    from inferplan.catalog.prices import load_prices

    servers = load_prices().servers
    old = [r for r in servers if r.superseded_by is not None]
    assert old, "the 2023 DGX H100 launch price is marked superseded"
    for r in old:
        new = servers.get(r.superseded_by)
        assert new.as_of > r.as_of
        assert (new.accelerator, new.gpus_per_server) == (r.accelerator, r.gpus_per_server)


def test_superseded_by_must_name_a_server_row() -> None:
    import pytest

    from inferplan.catalog.prices import parse_prices
    from inferplan.errors import CatalogError

    row = {"id": "a", "name": "a", "accelerator": "h100-sxm-80gb", "gpus_per_server": 8,
           "price_usd": 1.0, "source": "a test row", "as_of": "2026-01-01", "superseded_by": "nope"}
    with pytest.raises(CatalogError, match="superseded_by 'nope'"):
        parse_prices({"servers": [row]})
