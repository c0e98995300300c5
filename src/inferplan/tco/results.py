"""Typed, JSON-serialisable results of the TCO comparison and its sensitivity runs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

CONVENTIONS = (
    "USD. monthly_cash_flows_usd[0] is the order date (t=0), [m] the end of month m "
    "(month 1 = first month). Costs positive, resale value negative. "
    "tco_nominal_usd = sum of flows. npv_usd = sum CF_m / (1 + r)^(m/12), r the "
    "effective annual discount rate. Escalation steps once a year. "
    "usd_per_million_tokens = nominal TCO / (input + output tokens served) x 1e6; "
    "levelised_usd_per_million_tokens = NPV of costs / discounted tokens x 1e6. "
    "break_even_month[X] = first month from which this option's cumulative cost stays "
    "at or below X's to the end of the horizon (null: never). Energy is facility kWh "
    "(IT x PUE); CO2 = kWh x annual-average grid intensity. "
    "After tax (when finance.tax is set): CF - tax rate x (opex + depreciation) + tax "
    "rate x (sale proceeds - tax basis); after_tax_npv_usd discounts those flows. "
    "irr_vs_baseline: effective annual rate at which the savings against the baseline "
    "(baseline CF - option CF) have zero NPV (null: no single rate); "
    "payback_month_vs_baseline = break-even month against the baseline. in_currency: "
    "headline figures / usd_per_currency_unit. "
    "Unserved demand is priced at finance.unserved_usd_per_million_tokens (category "
    "'unserved') when set; otherwise an option with unserved demand has ranked=false and "
    "is never the cheapest."
)


class OptionResult(BaseModel):
    """One deployment option over the horizon."""

    name: str
    kind: str
    tco_nominal_usd: float
    npv_usd: float
    usd_per_million_tokens: float | None
    usd_per_million_output_tokens: float | None
    levelised_usd_per_million_tokens: float | None
    monthly_cash_flows_usd: list[float]
    breakdown_usd: dict[str, float]
    break_even_month: dict[str, int | None] = Field(default_factory=dict)
    break_even_month_discounted: dict[str, int | None] = Field(default_factory=dict)
    requests_served: float
    tokens_served: float
    unserved_share: float
    served_share: float = 1.0
    unserved_cost_usd: float = 0.0
    ranked: bool = True
    energy_kwh: float | None
    kwh_per_million_tokens: float | None
    co2_kg: float | None
    kg_co2_per_million_tokens: float | None
    after_tax_npv_usd: float | None = None
    after_tax_tco_nominal_usd: float | None = None
    tax_shield_usd: float | None = None
    depreciation_usd: float | None = None
    tax_on_sales_usd: float | None = None
    after_tax_monthly_cash_flows_usd: list[float] | None = None
    irr_vs_baseline: float | None = None
    after_tax_irr_vs_baseline: float | None = None
    payback_month_vs_baseline: int | None = None
    discounted_payback_month_vs_baseline: int | None = None
    in_currency: dict[str, float | None] | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class TcoComparison(BaseModel):
    """Every option of a scenario, priced on the same traffic and finance."""

    scenario: str
    horizon_months: int
    discount_rate: float
    conventions: str = CONVENTIONS
    options: list[OptionResult]
    cheapest_by_npv: str | None
    cheapest_by_nominal: str | None
    cheapest_by_after_tax_npv: str | None = None
    tax_rate: float | None = None
    baseline: str | None = None
    currency: str = "USD"
    usd_per_currency_unit: float = 1.0
    fx_source: str = "USD"
    fx_as_of: str | None = None

    def option(self, name: str) -> OptionResult:
        """The result of the option called ``name``."""
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)


class TornadoBar(BaseModel):
    """NPV of every option with one factor at its low and at its high value."""

    factor: str
    low: float
    high: float
    range_source: str
    npv_low_usd: dict[str, float]
    npv_high_usd: dict[str, float]
    swing_usd: float
    cheapest_low: str | None
    cheapest_high: str | None


class OptionDistribution(BaseModel):
    """Monte Carlo percentiles of one option's TCO, USD."""

    npv_p10_usd: float
    npv_p50_usd: float
    npv_p90_usd: float
    nominal_p10_usd: float
    nominal_p50_usd: float
    nominal_p90_usd: float
    probability_cheapest: float


class MonteCarloResult(BaseModel):
    """Seeded Monte Carlo over the factor ranges (triangular, mode 1.0, Gaussian copula
    for correlated factors)."""

    draws: int
    seed: int
    ranges: dict[str, tuple[float, float]]
    range_sources: dict[str, str] = Field(default_factory=dict)
    correlations: list[dict[str, Any]] = Field(default_factory=list)
    options: dict[str, OptionDistribution]


__all__ = [
    "CONVENTIONS",
    "MonteCarloResult",
    "OptionDistribution",
    "OptionResult",
    "TcoComparison",
    "TornadoBar",
]
