"""Hybrid deployments: a base fleet for part of the load, overflow to a burst option.

The base (on-prem, colocation or cloud) runs ``k`` servers or nodes all horizon;
each hour it serves min(demand, its capacity at the target utilisation) and the
rest goes to the burst option (cloud, autoscaled, or an API). With no fixed
``base_servers`` inferplan evaluates every k from 0 (all burst) to the size that
serves the peak alone (in at most :data:`MAX_CANDIDATES` even steps) under the
daily and weekly traffic curve and keeps the cheapest by NPV (or nominal TCO).
Category names are prefixed ``base.`` and ``burst.``. The burst bills only the
overflow it carries (no ``min_nodes`` floor, storage only in months it serves), so
a hybrid at the full base size costs exactly what its base costs alone; a cloud
base autoscales under its size ``k`` unless its commitment is reserved.
"""

from __future__ import annotations

import math

import numpy as np

from inferplan.specs.economics import ApiSpec, CloudSpec, HybridSpec, OnPremSpec
from inferplan.tco.cashflow import FloatArray, npv
from inferplan.tco.context import EvalContext, Flows
from inferplan.tco.onprem import evaluate_on_prem
from inferplan.tco.rented import evaluate_api, evaluate_cloud
from inferplan.tco.traffic import requests_per_month

MAX_CANDIDATES = 200
"""Base sizes tried at most; larger ranges are searched in even steps."""


def _base(
    spec: OnPremSpec | CloudSpec, ctx: EvalContext, demand: FloatArray, at: str, k: int | None
) -> Flows:
    if k == 0:
        empty = Flows(ctx.months)
        empty.overflow_rps = demand.copy()
        empty.served_requests = np.zeros(ctx.months + 1)
        return empty
    if isinstance(spec, OnPremSpec):
        return evaluate_on_prem(spec, ctx, demand, at, servers_override=k)
    return evaluate_cloud(spec, ctx, demand, at, nodes_override=k)


def _burst(spec: CloudSpec | ApiSpec, ctx: EvalContext, demand: FloatArray, at: str) -> Flows:
    if isinstance(spec, ApiSpec):
        return evaluate_api(spec, ctx, demand, at)
    return evaluate_cloud(spec, ctx, demand, at, overflow=True)


def full_base_size(
    spec: OnPremSpec | CloudSpec, ctx: EvalContext, demand: FloatArray, at: str
) -> int:
    """Servers (or nodes) the base needs to serve the whole peak alone."""
    flows = _base(spec, ctx, demand, at, None)
    if isinstance(spec, OnPremSpec):
        return int(flows.info["peak_servers"])
    return int(flows.info["peak_nodes"])


def run_split(
    spec: HybridSpec,
    base: OnPremSpec | CloudSpec,
    burst: CloudSpec | ApiSpec,
    ctx: EvalContext,
    demand: FloatArray,
    ats: tuple[str, str],
    k: int,
) -> Flows:
    """Combined flows of the base at size ``k`` and the burst serving its overflow."""
    b = _base(base, ctx, demand, ats[0], k)
    assert b.overflow_rps is not None
    o = _burst(burst, ctx, b.overflow_rps, ats[1])
    out = Flows(ctx.months)
    out.merge(b, "base.")
    out.merge(o, "burst.")
    out.overflow_rps = o.overflow_rps
    base_req = float(np.sum(b.served_requests)) if b.served_requests is not None else 0.0
    total_req = float(requests_per_month(demand).sum())
    out.info.update(
        base=spec.base,
        burst=spec.burst,
        base_units=k,
        base_share_of_requests=base_req / total_req if total_req > 0 else 0.0,
        base_details=b.info,
        burst_details=o.info,
    )
    return out


def evaluate_hybrid(
    spec: HybridSpec,
    base: OnPremSpec | CloudSpec,
    burst: CloudSpec | ApiSpec,
    ctx: EvalContext,
    demand: FloatArray,
    ats: tuple[str, str],
    fixed_base: int | None = None,
) -> Flows:
    """The cheapest split (or the fixed one); see the module docstring.

    ``ats`` are the field paths of the base and burst options, for error messages.
    ``fixed_base`` overrides the search (the Monte Carlo keeps the base-case split).
    """
    k_fixed = fixed_base if fixed_base is not None else spec.base_servers
    if k_fixed is not None:
        return run_split(spec, base, burst, ctx, demand, ats, k_fixed)
    k_max = full_base_size(base, ctx, demand, ats[0])
    step = max(1, math.ceil(k_max / MAX_CANDIDATES))
    candidates = sorted({*range(0, k_max + 1, step), k_max})
    rate = ctx.finance.discount_rate * ctx.factors.discount_rate
    best: tuple[float, Flows] | None = None
    for k in candidates:
        flows = run_split(spec, base, burst, ctx, demand, ats, k)
        score = npv(flows.total, rate) if spec.objective == "npv" else float(flows.total.sum())
        if best is None or score < best[0] - 1e-9:
            best = (score, flows)
    assert best is not None
    best[1].info["candidates_tried"] = len(candidates)
    best[1].info["base_units_full_peak"] = k_max
    return best[1]


__all__ = ["MAX_CANDIDATES", "evaluate_hybrid", "full_base_size", "run_split"]
