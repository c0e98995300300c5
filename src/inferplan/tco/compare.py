"""Price every option of a scenario on the same traffic and finance: ``compare_tco``.

Catalogs are arguments (the core reads no files): pass ``load_prices()`` (which
carries the finance defaults) and ``load_regions()`` from
:mod:`inferplan.catalog.prices`, or your own.

Lead time and shortfalls: an on-prem option whose ``bridge`` names a cloud or API
option sends every request it cannot serve (all of them before service starts,
and any hour above its capacity) to that option, whose costs are added under
``bridge.*``; the bridge bills only what it bridges (see
:mod:`inferplan.tco.rented`, overflow role). Without a bridge those requests are
unserved (``unserved_share``). With ``finance.unserved_usd_per_million_tokens``
set, their tokens are priced at that figure (category ``unserved``) and cost per
token counts all demanded tokens; without it the option is reported but not
ranked (``ranked: false``; never "cheapest"), and cost per token counts served
tokens only.
"""

from __future__ import annotations

import numpy as np

from inferplan.catalog.price_catalog import PriceCatalog, apply_price_overrides
from inferplan.catalog.records import Catalog
from inferplan.errors import SpecError
from inferplan.specs.economics import ApiSpec, CloudSpec, HybridSpec, OnPremSpec
from inferplan.specs.prices import RateRecord, RegionRecord
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.cashflow import FloatArray, break_even_month, discount_factors, npv
from inferplan.tco.context import EvalContext, Factors, Flows
from inferplan.tco.finance_view import (
    add_after_tax,
    add_baseline,
    add_currency,
    currency_rate,
    tax_rate,
)
from inferplan.tco.hybrid import evaluate_hybrid
from inferplan.tco.limits import check_finite, check_price_overrides
from inferplan.tco.onprem import evaluate_on_prem
from inferplan.tco.rented import evaluate_api, evaluate_cloud
from inferplan.tco.results import OptionResult, TcoComparison
from inferplan.tco.traffic import monthly_demand, requests_per_month


def build_context(
    scenario: ScenarioSpec,
    prices: PriceCatalog,
    regions: Catalog[RegionRecord],
    factors: Factors | None = None,
    finance_rates: Catalog[RateRecord] | None = None,
) -> EvalContext:
    """Apply the scenario's price overrides (within field limits) and check its region.

    ``finance_rates``: the finance defaults; None takes ``prices.finance`` (filled by
    :func:`inferplan.catalog.prices.load_prices`). Nothing is read here.
    """
    check_price_overrides(scenario.price_overrides, {r.id: r.unit for r in prices.rates})
    prices, regions = apply_price_overrides(prices, regions, scenario.price_overrides)
    regions.get(scenario.region, "region")
    return EvalContext(
        months=scenario.finance.horizon_months,
        finance=scenario.finance,
        traffic=scenario.workload,
        prices=prices,
        regions=regions,
        default_region=scenario.region,
        factors=factors or Factors(),
        finance_rates=finance_rates if finance_rates is not None else prices.finance,
    )


def _rented(
    spec: CloudSpec | ApiSpec, ctx: EvalContext, demand: np.ndarray, at: str, overflow: bool
) -> Flows:
    if isinstance(spec, ApiSpec):
        return evaluate_api(spec, ctx, demand, at)
    return evaluate_cloud(spec, ctx, demand, at, overflow=overflow)


UNSERVED_TOLERANCE = 1e-9
"""Unserved share below which an option counts as serving all the demand (float noise)."""


def price_unserved(flows: Flows, demand: np.ndarray, ctx: EvalContext) -> None:
    """Record the unserved share and, when the scenario prices it, its cost.

    Cost of month m = unserved requests x (input + output tokens) / 1e6 x
    ``finance.unserved_usd_per_million_tokens`` (today's value, not escalated),
    booked under ``unserved``. Unpriced shortfalls leave the option unranked.
    """
    demand_req = float(requests_per_month(demand).sum())
    over = flows.overflow_rps
    lost = requests_per_month(over) if over is not None else flows.zeros()
    unserved = float(lost.sum()) / demand_req if demand_req > 0 else 0.0
    flows.info["unserved_share"] = unserved
    price = ctx.finance.unserved_usd_per_million_tokens
    flows.info["unserved_priced"] = price is not None
    if unserved <= UNSERVED_TOLERANCE:
        return
    if price is not None:
        flows.add("unserved", lost * ctx.tokens_per_request / 1e6 * price)
        flows.warnings.append(
            f"{unserved:.1%} of requests are not served (lead time or capacity); priced at "
            f"{price:g} USD per 1M tokens (finance.unserved_usd_per_million_tokens)"
        )
    else:
        flows.warnings.append(
            f"{unserved:.1%} of requests are not served (lead time or capacity): not ranked; "
            "set a bridge option, more capacity, or finance.unserved_usd_per_million_tokens"
        )


def evaluate_options(
    scenario: ScenarioSpec,
    ctx: EvalContext,
    hybrid_base: dict[str, int] | None = None,
) -> dict[str, Flows]:
    """Flows of every option, by name. ``hybrid_base`` fixes hybrid base sizes."""
    demand = monthly_demand(scenario.workload, ctx.months, ctx.factors.traffic)
    index = {o.name: i for i, o in enumerate(scenario.options)}
    out: dict[str, Flows] = {}
    for i, opt in enumerate(scenario.options):
        at = f"options[{i}]"
        if isinstance(opt, OnPremSpec):
            flows = evaluate_on_prem(opt, ctx, demand, at)
            if opt.bridge is not None:
                bridge = scenario.options[index[opt.bridge]]
                assert isinstance(bridge, CloudSpec | ApiSpec) and flows.overflow_rps is not None
                b = _rented(bridge, ctx, flows.overflow_rps, f"options[{index[opt.bridge]}]", True)
                flows.merge(b, "bridge.")
                flows.overflow_rps = b.overflow_rps
                flows.info["bridge"] = opt.bridge
        elif isinstance(opt, CloudSpec | ApiSpec):
            flows = _rented(opt, ctx, demand, at, False)
        else:
            assert isinstance(opt, HybridSpec)
            base = scenario.options[index[opt.base]]
            burst = scenario.options[index[opt.burst]]
            assert isinstance(base, OnPremSpec | CloudSpec)
            assert isinstance(burst, CloudSpec | ApiSpec)
            ats = (f"options[{index[opt.base]}]", f"options[{index[opt.burst]}]")
            fixed = (hybrid_base or {}).get(opt.name)
            flows = evaluate_hybrid(opt, base, burst, ctx, demand, ats, fixed)
        price_unserved(flows, demand, ctx)
        out[opt.name] = flows
    return out


def _per_million(value: float | None, tokens: float) -> float | None:
    if value is None or tokens <= 0:
        return None
    return value / tokens * 1e6


def summarise(name: str, kind: str, flows: Flows, ctx: EvalContext) -> OptionResult:
    """Turn evaluated flows into an :class:`OptionResult` (break-evens filled later)."""
    rate = ctx.finance.discount_rate * ctx.factors.discount_rate
    total = flows.total
    req = flows.served_requests if flows.served_requests is not None else flows.zeros()
    tokens = float(req.sum()) * ctx.tokens_per_request
    unserved_share = float(flows.info.get("unserved_share", 0.0))
    priced = bool(flows.info.get("unserved_priced", False))
    # per-token costs: over served tokens, or over all demanded tokens when the
    # shortfall is priced (its cost is then part of the total)
    per_req = req
    if priced and flows.overflow_rps is not None:
        per_req = req + requests_per_month(flows.overflow_rps)
    per_tokens = float(per_req.sum()) * ctx.tokens_per_request
    out_tokens = float(per_req.sum()) * ctx.out_tokens
    disc_tokens = float(
        np.dot(per_req * ctx.tokens_per_request, discount_factors(ctx.months, rate))
    )
    nominal = float(total.sum())
    present = npv(total, rate)
    energy = float(flows.energy_kwh.sum()) if flows.energy_kwh is not None else None
    co2 = float(flows.co2_kg.sum()) if flows.co2_kg is not None else None
    details = {
        k: v for k, v in flows.info.items() if k not in ("unserved_share", "unserved_priced")
    }
    unserved_cost = flows.categories.get("unserved")
    return OptionResult(
        name=name,
        kind=kind,
        tco_nominal_usd=nominal,
        npv_usd=present,
        usd_per_million_tokens=_per_million(nominal, per_tokens),
        usd_per_million_output_tokens=_per_million(nominal, out_tokens),
        levelised_usd_per_million_tokens=_per_million(present, disc_tokens),
        monthly_cash_flows_usd=[float(x) for x in total],
        breakdown_usd={
            k: float(v.sum()) for k, v in sorted(flows.categories.items()) if np.any(v != 0)
        },
        requests_served=float(req.sum()),
        tokens_served=tokens,
        unserved_share=unserved_share,
        served_share=1.0 - unserved_share,
        unserved_cost_usd=float(unserved_cost.sum()) if unserved_cost is not None else 0.0,
        ranked=unserved_share <= UNSERVED_TOLERANCE or priced,
        energy_kwh=energy,
        kwh_per_million_tokens=_per_million(energy, tokens),
        co2_kg=co2,
        kg_co2_per_million_tokens=_per_million(co2, tokens),
        details=details,
        warnings=list(dict.fromkeys(flows.warnings)),
    )


def _cheapest(results: list[OptionResult], key: str) -> str | None:
    """Cheapest ranked option (one that serves all demand, or prices its shortfall)."""
    ranked = [r for r in results if r.ranked]
    return min(ranked, key=lambda r: float(getattr(r, key))).name if ranked else None


def compare_tco(
    scenario: ScenarioSpec,
    prices: PriceCatalog,
    regions: Catalog[RegionRecord],
    factors: Factors | None = None,
    hybrid_base: dict[str, int] | None = None,
    break_evens: bool = True,
) -> TcoComparison:
    """Monthly cash flows, NPV, $/token, breakdown and break-evens of every option.

    ``break_evens=False`` leaves the pairwise break-even months out (a Monte Carlo
    draw reads only NPV and TCO).

    >>> from inferplan.catalog.prices import load_prices, load_regions
    >>> from inferplan.scenario_io import parse_scenario
    >>> s = parse_scenario({"name": "x", "finance": {"horizon_years": 1, "discount_rate": 0},
    ...     "workload": {"requests_per_day": 1e6, "input_tokens_mean": 1000,
    ...                  "output_tokens_mean": 1000, "profile": "flat"},
    ...     "options": [{"kind": "api", "name": "api", "input_usd_per_million": 1,
    ...                  "output_usd_per_million": 1}]})
    >>> round(compare_tco(s, load_prices(), load_regions()).options[0].usd_per_million_tokens, 6)
    1.0
    """
    if not scenario.options:
        raise SpecError(
            "options",
            "tco needs deployment options (on_prem, colocation, cloud, api, hybrid); "
            "this scenario lists only models: use `inferplan plan`, or add options",
        )
    ctx = build_context(scenario, prices, regions, factors)
    flows = evaluate_options(scenario, ctx, hybrid_base)
    results = [summarise(o.name, o.kind, flows[o.name], ctx) for o in scenario.options]
    t_rate = tax_rate(scenario.finance, ctx)
    after: dict[str, FloatArray] = {}
    for i, r in enumerate(results):
        check_finite(
            {"tco_nominal_usd": r.tco_nominal_usd, "npv_usd": r.npv_usd, **r.breakdown_usd},
            f"options[{i}]",
        )
        if t_rate is not None:
            after[r.name] = add_after_tax(r, flows[r.name], ctx, t_rate)
    usd_per_unit, fx_source, fx_as_of = currency_rate(scenario.finance, ctx)
    rate = ctx.finance.discount_rate * ctx.factors.discount_rate
    totals = {n: f.total for n, f in flows.items()}
    for r in results if break_evens else []:
        for other in results:
            if other.name != r.name:
                a, b = totals[r.name], totals[other.name]
                r.break_even_month[other.name] = break_even_month(a, b)
                r.break_even_month_discounted[other.name] = break_even_month(a, b, rate)
    if scenario.finance.baseline is not None:
        add_baseline(results, totals, after, scenario.finance.baseline, rate)
    add_currency(results, usd_per_unit)
    return TcoComparison(
        scenario=scenario.name,
        horizon_months=ctx.months,
        discount_rate=rate,
        options=results,
        cheapest_by_npv=_cheapest(results, "npv_usd"),
        cheapest_by_nominal=_cheapest(results, "tco_nominal_usd"),
        cheapest_by_after_tax_npv=_cheapest(results, "after_tax_npv_usd") if after else None,
        tax_rate=t_rate,
        baseline=scenario.finance.baseline,
        currency=scenario.finance.currency,
        usd_per_currency_unit=usd_per_unit,
        fx_source=fx_source,
        fx_as_of=fx_as_of,
    )


__all__ = [
    "UNSERVED_TOLERANCE",
    "build_context",
    "compare_tco",
    "evaluate_options",
    "price_unserved",
    "summarise",
]
