"""Money maths: hand-calculated cases and properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.tco.cashflow import (
    annuity_payment,
    break_even_month,
    discount_factors,
    escalation_index,
    loan_schedule,
    npv,
    purchase_index,
    straight_line_book_share,
)

money = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False)
flows = st.lists(money, min_size=2, max_size=61).map(lambda x: np.array(x))
rates = st.floats(min_value=0.0, max_value=0.5)


def test_escalation_steps_once_a_year() -> None:
    idx = escalation_index(25, 0.10)
    # months 1-12 at today's price, 13-24 at 1.1, month 25 at 1.21
    assert idx[0] == 1.0 and idx[1] == 1.0 and idx[12] == 1.0
    assert idx[13] == pytest.approx(1.1) and idx[24] == pytest.approx(1.1)
    assert idx[25] == pytest.approx(1.21)
    assert purchase_index(0, 0.1) == 1.0
    assert purchase_index(12, 0.1) == pytest.approx(1.1)  # bought at the end of year 1


def test_npv_hand_case() -> None:
    # 100 now + 110 in 12 months at 10 %: 100 + 110 / 1.1 = 200
    cf = np.zeros(13)
    cf[0], cf[12] = 100.0, 110.0
    assert npv(cf, 0.10) == pytest.approx(200.0)
    # month 6 at 21 %: 1 / 1.21^(6/12) = 1 / 1.1
    assert discount_factors(6, 0.21)[6] == pytest.approx(1 / 1.1)


def test_annuity_hand_cases() -> None:
    assert annuity_payment(12_000, 0.0, 12) == pytest.approx(1_000.0)
    # 12,000 x 0.01 / (1 - 1.01^-12) = 1,066.1854
    assert annuity_payment(12_000, 0.01, 12) == pytest.approx(1_066.1854, abs=1e-4)
    # with a balloon of 12,000 only interest is paid: 120 a month
    assert annuity_payment(12_000, 0.01, 12, balloon=12_000) == pytest.approx(120.0)


def test_loan_schedule_repays_principal() -> None:
    interest, repaid, balance = loan_schedule(12_000, 0.12, 12, 12)
    assert repaid.sum() == pytest.approx(12_000)
    assert interest[0] == pytest.approx(120.0)  # 12,000 x 1 %
    assert (interest + repaid) == pytest.approx(np.full(12, 1_066.1854), abs=1e-4)
    assert balance == 0.0
    # sold after 6 of 12 months: the open balance is what is left to repay
    _, repaid6, balance6 = loan_schedule(12_000, 0.12, 12, 6)
    assert repaid6.sum() + balance6 == pytest.approx(12_000)


def test_straight_line_book_value() -> None:
    assert straight_line_book_share(24, 4) == pytest.approx(0.5)
    assert straight_line_book_share(60, 4) == 0.0


def test_break_even_hand_case() -> None:
    a = np.array([100.0, 10, 10, 10])
    b = np.array([0.0, 50, 50, 50])
    # cumulative a: 110, 120, 130; b: 50, 100, 150 -> a stays below from month 3
    assert break_even_month(a, b) == 3
    assert break_even_month(b, a) is None
    # a dip below and back above does not count
    assert break_even_month(np.array([0.0, 10, 100, 0]), np.array([0.0, 20, 20, 20])) is None


@given(flows)
def test_npv_at_zero_rate_is_nominal_sum(cf: np.ndarray) -> None:
    assert npv(cf, 0.0) == pytest.approx(float(cf.sum()), rel=1e-9, abs=1e-6)


@given(flows, rates, st.floats(min_value=0.01, max_value=100))
def test_npv_is_linear(cf: np.ndarray, r: float, k: float) -> None:
    assert npv(cf * k, r) == pytest.approx(k * npv(cf, r), rel=1e-9, abs=1e-6)


@given(flows, st.lists(st.floats(min_value=0, max_value=1e6), min_size=61, max_size=61))
@settings(max_examples=200)
def test_cheaper_every_month_breaks_even_at_month_1(b: np.ndarray, gap: list[float]) -> None:
    a = b - np.array(gap[: len(b)])
    assert break_even_month(a, b) == 1
    assert break_even_month(a, b, 0.08) == 1


@given(flows, flows)
def test_break_even_none_iff_dearer_at_the_end(a: np.ndarray, b: np.ndarray) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    scale = max(1.0, float(np.abs(np.cumsum(a)).max()), float(np.abs(np.cumsum(b)).max()))
    if abs(a.sum() - b.sum()) < 1e-6 * scale:
        return  # ties within float noise are not decided here
    assert (break_even_month(a, b) is None) == (a.sum() > b.sum())
