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
"""Open-loop schedule lag (p99) above which the client did not send on time."""
RATE_SHORTFALL = 0.95
"""Achieved/requested rate below which an open-loop stage did not offer its load."""


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
        ):
            checks["stopped_before_max_tokens"] += 1
        if r.output_tokens is not None and r.output_tokens == 0:
            checks["no_output_tokens"] += 1
    return dict(sorted(checks.items()))


def _health(
    records: list[RequestRecord],
    loop_lag_s: list[float],
    requested_rate: float | None,
    open_loop: bool,
    capped: bool,
) -> ClientHealth:
    lags = [
        r.sent_s - r.scheduled_s
        for r in records
        if r.sent_s is not None and r.scheduled_s is not None
    ]
    sent = sorted(r.sent_s for r in records if r.sent_s is not None)
    achieved = (
        (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 and sent[-1] > sent[0] else None
    )
    lag_stats = describe(lags, "schedule_lag_s")
    loop_stats = describe(loop_lag_s, "loop_lag_s")
    reasons: list[str] = []
    if loop_stats.p99 is not None and loop_stats.p99 > LOOP_LAG_LIMIT_S:
        reasons.append(
            f"event-loop lag p99 {loop_stats.p99 * 1e3:.2f} ms > "
            f"{LOOP_LAG_LIMIT_S * 1e3:.0f} ms: client timestamps may be late"
        )
    if (
        open_loop
        and not capped
        and lag_stats.p99 is not None
        and lag_stats.p99 > SCHEDULE_LAG_LIMIT_S
    ):
        reasons.append(
            f"schedule lag p99 {lag_stats.p99 * 1e3:.2f} ms > "
            f"{SCHEDULE_LAG_LIMIT_S * 1e3:.0f} ms: requests left late"
        )
    if (
        requested_rate
        and achieved is not None
        and len(sent) >= 20
        and not capped
        and achieved < RATE_SHORTFALL * requested_rate
    ):
        reasons.append(f"achieved {achieved:.2f} of {requested_rate:.2f} requested req/s")
    return ClientHealth(
        requested_rate_req_per_s=requested_rate,
        achieved_rate_req_per_s=achieved,
        schedule_lag_s=lag_stats,
        loop_lag_s=loop_stats,
        client_limited=bool(reasons),
        reasons=reasons,
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
        output_throughput_tok_per_s=per_s(out_total),
        input_throughput_tok_per_s=per_s(in_total),
        request_throughput_req_per_s=per_s(len(ok)),
        goodput_req_per_s=per_s(met) if met is not None else None,
        slo_met_fraction=(met / len(measured)) if met is not None and measured else None,
        token_checks=_token_checks(ok),
        client_health=_health(
            measured,
            loop_lag_s or [],
            rate_req_per_s,
            open_loop=profile in ("rate", "trace"),
            capped=max_concurrency is not None,
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
            "the server reported no usage for some requests: their output tokens are "
            "the client's chunk count"
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
