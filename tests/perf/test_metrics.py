"""Tests of serving statistics: weighted percentiles, per-request metrics, rate search."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.errors import SpecError
from inferplan.perf.batch import BatchShape
from inferplan.perf.metrics import (
    METRIC_DEFINITIONS,
    Distribution,
    ServingMetrics,
    find_max_rate,
    slo_check,
    summarize,
    weighted_percentile,
)
from inferplan.perf.simulate import simulate_static_batch

QS = [0.0, 1.0, 5.0, 37.5, 50.0, 90.0, 95.0, 99.0, 100.0]


# ---------------------------------------------------------------- percentiles


def test_weighted_percentile_equals_numpy_on_expanded_array() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(0.0, 1.0, 200)
    weights = rng.integers(0, 50, 200)  # zeros included
    expanded = np.repeat(values, weights)
    for q in QS:
        assert weighted_percentile(values, q, weights) == pytest.approx(np.percentile(expanded, q))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 20)),
        min_size=1,
        max_size=30,
    ).filter(lambda pairs: sum(w for _, w in pairs) > 0),
    st.floats(0.0, 100.0),
)
def test_weighted_percentile_property(pairs: list[tuple[float, int]], q: float) -> None:
    values = np.array([v for v, _ in pairs])
    weights = np.array([w for _, w in pairs])
    want = np.percentile(np.repeat(values, weights), q)
    assert weighted_percentile(values, q, weights) == pytest.approx(want, abs=1e-9)


def test_distribution_weighted_and_plain() -> None:
    # values 1 (x3) and 3 (x1): expanded [1, 1, 1, 3]: mean 6/4 = 1.5, p50 = 1,
    # p90 at rank 0.9 * 3 = 2.7 -> 1 + 0.7 * (3 - 1) = 2.4, count 4.
    d = Distribution.from_values(np.array([3.0, 1.0]), np.array([1, 3]))
    assert (d.count, d.mean, d.p50, d.min, d.max) == (4, 1.5, 1.0, 1.0, 3.0)
    assert d.p90 == pytest.approx(2.4)
    plain = Distribution.from_values(np.arange(1.0, 101.0))  # 1..100
    # numpy linear: p99 at rank 0.99 * 99 = 98.01 -> 99 + 0.01 = 99.01
    assert plain.p99 == pytest.approx(99.01) and plain.mean == pytest.approx(50.5)
    assert plain.percentile(99) == plain.p99
    empty = Distribution.from_values(np.array([]))
    assert empty.count == 0 and empty.mean is None
    with pytest.raises(SpecError):
        plain.percentile(42)
    with pytest.raises(SpecError):
        Distribution.from_values(np.array([1.0, 2.0]), np.array([1]))


# ---------------------------------------------------------------- summarize


@dataclass(frozen=True)
class Record:
    arrival_s: np.ndarray
    first_token_s: np.ndarray
    finish_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    rejected: np.ndarray
    gaps_s: np.ndarray
    gap_end_s: np.ndarray

    def itl_gaps(
        self, window_s: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        keep = np.ones(self.gaps_s.size, dtype=bool)
        if window_s is not None:
            keep = (self.gap_end_s >= window_s[0]) & (self.gap_end_s <= window_s[1])
        return self.gaps_s[keep], np.ones(int(keep.sum()), dtype=np.int64)


def hand_record() -> Record:
    # r0: sent 0.0, first token 0.10, last 1.10, 11 tokens -> TTFT 0.10, E2E 1.10,
    #     TPOT (1.10 - 0.10) / 10 = 0.10
    # r1: sent 0.5, first 0.80, last 1.30, 6 tokens -> TTFT 0.30, E2E 0.80, TPOT 0.5 / 5 = 0.10
    # r2: sent 1.0, one token at 1.05 -> TTFT = E2E = 0.05, TPOT undefined (excluded)
    # r3: sent 1.5, rejected
    nan = math.nan
    gaps = np.concatenate([np.full(10, 0.10), np.full(5, 0.10)])
    ends = np.concatenate([0.10 + 0.10 * np.arange(1, 11), 0.80 + 0.10 * np.arange(1, 6)])
    return Record(
        arrival_s=np.array([0.0, 0.5, 1.0, 1.5]),
        first_token_s=np.array([0.10, 0.80, 1.05, nan]),
        finish_s=np.array([1.10, 1.30, 1.05, nan]),
        input_tokens=np.array([100, 200, 300, 400]),
        output_tokens=np.array([11, 6, 1, 0]),
        rejected=np.array([False, False, False, True]),
        gaps_s=gaps,
        gap_end_s=ends,
    )


def test_summarize_hand_calculated_run() -> None:
    m = summarize(hand_record(), slo_ttft_s=0.2, slo_tpot_s=0.1)
    # window: first arrival 0.0 -> last finish 1.30 s
    assert m.duration_s == pytest.approx(1.3)
    assert m.completed == 3 and m.rejected == 1
    assert m.output_tokens_per_s == pytest.approx((11 + 6 + 1) / 1.3)
    assert m.input_tokens_per_s == pytest.approx(600 / 1.3)
    assert m.request_throughput_rps == pytest.approx(3 / 1.3)
    # TTFT [0.10, 0.30, 0.05]: mean 0.15; sorted [0.05, 0.10, 0.30], p95 rank 1.9 -> 0.28
    assert m.ttft_s.mean == pytest.approx(0.15) and m.ttft_s.p95 == pytest.approx(0.28)
    assert m.tpot_s.count == 2 and m.tpot_s.mean == pytest.approx(0.10)
    assert m.e2e_s.max == pytest.approx(1.10)
    assert m.itl_s.count == 15 and m.itl_s.p50 == pytest.approx(0.10)
    # SLO TTFT 0.2 s and TPOT 0.1 s: r0 meets both, r1 misses TTFT, r2 meets
    # (TPOT undefined), r3 rejected -> goodput 2 / 1.3 rps, attainment 2 / 4
    assert m.goodput_rps == pytest.approx(2 / 1.3)
    assert m.slo_attainment == pytest.approx(0.5)
    assert m.slo_percentile_met is False  # p95 TTFT 0.28 > 0.2


def test_summarize_without_slo_and_with_windows() -> None:
    rec = hand_record()
    m = summarize(rec)
    assert m.goodput_rps is None and m.slo_attainment is None
    # window [1.15, 1.4]: only r1 finishes inside -> 6 tokens / 0.25 s = 24 tok/s
    w = summarize(rec, window_s=(1.15, 1.4))
    assert w.completed == 1 and w.output_tokens_per_s == pytest.approx(24.0)
    assert w.rejected == 0  # r3 was sent at 1.5, outside the window
    # r1's gaps end at 0.9, 1.0, 1.1, 1.2, 1.3 and r0's at 0.2 .. 1.1: 2 inside
    assert w.itl_s.count == 2
    # dropping the first request by arrival: r1, r2 measured, 0.5 -> 1.3 s; the
    # ITL pool keeps the gaps ending in [0.5, 1.3] (bounds included): r0's
    # 0.5, 0.6, .., 1.1 (7) + r1's 5 = 12
    d = summarize(rec, warmup_requests=1)
    assert d.completed == 2 and d.duration_s == pytest.approx(0.8)
    assert d.itl_s.count == 12
    with pytest.raises(SpecError):
        summarize(rec, window_s=(2.0, 1.0))


def test_summarize_static_batch_pooled_itl() -> None:
    # static batch of 4 x (isl 100, osl 10), step 7 ms + 0.02 ms/seq + 0.06 ms/token:
    # prefill 7 + 0.06 * 400 = 31 ms, decode 7 + 0.02 * 4 = 7.08 ms. Every one of the
    # 4 * 9 = 36 gaps is 7.08 ms, TPOT 7.08 ms; output 40 tokens / 94.72 ms.
    class Linear:
        def step_time_s(self, shape: BatchShape) -> float:
            return 7e-3 + 2e-5 * shape.decode_seqs + 6e-5 * shape.prefill_tokens

    m = summarize(simulate_static_batch(Linear(), 4, 100, 10))
    assert m.itl_s.count == 36
    assert m.itl_s.min == pytest.approx(0.00708) and m.itl_s.max == pytest.approx(0.00708)
    assert m.tpot_s.p50 == pytest.approx(0.00708)
    assert m.output_tokens_per_s == pytest.approx(40 / 0.09472)


def test_metric_definitions_cover_the_outputs() -> None:
    fields = set(ServingMetrics.model_fields)
    assert set(METRIC_DEFINITIONS) <= fields
    assert {"ttft_s", "itl_s", "tpot_s", "e2e_s", "goodput_rps"} <= set(METRIC_DEFINITIONS)
    assert "(E2E - TTFT) / (output_tokens - 1)" in METRIC_DEFINITIONS["tpot_s"]


# ---------------------------------------------------------------- rate search


def fake_metrics(ttft_p95_s: float, attainment: float | None = None) -> ServingMetrics:
    d = Distribution.from_values(np.array([ttft_p95_s]))
    return ServingMetrics(
        ttft_s=d,
        tpot_s=Distribution(count=0),
        itl_s=Distribution(count=0),
        e2e_s=d,
        output_tokens_per_s=1.0,
        input_tokens_per_s=1.0,
        request_throughput_rps=1.0,
        slo_attainment=attainment,
        completed=1,
        rejected=0,
        duration_s=1.0,
    )


def test_find_max_rate_converges_within_two_percent() -> None:
    # p95 TTFT = rate / 100 s, SLO 1 s -> the answer is 100 rps; bisection stops when
    # the pass/fail bracket is within 2% of the passing rate.
    calls: list[float] = []

    def evaluate(rate: float) -> ServingMetrics:
        calls.append(rate)
        return fake_metrics(rate / 100.0)

    found = find_max_rate(evaluate, slo_check(slo_ttft_s=1.0), lo_rps=1.0, hi_rps=1000.0)
    assert found.max_rate_rps is not None
    assert 100.0 / 1.02 <= found.max_rate_rps <= 100.0
    assert found.evaluations == len(calls) < 20
    # lo fails -> no rate; hi passes -> hi, flagged
    assert find_max_rate(evaluate, slo_check(slo_ttft_s=1e-3), 1.0, 10.0).max_rate_rps is None
    top = find_max_rate(evaluate, slo_check(slo_ttft_s=1e3), 1.0, 10.0)
    assert top.max_rate_rps == 10.0 and top.limited_by_hi
    with pytest.raises(SpecError):
        find_max_rate(evaluate, slo_check(), 10.0, 1.0)


def test_slo_check_attainment() -> None:
    ok = slo_check(min_attainment=0.9)
    assert ok(fake_metrics(1.0, attainment=0.95))
    assert not ok(fake_metrics(1.0, attainment=0.85))
    with pytest.raises(SpecError):
        slo_check(percentile=42)
