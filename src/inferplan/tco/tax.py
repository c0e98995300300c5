"""After-tax cash flows: depreciation schedules, the tax shield and tax on sales.

Model (a company with taxable profits elsewhere, so every deduction saves tax at
the rate t in the month it is made -- the usual project-appraisal convention,
Brealey, Myers & Allen, Principles of Corporate Finance, ch. 6):

* operating costs (everything but capital purchases and sale proceeds: power,
  staff, support, rent, cloud, API, lease payments, loan interest, ...) are
  deducted when paid: saving t x cost;
* capital purchases (:class:`Asset`: hardware with installation, a facility
  build) are deducted through depreciation from the month they enter service;
  tax year k of an asset covers its months 12k .. 12k + 11 after entering
  service, each month one twelfth of that year's allowance;
* at a sale, tax is due on proceeds - remaining tax basis (a loss saves tax).

After-tax CF_m = CF_m - t x (deductible opex_m + depreciation_m) + t x gain_m.
Loan principal and purchase prices are cash, not deductions.

Schedules (share of the cost per tax year):

* straight line: 1 / years each year;
* declining balance: factor / years of the remaining basis, switching to straight
  line over the remaining years when that is larger;
* MACRS, half-year convention: IRS Publication 946, Table A-1 (3-, 5- and 7-year
  property; computers and peripheral equipment are 5-year property, Rev. Proc.
  87-56 asset class 00.12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inferplan.specs.scenario import TaxSpec
from inferplan.tco.cashflow import FloatArray

MACRS_HALF_YEAR: dict[int, tuple[float, ...]] = {
    3: (0.3333, 0.4445, 0.1481, 0.0741),
    5: (0.20, 0.32, 0.192, 0.1152, 0.1152, 0.0576),
    7: (0.1429, 0.2449, 0.1749, 0.1249, 0.0893, 0.0892, 0.0893, 0.0446),
}
"""IRS Publication 946, Table A-1 (200 % declining balance, half-year convention)."""

CAPITAL_CATEGORIES = frozenset(
    {"hardware", "installation", "residual_value", "facility_capex", "facility_residual"}
)
"""Cost categories that are capital flows, not deductible opex (any prefix)."""


@dataclass(frozen=True)
class Asset:
    """A depreciable purchase: ``cost`` USD entering service at index ``start``, sold
    at index ``sale`` for ``proceeds`` USD; ``kind`` ``equipment`` or ``facility``."""

    cost: float
    start: int
    sale: int
    proceeds: float
    kind: str = "equipment"


def schedule(tax: TaxSpec, kind: str = "equipment") -> tuple[float, ...]:
    """Share of an asset's cost allowed in each tax year."""
    if kind == "facility":
        return (1.0 / tax.facility_years,) * tax.facility_years
    if tax.depreciation == "macrs":
        return MACRS_HALF_YEAR[tax.years]
    if tax.depreciation == "straight_line":
        return (1.0 / tax.years,) * tax.years
    out: list[float] = []
    left = 1.0
    d = tax.declining_balance_factor / tax.years
    for y in range(tax.years):
        step = max(left * d, left / (tax.years - y))
        step = min(step, left)
        out.append(step)
        left -= step
    return tuple(out)


def depreciation(asset: Asset, tax: TaxSpec, months: int) -> tuple[FloatArray, float]:
    """Monthly depreciation (index 0..months, through the sale) and the tax basis left."""
    dep = np.zeros(months + 1)
    for k, share in enumerate(schedule(tax, asset.kind)):
        first = asset.start + 12 * k
        last = min(first + 11, asset.sale, months)
        if first > last:
            break
        dep[first : last + 1] += asset.cost * share / 12.0
    return dep, asset.cost - float(dep.sum())


def is_capital(category: str) -> bool:
    """True for capital flows (``bridge.hardware`` included)."""
    return category.rsplit(".", 1)[-1] in CAPITAL_CATEGORIES


@dataclass(frozen=True)
class AfterTax:
    """After-tax flows and their parts, index 0..N, USD."""

    flows: FloatArray
    tax_shield: FloatArray
    depreciation: FloatArray
    tax_on_sales: FloatArray


def after_tax(
    categories: dict[str, FloatArray],
    assets: list[Asset],
    tax: TaxSpec,
    rate: float,
    months: int,
) -> AfterTax:
    """After-tax cash flows of one option; see the module docstring."""
    total = np.zeros(months + 1)
    opex = np.zeros(months + 1)
    for name, v in categories.items():
        total = total + v
        if not is_capital(name):
            opex = opex + v
    dep = np.zeros(months + 1)
    gain_tax = np.zeros(months + 1)
    for a in assets:
        d, basis = depreciation(a, tax, months)
        dep += d
        gain_tax[min(a.sale, months)] += rate * (a.proceeds - basis)
    shield = rate * (opex + dep)
    return AfterTax(total - shield + gain_tax, shield, dep, gain_tax)


__all__ = [
    "CAPITAL_CATEGORIES",
    "MACRS_HALF_YEAR",
    "AfterTax",
    "Asset",
    "after_tax",
    "depreciation",
    "is_capital",
    "schedule",
]
