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
    assert s.output_throughput_tok_per_s == pytest.approx(31 / 3)
    assert s.input_throughput_tok_per_s == pytest.approx(20 / 3)
    assert s.request_throughput_req_per_s == pytest.approx(2 / 3)
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
    assert s.goodput_req_per_s == pytest.approx(1 / 3)
    assert s.slo_met_fraction == pytest.approx(1 / 3)
    assert summarize_stage(0, "concurrency", _records()).goodput_req_per_s is None


def test_usage_mismatch_and_early_stop_are_flagged() -> None:
    r = _ok(0, 0.0, 0.1, 1.0, 10)
    r.client_chunk_count = 4
    r.requested_output_tokens = 16
    s = summarize_stage(0, "synchronous", [r])
    assert s.token_checks["usage_differs_from_chunks"] == 1
    assert s.token_checks["stopped_before_max_tokens"] == 1


def test_client_health_flags_a_lagging_loop_and_a_rate_shortfall() -> None:
    recs = [_ok(i, i * 0.1, 0.01, 0.05, 3) for i in range(30)]  # 10 req/s achieved
    for r in recs:
        r.scheduled_s = (r.sent_s or 0) - 0.004  # every request left 4 ms late
    s = summarize_stage(0, "rate", recs, rate_req_per_s=20.0, loop_lag_s=[0.002] * 50)
    h = s.client_health
    assert h.achieved_rate_req_per_s == pytest.approx(10.0)
    assert h.client_limited and len(h.reasons) == 3
    calm = summarize_stage(
        0, "rate", recs, rate_req_per_s=10.0, loop_lag_s=[0.0001] * 50, max_concurrency=4
    )
    assert not calm.client_health.client_limited


def test_outcome_counts_has_every_kind() -> None:
    counts = outcome_counts([])
    assert counts["total"] == 0 and set(counts) >= {k.value for k in ErrorKind}
