"""Closed-form serving regimes: static batches and the steady state of a full engine.

These are exact sums of step times for static batches, and a steady-state
model of continuous batching at saturation (every step carries the full running
batch's decodes plus its share of the prompts waiting to be prefilled). The
discrete-event simulator (:mod:`inferplan.perf.simulate`) covers closed-loop and
open-loop arrivals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.specs.engine import Admission

DECODE_SAMPLES = 16


@dataclass(frozen=True, slots=True)
class StaticBatchResult:
    """Times of a static batch, seconds; throughput in output tokens per second."""

    ttft_s: float
    e2e_s: float
    decode_step_s: float
    output_tokens_per_s: float
    prompt_tokens_per_s: float


def prefill_time_s(
    step: StepTimeModel, batch: int, isl: int, budget: int | None = None, cached: int = 0
) -> float:
    """Time to prefill ``batch`` prompts of ``isl`` tokens, chunked at ``budget`` tokens;
    the first ``cached`` tokens of each are in the prefix cache (attended to, not computed)."""
    if isl <= 0 or batch <= 0:
        return 0.0
    if not 0 <= cached < isl:
        raise ValueError("cached must be >= 0 and < isl")
    new = isl - cached
    total = batch * new
    if budget is None or budget >= total:
        pairs = batch * new * (cached + (new + 1) / 2.0)
        return step.step_time_s(
            BatchShape(prefill_tokens=total, prefill_attention_pairs=pairs, prefill_seqs=batch)
        )
    # whole prompts per step when they fit, else chunks of one prompt
    t, done = 0.0, 0
    per_step = max(1, budget // new)
    while done < batch:
        n = min(per_step, batch - done)
        if new <= budget:
            pairs = n * new * (cached + (new + 1) / 2.0)
            t += step.step_time_s(
                BatchShape(prefill_tokens=n * new, prefill_attention_pairs=pairs, prefill_seqs=n)
            )
        else:
            ctx = cached
            while ctx < isl:
                c = min(budget, isl - ctx)
                t += step.step_time_s(
                    BatchShape(
                        prefill_tokens=c,
                        prefill_attention_pairs=c * (ctx + (c + 1) / 2.0),
                        prefill_seqs=1,
                    )
                )
                ctx += c
        done += n
    return t


def decode_time_s(step: StepTimeModel, batch: int, isl: int, steps: int) -> float:
    """Sum of ``steps`` decode steps of ``batch`` sequences whose context grows from
    ``isl + 1`` (trapezoid over at most DECODE_SAMPLES evaluation points; step time
    is affine in context, so this is exact up to rounding)."""
    if steps <= 0:
        return 0.0

    def at(i: float) -> float:
        ctx = int(round(isl + 1 + i))
        return step.step_time_s(BatchShape(decode_seqs=batch, decode_context_tokens=batch * ctx))

    if steps <= DECODE_SAMPLES:
        return sum(at(i) for i in range(steps))
    first, last = at(0), at(steps - 1)
    return steps * (first + last) / 2.0


def static_batch(
    step: StepTimeModel,
    batch: int,
    isl: int,
    osl: int,
    budget: int | None = None,
    cached: int = 0,
) -> StaticBatchResult:
    """A static batch: one prefill of every prompt, then ``osl - 1`` decode steps.

    The prefill step emits each sequence's first token (TTFT); E2E adds the decodes.
    ``cached`` prompt tokens of each sequence come from the prefix cache.
    """
    ttft = prefill_time_s(step, batch, isl, budget, cached)
    decode = decode_time_s(step, batch, isl, osl - 1)
    e2e = ttft + decode
    per_step = decode / (osl - 1) if osl > 1 else 0.0
    return StaticBatchResult(
        ttft_s=ttft,
        e2e_s=e2e,
        decode_step_s=per_step,
        output_tokens_per_s=batch * osl / e2e if e2e > 0 else 0.0,
        prompt_tokens_per_s=batch * isl / ttft if ttft > 0 else 0.0,
    )


@dataclass(frozen=True, slots=True)
class SteadyStateResult:
    """Saturated continuous batching: the running batch and its rates."""

    running_batch: int
    step_s: float
    steps_per_request: float
    output_tokens_per_s: float
    request_throughput_rps: float
    limited_by: str


def running_batch(
    limits: SchedulerLimits, isl: float, osl: float, requests: int, cached: float = 0.0
) -> tuple[int, str]:
    """Sequences an engine keeps running at saturation and what limits them.

    reserve_full admits a request only with room for prompt + full output; on_demand
    packs by the average context in flight, ``isl + osl / 2``; the ``cached`` prefix
    tokens of each prompt live in shared blocks, not in the sequence's own.
    """
    own = isl - cached
    per_seq = own + osl if limits.admission is Admission.RESERVE_FULL else own + osl / 2.0
    blocks = math.ceil(per_seq / limits.kv_block_tokens) * limits.kv_block_tokens
    by_kv = int(limits.kv_capacity_tokens // max(1, blocks))
    options = [(limits.max_num_seqs, "max_num_seqs"), (by_kv, "kv_cache"), (requests, "requests")]
    b, why = min(options, key=lambda x: x[0])
    return max(b, 0), why


def max_throughput(
    step: StepTimeModel,
    limits: SchedulerLimits,
    isl: float,
    osl: float,
    requests: int = 100_000,
    cached: float = 0.0,
) -> SteadyStateResult:
    """Steady state of an engine fed faster than it can serve.

    Every step carries ``B`` decodes and ``B * isl / osl`` prompt tokens (each
    request's prefill spread over its lifetime of ``osl`` steps); when those tokens
    exceed the step budget, extra steps are needed: steps per lifetime =
    ``max(osl, B * (isl + osl) / max_num_batched_tokens)``. With ``cached`` prefix tokens
    per prompt only ``isl - cached`` are computed, attending to the cached ones too.
    """
    b, why = running_batch(limits, isl, osl, requests, cached)
    if b < 1:
        return SteadyStateResult(0, math.inf, math.inf, 0.0, 0.0, why)
    new = isl - cached
    steps = max(osl, b * (new + osl) / limits.max_num_batched_tokens)
    prefill_per_step = b * new / steps
    decode_per_step = b * osl / steps
    ctx = isl + osl / 2.0
    shape = BatchShape(
        prefill_tokens=int(round(prefill_per_step)),
        prefill_attention_pairs=prefill_per_step * (cached + (new + 1) / 2.0),
        prefill_seqs=max(1, int(round(b / steps))) if isl else 0,
        decode_seqs=int(round(decode_per_step)),
        decode_context_tokens=int(round(decode_per_step * ctx)),
    )
    t = step.step_time_s(shape)
    lifetime = steps * t
    return SteadyStateResult(
        running_batch=b,
        step_s=t,
        steps_per_request=steps,
        output_tokens_per_s=b * osl / lifetime,
        request_throughput_rps=b / lifetime,
        limited_by=why,
    )
