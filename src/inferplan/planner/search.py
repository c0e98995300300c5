"""``plan()``: enumerate, filter, size, price, rank, and explain.

1. designs: model x accelerator x precision x engine x layout (TP up to the node,
   pipeline stages across nodes) that fit and can meet the SLO
   (:mod:`inferplan.planner.designs`);
2. options: each design as own data centre, colocation (whole servers, N+1 spare) and
   every cloud offer and term of that accelerator, plus the APIs serving the model;
   the sovereignty policy drops some, conditions stay attached
   (:mod:`inferplan.planner.options`);
3. pricing with compliance and unserved-demand lines, and capacity refinement by
   simulation of the cheapest designs and their close calls
   (:mod:`inferplan.planner.pricing`, :mod:`inferplan.planner.refine`);
4. ranking: options that serve all the demand (or whose shortfall is priced), API
   latency checked against published measurements, unverified latency behind verified
   under a strict SLO, then NPV; the headline, runner-up, frontier, rejections and
   sensitivity are reported. Every candidate ends as an option or a rejection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.price_catalog import PriceCatalog
from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers
from inferplan.deploy.speculation import draft_problem
from inferplan.errors import InfeasibleError, SpecError
from inferplan.executor import Executor
from inferplan.perf.metrics import METRIC_DEFINITIONS
from inferplan.planner.acceptance import condition as acceptance_condition
from inferplan.planner.api_latency import check_api_latency
from inferplan.planner.designs import (
    Design,
    EfficiencyHook,
    Rejection,
    find_designs,
    layout_words,
    workload_lengths,
)
from inferplan.planner.options import (
    Candidate,
    build_candidates,
    canonical_accelerator,
    catalog_id_of,
    lead_time_months_of,
    replicas_at_peak,
)
from inferplan.planner.pricing import add_hybrid, counts_as_served, price_candidates
from inferplan.planner.refine import refine
from inferplan.planner.report_data import (
    api_model,
    conditions_of,
    explain,
    headline,
    infeasible_message,
    pareto_front,
    quality_notes,
    rank_key,
)
from inferplan.planner.techniques import technique_assumption
from inferplan.planner.verify import latency_curve, verify_latency
from inferplan.results.plan import PlanOption, PlanResult, Recommendation, RejectedFamily
from inferplan.specs.economics import ApiSpec, CloudSpec, HybridSpec, OnPremSpec
from inferplan.specs.hardware import DeviceKind
from inferplan.specs.plan import SloSpec
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.analysis import analyse_tco
from inferplan.tco.results import OptionResult

Progress = Callable[[str, float], None]
DISAGG_LATENCY_SOURCE = (
    "modelled: closed-form steady state of the disaggregated prefill and decode pools "
    "(inferplan.perf.disagg), capacity scaled by the plain designs' simulated / closed-form "
    "median; the simulator runs one pool, so it is not simulated"
)
MAX_SENSITIVITY_OPTIONS = 4


def _accelerators(scenario: ScenarioSpec) -> list[str]:
    accs = load_accelerators()
    if scenario.candidates.accelerators:
        return [accs.get(a, "candidates.accelerators").id for a in scenario.candidates.accelerators]
    prices = load_prices()
    rows = [s.accelerator for s in prices.servers] + [c.accelerator for c in prices.cloud]
    priced = {canonical_accelerator(accs, a) for a in rows}
    return [a.id for a in accs if a.id in priced and a.kind not in (DeviceKind.CPU, DeviceKind.SOC)]


def _latency_verdict(c: Candidate, slo: SloSpec) -> tuple[bool, bool | None, str | None]:
    """(verified, meets the SLO, note): self-hosted designs are modelled and meet it by
    construction; APIs rest on published measurements (an API burst of a hybrid too)."""
    api = c.burst.option if isinstance(c.option, HybridSpec) and c.burst else c.option
    if isinstance(api, ApiSpec) and api.catalog_id:
        v = check_api_latency(api.catalog_id, slo)
        return v.verified, v.meets, v.note
    tech = c.design.technique if c.design is not None else None
    if tech is not None and tech.disaggregated:
        return True, True, DISAGG_LATENCY_SOURCE
    if c.design is not None:
        return True, True, "modelled: closed form, then discrete-event simulation"
    return False, None, "latency not verified: an API without a catalog row"


def _plan_option(c: Candidate, r: OptionResult, scenario: ScenarioSpec) -> PlanOption:
    d = c.design
    assert scenario.slo is not None
    verified, meets, note = _latency_verdict(c, scenario.slo)
    dep = d.deployment if d else None
    g = d.devices if d else None
    reps = replicas_at_peak(scenario, d) + c.spare_replicas if d else None
    servers = r.details.get("servers")
    n_servers = int(max(servers)) if isinstance(servers, list) and servers else None
    gpus_per_server = None
    server_id = None
    own = c.option
    if isinstance(c.option, HybridSpec):
        base_units = r.details.get("base_units")
        n_servers = int(base_units) if isinstance(base_units, int | float) else None
        own = c.base.option if c.base is not None else c.option
    if isinstance(own, OnPremSpec) and own.capex.catalog_id:
        server_id = own.capex.catalog_id
        gpus_per_server = load_prices().servers.get(server_id).gpus_per_server
    return PlanOption(
        name=r.name,
        kind=r.kind,
        provider=c.provider,
        region=c.region,
        country=c.country,
        model=dep.model.id if dep else api_model(c.option),
        hardware=dep.accelerator.id if dep else None,
        devices_per_replica=g,
        tensor_parallel=dep.tp if dep else None,
        pipeline_stages=dep.pp if dep else None,
        expert_parallel=dep.ep if dep else None,
        attention_data_parallel=dep.dp_attention if dep else None,
        layout=layout_words(dep) if dep else None,
        replicas=reps,
        spare_replicas=c.spare_replicas if d else 0,
        peak_devices=reps * g if reps is not None and g is not None else None,
        servers=n_servers if r.kind in ("on_prem", "colocation", "hybrid") else None,
        gpus_per_server=gpus_per_server,
        server_id=server_id,
        commitment=c.option.commitment.value if isinstance(c.option, CloudSpec) else None,
        precision=dep.weights.precision.value if dep else None,
        engine=dep.engine.id if dep else None,
        serving_technique=d.technique.name if d and d.technique else None,
        replica_output_tokens_per_s=d.capacity.output_tokens_per_s if d else None,
        replica_requests_per_s=d.capacity.requests_per_s if d else None,
        capacity_basis=d.capacity.limited_by if d else None,
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
        findings=[f.model_dump(mode="json") for f in c.findings],
        conditions=_conditions(c),
        latency_verified=verified,
        meets_slo=meets,
        latency_source=note,
        compliance_drivers=[i.model_dump(mode="json") for i in c.compliance.items]
        if c.compliance is not None
        else [],
        unserved_share=r.unserved_share,
        warnings=r.warnings,
    )


def _conditions(c: Candidate) -> list[str]:
    """The option's conditions, and its bridge's for the lead months."""
    out = conditions_of(c.findings)
    if c.bridge is not None:
        months = lead_time_months_of(c.option)
        out += [
            f"during the {months} lead months the bridge {c.bridge.option.name} runs: {x}"
            for x in conditions_of(c.bridge.findings)
        ]
    return out


def _acceptance_conditions(
    scenario: ScenarioSpec,
    best: PlanOption,
    runner: PlanOption | None,
    served: list[PlanOption],
    by_name: dict[str, Candidate],
) -> tuple[PlanOption, PlanOption | None, list[PlanOption]]:
    """The pick and the runner-up, when they speculate, with the acceptance rate they
    need as a condition (:func:`inferplan.planner.acceptance.condition`); ``served`` with
    them replaced. Only those two: the bisection re-sizes the design a dozen times."""
    changed: dict[str, PlanOption] = {}
    for o in (best, runner):
        d = by_name[o.name].design if o is not None else None
        if o is None or d is None:
            continue
        text = acceptance_condition(scenario, d)
        if text is not None:
            changed[o.name] = o.model_copy(update={"conditions": [*o.conditions, text]})
    if not changed:
        return best, runner, served
    return (
        changed.get(best.name, best),
        changed.get(runner.name, runner) if runner is not None else None,
        [changed.get(o.name, o) for o in served],
    )


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
    today: dt.date | None = None,
    analyses: bool = True,
) -> PlanResult:
    """Search the scenario's option space and recommend one option (see module doc).

    ``analyses=False`` leaves out what only the report and the JSON show (the tornado,
    the Monte Carlo and the pick's latency-throughput curve); the recommendation, its
    ranking and every option are the same either way.

    ``today`` (default: the system date) is the date against which the figures behind
    the recommendation are checked for age (older than 12 months is flagged).

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
    if scenario.candidates.draft_model is not None:
        draft = models.get(scenario.candidates.draft_model, "candidates.draft_model")
        problems = [draft_problem(models.get(m), draft) for m in scenario.models]
        if all(problems):
            # no candidate model can use it: one line with each model's reason
            raise SpecError("candidates.draft_model", "; ".join(p for p in problems if p))
    prices, regions, providers = load_prices(), load_regions(), load_providers()
    tick("designs", 0.05)
    space = _accelerators(scenario)
    designs, rejected = find_designs(scenario, space, slo, efficiency_for, executor)
    tick("options", 0.35)

    def build(ds: list[Design]) -> tuple[list[Candidate], list[Rejection]]:
        cands, rej = build_candidates(scenario, ds, prices, providers, regions, space)
        return _unique_names(cands), rej

    def on_round(k: int) -> None:
        tick("simulating the cheapest designs" if k else "pricing", min(0.45 + 0.04 * k, 0.69))

    designs, cands, priced, rej2, _ = refine(
        scenario, designs, slo, build, lambda cs: price_candidates(scenario, cs), on_round
    )
    rejected += rej2
    if not cands:
        raise InfeasibleError(infeasible_message(scenario, designs, rejected))
    tick("hybrids", 0.7)
    priced, hyb_rej = add_hybrid(scenario, cands, priced)
    rejected += hyb_rej
    by_name = {c.option.name: c for c in cands}
    options = [_plan_option(by_name[r.name], r, scenario) for r in priced]
    served_names = {r.name for r in priced if counts_as_served(scenario, r)}
    for o in options:
        if o.meets_slo is False and o.name in served_names:
            served_names.discard(o.name)
            opt = by_name[o.name].option
            cat_id = (opt.catalog_id if isinstance(opt, ApiSpec | CloudSpec) else None) or o.name
            rejected.append(Rejection(f"api / {cat_id}", "slo", f"{o.name}: {o.latency_source}"))
    served = [o for o in options if o.name in served_names]
    for o in options:
        if o.name not in served_names and o.meets_slo is not False:
            rejected.append(
                Rejection(
                    o.name,
                    "capacity",
                    f"{o.name} leaves {o.unserved_share:.0%} of the requests unserved (rate "
                    "limits or lead time) and the scenario sets no price for unserved "
                    "demand (finance.unserved_usd_per_million_tokens)",
                )
            )
    if not served and not any(r.stage == "capacity" for r in rejected):
        raise InfeasibleError(infeasible_message(scenario, designs, rejected))
    if not served:
        raise InfeasibleError(
            "every allowed option leaves requests unserved: "
            + "; ".join(r.reason for r in rejected if r.stage == "capacity")[:600]
        )
    served.sort(key=lambda o: rank_key(o, slo))
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
    curve = latency_curve(scenario, curve_design) if curve_design and analyses else []
    tick("sensitivity", 0.85)
    sens, mc = (
        _sensitivity(
            scenario, [o.name for o in served[:MAX_SENSITIVITY_OPTIONS]], by_name, executor
        )
        if analyses
        else ([], None)
    )
    cash = {o.name: np.array(o.monthly_cash_flows_usd) for o in served}
    from inferplan.tco.cashflow import break_even_month

    breaks = {
        o.name: break_even_month(cash[best.name], cash[o.name])
        for o in served[1 : MAX_SENSITIVITY_OPTIONS * 3]
    }
    reasons, why_not = explain(best, runner, served, scenario)
    best, runner, served = _acceptance_conditions(scenario, best, runner, served, by_name)
    rec = Recommendation(
        option=best.name,
        kind=best.kind,
        provider=best.provider,
        region=best.region,
        hardware=best.hardware,
        count=best.peak_devices,
        servers=best.servers,
        gpus_per_server=best.gpus_per_server,
        replicas=best.replicas,
        spare_replicas=best.spare_replicas,
        commitment=best.commitment,
        base_kind=pick.base.option.kind if pick.base is not None else None,
        precision=best.precision,
        engine=best.engine,
        model=best.model,
        serving_technique=best.serving_technique,
        layout=best.layout,
        tco_nominal_usd=best.tco_nominal_usd,
        npv_usd=best.npv_usd,
        usd_per_million_tokens=best.usd_per_million_tokens,
        p95_ttft_ms=check.p_ttft_ms if check else None,
        p95_tpot_ms=check.p_tpot_ms if check else None,
        latency_check=check,
        latency_verified=best.latency_verified,
        latency_source=best.latency_source,
        conditions=best.conditions,
        reasons=reasons,
        stale_figures=_stale_behind(pick, prices, today or dt.date.today()),
    )
    rec = rec.model_copy(update={"headline": headline(rec, scenario)})
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


def _stale_behind(c: Candidate, prices: PriceCatalog, today: dt.date) -> list[dict[str, str]]:
    """Figures behind one option (its price rows, accelerator, model and engine profile)
    that are older than :data:`~inferplan.catalog.freshness.MAX_AGE_MONTHS` months."""
    from inferplan.catalog.freshness import stale_figures

    records: dict[str, Any] = {}
    for part in (c, c.base, c.burst, c.bridge):
        if part is None:
            continue
        cat_id = catalog_id_of(part.option)
        found = prices.find(cat_id) if cat_id else None
        if found is not None:
            records[f"price {found[1].id}"] = found[1]
        if part.design is not None:
            d = part.design.deployment
            records[f"accelerator {d.accelerator.id}"] = d.accelerator
            records[f"model {d.model.id}"] = d.model
            records[f"engine profile {d.engine.id}"] = d.engine
    label = {(r.id, r.as_of): k for k, r in records.items()}
    return [
        {
            "item": label[(f.id, f.as_of)],
            "as_of": f.as_of.isoformat(),
            "age_days": str(f.age_days),
            "source": f.source,
        }
        for f in stale_figures(records.values(), today)
    ]


def _sensitivity(
    scenario: ScenarioSpec,
    names: list[str],
    by_name: dict[str, Candidate],
    executor: Executor | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    opts = [by_name[n].option for n in names]
    extra = []
    for o in opts:
        if isinstance(o, HybridSpec):
            extra += [by_name[o.base].option, by_name[o.burst].option]
    keep = {o.name: o for o in [*extra, *opts]}
    s = scenario.model_copy(update={"options": list(keep.values())})
    analysis = analyse_tco(s, load_prices(), load_regions(), sensitivity=True, executor=executor)
    assert analysis.tornado is not None and analysis.monte_carlo is not None
    bars = analysis.tornado[:8]
    return [b.model_dump(mode="json") for b in bars], analysis.monte_carlo.model_dump(mode="json")


def _families(rejected: list[Rejection]) -> list[RejectedFamily]:
    """One line per rejected family and reason, rule rejections first."""
    out: dict[tuple[str, str], RejectedFamily] = {}
    for r in rejected:
        out.setdefault(
            (r.family, r.reason), RejectedFamily(family=r.family, stage=r.stage, reason=r.reason)
        )
    return list(out.values())


def _dataset_assumption(name: str) -> dict[str, str]:
    """The assumption line of a workload named by its dataset: which published statistics
    gave the lengths (mean, median, p90 or cap), what was used, and their source."""
    from inferplan.catalog.datasets import get_dataset
    from inferplan.perf.datasets import dataset_lengths

    spec = get_dataset(name, "workload.dataset")
    return {
        "item": f"workload lengths from dataset {spec.id}",
        "source": dataset_lengths(spec).describe(),
        "as_of": str(spec.as_of),
    }


def _assumptions(
    scenario: ScenarioSpec, cands: list[Candidate], prices: PriceCatalog
) -> list[dict[str, str]]:
    from inferplan.catalog import load_engines

    out: list[dict[str, str]] = []
    seen: set[str] = set()
    if scenario.workload.dataset:
        out.append(_dataset_assumption(scenario.workload.dataset))
    for c in cands:
        cat_id = catalog_id_of(c.option)
        if cat_id and cat_id not in seen:
            found = prices.find(cat_id)
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
    for c in cands:
        tech = c.design.technique if c.design is not None else None
        if tech is not None and tech.name not in seen:
            seen.add(tech.name)
            out.append(technique_assumption(tech, scenario))
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


__all__ = ["plan", "workload_lengths"]
