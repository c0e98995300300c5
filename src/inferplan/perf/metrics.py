"""Latency and throughput statistics of a serving run, simulated or measured.

The metric definitions are the ones every inferplan output states
(:data:`METRIC_DEFINITIONS`); they follow the conventions of vLLM's
``benchmark_serving`` and GuideLLM: TTFT, TPOT and E2E per request, ITL pooled
over every gap between consecutive tokens of every request.

Percentiles use numpy's default ``linear`` method (Hyndman & Fan 1996, definition
7). Weighted percentiles treat an integer weight ``w`` as ``w`` copies of the
value, so the pooled ITL of a simulation (one gap value per step, weighted by the
number of sequences that decoded in it) is summarised exactly without expanding
millions of gaps.

Example::

    >>> import numpy as np
    >>> Distribution.from_values(np.array([1.0, 3.0]), np.array([3, 1])).p50
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from pydantic import Field

from inferplan.errors import SpecError
from inferplan.specs.base import FrozenSpec

METRIC_DEFINITIONS: dict[str, str] = {
    "ttft_s": "time to first token: request sent -> first generated token received (a "
    "role-only or empty chunk is not a token; reasoning tokens count) (s)",
    "itl_s": "inter-token latency: every gap between consecutive tokens of a request, "
    "pooled across requests (per-gap distribution, s); when a measured server streams "
    "several tokens in one chunk without per-chunk counts, the gap is per chunk "
    "(itl_basis='chunk')",
    "tpot_s": "time per output token, per request: (E2E - TTFT) / (output_tokens - 1); "
    "undefined for 1-token outputs, which are excluded (s)",
    "e2e_s": "end-to-end latency: request sent -> last token received (s)",
    "output_tokens_per_s": "output tokens of completed requests / wall time of the measured "
    "window (first measured request sent -> last measured request finished, or the given "
    "window)",
    "input_tokens_per_s": "input tokens of completed requests / wall time of the measured window",
    "request_throughput_rps": "completed requests / wall time of the measured window",
    "goodput_rps": "completed requests that met every SLO given / wall time of the window",
    "slo_attainment": "share of measured requests (rejected ones included) meeting every SLO",
}
"""The one set of serving-metric definitions, for predictions (:class:`ServingMetrics`)
and measurements (``inferplan.bench``'s stage summaries use the same names)."""

_NAMED_PERCENTILES = {50.0: "p50", 90.0: "p90", 95.0: "p95", 99.0: "p99"}


def weighted_percentile(values: np.ndarray, q: float, weights: np.ndarray | None = None) -> float:
    """The ``q``-th percentile (0..100) of ``values`` repeated ``weights`` times.

    Linear interpolation between order statistics at rank h = (N - 1) q / 100,
    N = sum of weights (numpy ``percentile`` default). Identical to
    ``np.percentile(np.repeat(values, weights), q)`` for integer weights.
    """
    v = np.asarray(values, dtype=float)
    if weights is None:
        return float(np.percentile(v, q))
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    v, w = v[keep], w[keep]
    if v.size == 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(w[order])
    rank = (cum[-1] - 1.0) * q / 100.0
    lo_rank = math.floor(rank)
    # value at 0-based expanded index k: the first sorted value whose cumulative count > k
    lo = v[min(int(np.searchsorted(cum, lo_rank, side="right")), v.size - 1)]
    hi = v[min(int(np.searchsorted(cum, lo_rank + 1, side="right")), v.size - 1)]
    return float(lo + (hi - lo) * (rank - lo_rank))


class Distribution(FrozenSpec):
    """Summary of a sample (seconds unless the field name says otherwise).

    ``count`` is the number of observations (sum of weights); statistics are
    ``None`` for an empty sample.
    """

    count: int = Field(ge=0)
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def from_values(cls, values: np.ndarray, weights: np.ndarray | None = None) -> Distribution:
        """Summarise ``values`` (each counted ``weights`` times when weights are given)."""
        v = np.asarray(values, dtype=float)
        w = None if weights is None else np.asarray(weights, dtype=float)
        if w is not None:
            if w.shape != v.shape:
                raise SpecError("weights", "must have the same length as values")
            keep = w > 0
            v, w = v[keep], w[keep]
        if v.size == 0:
            return cls(count=0)
        return cls(
            count=round(float(w.sum())) if w is not None else int(v.size),
            mean=float(np.average(v, weights=w)),
            p50=weighted_percentile(v, 50.0, w),
            p90=weighted_percentile(v, 90.0, w),
            p95=weighted_percentile(v, 95.0, w),
            p99=weighted_percentile(v, 99.0, w),
            min=float(v.min()),
            max=float(v.max()),
        )

    def percentile(self, q: float) -> float | None:
        """One of the stored percentiles (50, 90, 95, 99)."""
        name = _NAMED_PERCENTILES.get(float(q))
        if name is None:
            raise SpecError("percentile", f"must be one of 50, 90, 95, 99, got {q}")
        value: float | None = getattr(self, name)
        return value


class RunRecord(Protocol):
    """What :func:`summarize` needs from a run: per-request arrays (seconds, tokens;
    NaN times for rejected requests) and the pooled inter-token gaps."""

    @property
    def arrival_s(self) -> np.ndarray: ...
    @property
    def first_token_s(self) -> np.ndarray: ...
    @property
    def finish_s(self) -> np.ndarray: ...
    @property
    def input_tokens(self) -> np.ndarray: ...
    @property
    def output_tokens(self) -> np.ndarray: ...
    @property
    def rejected(self) -> np.ndarray: ...

    def itl_gaps(
        self, window_s: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(gap seconds, count of gaps with that value), gaps ending inside the window."""
        ...


class ServingMetrics(FrozenSpec):
    """Serving statistics of one run (seconds, tokens/s, requests/s).

    * ttft_s: request sent -> first generated token; e2e_s: sent -> last token.
    * tpot_s: per request (E2E - TTFT) / (output_tokens - 1); 1-token outputs excluded.
    * itl_s: every gap between consecutive tokens, pooled across requests.
    * output/input_tokens_per_s, request_throughput_rps: completed work / wall time
      of the measured window; goodput_rps: completed requests meeting every SLO
      given / the same wall time; slo_attainment: their share of measured requests.

    :data:`METRIC_DEFINITIONS` holds the same definitions for embedding in outputs.
    """

    ttft_s: Distribution
    tpot_s: Distribution
    itl_s: Distribution
    e2e_s: Distribution
    output_tokens_per_s: float
    input_tokens_per_s: float
    request_throughput_rps: float
    goodput_rps: float | None = None
    slo_attainment: float | None = None
    slo_percentile_met: bool | None = Field(
        default=None, description="the SLO percentile of TTFT and TPOT is within its limit"
    )
    completed: int
    rejected: int
    duration_s: float


def summarize(
    run: RunRecord,
    slo_ttft_s: float | None = None,
    slo_tpot_s: float | None = None,
    slo_percentile: float = 95.0,
    window_s: tuple[float, float] | None = None,
    warmup_requests: int = 0,
    cooldown_requests: int = 0,
) -> ServingMetrics:
    """Latency distributions, throughput and goodput of ``run``.

    Requests are measured after dropping the first ``warmup_requests`` and last
    ``cooldown_requests`` by arrival time. Without ``window_s`` the wall time is
    first measured arrival -> last measured finish, and ITL pools the gaps ending
    in that span. With ``window_s = (t0, t1)``, the measured requests are those
    finishing in [t0, t1], the wall time is t1 - t0, and ITL pools the gaps
    ending in the window (steady-state rates).
    A request meets the TPOT SLO when its TPOT is undefined (one output token).
    """
    if warmup_requests < 0 or cooldown_requests < 0:
        raise SpecError("warmup_requests", "warm-up and cool-down counts must be >= 0")
    arrival = np.asarray(run.arrival_s, dtype=float)
    n = arrival.size
    order = np.argsort(arrival, kind="stable")
    measured = np.zeros(n, dtype=bool)
    measured[order[warmup_requests : max(n - cooldown_requests, warmup_requests)]] = True
    rejected = np.asarray(run.rejected, dtype=bool)
    first = np.asarray(run.first_token_s, dtype=float)
    finish = np.asarray(run.finish_s, dtype=float)
    done = measured & ~rejected & np.isfinite(finish)
    if window_s is not None:
        t0, t1 = window_s
        if not t1 > t0:
            raise SpecError("window_s", "the window must end after it starts")
        done &= (finish >= t0) & (finish <= t1)
        counted_rejected = measured & rejected & (arrival >= t0) & (arrival <= t1)
        duration = t1 - t0
    else:
        counted_rejected = measured & rejected
        duration = float(finish[done].max() - arrival[done].min()) if done.any() else 0.0
    out_tok = np.asarray(run.output_tokens)[done]
    in_tok = np.asarray(run.input_tokens)[done]
    ttft = first[done] - arrival[done]
    e2e = finish[done] - arrival[done]
    multi = out_tok > 1
    tpot = (e2e[multi] - ttft[multi]) / (out_tok[multi] - 1)
    itl_window = window_s
    if window_s is None and (warmup_requests or cooldown_requests) and done.any():
        itl_window = (float(arrival[done].min()), float(finish[done].max()))
    gaps, gap_counts = run.itl_gaps(itl_window)
    rate = (lambda x: x / duration) if duration > 0 else (lambda x: 0.0)

    goodput = attainment = pct_met = None
    ttft_d, tpot_d = Distribution.from_values(ttft), Distribution.from_values(tpot)
    if slo_ttft_s is not None or slo_tpot_s is not None:
        ok = np.ones(out_tok.size, dtype=bool)
        pct_met = True
        if slo_ttft_s is not None:
            ok &= ttft <= slo_ttft_s
            p = ttft_d.percentile(slo_percentile)
            pct_met = pct_met and p is not None and p <= slo_ttft_s
        if slo_tpot_s is not None:
            tpot_all = np.zeros(out_tok.size)
            tpot_all[multi] = tpot
            ok &= tpot_all <= slo_tpot_s
            p = tpot_d.percentile(slo_percentile)
            pct_met = pct_met and (p is None or p <= slo_tpot_s)
        n_ok = int(ok.sum())
        goodput = rate(float(n_ok))
        denominator = out_tok.size + int(counted_rejected.sum())
        attainment = n_ok / denominator if denominator else 0.0
    return ServingMetrics(
        ttft_s=ttft_d,
        tpot_s=tpot_d,
        itl_s=Distribution.from_values(gaps, gap_counts),
        e2e_s=Distribution.from_values(e2e),
        output_tokens_per_s=rate(float(out_tok.sum())),
        input_tokens_per_s=rate(float(in_tok.sum())),
        request_throughput_rps=rate(float(out_tok.size)),
        goodput_rps=goodput,
        slo_attainment=attainment,
        slo_percentile_met=pct_met,
        completed=int(out_tok.size),
        rejected=int(counted_rejected.sum()),
        duration_s=duration,
    )


@dataclass(frozen=True)
class RateSearchResult:
    """Outcome of :func:`find_max_rate`.

    ``max_rate_rps`` is the highest rate seen to meet the SLO (None when even
    ``lo_rps`` fails); ``limited_by_hi`` is True when ``hi_rps`` itself passed.
    """

    max_rate_rps: float | None
    metrics: ServingMetrics | None
    evaluations: int
    limited_by_hi: bool


def slo_check(
    slo_ttft_s: float | None = None,
    slo_tpot_s: float | None = None,
    percentile: float = 95.0,
    min_attainment: float | None = None,
) -> Callable[[ServingMetrics], bool]:
    """A predicate on metrics: the ``percentile`` of TTFT and TPOT within their
    limits and, when ``min_attainment`` is given, ``slo_attainment`` at least that
    (attainment needs the metrics summarised with the same SLOs)."""
    if percentile not in _NAMED_PERCENTILES:
        raise SpecError("percentile", "must be one of 50, 90, 95, 99")

    def ok(m: ServingMetrics) -> bool:
        if m.completed == 0:
            return False
        p = m.ttft_s.percentile(percentile)
        if slo_ttft_s is not None and (p is None or p > slo_ttft_s):
            return False
        p = m.tpot_s.percentile(percentile)
        if slo_tpot_s is not None and p is not None and p > slo_tpot_s:
            return False
        if min_attainment is not None:
            return m.slo_attainment is not None and m.slo_attainment >= min_attainment
        return True

    return ok


def find_max_rate(
    evaluate: Callable[[float], ServingMetrics],
    meets_slo: Callable[[ServingMetrics], bool],
    lo_rps: float,
    hi_rps: float,
    rel_tol: float = 0.02,
    max_evaluations: int = 60,
) -> RateSearchResult:
    """Highest request rate whose metrics still meet the SLO, by bisection.

    Assumes the SLO holds below some rate and fails above it. Stops when the
    passing and failing rates are within ``rel_tol`` of each other (relative to
    the passing one); the passing rate is returned.
    """
    if not 0 < lo_rps < hi_rps:
        raise SpecError("lo_rps", "need 0 < lo_rps < hi_rps")
    if not rel_tol > 0:
        raise SpecError("rel_tol", "must be > 0")
    metrics_lo = evaluate(lo_rps)
    calls = 1
    if not meets_slo(metrics_lo):
        return RateSearchResult(None, None, calls, False)
    metrics_hi = evaluate(hi_rps)
    calls += 1
    if meets_slo(metrics_hi):
        return RateSearchResult(hi_rps, metrics_hi, calls, True)
    lo, hi = lo_rps, hi_rps
    while (hi - lo) > rel_tol * lo and calls < max_evaluations:
        mid = 0.5 * (lo + hi)
        m = evaluate(mid)
        calls += 1
        if meets_slo(m):
            lo, metrics_lo = mid, m
        else:
            hi = mid
    return RateSearchResult(lo, metrics_lo, calls, False)


def steady_window(arrival_s: np.ndarray, clients: int) -> tuple[float, float]:
    """Window of a closed-loop run in which all ``clients`` are busy: from the arrival
    of the first request after the opening wave to that of the last full wave."""
    a = np.sort(np.asarray(arrival_s, dtype=float))
    n = len(a)
    lo = a[min(clients, n - 1)]
    hi = a[max(n - clients - 1, min(clients, n - 1))]
    return (float(lo), float(hi)) if hi > lo else (float(a[0]), float(a[-1]))


__all__ = [
    "METRIC_DEFINITIONS",
    "Distribution",
    "RateSearchResult",
    "RunRecord",
    "ServingMetrics",
    "find_max_rate",
    "slo_check",
    "steady_window",
    "summarize",
    "weighted_percentile",
]
