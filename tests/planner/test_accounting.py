"""No silent losses: every member of the candidate space ends as an option or a rejection."""

from __future__ import annotations

import yaml
from accounting import assert_accounted

from inferplan.catalog.prices import load_prices
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.planner.search import _accelerators, plan
from inferplan.scenario_io import parse_scenario


def test_default_candidate_space_is_fully_accounted_for() -> None:
    spec = parse_scenario(yaml.safe_load(default_scenario_text()))
    result = plan(spec)
    space = _accelerators(spec)
    # price rows naming an alias (B200, GB200, MI300X, L40S) join their accelerator
    for acc in ("b200-180gb", "gb200-192gb", "mi300x-192gb", "l40s-48gb"):
        assert acc in space
    assert_accounted(spec, result)


def test_space_without_rules_is_fully_accounted_for_and_b200_can_be_bought() -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw.pop("policy")
    raw["candidates"]["accelerators"] = ["b200", "h100-sxm-80gb", "l40s"]
    spec = parse_scenario(raw)
    result = plan(spec)
    assert_accounted(spec, result)
    b200_own = [o for o in result.options if o.hardware == "b200-180gb" and o.kind == "on_prem"]
    assert b200_own, "the hgx-b200-8gpu server row names the B200 by an alias"
    assert not any("no purchase price" in r.reason and "b200" in r.family for r in result.rejected)


def test_multi_gpu_replicas_are_not_priced_on_single_gpu_offers() -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw.pop("policy")
    raw["candidates"]["accelerators"] = ["h100-sxm-80gb"]
    spec = parse_scenario(raw)
    result = plan(spec)
    gpus = {r.id: r.gpus_per_node for r in load_prices().cloud}
    for o in result.options:
        if o.kind == "cloud":
            row = next(i for i in gpus if f"cloud {i} " in o.name)
            assert gpus[row] >= (o.tensor_parallel or 1), o.name
    assert any(r.stage == "hardware" and "1 GPU per node" in r.reason for r in result.rejected)


def test_own_hardware_is_never_bought_at_a_superseded_price() -> None:
    # the DGX H100 launch price of May 2023 ($270k) is superseded by a 2026 figure: an
    # own H100 SXM fleet is priced at a current row, never at the old one
    from pathlib import Path

    from inferplan.scenario_io import load_scenario

    examples = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
    old = {r.id for r in load_prices().servers if r.superseded_by is not None}
    spec = load_scenario(examples / "01-airgapped-ministry.yaml")
    result = plan(spec)
    own = [o for o in result.options if o.kind in ("on_prem", "colocation")]
    assert own and all(o.server_id is not None for o in own)
    assert not [o.name for o in own if o.server_id in old]
