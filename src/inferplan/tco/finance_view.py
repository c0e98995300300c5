"""What a finance team reads next to the TCO: after-tax figures, IRR and payback
against a baseline option, and results in EUR, GBP or CHF.

* After tax (``finance.tax``): :func:`inferplan.tco.tax.after_tax` per option;
  after-tax NPV discounts those flows at the same rate as the pre-tax NPV.
* Against ``finance.baseline``: savings_m = baseline CF_m - option CF_m (an
  investment first, savings later); IRR = the effective annual rate at which their
  NPV is zero (:func:`inferplan.tco.cashflow.irr`); payback month = the break-even
  month of the option against the baseline (cumulative cost at or below the
  baseline's from then to the end), nominal and discounted.
* Currency: USD figures / USD per currency unit, the dated ``fx-*`` row of the
  finance catalog (or ``finance.usd_per_currency_unit``). Prices stay in USD.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inferplan.specs.scenario import FinanceSpec
from inferplan.tco.cashflow import FloatArray, break_even_month, irr, npv
from inferplan.tco.context import EvalContext, Flows
from inferplan.tco.results import OptionResult
from inferplan.tco.tax import after_tax


def tax_rate(finance: FinanceSpec, ctx: EvalContext) -> float | None:
    """The corporate tax rate of ``finance.tax`` (given, or the country's catalog row)."""
    tax = finance.tax
    if tax is None:
        return None
    if tax.rate is not None:
        return tax.rate
    assert tax.country is not None
    return ctx.finance_rate(f"tax-{tax.country.lower()}", "finance.tax.country")


def currency_rate(finance: FinanceSpec, ctx: EvalContext) -> tuple[float, str, str | None]:
    """(USD per unit of ``finance.currency``, source, as_of)."""
    if finance.currency == "USD":
        return 1.0, "USD", None
    if finance.usd_per_currency_unit is not None:
        return finance.usd_per_currency_unit, "finance.usd_per_currency_unit", None
    rid = f"fx-{finance.currency.lower()}"
    value = ctx.finance_rate(rid, "finance.currency")
    rec = ctx.finance_rates.get(rid)
    usd = 1.0 / value if rec.unit.endswith("_per_usd") else value
    return usd, f"finance:{rid} ({rec.source})", rec.as_of.isoformat()


def add_after_tax(result: OptionResult, flows: Flows, ctx: EvalContext, rate: float) -> FloatArray:
    """Fill the after-tax fields of ``result``; returns the after-tax flows."""
    assert ctx.finance.tax is not None
    disc = ctx.finance.discount_rate * ctx.factors.discount_rate
    at = after_tax(flows.categories, flows.assets, ctx.finance.tax, rate, ctx.months)
    result.after_tax_monthly_cash_flows_usd = [float(x) for x in at.flows]
    result.after_tax_tco_nominal_usd = float(at.flows.sum())
    result.after_tax_npv_usd = npv(at.flows, disc)
    result.tax_shield_usd = float(at.tax_shield.sum())
    result.depreciation_usd = float(at.depreciation.sum())
    result.tax_on_sales_usd = float(at.tax_on_sales.sum())
    return at.flows


def add_baseline(
    results: list[OptionResult],
    totals: dict[str, FloatArray],
    after: dict[str, FloatArray],
    baseline: str,
    rate: float,
) -> None:
    """IRR and payback month of every option against ``baseline``."""
    base = totals[baseline]
    for r in results:
        if r.name == baseline:
            continue
        own = totals[r.name]
        r.irr_vs_baseline = irr(base - own)
        r.payback_month_vs_baseline = break_even_month(own, base)
        r.discounted_payback_month_vs_baseline = break_even_month(own, base, rate)
        if after:
            r.after_tax_irr_vs_baseline = irr(after[baseline] - after[r.name])


def add_currency(results: list[OptionResult], usd_per_unit: float) -> None:
    """Headline figures of every option in the reporting currency."""
    for r in results:
        vals: dict[str, Any] = {
            "tco_nominal": r.tco_nominal_usd,
            "npv": r.npv_usd,
            "usd_per_million_tokens": r.usd_per_million_tokens,
            "after_tax_npv": r.after_tax_npv_usd,
        }
        r.in_currency = {
            k: (None if v is None else float(np.float64(v) / usd_per_unit)) for k, v in vals.items()
        }


__all__ = ["add_after_tax", "add_baseline", "add_currency", "currency_rate", "tax_rate"]
