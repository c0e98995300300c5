"""Percentiles with distribution-free confidence intervals, and sample-size warnings.

Point percentiles use linear interpolation between order statistics (Hyndman &
Fan 1996, "Sample quantiles in statistical packages", definition 7; numpy's
default ``method="linear"``).

Confidence intervals are the classical order-statistic interval for a quantile
(Conover, "Practical Nonparametric Statistics", 3rd ed., 1999, section 3.2;
also Hahn & Meeker, "Statistical Intervals", 1991, section 5.2): for ``n``
independent samples and the population p-quantile ``xi_p``, the count ``B`` of
samples at or below ``xi_p`` is Binomial(n, p), so

    P(x_(l) <= xi_p < x_(u)) = F(u - 1) - F(l - 1),   F = Binomial(n, p) CDF,

with ``x_(k)`` the k-th smallest sample (1-based). We take ``l - 1`` as the
largest k with F(k) <= alpha/2 and ``u - 1`` as the smallest k with
F(k) >= 1 - alpha/2, which gives coverage >= 1 - alpha. When ``l < 1`` or
``u > n`` the sample is too small for a two-sided interval, and a warning says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from inferplan.bench.results import StatResult

CONFIDENCE = 0.95
PERCENTILES = (50, 90, 99)


def binomial_cdf(n: int, p: float) -> np.ndarray:
    """``F[k] = P(B <= k)`` for ``B ~ Binomial(n, p)``, k = 0..n (``scipy.stats.binom``).

    >>> binomial_cdf(2, 0.5).round(3).tolist()
    [0.25, 0.75, 1.0]
    """
    from scipy.stats import binom

    return np.asarray(binom.cdf(np.arange(n + 1), n, p), dtype=float)


def quantile_ci_ranks(n: int, p: float, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """1-based ranks ``(l, u)`` of the order-statistic interval, or ``None`` if n is too small.

    >>> quantile_ci_ranks(100, 0.5)
    (40, 61)
    """
    if n < 1:
        return None
    alpha = 1.0 - confidence
    cdf = binomial_cdf(n, p)
    below = np.nonzero(cdf <= alpha / 2)[0]
    above = np.nonzero(cdf >= 1.0 - alpha / 2)[0]
    if below.size == 0 or above.size == 0:
        return None
    lower_rank = int(below[-1]) + 1
    upper_rank = int(above[0]) + 1
    if lower_rank < 1 or upper_rank > n:
        return None
    return lower_rank, upper_rank


def min_samples_for_ci(p: float, confidence: float = CONFIDENCE) -> int:
    """Smallest n for which the two-sided interval of the p-quantile exists.

    The upper rank needs F(n - 1) >= 1 - alpha/2 with F(n - 1) = 1 - p^n, so
    n >= ln(alpha/2) / ln(p); the lower rank needs (1 - p)^n <= alpha/2 likewise.
    """
    half = (1.0 - confidence) / 2
    n_upper = math.log(half) / math.log(p) if 0 < p < 1 else 1.0
    n_lower = math.log(half) / math.log(1 - p) if 0 < p < 1 else 1.0
    return max(1, math.ceil(max(n_upper, n_lower) - 1e-9))


def describe(values: Sequence[float], name: str, confidence: float = CONFIDENCE) -> StatResult:
    """Count, mean, std, min, max, p50/p90/p95/p99 and p50/p90/p99 intervals for ``values``.

    Values are in the caller's units (s for latencies). Warnings name the
    percentiles whose interval needs more samples than there are.
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    n = int(arr.size)
    if n == 0:
        return StatResult(count=0, warnings=[f"{name}: no samples"])
    arr.sort()
    result: dict[str, object] = {
        "count": n,
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if n > 1 else 0.0,
        "min": float(arr[0]),
        "max": float(arr[-1]),
        "p95": float(np.percentile(arr, 95)),
    }
    warnings: list[str] = []
    for pct in PERCENTILES:
        result[f"p{pct}"] = float(np.percentile(arr, pct))
        ranks = quantile_ci_ranks(n, pct / 100.0, confidence)
        if ranks is None:
            need = min_samples_for_ci(pct / 100.0, confidence)
            warnings.append(
                f"{name}: p{pct} from {n} samples has no {confidence:.0%} confidence "
                f"interval (needs >= {need})"
            )
        else:
            result[f"p{pct}_ci"] = (float(arr[ranks[0] - 1]), float(arr[ranks[1] - 1]))
    return StatResult.model_validate({**result, "warnings": warnings})
