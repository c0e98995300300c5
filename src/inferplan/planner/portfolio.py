"""Portfolio planning: many scenarios at once, and what their fleets have in common.

:func:`plan_portfolio` plans every scenario (one executor task per scenario, since
each takes seconds; inside a task the scenario is planned in-process) and
:func:`summarise_portfolio` answers the platform team's questions:

* total spend: the sum of every recommendation's nominal TCO and NPV (each NPV at
  its own scenario's discount rate; mixed horizons or rates are flagged);
* shared hardware pool: per accelerator and ownership (owned: on-prem and
  colocation; rented: cloud; hybrid), the devices each scenario needs at its own
  peak, their sum, and the coincident peak when the fleets are pooled;
* which scenarios could share a fleet: for each place where some scenario's pick
  runs (kind, operator, region or site country, accelerator), the scenarios whose
  own allowed options include that place at an NPV premium of at most
  ``share_tolerance`` (default 5 %) over their own pick. Every such option passed
  that scenario's sovereignty rules, so sharing breaks no data rule.

Coincident peak: for each of the 168 hours of a week, devices(h) = ceil(requests/s(h)
x growth to the last year x output tokens per request x intra-hour peak factor /
(replica output tokens/s x target utilisation)) x devices per replica (the sizing
rule of :func:`inferplan.tco.traffic.replicas_needed`); the pooled fleet needs
max_h of the sum over scenarios, separate fleets the sum over scenarios of max_h.
All weekly profiles are read on one common clock, as written in each scenario.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from inferplan.errors import InferplanError, SpecError
from inferplan.executor import Executor, InProcessExecutor, shippable
from inferplan.planner.designs import EfficiencyHook
from inferplan.planner.search import plan
from inferplan.results.plan import PlanOption, PlanResult, Recommendation
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.traffic import hourly_request_rates, replicas_needed

SHARE_TOLERANCE = 0.05
"""Largest NPV premium (share of a scenario's own best NPV) still counted as "could
share"; a planning choice, not a measured constant."""
OWNERSHIP = {"on_prem": "owned", "colocation": "owned", "cloud": "rented", "hybrid": "hybrid"}
SCENARIO_SUFFIXES = (".yaml", ".yml")


class ScenarioOutcome(BaseModel):
    """One scenario of the portfolio: its pick, or why it has none."""

    key: str = Field(description="unique name used for this scenario's output files")
    name: str
    source: str
    recommendation: Recommendation | None = None
    horizon_months: int | None = None
    discount_rate: float | None = None
    error: str | None = None


class HardwarePool(BaseModel):
    """Devices of one accelerator and ownership across the portfolio's picks."""

    hardware: str
    ownership: str
    scenarios: list[str]
    devices_at_own_peaks: int
    devices_at_coincident_peak: int


class FleetShare(BaseModel):
    """A place several scenarios could run on, with each one's NPV premium in USD."""

    kind: str
    provider: str
    location: str | None
    hardware: str
    scenarios: list[str]
    premium_usd: dict[str, float]
    devices_separate: int
    devices_pooled: int


class PortfolioSummary(BaseModel):
    """Total spend, shared hardware pool and fleets that could be shared."""

    scenarios: list[ScenarioOutcome]
    planned: int
    failed: int
    total_tco_nominal_usd: float
    total_npv_usd: float
    hardware_pool: list[HardwarePool]
    fleets: list[FleetShare]
    share_tolerance: float
    notes: list[str] = Field(default_factory=list)


class PortfolioResult(BaseModel):
    """Every scenario's plan and input (by key) and the summary."""

    plans: dict[str, PlanResult]
    summary: PortfolioSummary
    scenarios: dict[str, ScenarioSpec] = Field(default_factory=dict, exclude=True)


def load_portfolio(paths: list[Path]) -> list[tuple[str, ScenarioSpec]]:
    """(source, scenario) for every file given, or every ``*.yaml``/``*.yml`` in a folder.

    Folders are read in name order, not recursively. A bad file raises
    :class:`SpecError` naming the file and the field.
    """
    from inferplan.scenario_io import load_scenario

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in SCENARIO_SUFFIXES)
            if not found:
                raise SpecError("scenario", f"{p} holds no .yaml or .yml scenario files")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise SpecError("scenario", f"file or folder not found: {p}")
    out = []
    for f in files:
        try:
            out.append((str(f), load_scenario(f)))
        except SpecError as exc:
            raise SpecError(exc.field, f"{f}: {exc.message}") from None
    return out


def _plan_one(
    efficiency_for: EfficiencyHook | None, scenario: ScenarioSpec
) -> tuple[PlanResult | None, str | None]:
    """Plan one scenario in this process; an inferplan error becomes a message."""
    try:
        return plan(scenario, efficiency_for=efficiency_for), None
    except InferplanError as exc:
        return None, str(exc)


def _unique_keys(items: list[tuple[str, ScenarioSpec]]) -> list[str]:
    keys: list[str] = []
    for source, s in items:
        base = Path(source).stem if source else s.name
        key, n = base, 1
        while key in keys:
            n += 1
            key = f"{base}-{n}"
        keys.append(key)
    return keys


def plan_portfolio(
    items: list[tuple[str, ScenarioSpec]],
    executor: Executor | None = None,
    efficiency_for: EfficiencyHook | None = None,
    share_tolerance: float = SHARE_TOLERANCE,
) -> PortfolioResult:
    """Plan every (source, scenario) on ``executor`` (one task per scenario) and summarise.

    A scenario that fails (infeasible, unknown id) is reported, not raised.
    """
    if not items:
        raise SpecError("scenario", "the portfolio holds no scenarios")
    ex: Executor = executor or InProcessExecutor()
    if efficiency_for is not None and not shippable(ex, efficiency_for):
        ex = InProcessExecutor()  # the hook cannot reach the workers: plan here
    results = ex.map(partial(_plan_one, efficiency_for), [s for _, s in items], chunk_size=1)
    keys = _unique_keys(items)
    plans = {k: r for k, (r, _) in zip(keys, results, strict=True) if r is not None}
    outcomes = [
        ScenarioOutcome(
            key=k,
            name=s.name,
            source=src,
            recommendation=r.recommendation if r else None,
            horizon_months=r.horizon_months if r else None,
            discount_rate=r.discount_rate if r else None,
            error=err,
        )
        for k, (src, s), (r, err) in zip(keys, items, results, strict=True)
    ]
    scenarios = dict(zip(keys, [s for _, s in items], strict=True))
    return PortfolioResult(
        plans=plans,
        summary=summarise_portfolio(outcomes, plans, scenarios, share_tolerance),
        scenarios=scenarios,
    )


def hourly_devices(scenario: ScenarioSpec, option: PlanOption) -> np.ndarray:
    """Devices the option needs in each of the 168 hours of a week in the last year."""
    cap = option.replica_output_tokens_per_s
    per_replica = option.devices_per_replica
    if not cap or not per_replica:
        return np.zeros(168)
    w = scenario.workload
    growth = (1 + w.growth_per_year) ** (scenario.finance.horizon_years - 1)
    tokens = hourly_request_rates(w) * growth * w.output_tokens_mean * w.peak_to_mean_within_hour
    reps = replicas_needed(tokens, cap, scenario.candidates.target_utilisation)
    return np.asarray(reps, dtype=float) * per_replica


def _place(o: PlanOption) -> tuple[str, str, str | None, str]:
    return (o.kind, o.provider, o.region or o.country, o.hardware or "")


def _picked(p: PlanResult) -> PlanOption:
    return next(o for o in p.options if o.name == p.recommendation.option)


def _pools(plans: dict[str, PlanResult], scenarios: dict[str, ScenarioSpec]) -> list[HardwarePool]:
    groups: dict[tuple[str, str], list[str]] = {}
    for key, p in plans.items():
        o = _picked(p)
        if o.hardware and o.kind in OWNERSHIP:
            groups.setdefault((o.hardware, OWNERSHIP[o.kind]), []).append(key)
    out = []
    for (hw, own), keys in sorted(groups.items()):
        curves = [hourly_devices(scenarios[k], _picked(plans[k])) for k in keys]
        out.append(
            HardwarePool(
                hardware=hw,
                ownership=own,
                scenarios=keys,
                devices_at_own_peaks=int(sum(c.max() for c in curves)),
                devices_at_coincident_peak=int(np.sum(curves, axis=0).max()),
            )
        )
    return out


def _fleets(
    plans: dict[str, PlanResult], scenarios: dict[str, ScenarioSpec], tolerance: float
) -> list[FleetShare]:
    best: dict[str, dict[tuple[str, str, str | None, str], PlanOption]] = {}
    for key, p in plans.items():
        mine: dict[tuple[str, str, str | None, str], PlanOption] = {}
        for o in p.options:  # sorted by NPV: the first at each place is its cheapest
            if o.hardware and o.kind in OWNERSHIP:
                mine.setdefault(_place(o), o)
        best[key] = mine
    places = sorted(
        {_place(_picked(p)) for p in plans.values() if _picked(p).hardware},
        key=lambda t: tuple(str(x) for x in t),
    )
    out = []
    for place in places:
        members: dict[str, float] = {}
        for key, p in plans.items():
            there = best[key].get(place)
            own = p.recommendation.npv_usd
            if there is not None and there.npv_usd - own <= tolerance * abs(own):
                members[key] = there.npv_usd - own
        if len(members) < 2:
            continue
        curves = [hourly_devices(scenarios[k], best[k][place]) for k in members]
        out.append(
            FleetShare(
                kind=place[0],
                provider=place[1],
                location=place[2],
                hardware=place[3],
                scenarios=list(members),
                premium_usd=members,
                devices_separate=int(sum(c.max() for c in curves)),
                devices_pooled=int(np.sum(curves, axis=0).max()),
            )
        )
    out.sort(key=lambda f: (-len(f.scenarios), f.devices_pooled - f.devices_separate))
    return out


def summarise_portfolio(
    outcomes: list[ScenarioOutcome],
    plans: dict[str, PlanResult],
    scenarios: dict[str, ScenarioSpec],
    share_tolerance: float = SHARE_TOLERANCE,
) -> PortfolioSummary:
    """Total spend, hardware pool and shareable fleets of the planned scenarios."""
    notes: list[str] = []
    horizons = {p.horizon_months for p in plans.values()}
    rates = {p.discount_rate for p in plans.values()}
    if len(horizons) > 1:
        notes.append(
            f"horizons differ ({', '.join(str(h) for h in sorted(horizons))} months): "
            "total spend adds different periods"
        )
    if len(rates) > 1:
        notes.append("discount rates differ: the total NPV adds NPVs at different rates")
    failed = [o for o in outcomes if o.error]
    notes += [f"{o.key}: not planned: {o.error}" for o in failed]
    return PortfolioSummary(
        scenarios=outcomes,
        planned=len(plans),
        failed=len(failed),
        total_tco_nominal_usd=float(sum(p.recommendation.tco_nominal_usd for p in plans.values())),
        total_npv_usd=float(sum(p.recommendation.npv_usd for p in plans.values())),
        hardware_pool=_pools(plans, scenarios),
        fleets=_fleets(plans, scenarios, share_tolerance),
        share_tolerance=share_tolerance,
        notes=notes,
    )


def portfolio_markdown(summary: PortfolioSummary) -> str:
    """The summary as a Markdown page (money in USD, rounded to whole dollars)."""
    lines = [
        "# Portfolio summary",
        "",
        f"{summary.planned} scenarios planned, {summary.failed} failed. Total spend of the "
        f"recommendations: TCO ${summary.total_tco_nominal_usd:,.0f} nominal, "
        f"NPV ${summary.total_npv_usd:,.0f}.",
        "",
        "| scenario | recommendation | kind | hardware | peak devices | NPV (USD) |",
        "|---|---|---|---|---|---|",
    ]
    for o in summary.scenarios:
        r = o.recommendation
        if r is None:
            lines.append(f"| {o.key} | not planned: {o.error} | | | | |")
            continue
        lines.append(
            f"| {o.key} | {r.option} | {r.kind} | {r.hardware or '-'} | {r.count or '-'} "
            f"| {r.npv_usd:,.0f} |"
        )
    lines += ["", "## Shared hardware pool", ""]
    lines += ["| hardware | ownership | scenarios | devices at own peaks | coincident peak |"]
    lines += ["|---|---|---|---|---|"]
    for h in summary.hardware_pool:
        lines.append(
            f"| {h.hardware} | {h.ownership} | {', '.join(h.scenarios)} "
            f"| {h.devices_at_own_peaks} | {h.devices_at_coincident_peak} |"
        )
    lines += ["", f"## Fleets that could be shared (premium <= {summary.share_tolerance:.0%})", ""]
    if not summary.fleets:
        lines.append("None: no two scenarios can use the same place and accelerator.")
    for f in summary.fleets:
        prem = ", ".join(f"{k} +${v:,.0f}" for k, v in f.premium_usd.items())
        lines.append(
            f"- {f.kind} {f.provider} {f.location or ''} {f.hardware}: {prem}; "
            f"{f.devices_separate} devices as separate fleets, {f.devices_pooled} pooled"
        )
    lines += ["", *[f"- note: {n}" for n in summary.notes]]
    return "\n".join(lines).rstrip() + "\n"


def write_portfolio(
    result: PortfolioResult,
    out_dir: Path,
    extra: Callable[[str, PlanResult, ScenarioSpec], None] | None = None,
) -> list[Path]:
    """Write ``<key>.json`` per plan, ``portfolio.json`` and ``portfolio.md``.

    ``extra(key, plan, scenario)`` may write more files per scenario (an HTML report).
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError("out", f"cannot create {out_dir} ({exc.strerror})") from None
    written = []
    for key, p in result.plans.items():
        path = out_dir / f"{key}.json"
        path.write_text(p.model_dump_json(indent=2) + "\n", encoding="utf-8")
        written.append(path)
        if extra is not None:
            extra(key, p, result.scenarios[key])
    summary = out_dir / "portfolio.json"
    summary.write_text(
        json.dumps(result.summary.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    page = out_dir / "portfolio.md"
    page.write_text(portfolio_markdown(result.summary), encoding="utf-8")
    return [*written, summary, page]
