"""Price the planner's candidates: TCO of every option, compliance as its own cost
line, unserved demand at the scenario's penalty, and one hybrid.

* Compliance (air-gap operations, offline model updates, certificates held by the
  organisation): ``ops_fte x staff-loaded-cost x staff escalation + usd_per_year``,
  one twelfth each month of service, category ``compliance``
  (:func:`inferplan.sovereignty.compliance_overheads` lists the drivers).
* Unserved demand: with ``finance.unserved_usd_per_million_tokens`` set, the tokens
  an option cannot serve (requests per month of its overflow x tokens per request)
  cost that much per million, category ``unserved_demand``; without it such an
  option is not ranked (the planner rejects it).
"""

from __future__ import annotations

from dataclasses import replace as dc_replace

import numpy as np

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.planner.designs import Rejection
from inferplan.planner.options import Candidate, lead_time_months_of
from inferplan.specs.economics import CloudCommitment, CloudSpec, HybridSpec, OnPremSpec
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco import build_context, evaluate_options
from inferplan.tco.compare import summarise
from inferplan.tco.context import EvalContext, Flows
from inferplan.tco.results import OptionResult
from inferplan.tco.traffic import requests_per_month

UNSERVED_TOLERANCE = 0.01
"""Share of requests an option may leave unserved and still count as serving all the
demand (rounding of hourly sizing); above it the option needs a priced penalty."""


def _extra_lines(
    scenario: ScenarioSpec, c: Candidate | None, flows: Flows, ctx: EvalContext
) -> None:
    months = ctx.months
    if (
        c is not None
        and c.compliance is not None
        and (c.compliance.ops_fte > 0 or c.compliance.usd_per_year > 0)
    ):
        salary = ctx.prices.rate("staff-loaded-cost")
        on = np.zeros(months + 1)
        lead = lead_time_months_of(c.option)
        on[1 + lead :] = 1.0
        yearly = c.compliance.ops_fte * salary * ctx.factors.staff_cost * ctx.index("staff")
        flows.add("compliance", on * (yearly + c.compliance.usd_per_year) / 12.0)
    penalty = scenario.finance.unserved_usd_per_million_tokens
    if penalty is not None and flows.overflow_rps is not None:
        tokens = requests_per_month(flows.overflow_rps) * ctx.tokens_per_request
        if np.any(tokens > 0):
            flows.add("unserved_demand", tokens / 1e6 * penalty)


def price_candidates(scenario: ScenarioSpec, cands: list[Candidate]) -> list[OptionResult]:
    """TCO of every candidate (order kept), with the compliance and unserved lines.

    Own and colocated fleets with a lead time are bridged by the cheapest rented
    option that serves all the demand on its own (cloud on demand or API, already
    allowed by the data rules); with none, the lead months are unserved demand.
    """
    s = scenario.model_copy(update={"options": [c.option for c in cands]})
    ctx = build_context(s, load_prices(), load_regions())
    flows = evaluate_options(s, ctx)
    if scenario.candidates.lead_time_months > 0:
        bridge = _cheapest_rented(s, cands, flows, ctx)
        if bridge is not None:
            for c in cands:
                if isinstance(c.option, OnPremSpec) and c.option.lead_time_months > 0:
                    c.option = c.option.model_copy(update={"bridge": bridge.option.name})
                    c.bridge = bridge
            s = scenario.model_copy(update={"options": [c.option for c in cands]})
            flows = evaluate_options(s, ctx)
    by_name = {c.option.name: c for c in cands}
    out = []
    for o in s.options:
        _extra_lines(scenario, by_name.get(o.name), flows[o.name], ctx)
        out.append(summarise(o.name, o.kind, flows[o.name], ctx))
    return out


def _cheapest_rented(
    s: ScenarioSpec, cands: list[Candidate], flows: dict[str, Flows], ctx: EvalContext
) -> Candidate | None:
    rented = [
        c
        for c in cands
        if c.option.kind in ("cloud", "api")
        and not (
            isinstance(c.option, CloudSpec) and c.option.commitment != CloudCommitment.ON_DEMAND
        )
        and float(flows[c.option.name].info.get("unserved_share", 0.0)) <= UNSERVED_TOLERANCE
    ]
    if not rented:
        return None
    return min(
        rented,
        key=lambda c: summarise(c.option.name, c.option.kind, flows[c.option.name], ctx).npv_usd,
    )


def counts_as_served(scenario: ScenarioSpec, r: OptionResult) -> bool:
    """Serves all the demand, or its unserved part is priced by the scenario."""
    return (
        r.unserved_share <= UNSERVED_TOLERANCE
        or scenario.finance.unserved_usd_per_million_tokens is not None
    )


def add_hybrid(
    scenario: ScenarioSpec, cands: list[Candidate], priced: list[OptionResult]
) -> tuple[list[OptionResult], list[Rejection]]:
    """Add one hybrid: the cheapest owned or cloud base with the cheapest burst target.

    The split tries every base size from none to the base's own fleet (spare included).
    """
    if "hybrid" not in scenario.candidates.kinds:
        return priced, []
    npv = {r.name: r.npv_usd for r in priced if counts_as_served(scenario, r)}
    bases = [c for c in cands if isinstance(c.option, OnPremSpec) and c.option.name in npv]
    bursts = [
        c
        for c in cands
        if c.option.kind in ("cloud", "api")
        and c.option.name in npv
        and not (
            isinstance(c.option, CloudSpec) and c.option.commitment != CloudCommitment.ON_DEMAND
        )
    ]
    if not bases or not bursts:
        missing = "no own or colocated base" if not bases else "no on-demand cloud or API burst"
        return priced, [
            Rejection(
                "hybrid", "design", f"a hybrid needs both; the allowed options have {missing}"
            )
        ]
    base = min(bases, key=lambda c: npv[c.option.name])
    burst = min(bursts, key=lambda c: npv[c.option.name])
    if isinstance(burst.option, CloudSpec) and burst.option.min_nodes > 0:
        # a burst runs only on overflow: it scales to zero nodes, not to the one node a
        # cloud-only fleet keeps warm
        burst = dc_replace(
            burst,
            option=burst.option.model_copy(
                update={"name": f"{burst.option.name} (burst)", "min_nodes": 0}
            ),
        )
        cands.append(burst)
    hyb = HybridSpec(
        name=f"hybrid {base.option.name} + {burst.option.name}",
        base=base.option.name,
        burst=burst.option.name,
    )
    s = scenario.model_copy(update={"options": [base.option, burst.option, hyb]})
    ctx = build_context(s, load_prices(), load_regions())
    flows = evaluate_options(s, ctx)
    _extra_lines(scenario, base, flows[hyb.name], ctx)
    result = summarise(hyb.name, "hybrid", flows[hyb.name], ctx)
    burst_usd = sum(v for k, v in result.breakdown_usd.items() if k.startswith("burst."))
    if result.details.get("base_units") and burst_usd <= 0.0:
        return priced, [
            Rejection(
                hyb.name,
                "design",
                f"the cheapest split never uses the burst: it is {base.option.name} "
                f"with {result.details.get('base_units')} server(s) and no spare, which the "
                "availability target (candidates.spare_replicas) does not allow",
            )
        ]
    if not result.details.get("base_units"):
        return priced, [
            Rejection(
                hyb.name,
                "design",
                f"the cheapest split buys no base servers: {burst.option.name} alone costs less "
                f"than any owned base under it",
            )
        ]
    cands.append(
        Candidate(
            hyb,
            base.design,
            f"{base.provider}+{burst.provider}",
            burst.region,
            base.country,
            min(base.legal_sovereignty, burst.legal_sovereignty),
            min(base.operational_sovereignty, burst.operational_sovereignty),
            base.findings + burst.findings,
            base.compliance,
            burst=burst,
            base=base,
        )
    )
    return [*priced, result], []


__all__ = ["UNSERVED_TOLERANCE", "add_hybrid", "counts_as_served", "price_candidates"]
