"""Commitment pricing: reserved-term prepayment, savings plans, API volume tiers and
provisioned throughput. Pure functions on arrays; conventions in
:mod:`inferplan.tco.cashflow` (index 0 = order date, index m = end of month m).

* Reserved prepayment: a term covering months a..b whose bills sum to B pays
  share x B at index a - 1 (the term's start) and (1 - share) x each month's bill
  monthly. Nominal cost is unchanged; the money leaves earlier.
* Savings plan (AWS Savings Plans, Google committed-use discounts): with a
  commitment C USD per hour at discount d, an hour whose node-hours are worth U at
  on-demand prices costs C + max(0, U (1 - d) - C) / (1 - d): the commitment is
  always paid, covers usage at the plan rate, and usage beyond it pays on demand.
* Volume tiers: the tokens of a month above each threshold get that tier's discount
  (marginal, like tax brackets): cost = list price x sum over tiers of tokens in
  the tier x (1 - discount).
* Provisioned throughput: a fixed fee per unit-month for a token rate; the share of
  each hour's requests above the provisioned rate is billed per token.
"""

from __future__ import annotations

import numpy as np

from inferplan.specs.economics import ApiTierSpec
from inferplan.tco.cashflow import FloatArray


def prepay_terms(
    monthly: FloatArray, first: int, term: int, blocks: int, share: float
) -> tuple[FloatArray, FloatArray]:
    """Split ``monthly`` bills of ``blocks`` whole terms of ``term`` months starting at
    month ``first`` into (upfront payments at each term's start, remaining monthly)."""
    upfront = np.zeros_like(monthly)
    rest = monthly.copy()
    for k in range(blocks):
        a = first + k * term
        rows = slice(a, a + term)
        upfront[a - 1] += share * float(monthly[rows].sum())
        rest[rows] = monthly[rows] * (1.0 - share)
    return upfront, rest


def savings_plan_hour_cost(
    on_demand_value: FloatArray, commitment: float, discount: float
) -> FloatArray:
    """USD an hour costs under a savings plan; see the module docstring."""
    at_plan = on_demand_value * (1.0 - discount)
    return commitment + np.maximum(0.0, at_plan - commitment) / (1.0 - discount)


def tier_multiplier(million_tokens: FloatArray, tiers: list[ApiTierSpec]) -> FloatArray:
    """Average share of the list price paid for a month of ``million_tokens``.

    >>> from inferplan.specs.economics import ApiTierSpec
    >>> t = [ApiTierSpec(above_million_tokens_per_month=100, discount=0.5)]
    >>> tier_multiplier(np.array([200.0]), t).tolist()
    [0.75]
    """
    x = np.asarray(million_tokens, dtype=float)
    if not tiers:
        return np.ones_like(x)
    edges = [0.0, *(t.above_million_tokens_per_month for t in tiers)]
    pays = [1.0, *(1.0 - t.discount for t in tiers)]
    paid = np.zeros_like(x)
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else np.inf
        paid += np.clip(x - lo, 0.0, hi - lo) * pays[i]
    return np.divide(paid, x, out=np.ones_like(x), where=x > 0)


__all__ = ["prepay_terms", "savings_plan_hour_cost", "tier_multiplier"]
