"""Percentiles and order-statistic confidence intervals, checked against hand calculations."""

from __future__ import annotations

import pytest

from inferplan.bench.stats import binomial_cdf, describe, min_samples_for_ci, quantile_ci_ranks


def test_binomial_cdf_matches_published_table_values() -> None:
    # Binomial(100, 0.5): P(B <= 39) = 0.0176, P(B <= 40) = 0.0284, P(B <= 60) = 0.9824
    # (standard binomial tables, e.g. Conover 1999, Table A3)
    cdf = binomial_cdf(100, 0.5)
    assert cdf[39] == pytest.approx(0.0176, abs=1e-4)
    assert cdf[40] == pytest.approx(0.0284, abs=1e-4)
    assert cdf[60] == pytest.approx(0.9824, abs=1e-4)
    # Binomial(10, 0.1): P(B = 0) = 0.9^10 = 0.348678...
    assert binomial_cdf(10, 0.1)[0] == pytest.approx(0.9**10, rel=1e-12)


def test_median_interval_for_100_samples_is_ranks_40_and_61() -> None:
    # l-1 = largest k with F(k) <= 0.025 -> 39 (F(39)=0.0176, F(40)=0.0284) -> l = 40
    # u-1 = smallest k with F(k) >= 0.975 -> 60 (F(59)=0.9716, F(60)=0.9824) -> u = 61
    # coverage F(60) - F(39) = 0.9648 >= 0.95
    assert quantile_ci_ranks(100, 0.5) == (40, 61)


def test_p99_needs_368_samples() -> None:
    # upper rank exists iff 1 - 0.99^n >= 0.975  <=>  n >= ln(0.025)/ln(0.99) = 367.04
    assert min_samples_for_ci(0.99) == 368
    assert quantile_ci_ranks(367, 0.99) is None
    assert quantile_ci_ranks(368, 0.99) is not None
    # median: 0.5^n <= 0.025  <=>  n >= 5.32
    assert min_samples_for_ci(0.5) == 6
    assert quantile_ci_ranks(5, 0.5) is None and quantile_ci_ranks(6, 0.5) == (1, 6)


def test_describe_1_to_100() -> None:
    s = describe([float(v) for v in range(100, 0, -1)], "x")
    assert s.count == 100 and s.mean == pytest.approx(50.5)
    # type-7 quantile: h = (n-1)p; p50 -> h = 49.5 -> 50 + 0.5*(51-50) = 50.5
    assert s.p50 == pytest.approx(50.5)
    # p90 -> h = 89.1 -> x(90) + 0.1*(x(91)-x(90)) = 90.1
    assert s.p90 == pytest.approx(90.1)
    assert s.p50_ci == (40.0, 61.0)  # the k-th smallest value is k
    assert s.p99_ci is None
    assert any("p99 from 100 samples" in w and "368" in w for w in s.warnings)


def test_describe_empty_and_nan() -> None:
    assert describe([], "x").count == 0
    assert describe([float("nan"), 2.0], "x").count == 1
