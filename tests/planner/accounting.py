"""Shared check for planner tests: every member of the candidate space ends as an
option or a rejection."""

from __future__ import annotations

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.prices import load_prices
from inferplan.planner.options import canonical_accelerator
from inferplan.planner.search import _accelerators
from inferplan.results.plan import PlanResult
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
    for api in prices.api if "api" in spec.candidates.kinds else []:
        if api.model in models and models.get(api.model).id in wanted:
            assert any(api.id in o.name for o in result.options) or any(
                f == f"api / {api.id}" for f in fams
            ), f"API {api.id} is neither an option nor rejected"
    if "hybrid" in spec.candidates.kinds:
        assert any(o.kind == "hybrid" for o in result.options) or any(
            f.startswith("hybrid") for f in fams
        ), "the hybrid is neither an option nor rejected"
