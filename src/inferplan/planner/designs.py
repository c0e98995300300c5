"""Replica designs: model x accelerator x precision x engine x tensor parallelism.

A design is kept when it fits in memory with room for ``min_concurrency``
sequences at the workload's long (p90) context, and when one replica can meet the
latency targets at all; otherwise the reason is recorded as a rejection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from inferplan.errors import InferplanError
from inferplan.executor import Executor, InProcessExecutor, shippable
from inferplan.memory.fit import check_parallelism
from inferplan.planner.capacity import TTFT_TAIL, Capacity, capacity_at_slo, latency_floor
from inferplan.results.memory import MemoryBreakdown
from inferplan.service.deployment import Deployment, limits_of, memory_of, resolve, step_model_of
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.hardware import DeviceKind
from inferplan.specs.plan import SloSpec
from inferplan.specs.scenario import ScenarioSpec

TP_DEGREES = (1, 2, 4, 8)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a family of options was dropped: the stage and the rule or number."""

    family: str
    stage: str
    reason: str


@dataclass(frozen=True, slots=True)
class Design:
    """One replica that fits and can meet the SLO, with its capacity at the SLO."""

    deployment: Deployment
    memory: MemoryBreakdown
    capacity: Capacity

    @property
    def label(self) -> str:
        d = self.deployment
        return (
            f"{d.model.id} on {d.tp}x {d.accelerator.id} "
            f"({d.weights.precision.value}, {d.engine.id})"
        )


def workload_lengths(scenario: ScenarioSpec) -> tuple[float, float, int]:
    """(mean prompt tokens, mean output tokens, long context for memory sizing)."""
    w = scenario.workload
    isl, osl = w.input_tokens_mean, w.output_tokens_mean
    long_ctx = int((w.input_tokens_p90 or 2 * isl) + (w.output_tokens_p90 or 2 * osl))
    return isl, osl, long_ctx


TAIL_PERCENTILE_Z = 1.6449  # z of the 95th percentile


def prompt_tail(scenario: ScenarioSpec) -> float:
    """95th percentile of prompt lengths under the log-normal the simulator samples."""
    from inferplan.planner.verify import lognormal_from_mean_p90

    w = scenario.workload
    dist = lognormal_from_mean_p90(w.input_tokens_mean, w.input_tokens_p90)
    sigma = dist.shape_sigma
    mu = math.log(dist.mean) - sigma * sigma / 2.0
    return math.exp(mu + TAIL_PERCENTILE_Z * sigma)


def _compatible(d: Deployment) -> str | None:
    a, w = d.accelerator, d.weights
    if w.compute == "fp8" and not w.weight_only and a.peak_flops.fp8 is None:
        return f"{a.id} has no FP8 tensor cores"
    if w.compute == "fp4" and a.peak_flops.fp4 is None:
        return f"{a.id} has no FP4 tensor cores"
    return None


EfficiencyHook = Callable[[Deployment], EngineEfficiency | None]


def find_designs(
    scenario: ScenarioSpec,
    accelerators: list[str],
    slo: SloSpec,
    efficiency_for: EfficiencyHook | None = None,
    executor: Executor | None = None,
) -> tuple[list[Design], list[Rejection]]:
    """Every feasible design of the scenario's models, and why the others failed.

    ``efficiency_for`` may return calibrated efficiencies for a deployment (a
    calibration profile measured on that accelerator and engine), else None.
    ``executor`` evaluates the model x accelerator x precision x engine families in
    chunks (default in-process); the results keep the loop order of the families.
    A hook that cannot be pickled keeps the evaluation in this process.
    """
    cand = scenario.candidates
    families = [
        (model_id, acc_id, prec, engine)
        for model_id in scenario.models
        for acc_id in accelerators
        for prec in cand.precisions
        for engine in cand.engines
    ]
    ex: Executor = executor or InProcessExecutor()
    if efficiency_for is not None and not shippable(ex, efficiency_for):
        ex = InProcessExecutor()
    results = ex.map(partial(_family, scenario, slo, efficiency_for), families)
    designs: list[Design] = []
    rejected: list[Rejection] = []
    for found, rejection in results:
        designs += found
        if rejection is not None:
            rejected.append(rejection)
    return designs, rejected


def _family(
    scenario: ScenarioSpec,
    slo: SloSpec,
    efficiency_for: EfficiencyHook | None,
    family_key: tuple[str, str, str, str],
) -> tuple[list[Design], Rejection | None]:
    """The designs of one model / accelerator / precision / engine, or why there are none."""
    model_id, acc_id, prec, engine = family_key
    cand = scenario.candidates
    isl, osl, long_ctx = workload_lengths(scenario)
    family = f"{model_id} / {acc_id} / {prec} / {engine}"
    try:
        base = resolve(model_id, acc_id, engine, prec, cand.kv_precision)
    except InferplanError as exc:
        return [], Rejection(family, "precision", str(exc))
    if efficiency_for is not None:
        base = replace(base, efficiency=efficiency_for(base))
    why = _compatible(base)
    if why:
        return [], Rejection(family, "precision", why)
    found, reason = _designs_for(base, long_ctx, isl, osl, slo, cand, prompt_tail(scenario))
    return found, None if found else Rejection(family, reason[0], reason[1])


def _designs_for(
    base: Deployment,
    long_ctx: int,
    isl: float,
    osl: float,
    slo: SloSpec,
    cand: object,
    isl_tail: float,
) -> tuple[list[Design], tuple[str, str]]:
    from inferplan.specs.plan import CandidatesSpec

    assert isinstance(cand, CandidatesSpec)
    out: list[Design] = []
    reason = (
        "memory",
        f"{base.model.id} does not fit on up to "
        f"{cand.max_devices_per_replica} x {base.accelerator.id}",
    )
    ctx = min(long_ctx, base.model.max_context)
    limit = min(cand.max_devices_per_replica, base.accelerator.max_devices_per_node)
    if base.accelerator.kind in (DeviceKind.CPU, DeviceKind.SOC):
        limit = 1
    first_fit: int | None = None
    for tp in TP_DEGREES:
        if tp > limit or (first_fit is not None and tp > 2 * first_fit):
            break
        try:
            check_parallelism(base.model, base.accelerator, tp, 1)
        except InferplanError:
            continue
        d = replace(base, tp=tp, pp=1, replicas=1)
        mem = memory_of(d, ctx, cand.min_concurrency)
        if not mem.fits:
            reason = ("memory", f"on {tp} x {d.accelerator.id}: {mem.reason}")
            continue
        first_fit = first_fit or tp
        step = step_model_of(d)
        limits = limits_of(d, mem)
        cap = capacity_at_slo(
            step, limits, isl, osl, slo.ttft_ms / 1e3, slo.tpot_ms / 1e3, isl_tail
        )
        if cap is None:
            tpot, ttft = latency_floor(step, limits, isl, osl, isl_tail)
            reason = (
                "slo",
                f"on {tp} x {d.accelerator.id} a long ({isl_tail:,.0f}-token, p95) prompt alone "
                f"takes TTFT {ttft * 1e3:.0f} ms x {TTFT_TAIL:g} queueing margin; "
                f"TPOT {tpot * 1e3:.1f} ms "
                f"(targets {slo.ttft_ms:.0f} / {slo.tpot_ms:.0f} ms)",
            )
            continue
        out.append(Design(d, mem, cap))
    return out, reason
