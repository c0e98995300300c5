"""No silent losses: every member of the candidate space ends as an option or a rejection."""

from __future__ import annotations

import yaml

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.prices import load_prices
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.planner.options import canonical_accelerator
from inferplan.planner.search import _accelerators, plan
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import parse_scenario
from inferplan.specs.scenario import ScenarioSpec


def _venues_rejected(result: PlanResult, acc: str, kinds: set[str]) -> bool:
    """Every place the accelerator could run (own, colocation, each cloud offer) is rejected."""
    accs, prices = load_accelerators(), load_prices()
    fams = [r.family for r in result.rejected]
    own = all(
        any(f.startswith(f"{k} / {acc}") for f in fams)
        for k in ("on_prem", "colocation")
        if k in kinds
    )
    offers = [r.id for r in prices.cloud if canonical_accelerator(accs, r.accelerator) == acc]
    clouds = "cloud" not in kinds or all(
        any(f.startswith(f"cloud / {o}") for f in fams) for o in offers
    )
    return own and clouds


def _assert_accounted(spec: ScenarioSpec, result: PlanResult) -> None:
    accs, prices, models = load_accelerators(), load_prices(), load_models()
    fams = [r.family for r in result.rejected]
    assert all(r.reason.strip() for r in result.rejected)
    space = _accelerators(spec)
    for model in spec.models:
        mid = models.get(model).id
        for acc in space:
            for prec in spec.candidates.precisions:
                for eng in spec.candidates.engines:
                    as_option = any(
                        (o.model, o.hardware, o.precision, o.engine) == (mid, acc, prec, eng)
                        for o in result.options
                    )
                    as_family = any(f.startswith(f"{mid} / {acc} / {prec} / {eng}") for f in fams)
                    as_design = any(
                        f" {acc} (" in f and f"({prec}, {eng})" in f and mid in f for f in fams
                    )
                    assert (
                        as_option
                        or as_family
                        or as_design
                        or _venues_rejected(result, acc, set(spec.candidates.kinds))
                    ), f"{mid} / {acc} / {prec} / {eng} is neither an option nor rejected"
    for row in prices.cloud:
        if canonical_accelerator(accs, row.accelerator) not in space:
            continue
        assert any(row.id in o.name for o in result.options) or any(
            f.startswith(f"cloud / {row.id}") for f in fams
        ), f"cloud offer {row.id} is neither an option nor rejected"
    wanted = {models.get(m).id for m in spec.models}
    for api in prices.api:
        if api.model in models and models.get(api.model).id in wanted:
            assert any(api.id in o.name for o in result.options) or any(
                f == f"api / {api.id}" for f in fams
            ), f"API {api.id} is neither an option nor rejected"


def test_default_candidate_space_is_fully_accounted_for() -> None:
    spec = parse_scenario(yaml.safe_load(default_scenario_text()))
    result = plan(spec)
    space = _accelerators(spec)
    # price rows naming an alias (B200, GB200, MI300X, L40S) join their accelerator
    for acc in ("b200-180gb", "gb200-192gb", "mi300x-192gb", "l40s-48gb"):
        assert acc in space
    _assert_accounted(spec, result)


def test_space_without_rules_is_fully_accounted_for_and_b200_can_be_bought() -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw.pop("policy")
    raw["candidates"]["accelerators"] = ["b200", "h100-sxm-80gb", "l40s"]
    spec = parse_scenario(raw)
    result = plan(spec)
    _assert_accounted(spec, result)
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
