"""Per-stage statistics from records: window, throughput, goodput, counts, client health."""

from __future__ import annotations

import pytest

from inferplan.bench.results import ErrorKind, Phase, RequestRecord
from inferplan.bench.summary import Slo, outcome_counts, summarize_stage


def _ok(i: int, sent: float, ttft: float, e2e: float, n: int, n_in: int = 10) -> RequestRecord:
    times = [sent + ttft + (e2e - ttft) * k / (n - 1) for k in range(n)]
    return RequestRecord(
        request_id=i,
        scheduled_s=sent,
        sent_s=sent,
        first_token_s=sent + ttft,
        first_content_s=sent + ttft,
        last_token_s=sent + e2e,
        end_s=sent + e2e,
        token_times_s=times,
        output_tokens=n,
        output_tokens_source="usage",
        client_chunk_count=n,
        input_tokens=n_in,
        input_tokens_source="usage",
        requested_output_tokens=n,
        finish_reason="length",
    )


def _records() -> list[RequestRecord]:
    return [
        _ok(0, 0.0, 0.1, 1.0, 10),  # ends 1.0
        _ok(1, 0.5, 0.3, 2.5, 21),  # ends 3.0
        RequestRecord(
            request_id=2, sent_s=1.0, end_s=1.2, error_kind=ErrorKind.HTTP_STATUS, http_status=500
        ),
        RequestRecord(request_id=3, phase=Phase.WARMUP, sent_s=-5.0, end_s=-4.0),
    ]


def test_window_throughput_and_counts_by_hand() -> None:
    s = summarize_stage(0, "concurrency", _records(), concurrency=2)
    # warm-up excluded; window = first measured send 0.0 -> last measured end 3.0 = 3.0 s
    assert s.window_s == pytest.approx(3.0)
    # output tokens of completed requests: 10 + 21 = 31 -> 31 / 3 = 10.333 tok/s
    assert s.output_tokens_total == 31
    assert s.output_tokens_per_s == pytest.approx(31 / 3)
    assert s.input_tokens_per_s == pytest.approx(20 / 3)
    assert s.request_throughput_rps == pytest.approx(2 / 3)
    assert s.counts["ok"] == 2 and s.counts["http_status"] == 1 and s.counts["total"] == 3
    # TPOT: (1.0 - 0.1)/9 = 0.1 and (2.5 - 0.3)/20 = 0.11 -> mean 0.105
    assert s.tpot_s.mean == pytest.approx(0.105)
    # ITL pooled: 9 gaps of 0.1 and 20 gaps of 0.11
    assert s.itl_s.count == 29 and s.itl_s.mean == pytest.approx((9 * 0.1 + 20 * 0.11) / 29)
    assert s.ttft_s.count == 2 and s.ttft_s.mean == pytest.approx(0.2)
    assert s.token_checks["usage_checked_against_chunks"] == 2
    assert "usage_differs_from_chunks" not in s.token_checks
    assert any("1 of 3 requests failed (1 http_status)" in w for w in s.warnings)


def test_goodput_counts_requests_meeting_every_slo() -> None:
    # SLO TTFT <= 0.2 s: only request 0 (0.1 s) meets it -> 1 / 3.0 s; met fraction 1/3
    s = summarize_stage(0, "concurrency", _records(), slo=Slo(ttft_s=0.2))
    assert s.goodput_rps == pytest.approx(1 / 3)
    assert s.slo_attainment == pytest.approx(1 / 3)
    assert summarize_stage(0, "concurrency", _records()).goodput_rps is None


def test_usage_mismatch_and_early_stop_are_flagged() -> None:
    r = _ok(0, 0.0, 0.1, 1.0, 10)
    r.client_chunk_count = 4
    r.requested_output_tokens = 16
    r.finish_reason = "stop"  # an end-of-sequence token before max_tokens
    s = summarize_stage(0, "synchronous", [r])
    assert s.token_checks["usage_differs_from_chunks"] == 1
    assert s.token_checks["stopped_before_max_tokens"] == 1


def test_a_length_stop_is_not_an_early_stop() -> None:
    r = _ok(0, 0.0, 0.1, 1.0, 10)
    r.requested_output_tokens = 16  # the server capped it (finish_reason 'length')
    s = summarize_stage(0, "synchronous", [r])
    assert "stopped_before_max_tokens" not in s.token_checks


def _poisson(rate: float, n: int, seed: int = 7) -> list[float]:
    import random

    rng, t, out = random.Random(seed), 0.0, []
    for _ in range(n):
        out.append(t)
        t += rng.expovariate(rate)
    return out


def _open_loop(scheduled: list[float], dispatched: list[float], sent: list[float],
               ttft: float = 0.02) -> list[RequestRecord]:
    recs = []
    for i, (sc, di, se) in enumerate(zip(scheduled, dispatched, sent, strict=True)):
        r = _ok(i, se, ttft, ttft + 0.05, 5)
        r.scheduled_s, r.dispatched_s = sc, di
        recs.append(r)
    return recs


def test_a_healthy_poisson_run_at_50_per_s_is_not_flagged() -> None:
    sched = _poisson(50.0, 300)
    # a fast client: dispatched 0.1-0.3 ms late, headers out 0.2-0.6 ms after that
    disp = [t + 0.0001 + 0.0002 * (i % 3) / 2 for i, t in enumerate(sched)]
    sent = [d + 0.0002 + 0.0004 * (i % 5) / 4 for i, d in enumerate(disp)]
    s = summarize_stage(0, "rate", _open_loop(sched, disp, sent), rate_req_per_s=50.0,
                        loop_lag_s=[0.0002] * 200)
    h = s.client_health
    # this Poisson draw's own rate is not 50 req/s exactly; that is no client fault
    assert h.scheduled_rate_req_per_s is not None
    assert h.achieved_rate_req_per_s == pytest.approx(h.scheduled_rate_req_per_s, rel=0.01)
    assert not h.client_limited and h.reasons == [] and h.notes == []
    assert h.client_queue_s is not None and (h.client_queue_s.p50 or 1) < 0.001


def test_an_overloaded_client_says_so_with_rate_and_cause() -> None:
    # scheduled at 800 req/s; requests wait for pooled connections and leave at 200 req/s
    sched = [i / 800 for i in range(400)]
    sent = [i / 200 for i in range(400)]
    recs = _open_loop(sched, list(sched), sent, ttft=0.002)
    h = summarize_stage(0, "rate", recs, rate_req_per_s=800.0, pool_limit=1).client_health
    assert h.client_limited and len(h.reasons) == 2
    assert "achieved 200.00 of 800.00 scheduled req/s" in h.reasons[0]
    assert "connection pool: all 1 connections were busy" in h.reasons[0]
    # the same wait with connections to spare is the client's CPU, not the pool
    h = summarize_stage(0, "rate", recs, rate_req_per_s=800.0, pool_limit=1000,
                        loop_lag_s=[0.05] * 20).client_health
    assert "pool not full: the client's CPU or event loop" in h.reasons[0]
    assert "loop lag p99 50.0 ms" in h.reasons[0]
    assert "not counted in TTFT" in h.reasons[1]
    # the client's queueing is reported apart from TTFT, which stays the server's 2 ms
    s = summarize_stage(0, "rate", recs, rate_req_per_s=800.0)
    assert s.ttft_s.p50 == pytest.approx(0.002)
    assert h.client_queue_s is not None and (h.client_queue_s.p90 or 0) > 1.0


def test_a_cpu_bound_client_names_late_dispatch() -> None:
    sched = [i / 400 for i in range(200)]
    disp = [i / 100 for i in range(200)]  # the loop could only start 100 per second
    sent = [d + 0.0003 for d in disp]
    h = summarize_stage(0, "rate", _open_loop(sched, disp, sent), rate_req_per_s=400.0,
                        loop_lag_s=[0.02] * 50).client_health
    assert h.client_limited and "late dispatch" in h.reasons[0]
    assert h.notes and "event-loop lag p99 20.00 ms" in h.notes[0]


def test_a_concurrency_cap_is_not_a_client_fault() -> None:
    sched = [i / 800 for i in range(100)]
    sent = [i / 200 for i in range(100)]
    h = summarize_stage(0, "rate", _open_loop(sched, list(sched), sent), rate_req_per_s=800.0,
                        max_concurrency=4).client_health
    assert not h.client_limited


def test_outcome_counts_has_every_kind() -> None:
    counts = outcome_counts([])
    assert counts["total"] == 0 and set(counts) >= {k.value for k in ErrorKind}
