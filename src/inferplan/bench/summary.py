"""Turn per-request records into per-stage statistics (definitions in ``results``).

Only ``measure``-phase records count. Latency statistics use completed requests
only; errors are counted by kind beside them, never mixed in. The measured
window runs from the first measured request sent to the last measured request
ended (errors included, since they occupied it); throughputs divide the tokens
of completed requests by it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from inferplan.bench.results import (
    ClientHealth,
    ErrorKind,
    Phase,
    RequestRecord,
    RunMetadata,
    RunSummary,
    StageSummary,
    StatResult,
)
from inferplan.bench.stats import PERCENTILES, describe, min_samples_for_ci

LOOP_LAG_LIMIT_S = 0.001
"""Event-loop lag (p99) above which client timestamps may be off by more than 1 ms."""
SCHEDULE_LAG_LIMIT_S = 0.001
"""Kept for callers: the old open-loop schedule-lag limit (1 ms)."""
RATE_SHORTFALL = 0.95
"""Achieved/scheduled rate below which an open-loop stage did not offer its load."""
QUEUE_LIMIT_S = 0.010
"""Client queueing (p90) above which, when it is also over :data:`QUEUE_SHARE` of the
median TTFT, the client is the bottleneck."""
QUEUE_SHARE = 0.10


@dataclass(frozen=True)
class Slo:
    """Per-request service-level objectives in s (``None``: not checked)."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.ttft_s, self.tpot_s, self.e2e_s))

    def met(self, rec: RequestRecord) -> bool:
        """True when ``rec`` completed and met every given objective."""
        if not rec.ok:
            return False
        checks = ((self.ttft_s, rec.ttft_s), (self.tpot_s, rec.tpot_s), (self.e2e_s, rec.e2e_s))
        return all(limit is None or value is None or value <= limit for limit, value in checks)

    def as_dict(self) -> dict[str, float]:
        pairs = (("ttft_s", self.ttft_s), ("tpot_s", self.tpot_s), ("e2e_s", self.e2e_s))
        return {k: v for k, v in pairs if v is not None}


def outcome_counts(records: list[RequestRecord]) -> dict[str, int]:
    """Requests by outcome: ``ok``, each error kind, and ``total``."""
    counts = Counter("ok" if r.ok else str(r.error_kind or ErrorKind.INCOMPLETE) for r in records)
    out = {"ok": counts.get("ok", 0)}
    out.update({kind.value: counts.get(kind.value, 0) for kind in ErrorKind})
    out["total"] = len(records)
    return out


def _token_checks(ok: list[RequestRecord]) -> dict[str, int]:
    checks: Counter[str] = Counter()
    for r in ok:
        checks[f"output_source_{r.output_tokens_source or 'none'}"] += 1
        checks[f"input_source_{r.input_tokens_source or 'none'}"] += 1
        if r.output_tokens_source in ("usage", "continuous_usage"):
            checks["usage_checked_against_chunks"] += 1
            if r.output_tokens != r.client_chunk_count:
                checks["usage_differs_from_chunks"] += 1
        if (
            r.requested_output_tokens
            and r.output_tokens is not None
            and r.output_tokens < r.requested_output_tokens
            and r.finish_reason != "length"  # a length stop is no end-of-sequence token
        ):
            checks["stopped_before_max_tokens"] += 1
        if r.output_tokens is not None and r.output_tokens == 0:
            checks["no_output_tokens"] += 1
    return dict(sorted(checks.items()))


def _rate(times: list[float]) -> float | None:
    times = sorted(times)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] \
        else None


def _max_busy(records: list[RequestRecord]) -> int:
    """Most requests on the wire at once (sent, not yet ended): connections in use."""
    events = sorted(
        [(r.sent_s, 1) for r in records if r.sent_s is not None and r.end_s is not None]
        + [(r.end_s, -1) for r in records if r.sent_s is not None and r.end_s is not None]
    )
    busy = top = 0
    for _, step in events:
        busy += step
        top = max(top, busy)
    return top


def _health(
    records: list[RequestRecord],
    loop_lag_s: list[float],
    requested_rate: float | None,
    open_loop: bool,
    capped: bool,
    pool_limit: int | None = None,
) -> ClientHealth:
    """Did the client keep its schedule, and where did requests wait inside it?

    Reasons (``client_limited``): the requests left at a rate below 95% of the
    rate their own scheduled times imply (an open-loop stage without a
    concurrency cap), or requests waited in the client (p90 of sent - scheduled)
    more than 10 ms and more than 10% of the median TTFT. Each reason names the
    largest part of the wait: late dispatch (CPU or event loop), the connection
    pool, or opening connections.
    """
    timed = [r for r in records if r.sent_s is not None and r.scheduled_s is not None]
    queue = [r.sent_s - r.scheduled_s for r in timed]  # type: ignore[operator]
    dispatch = [r.dispatched_s - r.scheduled_s for r in timed if r.dispatched_s is not None]  # type: ignore[operator]
    connect = [r.connect_s for r in records if r.connect_s is not None]
    pool = [
        r.sent_s - r.dispatched_s - (r.connect_s or 0.0)  # type: ignore[operator]
        for r in timed
        if r.dispatched_s is not None
    ]
    achieved = _rate([r.sent_s for r in timed])  # type: ignore[misc]
    scheduled = _rate([r.scheduled_s for r in timed])  # type: ignore[misc]
    queue_stats = describe(queue, "client_queue_s")
    dispatch_stats = describe(dispatch, "dispatch_lag_s")
    pool_stats = describe(pool, "pool_wait_s")
    connect_stats = describe(connect, "connect_s")
    loop_stats = describe(loop_lag_s, "loop_lag_s")
    ttfts = sorted(v for r in records if r.ok and (v := r.ttft_s) is not None)
    ttft_p50 = ttfts[len(ttfts) // 2] if ttfts else 0.0
    reasons: list[str] = []
    notes: list[str] = []
    if loop_stats.p99 is not None and loop_stats.p99 > LOOP_LAG_LIMIT_S:
        notes.append(
            f"event-loop lag p99 {loop_stats.p99 * 1e3:.2f} ms: client timestamps may be "
            f"late by up to that much"
        )

    busy = _max_busy(records)
    loop_ms = (loop_stats.p99 or 0.0) * 1e3

    def cause() -> str:
        cpu = (f"the client's CPU or event loop could not keep up (loop lag p99 {loop_ms:.1f} "
               f"ms; at most {busy} connections busy)")
        parts = {
            "late dispatch: " + cpu: dispatch_stats.p90 or 0.0,
            "waiting for a connection": pool_stats.p90 or 0.0,
            "opening new connections": connect_stats.p90 or 0.0,
        }
        top = max(parts, key=lambda k: parts[k])
        if top != "waiting for a connection":
            return top
        if pool_limit is not None and busy >= pool_limit:
            return f"connection pool: all {pool_limit} connections were busy"
        if pool_limit is not None:
            return "waiting for a connection with the pool not full: " + cpu
        return f"waiting for a connection (connection pool or CPU; loop lag p99 {loop_ms:.1f} ms)"

    schedule_missed = (
        open_loop
        and not capped
        and achieved is not None
        and scheduled is not None
        and len(timed) >= 20
        and achieved < RATE_SHORTFALL * scheduled
    )
    queued = (
        queue_stats.p90 is not None
        and queue_stats.p90 > QUEUE_LIMIT_S
        and queue_stats.p90 > QUEUE_SHARE * ttft_p50
        and not (capped and open_loop)
    )
    if schedule_missed:
        reasons.append(
            f"the client could not keep the schedule: achieved {achieved:.2f} of "
            f"{scheduled:.2f} scheduled req/s; cause: {cause()}"
        )
    if queued:
        reasons.append(
            f"requests waited in the client p50 {(queue_stats.p50 or 0) * 1e3:.1f} ms, p90 "
            f"{(queue_stats.p90 or 0) * 1e3:.1f} ms before leaving (not counted in TTFT); "
            f"cause: {cause()}"
        )
    return ClientHealth(
        requested_rate_req_per_s=requested_rate,
        scheduled_rate_req_per_s=scheduled,
        achieved_rate_req_per_s=achieved,
        schedule_lag_s=queue_stats,
        client_queue_s=queue_stats,
        dispatch_lag_s=dispatch_stats,
        pool_wait_s=pool_stats,
        connect_s=connect_stats,
        loop_lag_s=loop_stats,
        client_limited=bool(reasons),
        reasons=reasons,
        notes=notes,
    )


def summarize_stage(
    stage: int,
    profile: str,
    records: list[RequestRecord],
    *,
    concurrency: int | None = None,
    rate_req_per_s: float | None = None,
    max_concurrency: int | None = None,
    loop_lag_s: list[float] | None = None,
    slo: Slo | None = None,
    server_metrics: dict[str, float] | None = None,
    pool_limit: int | None = None,
) -> StageSummary:
    """Statistics of one stage from its records (warm-up records are ignored)."""
    measured = [r for r in records if r.phase is Phase.MEASURE]
    ok = [r for r in measured if r.ok]
    starts = [r.sent_s for r in measured if r.sent_s is not None]
    ends = [r.end_s for r in measured if r.end_s is not None]
    window_s = max(ends) - min(starts) if starts and ends and max(ends) > min(starts) else 0.0
    out_total = sum(r.output_tokens or 0 for r in ok)
    in_total = sum(r.input_tokens or 0 for r in ok)
    gaps: list[float] = []
    basis = "token"
    for r in ok:
        g, b = r.itl_gaps_s()
        gaps.extend(g)
        if b == "chunk":
            basis = "chunk"
    per_s = (lambda x: x / window_s) if window_s > 0 else (lambda x: 0.0)
    slo = slo or Slo()
    met = sum(1 for r in measured if slo.met(r)) if slo.given else None
    summary = StageSummary(
        stage=stage,
        profile=profile,
        concurrency=concurrency,
        rate_req_per_s=rate_req_per_s,
        counts=outcome_counts(measured),
        window_s=window_s,
        ttft_s=describe([v for r in ok if (v := r.ttft_s) is not None], "ttft_s"),
        ttfc_s=describe(
            [
                r.first_content_s - r.sent_s
                for r in ok
                if r.first_content_s is not None and r.sent_s is not None
            ],
            "ttfc_s",
        ),
        itl_s=describe(gaps, "itl_s"),
        itl_basis=basis,
        tpot_s=describe([v for r in ok if (v := r.tpot_s) is not None], "tpot_s"),
        e2e_s=describe([v for r in ok if (v := r.e2e_s) is not None], "e2e_s"),
        output_tokens_total=out_total,
        input_tokens_total=in_total,
        output_tokens_per_s=per_s(out_total),
        input_tokens_per_s=per_s(in_total),
        request_throughput_rps=per_s(len(ok)),
        goodput_rps=per_s(met) if met is not None else None,
        slo_attainment=(met / len(measured)) if met is not None and measured else None,
        token_checks=_token_checks(ok),
        client_health=_health(
            measured,
            loop_lag_s or [],
            rate_req_per_s,
            open_loop=profile in ("rate", "trace"),
            capped=max_concurrency is not None,
            pool_limit=pool_limit,
        ),
        server_metrics=server_metrics or {},
    )
    summary.warnings = _warnings(summary)
    return summary


def _ci_warning(s: StageSummary) -> str | None:
    """One line naming the percentiles whose confidence interval needs more samples."""
    parts = []
    for name in ("ttft_s", "itl_s", "tpot_s", "e2e_s"):
        stat: StatResult = getattr(s, name)
        missing = [f"p{p}" for p in PERCENTILES if getattr(stat, f"p{p}_ci") is None]
        if stat.count and missing:
            need = max(min_samples_for_ci(int(m[1:]) / 100) for m in missing)
            parts.append(f"{name[:-2]} {'/'.join(missing)} (n={stat.count}, needs >= {need})")
    return "too few samples for 95% intervals: " + "; ".join(parts) if parts else None


def _warnings(s: StageSummary) -> list[str]:
    out: list[str] = []
    ci = _ci_warning(s)
    if ci:
        out.append(ci)
    for stat in (s.ttft_s, s.tpot_s, s.e2e_s):
        if stat.count == 0:
            out.extend(stat.warnings)
    out.extend(f"client: {r}" for r in s.client_health.reasons)
    out.extend(f"client note: {n}" for n in s.client_health.notes)
    failed = s.counts["total"] - s.counts["ok"]
    if failed:
        kinds = ", ".join(f"{s.counts[k.value]} {k.value}" for k in ErrorKind if s.counts[k.value])
        out.append(f"{failed} of {s.counts['total']} requests failed ({kinds})")
    if s.token_checks.get("usage_differs_from_chunks"):
        out.append(
            f"{s.token_checks['usage_differs_from_chunks']} requests streamed a chunk "
            "count different from their usage tokens (multi-token chunks?)"
        )
    if s.token_checks.get("stopped_before_max_tokens"):
        out.append(
            f"{s.token_checks['stopped_before_max_tokens']} requests stopped before "
            "max_tokens (EOS not ignored?)"
        )
    if s.token_checks.get("output_source_client_chunks"):
        out.append(
            f"the server reported no usage for {s.token_checks['output_source_client_chunks']} "
            "requests that stopped before their length limit: their output tokens are the "
            "client's chunk count (a lower bound if a chunk carries several tokens)"
        )
    if s.token_checks.get("output_source_max_tokens"):
        out.append(
            f"the server reported no usage for {s.token_checks['output_source_max_tokens']} "
            "requests stopped by their length limit: their output tokens are max_tokens"
        )
    return out


def build_summary(
    metadata: RunMetadata,
    records: list[RequestRecord],
    config: dict[str, Any] | None = None,
    stage_metrics: list[dict[str, float]] | None = None,
    loop_lags: list[list[float]] | None = None,
) -> RunSummary:
    """The run summary from its records (used live and by ``bench report``).

    ``config`` is the run's settings as written in ``run.json`` (``BenchConfig.public_dict``);
    ``stage_metrics`` and ``loop_lags`` are per-stage server metrics and event-loop lags.
    """
    cfg = config if config is not None else metadata.config
    slo = Slo(
        ttft_s=cfg.get("slo_ttft_s"), tpot_s=cfg.get("slo_tpot_s"), e2e_s=cfg.get("slo_e2e_s")
    )
    measured = [r for r in records if r.phase is Phase.MEASURE]
    stage_ids = sorted({r.stage for r in measured})
    profile = str(cfg.get("profile") or "concurrency")
    levels = list(cfg.get("concurrency") or cfg.get("rate") or [])
    stages = []
    for sid in stage_ids:
        level = levels[sid] if sid < len(levels) else None
        is_rate = cfg.get("rate") is not None
        closed = not is_rate and profile != "trace"
        stage_profile = profile
        if closed:
            stage_profile = "synchronous" if level in (None, 1) else "concurrency"
        stages.append(
            summarize_stage(
                sid,
                stage_profile,
                [r for r in measured if r.stage == sid],
                concurrency=(int(level) if level is not None else 1) if closed else None,
                rate_req_per_s=float(level) if is_rate and level is not None else None,
                max_concurrency=cfg.get("max_concurrency"),
                slo=slo,
                loop_lag_s=loop_lags[sid] if loop_lags and sid < len(loop_lags) else None,
                server_metrics=(
                    stage_metrics[sid] if stage_metrics and sid < len(stage_metrics) else None
                ),
                pool_limit=pool if isinstance(pool := metadata.client.get("max_connections"),
                                              int) else None,
            )
        )
    warnings = [f"stage {s.stage}: {w}" for s in stages for w in s.warnings]
    return RunSummary(
        metadata=metadata,
        stages=stages,
        counts=outcome_counts(measured),
        warmup_requests=len(records) - len(measured),
        slo=slo.as_dict(),
        warnings=warnings,
    )
