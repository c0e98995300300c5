"""``predict()``: latency and throughput of one deployment under one regime.

Regimes: a static batch (closed form), closed-loop concurrency and open-loop
Poisson arrivals (discrete-event simulation of continuous batching), and maximum
throughput (steady state of a saturated engine). Every figure carries the
interval derived from the validation residuals of its metric.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from inferplan.deploy.deployment import Deployment, limits_of, memory_of, step_model_of
from inferplan.deploy.disaggregation import disagg_steady
from inferplan.deploy.speculation import speculative_runtime
from inferplan.deploy.uncertainty import interval
from inferplan.errors import InfeasibleError, SpecError
from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.perf.closed_loop import closed_loop_metrics
from inferplan.perf.metrics import (
    METRIC_DEFINITIONS,
    Distribution,
    ServingMetrics,
    find_max_rate,
    slo_check,
    summarize,
)
from inferplan.perf.prefix import cached_prefix_tokens, shared_prefix_kv_tokens
from inferplan.perf.regimes import max_throughput, static_batch
from inferplan.perf.simulate import poisson_rate_evaluator, simulate
from inferplan.perf.speculative import (
    SpeculativeSpec,
    SpeculativeStepModel,
    expected_tokens_per_round,
)
from inferplan.perf.step import cpu_extrapolation_note
from inferplan.perf.workload import GammaArrivals, LengthSpec, PoissonArrivals
from inferplan.results.memory import MemoryBreakdown
from inferplan.results.perf import MetricStats, PerfResult

SIM_REQUESTS = 2000
"""Requests of an open-loop run (closed loops: :mod:`inferplan.perf.closed_loop`)."""


MAX_BATCH = 100_000
"""Most sequences one prediction takes (far above any engine's running-batch limit)."""
MAX_RATE_RPS = 1e6
"""Highest request rate one prediction takes, requests per second."""


def _stats(d: Distribution, metric: str) -> MetricStats:
    def ms(x: float | None) -> float | None:
        return None if x is None else x * 1e3

    p95 = ms(d.p95)
    iv = None
    if p95 is not None:
        lo, hi, _ = interval(metric, p95)
        iv = (lo, hi)
    return MetricStats(
        mean=ms(d.mean), p50=ms(d.p50), p90=ms(d.p90), p95=p95, p99=ms(d.p99), p95_interval=iv
    )


def _point(value_s: float, metric: str) -> MetricStats:
    v = value_s * 1e3
    lo, hi, _ = interval(metric, v)
    return MetricStats(mean=v, p50=v, p90=v, p95=v, p99=v, p95_interval=(lo, hi))


def _speculate(
    d: Deployment,
    mem: MemoryBreakdown,
    spec: SpeculativeSpec,
    draft_model: str | None,
    isl: int,
    osl: int,
) -> tuple[SpeculativeStepModel, SchedulerLimits, str]:
    """The speculative step model, the KV capacity left beside the drafter
    (:func:`~inferplan.deploy.speculation.speculative_runtime`), and a note."""
    sm, limits = speculative_runtime(d, mem, spec, draft_model, isl + osl)
    draft = sm.draft
    e = expected_tokens_per_round(spec.draft_tokens, spec.acceptance_rate)
    one = sm.speedup(BatchShape(decode_seqs=1, decode_context_tokens=isl + osl // 2))
    note = (
        f"speculative decoding ({spec.method}{f' {draft_model}' if draft else ''}, "
        f"{spec.draft_tokens} draft tokens, acceptance {spec.acceptance_rate:g}): "
        f"{e:.2f} tokens per verify step; decode {one:.2f}x as fast at batch 1; "
        "ITL percentiles are per-token means (tokens arrive in bursts)"
    )
    return sm, limits, note


def curve(d: Deployment, isl: int, osl: int, top: int | None = None) -> list[dict[str, float]]:
    """Closed-loop concurrency sweep (1, 2, 4, ...): throughput and p95 latencies, each point
    the steady state ``perf --concurrency`` reports
    (:func:`~inferplan.perf.closed_loop.closed_loop_metrics`)."""
    mem = memory_of(d, isl + osl, 1)
    step, limits = step_model_of(d), limits_of(d, mem)
    out = []
    c, top = 1, top or limits.max_num_seqs
    while c <= top:
        # the same steady-state closed loop as ``perf --concurrency c`` (mid-step wait in TTFT)
        m = closed_loop_metrics(step, limits, isl, osl, c).metrics
        out.append(
            {
                "concurrency": float(c),
                "output_tokens_per_s": m.output_tokens_per_s * d.replicas,
                "ttft_p95_ms": (m.ttft_s.p95 or 0.0) * 1e3,
                "tpot_p95_ms": (m.tpot_s.p95 or 0.0) * 1e3,
            }
        )
        c *= 2
    return out


def predict(
    d: Deployment,
    isl: int,
    osl: int,
    batch: int | None = None,
    concurrency: int | None = None,
    rate_rps: float | None = None,
    slo_ttft_ms: float | None = None,
    slo_tpot_ms: float | None = None,
    with_curve: bool = False,
    seed: int = 0,
    arrival_cv: float = 1.0,
    prefix_share: float = 0.0,
    speculative: SpeculativeSpec | None = None,
    draft_model: str | None = None,
    lengths: tuple[LengthSpec, LengthSpec] | None = None,
) -> PerfResult:
    """Predict the metrics of ``d`` for fixed prompt/output lengths under one regime.

    Open-loop arrivals are Poisson (``arrival_cv`` = 1) or gamma with that coefficient
    of variation of the inter-arrival times (> 1 is burstier). ``prefix_share`` of each
    prompt's tokens is found in the engine's prefix cache (:mod:`inferplan.perf.prefix`):
    not recomputed, and stored once per replica instead of once per sequence.
    ``speculative`` decoding (:mod:`inferplan.perf.speculative`) with a ``draft_model`` (a
    catalog id, same accelerator, engine and precision) whose weights and KV share the
    replica's memory. With ``lengths`` (prompt, output distributions, e.g. a dataset's) the
    closed-loop and open-loop regimes draw each request's lengths from them; the static
    batch and the max-throughput steady state use ``isl`` and ``osl`` (their means).
    """
    if isl < 1:
        raise SpecError("isl", f"must be >= 1 prompt token, got {isl}")
    if osl < 1:
        raise SpecError("osl", f"must be >= 1 output token, got {osl}")
    given = [x is not None for x in (batch, concurrency, rate_rps)]
    if sum(given) > 1:
        raise SpecError("batch", "give at most one of --batch, --concurrency, --rate")
    for name, val, top in (
        ("batch", batch, MAX_BATCH),
        ("concurrency", concurrency, MAX_BATCH),
        ("rate", rate_rps, MAX_RATE_RPS),
    ):
        if val is not None and not 0 < val <= top:
            raise SpecError(name, f"must be > 0 and at most {top:,g}, got {val:g}")
    if isl + osl > d.model.max_context:
        raise SpecError(
            "isl",
            f"isl + osl = {isl + osl:,} tokens exceeds {d.model.id}'s context window of "
            f"{d.model.max_context:,} tokens",
        )
    mem = memory_of(d, isl + osl, batch or 1)
    if not mem.fits:
        raise InfeasibleError(f"does not fit: {mem.reason}")
    step: StepTimeModel = step_model_of(d)
    limits = limits_of(d, mem)
    notes: list[str] = []
    if speculative is not None:
        step, limits, note = _speculate(d, mem, speculative, draft_model, isl, osl)
        notes.append(note)
    cached = int(cached_prefix_tokens(np.array([max(isl, 1)]), prefix_share)[0]) if isl else 0
    if cached:
        shared = shared_prefix_kv_tokens(isl, prefix_share)
        limits = replace(limits, kv_capacity_tokens=max(1, limits.kv_capacity_tokens - shared))
        notes.append(
            f"prefix cache: {cached} of {isl} prompt tokens ({prefix_share:.0%}) cached, "
            "not recomputed; their KV is stored once per replica"
        )
    if d.efficiency is None:  # catalog parameters, not ones calibrated on this machine
        cpu_note = cpu_extrapolation_note(
            d.accelerator,
            d.engine.efficiency,
            d.model.num_layers,
            lambda: static_batch(step, 1, isl, osl).decode_step_s,
        )
        if cpu_note:
            notes.append(cpu_note)
    base = dict(
        model=d.model.id,
        accelerator=d.accelerator.id,
        engine=d.engine.id,
        precision=d.weights.precision.value,
        kv_precision=d.kv_precision,
        tp=d.tp,
        pp=d.pp,
        replicas=d.replicas,
        isl=float(isl),
        osl=float(osl),
        # with speculative decoding the drafter's weights and KV come out of the cache
        kv_capacity_tokens=limits.kv_capacity_tokens if speculative else mem.kv_capacity_tokens,
        metric_definitions=METRIC_DEFINITIONS,
    )
    slo_t = slo_ttft_ms / 1e3 if slo_ttft_ms else None
    slo_p = slo_tpot_ms / 1e3 if slo_tpot_ms else None
    if batch is not None:
        r = static_batch(step, batch, isl, osl, cached=cached)
        tok = r.output_tokens_per_s * d.replicas
        lo, hi, basis = interval("output_tokens_per_s", tok)
        return PerfResult(
            **base,
            regime="static_batch",
            load=float(batch),
            ttft_ms=_point(r.ttft_s, "ttft_ms"),
            tpot_ms=_point(r.decode_step_s, "tpot_ms"),
            itl_ms=_point(r.decode_step_s, "itl_ms"),
            e2e_ms=_point(r.e2e_s, "e2e_latency_s"),
            output_tokens_per_s=tok,
            output_tokens_per_s_interval=(lo, hi),
            request_throughput_rps=batch * d.replicas / r.e2e_s,
            running_batch=batch,
            interval_basis=basis,
            curve=curve(d, isl, osl) if with_curve else [],
            notes=notes,
        )
    if concurrency is None and rate_rps is None:
        ss = max_throughput(step, limits, isl, osl, cached=cached)
        tok = ss.output_tokens_per_s * d.replicas
        lo, hi, basis = interval("output_tokens_per_s", tok)
        notes.append(
            "max throughput: the engine is fed faster than it serves; latencies are "
            "those of its full running batch"
        )
        return PerfResult(
            **base,
            regime="max_throughput",
            ttft_ms=_point(ss.step_s * ss.steps_per_request / 2, "ttft_ms"),
            tpot_ms=_point(ss.step_s, "tpot_ms"),
            itl_ms=_point(ss.step_s, "itl_ms"),
            e2e_ms=_point(ss.step_s * ss.steps_per_request, "e2e_latency_s"),
            output_tokens_per_s=tok,
            output_tokens_per_s_interval=(lo, hi),
            request_throughput_rps=ss.request_throughput_rps * d.replicas,
            running_batch=ss.running_batch,
            limited_by=ss.limited_by,
            interval_basis=basis,
            curve=curve(d, isl, osl) if with_curve else [],
            notes=notes,
        )
    max_rate = None
    if concurrency is not None:
        per = max(1, round(concurrency / d.replicas))
        if per * d.replicas != concurrency:
            notes.append(f"concurrency split as {per} per replica over {d.replicas} replicas")
        cl = closed_loop_metrics(step, limits, isl, osl, per, cached, slo_t, slo_p, lengths=lengths)
        m: ServingMetrics = cl.metrics
        if cl.mid_step_wait_s:
            notes.append(
                f"TTFT includes {cl.mid_step_wait_s * 1e3:.1f} ms of mean wait for the step "
                "in progress when a request reaches the busy engine"
            )
        regime, load = "closed_loop", float(concurrency)
    else:
        assert rate_rps is not None
        per_rate = rate_rps / d.replicas
        process = (
            PoissonArrivals(rate_rps=per_rate)
            if arrival_cv == 1.0
            else GammaArrivals(rate_rps=per_rate, cv=arrival_cv)
        )
        arrivals = process.arrival_times_s(np.random.default_rng(seed), SIM_REQUESTS)
        if lengths is None:
            isls, osls = np.full(SIM_REQUESTS, isl), np.full(SIM_REQUESTS, osl)
        else:
            rng = np.random.default_rng(seed + 1)
            isls, osls = lengths[0].sample(rng, SIM_REQUESTS), lengths[1].sample(rng, SIM_REQUESTS)
        cached_a = np.minimum(np.full(SIM_REQUESTS, cached), np.maximum(isls - 1, 0))
        run = simulate(step, limits, isls, osls, arrivals_s=arrivals, cached_tokens=cached_a)
        m = summarize(
            run,
            slo_t,
            slo_p,
            warmup_requests=SIM_REQUESTS // 10,
            cooldown_requests=SIM_REQUESTS // 10,
        )
        regime = "poisson" if arrival_cv == 1.0 else f"gamma(cv={arrival_cv:g})"
        load = float(rate_rps)
        if slo_t or slo_p:
            ev = poisson_rate_evaluator(
                step, limits, isls[:800], osls[:800], seed=seed, slo_ttft_s=slo_t, slo_tpot_s=slo_p
            )
            ceiling = max_throughput(step, limits, isl, osl).request_throughput_rps
            found = find_max_rate(
                ev, slo_check(slo_t, slo_p, 95.0), ceiling * 0.01, ceiling * 1.05, rel_tol=0.03
            )
            max_rate = found.max_rate_rps * d.replicas if found.max_rate_rps else None
    tok = m.output_tokens_per_s * d.replicas
    lo, hi, basis = interval("output_tokens_per_s", tok)
    return PerfResult(
        **base,
        regime=regime,
        load=load,
        ttft_ms=_stats(m.ttft_s, "ttft_ms"),
        tpot_ms=_stats(m.tpot_s, "tpot_ms"),
        itl_ms=_stats(m.itl_s, "itl_ms"),
        e2e_ms=_stats(m.e2e_s, "e2e_latency_s"),
        output_tokens_per_s=tok,
        output_tokens_per_s_interval=(lo, hi),
        request_throughput_rps=m.request_throughput_rps * d.replicas,
        goodput_rps=m.goodput_rps * d.replicas if m.goodput_rps is not None else None,
        slo_attainment=m.slo_attainment,
        max_rate_at_slo_rps=max_rate,
        interval_basis=basis,
        curve=curve(d, isl, osl) if with_curve else [],
        notes=notes,
    )


def disaggregation_note(d: Deployment, isl: int, osl: int) -> str:
    """Disaggregated prefill/decode pools of ``d``'s replica layout against colocated serving.

    Both pools use ``d``'s replica (:func:`~inferplan.deploy.disaggregation.disagg_steady`).
    """
    mem = memory_of(d, isl + osl, 1)
    if not mem.fits:
        raise InfeasibleError(f"does not fit: {mem.reason}")
    step, limits = step_model_of(d), limits_of(d, mem)
    r = disagg_steady(d, step, limits, isl, osl, limits.max_num_seqs)
    colocated = max_throughput(step, limits, isl, osl)
    per_device = colocated.output_tokens_per_s / d.devices_per_replica
    return (
        f"disaggregated: {r.prefill_replicas_per_decode_replica:.2f} prefill replicas per "
        f"decode replica; TPOT {r.tpot_s * 1e3:.1f} ms at decode batch "
        f"{r.decode_running_batch}, KV transfer {r.kv_transfer_s * 1e3:.1f} ms; "
        f"{r.output_tokens_per_s_per_device:,.0f} output tok/s per device vs "
        f"{per_device:,.0f} colocated (TPOT {colocated.step_s * 1e3:.1f} ms)"
    )
