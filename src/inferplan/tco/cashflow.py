"""Money maths: escalation, discounting, NPV, annuities, break-even. Pure functions.

Conventions used throughout inferplan's TCO:

* A cash-flow vector has ``N + 1`` entries for a horizon of ``N`` months. Index 0 is
  the order date (t = 0: purchases, installation, down payments); index ``m`` (1..N)
  is the end of month ``m`` (month 1 = the first month). Opex of month ``m`` is
  paid at the end of month ``m``; resale (residual) value comes back at the end of
  the month of the sale (month N at the end of the horizon).
* Sign: costs are positive, inflows (resale) negative. TCO (nominal) is the plain
  sum; NPV is the present value of costs.
* Discounting: NPV = sum_m CF_m / (1 + r)^(m / 12), ``r`` the effective annual
  discount rate (monthly flows discounted at the equivalent monthly rate
  (1 + r)^(1/12) - 1). Reference: Brealey, Myers & Allen, Principles of Corporate
  Finance, ch. 2 (present value) -- the standard effective-rate form.
* Escalation steps once a year: month m >= 1 pays (1 + e)^floor((m - 1) / 12) of
  today's price; a purchase at month b pays (1 + e)^floor(b / 12).
* Loans and leases: level annuities at ``annual_rate / 12`` per month (nominal
  annual rate compounded monthly, the usual loan quote), payment
  PMT = (PV - FV / (1 + i)^n) x i / (1 - (1 + i)^-n), PMT = (PV - FV) / n at i = 0.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
TOLERANCE_REL = 1e-9
"""Relative tolerance for 'at or below' in break-even tests (float noise)."""


def escalation_index(months: int, annual_rate: float) -> FloatArray:
    """Price multiplier per cash-flow index 0..months for flows during month m.

    index[0] = 1; index[m] = (1 + rate)^floor((m - 1) / 12).

    >>> escalation_index(13, 0.1)[[0, 1, 12, 13]].tolist()
    [1.0, 1.0, 1.0, 1.1]
    """
    m = np.arange(months + 1)
    years = np.maximum(m - 1, 0) // 12
    return np.asarray((1.0 + annual_rate) ** years, dtype=float)


def purchase_index(month: int, annual_rate: float) -> float:
    """Price multiplier of a purchase made at cash-flow index ``month``: (1+e)^floor(m/12)."""
    return float((1.0 + annual_rate) ** (month // 12))


def discount_factors(months: int, annual_rate: float) -> FloatArray:
    """1 / (1 + r)^(m / 12) for m = 0..months."""
    m = np.arange(months + 1, dtype=float)
    return np.asarray((1.0 + annual_rate) ** (-m / 12.0), dtype=float)


def npv(cash_flows: FloatArray, annual_rate: float) -> float:
    """Present value at t = 0 of ``cash_flows`` (index m at the end of month m).

    >>> cf = np.zeros(13)
    >>> cf[0], cf[12] = 100.0, 110.0
    >>> round(npv(cf, 0.1), 6)
    200.0
    """
    cf = np.asarray(cash_flows, dtype=float)
    return float(np.dot(cf, discount_factors(len(cf) - 1, annual_rate)))


def annuity_payment(principal: float, monthly_rate: float, n: int, balloon: float = 0.0) -> float:
    """Level payment at the end of each of ``n`` months that repays ``principal``,
    leaving ``balloon`` outstanding after the last payment."""
    if n <= 0:
        raise ValueError("n must be >= 1")
    if monthly_rate == 0:
        return (principal - balloon) / n
    disc = (1.0 + monthly_rate) ** (-n)
    return (principal - balloon * disc) * monthly_rate / (1.0 - disc)


def loan_schedule(
    principal: float, annual_rate: float, term_months: int, months_held: int
) -> tuple[FloatArray, FloatArray, float]:
    """Interest and principal paid in months 1..min(term, held) after the loan starts,
    and the balance still owed after ``months_held`` months (repaid at the sale).

    Returns ``(interest[k], principal[k], balance)`` with arrays of length
    ``months_held`` (zeros after the term).
    """
    i = annual_rate / 12.0
    pay = annuity_payment(principal, i, term_months)
    interest = np.zeros(months_held)
    repaid = np.zeros(months_held)
    balance = principal
    for k in range(min(term_months, months_held)):
        interest[k] = balance * i
        repaid[k] = pay - interest[k]
        balance -= repaid[k]
    if months_held >= term_months:
        balance = 0.0  # the last payment clears it; avoid float dust
    return interest, repaid, balance


def straight_line_book_share(age_months: int, depreciation_years: float) -> float:
    """Book value share after ``age_months`` of straight-line depreciation to zero."""
    return max(0.0, 1.0 - age_months / (12.0 * depreciation_years))


def cumulative(cash_flows: FloatArray) -> FloatArray:
    """Running total of a cash-flow vector."""
    return np.cumsum(np.asarray(cash_flows, dtype=float))


def break_even_month(a: FloatArray, b: FloatArray, annual_rate: float | None = None) -> int | None:
    """First month m (1..N) from which option ``a``'s cumulative cost stays at or below
    ``b``'s through the end of the horizon; None if ``a`` is dearer at the end.

    Cumulative totals at month m include index 0 (upfront). With ``annual_rate``
    the comparison uses discounted cumulative costs. An option that costs no more in
    every month breaks even at month 1.

    >>> break_even_month(np.array([100.0, 10, 10, 10]), np.array([0.0, 50, 50, 50]))
    3
    """
    fa = np.asarray(a, dtype=float)
    fb = np.asarray(b, dtype=float)
    if fa.shape != fb.shape:
        raise ValueError("cash-flow vectors differ in length")
    if annual_rate is not None:
        d = discount_factors(len(fa) - 1, annual_rate)
        fa, fb = fa * d, fb * d
    ca, cb = cumulative(fa), cumulative(fb)
    scale = max(1.0, float(np.abs(ca).max()), float(np.abs(cb).max()))
    diff = ca - cb
    ok = diff[1:] <= TOLERANCE_REL * scale
    if not ok[-1]:
        return None
    bad = np.nonzero(~ok)[0]
    return 1 if bad.size == 0 else int(bad[-1]) + 2


def irr(cash_flows: FloatArray) -> float | None:
    """Effective annual internal rate of return of monthly ``cash_flows`` (index m at
    the end of month m): the r with sum_m CF_m / (1 + r)^(m/12) = 0.

    Solved for the monthly rate i (r = (1 + i)^12 - 1) by bracketing sign changes of
    the NPV on a grid of i in (-0.99, 10] and bisecting (Brent's method). None when
    the NPV never changes sign (no investment-then-return pattern) or changes sign
    more than once (several rates fit; the IRR is not meaningful).

    >>> cf = np.zeros(13)
    >>> cf[0], cf[12] = -100.0, 110.0
    >>> round(irr(cf), 6)
    0.1
    """
    cf = np.asarray(cash_flows, dtype=float)
    m = np.arange(len(cf), dtype=float)

    def f(i: float) -> float:
        return float(np.dot(cf, (1.0 + i) ** (-m)))

    grid = np.concatenate([np.linspace(-0.99, -1e-6, 200), [0.0], np.geomspace(1e-6, 10.0, 400)])
    sign = np.sign([f(i) for i in grid])
    nz = np.nonzero(sign)[0]
    changes = [(a, k) for a, k in itertools.pairwise(nz) if sign[a] != sign[k]]
    if len(changes) != 1:
        return None
    a_lo, hi = float(grid[changes[0][0]]), float(grid[changes[0][1]])
    s_lo = sign[changes[0][0]]
    for _ in range(200):
        mid = 0.5 * (a_lo + hi)
        if np.sign(f(mid)) == s_lo:
            a_lo = mid
        else:
            hi = mid
        if hi - a_lo < 1e-15:
            break
    i = 0.5 * (a_lo + hi)
    return float((1.0 + i) ** 12 - 1.0)


__all__ = [
    "annuity_payment",
    "break_even_month",
    "cumulative",
    "discount_factors",
    "escalation_index",
    "irr",
    "loan_schedule",
    "npv",
    "purchase_index",
    "straight_line_book_share",
]
