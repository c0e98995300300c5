"""Total cost of ownership: on-prem, colocation, cloud, API and hybrid, priced honestly.

Pure functions of specs and catalogs (no I/O). Conventions (cash-flow timing,
signs, discounting, escalation) are in :mod:`inferplan.tco.cashflow`; the sizing
rule replicas(hour) = ceil(peak tok/s / (throughput x target utilisation)) is
:func:`replicas_needed`.
"""

from __future__ import annotations

from inferplan.tco.cashflow import (
    annuity_payment,
    break_even_month,
    discount_factors,
    escalation_index,
    npv,
)
from inferplan.tco.compare import build_context, compare_tco, evaluate_options
from inferplan.tco.context import EvalContext, Factors, Flows
from inferplan.tco.results import (
    MonteCarloResult,
    OptionDistribution,
    OptionResult,
    TcoComparison,
    TornadoBar,
)
from inferplan.tco.sensitivity import factor_ranges, monte_carlo, tornado
from inferplan.tco.traffic import (
    hourly_request_rates,
    monthly_demand,
    replicas_needed,
    units_for_replicas,
    weekly_weights,
)

__all__ = [
    "EvalContext",
    "Factors",
    "Flows",
    "MonteCarloResult",
    "OptionDistribution",
    "OptionResult",
    "TcoComparison",
    "TornadoBar",
    "annuity_payment",
    "break_even_month",
    "build_context",
    "compare_tco",
    "discount_factors",
    "escalation_index",
    "evaluate_options",
    "factor_ranges",
    "hourly_request_rates",
    "monte_carlo",
    "monthly_demand",
    "npv",
    "replicas_needed",
    "tornado",
    "units_for_replicas",
    "weekly_weights",
]
