"""``plan()``: enumerate, filter, size, price, rank, and explain.

1. designs: model x accelerator x precision x engine x TP that fit and can meet the SLO;
2. options: each design as own data centre, colocation and every cloud offer of that
   accelerator, plus the APIs serving the model; the sovereignty policy drops some;
3. every survivor is sized for peak traffic at the planned utilisation and priced
   over the horizon (monthly cash flows, NPV);
4. the cheapest option by NPV is recommended; the Pareto frontier over (NPV, latency,
   sovereignty) and the runner-up are reported, with the rule or number that
   rejected every other family.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace as dc_replace

import numpy as np

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers
from inferplan.errors import InfeasibleError, SpecError
from inferplan.executor import Executor
from inferplan.perf.metrics import METRIC_DEFINITIONS
from inferplan.planner.designs import (
    Design,
    EfficiencyHook,
    Rejection,
    find_designs,
    workload_lengths,
)
from inferplan.planner.options import Candidate, build_candidates
from inferplan.planner.report_data import explain, pareto_front, quality_notes
from inferplan.planner.verify import latency_curve, simulated_capacity, verify_latency
from inferplan.results.plan import PlanOption, PlanResult, Recommendation, RejectedFamily
from inferplan.specs.economics import CloudSpec, HybridSpec, OnPremSpec
from inferplan.specs.hardware import DeviceKind
from inferplan.specs.plan import SloSpec
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco import build_context, evaluate_options, monte_carlo, tornado
from inferplan.tco.compare import summarise
from inferplan.tco.results import OptionResult
from inferplan.tco.traffic import hourly_request_rates, replicas_needed

Progress = Callable[[str, float], None]
MAX_SENSITIVITY_OPTIONS = 4


def _accelerators(scenario: ScenarioSpec) -> list[str]:
    accs = load_accelerators()
    if scenario.candidates.accelerators:
        return [accs.get(a, "candidates.accelerators").id for a in scenario.candidates.accelerators]
    prices = load_prices()
    priced = {s.accelerator for s in prices.servers} | {c.accelerator for c in prices.cloud}
    return [a.id for a in accs if a.id in priced and a.kind not in (DeviceKind.CPU, DeviceKind.SOC)]


def _plan_option(c: Candidate, r: OptionResult, peak_devices: int | None) -> PlanOption:
    d = c.design
    dep = d.deployment if d else None
    return PlanOption(
        name=r.name,
        kind=r.kind,
        provider=c.provider,
        region=c.region,
        country=c.country,
        model=dep.model.id if dep else getattr(c.option, "catalog_id", None),
        hardware=dep.accelerator.id if dep else None,
        devices_per_replica=dep.tp * dep.pp if dep else None,
        peak_devices=peak_devices,
        precision=dep.weights.precision.value if dep else None,
        engine=dep.engine.id if dep else None,
        replica_output_tokens_per_s=d.capacity.output_tokens_per_s if d else None,
        replica_batch=d.capacity.batch if d else None,
        est_ttft_ms=d.capacity.ttft_s * 1e3 if d else None,
        est_tpot_ms=d.capacity.tpot_s * 1e3 if d else None,
        tco_nominal_usd=r.tco_nominal_usd,
        npv_usd=r.npv_usd,
        usd_per_million_tokens=r.usd_per_million_tokens,
        monthly_cash_flows_usd=r.monthly_cash_flows_usd,
        breakdown_usd=r.breakdown_usd,
        energy_kwh=r.energy_kwh,
        co2_kg=r.co2_kg,
        kwh_per_million_tokens=r.kwh_per_million_tokens,
        kg_co2_per_million_tokens=r.kg_co2_per_million_tokens,
        legal_sovereignty=c.legal_sovereignty,
        operational_sovereignty=c.operational_sovereignty,
        sovereignty_score=c.sovereignty_score,
        findings=c.findings,
        unserved_share=r.unserved_share,
        warnings=r.warnings,
    )


def _peak_devices(scenario: ScenarioSpec, d: Design | None) -> int | None:
    if d is None:
        return None
    rates = hourly_request_rates(scenario.workload)
    years = scenario.finance.horizon_years
    growth = (1 + scenario.workload.growth_per_year) ** (years - 1)
    peak_tok = float(rates.max()) * growth * scenario.workload.output_tokens_mean
    peak_tok *= scenario.workload.peak_to_mean_within_hour
    reps = int(
        replicas_needed(
            peak_tok, d.capacity.output_tokens_per_s, scenario.candidates.target_utilisation
        )
    )
    return reps * d.deployment.tp * d.deployment.pp


def _unique_names(cands: list[Candidate]) -> list[Candidate]:
    seen: dict[str, int] = {}
    out = []
    for c in cands:
        n = c.option.name
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            c.option = c.option.model_copy(update={"name": f"{n} #{seen[n]}"})
        out.append(c)
    return out


def plan(
    scenario: ScenarioSpec,
    progress: Progress | None = None,
    efficiency_for: EfficiencyHook | None = None,
    executor: Executor | None = None,
) -> PlanResult:
    """Search the scenario's option space and recommend one option (see module doc).

    ``efficiency_for`` returns calibrated step-time efficiencies for a deployment
    (``inferplan calibrate`` profiles), or None to use the engine profile's.
    ``executor`` (default in-process) evaluates the design families, the tornado
    and the Monte Carlo draws; the result is identical whichever executor runs them.
    """
    tick = progress or (lambda _msg, _frac: None)
    if not scenario.models:
        raise SpecError("models", "plan needs at least one candidate model id")
    if scenario.slo is None:
        raise SpecError("slo", "plan needs latency targets (slo.ttft_ms, slo.tpot_ms)")
    slo = scenario.slo
    models = load_models()
    for i, m in enumerate(scenario.models):
        models.get(m, f"models[{i}]")
    prices, regions, providers = load_prices(), load_regions(), load_providers()
    tick("designs", 0.05)
    designs, rejected = find_designs(
        scenario, _accelerators(scenario), slo, efficiency_for, executor
    )
    tick("options", 0.35)
    cands, rej2 = build_candidates(scenario, designs, prices, providers, regions)
    rejected += rej2
    cands = _unique_names(cands)
    if not cands:
        raise InfeasibleError(_infeasible_message(scenario, designs, rejected))
    tick("pricing", 0.45)
    priced = _price(scenario, cands)
    refined: dict[str, float] = {}
    base_designs = list(designs)
    for round_ in range(MAX_REFINE_ROUNDS):
        tick("simulating the cheapest designs", 0.5 + 0.05 * round_)
        designs, refined_rej, changed = _refine(
            scenario, _unscaled(base_designs, designs, refined), cands, priced, slo, refined
        )
        rejected += refined_rej
        cands, _ = build_candidates(scenario, designs, prices, providers, regions)
        cands = _unique_names(cands)
        if not cands:
            raise InfeasibleError(_infeasible_message(scenario, designs, rejected))
        priced = _price(scenario, cands)
        if not changed:
            break
    tick("hybrids", 0.7)
    priced = _add_hybrid(scenario, cands, priced)
    by_name = {c.option.name: c for c in cands}
    options = [
        _plan_option(by_name[r.name], r, _peak_devices(scenario, by_name[r.name].design))
        for r in priced
    ]
    served = [o for o in options if o.unserved_share <= 0.01]
    for o in options:
        if o.unserved_share > 0.01:
            rejected.append(
                RejectedFamily(  # type: ignore[arg-type]
                    family=o.name,
                    stage="capacity",
                    reason=f"{o.unserved_share:.0%} of requests cannot be served "
                    "(rate limits or lead time)",
                )
            )
    if not served:
        raise InfeasibleError("every allowed option leaves requests unserved")
    served.sort(key=lambda o: o.npv_usd)
    best = served[0]
    runner = next(
        (
            o
            for o in served[1:]
            if (o.kind, o.hardware, o.provider) != (best.kind, best.hardware, best.provider)
        ),
        None,
    )
    tick("latency check", 0.8)
    pick = by_name[best.name]
    check = verify_latency(scenario, pick.design, slo) if pick.design else None
    hosted = next((by_name[o.name].design for o in served if by_name[o.name].design), None)
    curve_design = pick.design or hosted
    curve = latency_curve(scenario, curve_design) if curve_design is not None else []
    tick("sensitivity", 0.85)
    sens, mc = _sensitivity(
        scenario, [o.name for o in served[:MAX_SENSITIVITY_OPTIONS]], by_name, executor
    )
    cash = {o.name: np.array(o.monthly_cash_flows_usd) for o in served}
    from inferplan.tco.cashflow import break_even_month

    breaks = {
        o.name: break_even_month(cash[best.name], cash[o.name])
        for o in served[1 : MAX_SENSITIVITY_OPTIONS * 3]
    }
    reasons, why_not = explain(best, runner, served, scenario)
    rec = Recommendation(
        option=best.name,
        kind=best.kind,
        provider=best.provider,
        region=best.region,
        hardware=best.hardware,
        count=best.peak_devices,
        precision=best.precision,
        engine=best.engine,
        model=best.model,
        tco_nominal_usd=best.tco_nominal_usd,
        npv_usd=best.npv_usd,
        usd_per_million_tokens=best.usd_per_million_tokens,
        p95_ttft_ms=check.p_ttft_ms if check else None,
        p95_tpot_ms=check.p_tpot_ms if check else None,
        latency_check=check,
        reasons=reasons,
    )
    tick("done", 1.0)
    return PlanResult(
        scenario=scenario.name,
        horizon_months=scenario.finance.horizon_months,
        discount_rate=scenario.finance.discount_rate,
        recommendation=rec,
        runner_up=runner,
        why_not_runner_up=why_not,
        frontier=pareto_front(served),
        options=served,
        rejected=_families(rejected),
        break_even_month=breaks,
        quality_notes=quality_notes(scenario, served),
        assumptions=_assumptions(scenario, [by_name[o.name] for o in served[:5]], prices),
        sensitivity=sens,
        monte_carlo=mc,
        latency_curve=curve,
        metric_definitions=METRIC_DEFINITIONS,
    )


MAX_REFINE_ROUNDS = 6


def _refine(
    scenario: ScenarioSpec,
    designs: list[Design],
    cands: list[Candidate],
    priced: list[OptionResult],
    slo: SloSpec,
    refined: dict[str, float],
) -> tuple[list[Design], list[Rejection], bool]:
    """Simulate the design behind the cheapest option if it has not been simulated yet.

    ``refined`` maps simulated design labels to simulated / closed-form capacity.
    Designs not simulated yet have their closed-form capacity scaled by the median
    of those ratios, so that the ranking is not biased towards the unsimulated.
    Returns the designs, the ones the simulation rejects, and whether one was simulated.
    """
    npv = {r.name: r.npv_usd for r in priced if r.unserved_share <= 0.01}
    pick = None
    for c in sorted(cands, key=lambda c: npv.get(c.option.name, float("inf"))):
        if c.design is not None:
            pick = c.design
            break
    rejected: list[Rejection] = []
    cap = None
    changed = pick is not None and pick.label not in refined
    if pick is not None and changed:
        cap = simulated_capacity(scenario, pick, slo)
        refined[pick.label] = (
            cap.requests_per_s / pick.capacity.requests_per_s if cap is not None else 0.0
        )
    ratios = sorted(v for v in refined.values() if v > 0) or [1.0]
    prior = ratios[len(ratios) // 2]
    out: list[Design] = []
    for d in designs:
        if changed and d is pick:
            if cap is None:
                rejected.append(
                    Rejection(
                        d.label,
                        "slo",
                        "simulated latency percentiles miss the SLO even at a low load",
                    )
                )
            else:
                out.append(Design(d.deployment, d.memory, cap))
        elif d.label in refined:
            out.append(d)
        else:
            c0 = d.capacity
            scaled = dc_replace(
                c0,
                requests_per_s=c0.requests_per_s * prior,
                output_tokens_per_s=c0.output_tokens_per_s * prior,
                limited_by=f"{c0.limited_by} (closed form x {prior:.2f}, simulated median)",
            )
            out.append(Design(d.deployment, d.memory, scaled))
    return out, rejected, changed


def _unscaled(base: list[Design], current: list[Design], refined: dict[str, float]) -> list[Design]:
    """Current simulated designs plus the closed-form originals of the others."""
    sim = {d.label: d for d in current if d.label in refined}
    keep = {d.label for d in current}
    return [sim.get(d.label, d) for d in base if d.label in keep]


def _price(scenario: ScenarioSpec, cands: list[Candidate]) -> list[OptionResult]:
    s = scenario.model_copy(update={"options": [c.option for c in cands]})
    ctx = build_context(s, load_prices(), load_regions())
    flows = evaluate_options(s, ctx)
    return [summarise(o.name, o.kind, flows[o.name], ctx) for o in s.options]


def _add_hybrid(
    scenario: ScenarioSpec, cands: list[Candidate], priced: list[OptionResult]
) -> list[OptionResult]:
    """Add one hybrid: the cheapest owned or cloud base with the cheapest burst target."""
    if "hybrid" not in scenario.candidates.kinds:
        return priced
    npv = {r.name: r.npv_usd for r in priced if r.unserved_share <= 0.01}
    bases = [c for c in cands if isinstance(c.option, OnPremSpec) and c.option.name in npv]
    bursts = [
        c
        for c in cands
        if c.option.kind in ("cloud", "api")
        and c.option.name in npv
        and not (isinstance(c.option, CloudSpec) and c.option.commitment.value != "on_demand")
    ]
    if not bases or not bursts:
        return priced
    base = min(bases, key=lambda c: npv[c.option.name])
    burst = min(bursts, key=lambda c: npv[c.option.name])
    hyb = HybridSpec(
        name=f"hybrid {base.option.name} + {burst.option.name}",
        base=base.option.name,
        burst=burst.option.name,
    )
    s = scenario.model_copy(update={"options": [base.option, burst.option, hyb]})
    ctx = build_context(s, load_prices(), load_regions())
    flows = evaluate_options(s, ctx)
    result = summarise(hyb.name, "hybrid", flows[hyb.name], ctx)
    if not result.details.get("base_units"):
        return priced  # the best split has no base: the burst option alone
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
        )
    )
    return [*priced, result]


def _sensitivity(
    scenario: ScenarioSpec,
    names: list[str],
    by_name: dict[str, Candidate],
    executor: Executor | None = None,
) -> tuple[list[dict[str, object]], dict[str, object] | None]:
    opts = [by_name[n].option for n in names]
    extra = []
    for o in opts:
        if isinstance(o, HybridSpec):
            extra += [by_name[o.base].option, by_name[o.burst].option]
    keep = {o.name: o for o in [*extra, *opts]}
    s = scenario.model_copy(update={"options": list(keep.values())})
    prices, regions = load_prices(), load_regions()
    bars = tornado(s, prices, regions, executor=executor)[:8]
    draws = min(scenario.uncertainty.draws, 200)
    mc = monte_carlo(s, prices, regions, draws=draws, executor=executor)
    return [b.model_dump(mode="json") for b in bars], mc.model_dump(mode="json")


def _families(rejected: list[Rejection] | list[object]) -> list[RejectedFamily]:
    out: dict[str, RejectedFamily] = {}
    for r in rejected:
        fam = RejectedFamily(family=r.family, stage=r.stage, reason=r.reason)  # type: ignore[attr-defined]
        out.setdefault(fam.family, fam)
    return list(out.values())


def _assumptions(
    scenario: ScenarioSpec, cands: list[Candidate], prices: object
) -> list[dict[str, str]]:
    from inferplan.catalog import load_engines

    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for c in cands:
        cat_id = getattr(c.option, "catalog_id", None) or getattr(
            getattr(c.option, "capex", None), "catalog_id", None
        )
        if cat_id and cat_id not in seen:
            found = prices.find(cat_id)  # type: ignore[attr-defined]
            if found:
                rec = found[1]
                out.append(
                    {"item": f"price {cat_id}", "source": rec.source, "as_of": str(rec.as_of)}
                )
                seen.add(cat_id)
        if c.design is not None:
            d = c.design.deployment
            for key, rec in (("accelerator", d.accelerator), ("model", d.model)):
                if rec.id not in seen:
                    out.append(
                        {"item": f"{key} {rec.id}", "source": rec.source, "as_of": str(rec.as_of)}
                    )
                    seen.add(rec.id)
    for e in load_engines():
        if e.id in scenario.candidates.engines:
            out.append(
                {
                    "item": f"engine profile {e.id}",
                    "source": e.source,
                    "as_of": str(e.as_of),
                    "fitted_from": e.fitted_from,
                }
            )
    out.append(
        {
            "item": "performance model",
            "source": "inferplan validate on the public "
            "cases in cases_dev.csv (README, 'Performance model')",
            "as_of": "2026-11-26",
        }
    )
    return out


def _infeasible_message(
    scenario: ScenarioSpec, designs: list[Design], rejected: list[Rejection]
) -> str:
    stages = {r.stage for r in rejected}
    if not designs and "slo" in stages:
        slo_rej = [r for r in rejected if r.stage == "slo"]
        return (
            "no option meets the latency targets; nearest: "
            f"{slo_rej[0].family}: {slo_rej[0].reason}. Relax slo.ttft_ms / slo.tpot_ms, "
            "allow a larger tensor-parallel degree (candidates.max_devices_per_replica) "
            "or a lower precision"
        )
    if not designs:
        return (
            "no candidate model fits on the candidate accelerators; first reason: "
            f"{rejected[0].family}: {rejected[0].reason}"
            if rejected
            else "no candidates"
        )
    sov = [r for r in rejected if r.stage == "sovereignty"]
    if sov:
        return (
            f"every option breaks a data rule; e.g. {sov[0].family}: {sov[0].reason}. "
            "Allow on_prem/colocation in candidates.kinds, or relax the policy"
        )
    return "no deployment option is left after filtering; first reason: " + (
        f"{rejected[0].family}: {rejected[0].reason}" if rejected else "none"
    )


__all__ = ["plan", "workload_lengths"]
