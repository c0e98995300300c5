"""Price the planner's candidates: TCO of every option, and one hybrid.

The TCO core prices what the planner puts in the options: compliance (air-gap
operations, offline model updates, certificates held by the organisation;
:func:`inferplan.sovereignty.compliance_overheads` lists the drivers) as the own-fleet
options' ``compliance_fte`` and ``compliance_usd_per_year`` (line ``compliance``), and
unserved demand at ``finance.unserved_usd_per_million_tokens`` (line ``unserved``);
without that price an option that leaves demand unserved is not ranked. Because both
live in the options, the tornado and the Monte Carlo see them too.
"""

from __future__ import annotations

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.planner.designs import Rejection
from inferplan.planner.options import Candidate
from inferplan.specs.economics import CloudCommitment, CloudSpec, HybridSpec, OnPremSpec
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco import build_context, evaluate_options
from inferplan.tco.compare import summarise
from inferplan.tco.context import EvalContext, Flows
from inferplan.tco.results import OptionResult

UNSERVED_TOLERANCE = 0.01
"""Share of requests an option may leave unserved and still count as serving all the
demand (rounding of hourly sizing); above it the option needs a priced penalty."""


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
    out = []
    for o in s.options:
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
    # the burst is the listed option itself: in the overflow role the TCO bills only
    # what it carries and keeps no min_nodes floor (it scales to zero nodes), so no
    # copy of it (an option name absent from the answer) is needed
    hyb = HybridSpec(
        name=f"hybrid {base.option.name} + {burst.option.name}",
        base=base.option.name,
        burst=burst.option.name,
    )
    s = scenario.model_copy(update={"options": [base.option, burst.option, hyb]})
    ctx = build_context(s, load_prices(), load_regions())
    flows = evaluate_options(s, ctx)
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
