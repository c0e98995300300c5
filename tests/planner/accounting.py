"""Shared check for planner tests: every member of the candidate space ends as an
option or a rejection, down to each tensor-parallel degree (and pipeline layout) the
design search tries."""

from __future__ import annotations

from dataclasses import replace

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.prices import load_prices
from inferplan.deploy.deployment import memory_of, resolve
from inferplan.errors import InferplanError
from inferplan.planner.designs import _compatible, _layouts, layout_name, workload_lengths
from inferplan.planner.options import canonical_accelerator
from inferplan.planner.search import _accelerators
from inferplan.results.plan import PlanResult, RejectedFamily
from inferplan.specs.scenario import ScenarioSpec


def tried_layouts(
    spec: ScenarioSpec, model: str, acc: str, prec: str, eng: str
) -> list[tuple[int, int]]:
    """(tp, pp) the search tries for a family: every tensor-parallel degree up to the
    node, and pipeline layouts only when no single-node layout fits in memory."""
    cand = spec.candidates
    try:
        base = resolve(model, acc, eng, prec, cand.kv_precision)
    except InferplanError:
        return []
    runnable, _ = _compatible(base)
    if runnable is None:
        return []
    layouts = _layouts(runnable, cand)
    ctx = min(workload_lengths(spec)[2], runnable.model.max_context)
    one_node = [
        (tp, pp)
        for tp, pp in layouts
        if pp == 1
        and memory_of(replace(runnable, tp=tp, pp=1, replicas=1), ctx, cand.min_concurrency).fits
    ]
    return layouts if not one_node else [(tp, pp) for tp, pp in layouts if pp == 1]


def _layout_accounted(
    result: PlanResult, rej: list[RejectedFamily], key: tuple[str, str, str, str], tp: int, pp: int
) -> bool:
    mid, acc, prec, eng = key
    if any(
        (o.model, o.hardware, o.precision, o.engine, o.tensor_parallel, o.pipeline_stages or 1)
        == (mid, acc, prec, eng, tp, pp)
        for o in result.options
    ):
        return True
    par = f"{tp}x" if pp == 1 else f"{pp} stages x {tp}x"
    label = f"{mid} on {par} {acc} ({prec}, {eng})"
    if any(label in r.family for r in rej):
        return True
    fam = f"{mid} / {acc} / {prec} / {eng}"
    return any(
        r.family == fam and (r.stage == "precision" or f"{layout_name(tp, pp)}:" in r.reason)
        for r in rej
    )


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


def assert_accounted(spec: ScenarioSpec, result: PlanResult) -> None:
    accs, prices, models = load_accelerators(), load_prices(), load_models()
    fams = [r.family for r in result.rejected]
    assert all(r.reason.strip() for r in result.rejected)
    space = _accelerators(spec)
    for model in spec.models:
        mid = models.get(model).id
        for acc in space:
            for prec in spec.candidates.precisions:
                for eng in spec.candidates.engines:
                    if _venues_rejected(result, acc, set(spec.candidates.kinds)):
                        continue
                    key = (mid, acc, prec, eng)
                    as_family = any(f.startswith(" / ".join(key)) for f in fams)
                    layouts = tried_layouts(spec, mid, acc, prec, eng)
                    assert layouts or as_family, f"{' / '.join(key)} is neither tried nor rejected"
                    for tp, pp in layouts:
                        assert _layout_accounted(result, result.rejected, key, tp, pp), (
                            f"{' / '.join(key)} at {layout_name(tp, pp)} is neither an option "
                            "nor rejected with its number"
                        )
    for row in prices.cloud:
        if canonical_accelerator(accs, row.accelerator) not in space:
            continue
        assert any(row.id in o.name for o in result.options) or any(
            f.startswith(f"cloud / {row.id}") for f in fams
        ), f"cloud offer {row.id} is neither an option nor rejected"
    wanted = {models.get(m).id for m in spec.models}
    for api in prices.api if "api" in spec.candidates.kinds else []:
        if api.model in models and models.get(api.model).id in wanted:
            assert any(api.id in o.name for o in result.options) or any(
                f == f"api / {api.id}" for f in fams
            ), f"API {api.id} is neither an option nor rejected"
    if "hybrid" in spec.candidates.kinds:
        assert any(o.kind == "hybrid" for o in result.options) or any(
            f.startswith("hybrid") for f in fams
        ), "the hybrid is neither an option nor rejected"
