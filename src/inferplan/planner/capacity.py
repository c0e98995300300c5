"""Throughput one replica sustains within latency targets (closed form).

At a running batch of ``B`` sequences in steady state, every step carries ``B``
decodes and the prompts of the requests replacing finished ones, ``B * isl / osl``
prompt tokens (chunked prefill spreads them evenly). Then

* TPOT ~ the step time, and the SLO percentile is taken ``TPOT_TAIL`` above it
  (steps that carry a whole prompt chunk are longer than the mean);
* TTFT ~ half a step of waiting plus ``ceil(ceil(isl_tail) / chunk)`` steps that each carry a
  prompt chunk of ``chunk = max_num_batched_tokens - B`` tokens (with attention data
  parallelism, one group's share: a prompt runs on one group), times ``TTFT_TAIL``
  for queueing at the planned utilisation, where ``isl_tail`` is a high percentile
  of the prompt lengths (the SLO is a percentile, and long prompts set it);
* request rate = ``B / (osl * step)``.

Speculative decoding (:class:`~inferplan.perf.speculative.SpeculativeStepModel`): TPOT is
the mean time per emitted token; TTFT counts whole rounds (a prompt chunk advances once
per round, whatever the round emits).

Prefix caching: with a shared-prefix share ``s`` (``workload.cached_input_share``: a
system prompt or RAG template the engine finds in its prefix cache) a prompt of
``isl`` tokens computes only ``isl - floor(s x isl)`` of them, attending to the
cached ones too; its private KV holds only those, the shared prefix is stored once
per replica (:mod:`inferplan.perf.prefix`).

The largest ``B`` (up to the KV-cache and scheduler limits) whose estimates meet
both targets gives the replica's capacity. The discrete-event simulator checks the
chosen design afterwards (:func:`inferplan.planner.verify.verify_latency`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.perf.regimes import running_batch
from inferplan.perf.speculative import SpeculativeStepModel

TPOT_TAIL = 1.10
TTFT_TAIL = 1.50


@dataclass(frozen=True, slots=True)
class Capacity:
    """Capacity of one replica at the SLO (rates per replica)."""

    batch: int
    requests_per_s: float
    output_tokens_per_s: float
    tpot_s: float
    ttft_s: float
    limited_by: str


def cached_tokens(isl: float, share: float) -> int:
    """Prompt tokens found in the prefix cache: ``floor(share x isl)``, at most
    ``ceil(isl) - 1`` (the last prompt token is always computed)."""
    if share <= 0.0:
        return 0
    return max(0, min(math.floor(share * isl), math.ceil(isl) - 1))


def with_shared_prefix(limits: SchedulerLimits, isl: float, share: float) -> SchedulerLimits:
    """Scheduler limits less the KV of the shared prefix (the mean prompt's), stored
    once per replica."""
    shared = cached_tokens(isl, share)
    if not shared:
        return limits
    return replace(limits, kv_capacity_tokens=max(1, limits.kv_capacity_tokens - shared))


def prompt_chunk_tokens(limits: SchedulerLimits, batch: int, dp: int = 1) -> int:
    """Prompt tokens one step can carry beside ``batch`` decodes: the token budget less the
    decodes, or, with ``dp`` attention data-parallel groups (each its own scheduler, a
    prompt on one of them), one group's share of it.

    >>> from inferplan.perf.batch import SchedulerLimits
    >>> lim = SchedulerLimits(max_num_seqs=256, max_num_batched_tokens=8192 * 16,
    ...                       kv_capacity_tokens=10**6)
    >>> prompt_chunk_tokens(lim, 16), prompt_chunk_tokens(lim, 16, dp=16)
    (131056, 8191)
    """
    groups = max(1, dp)
    return (limits.max_num_batched_tokens - batch) // groups


def _estimate(
    step: StepTimeModel,
    limits: SchedulerLimits,
    b: int,
    isl: float,
    osl: float,
    isl_tail: float | None = None,
    prefix_share: float = 0.0,
) -> tuple[float, float]:
    """(TPOT, TTFT) estimates at running batch ``b``; TTFT for a prompt of
    ``isl_tail`` tokens (a high percentile of the prompt lengths) when given.
    ``prefix_share`` of every prompt is found in the prefix cache."""
    long_isl = max(isl, isl_tail or isl)
    cached = isl * prefix_share
    new = isl - cached
    prefill = b * new / osl
    shape = BatchShape(
        prefill_tokens=int(round(prefill)),
        prefill_attention_pairs=prefill * (cached + (new + 1) / 2.0),
        prefill_seqs=max(1, int(round(b / osl))),
        decode_seqs=b,
        decode_context_tokens=int(round(b * (isl + osl / 2.0))),
    )
    tpot = step.step_time_s(shape)
    # a prompt chunk moves on once per step; under speculative decoding a step is a whole
    # round (drafting and verify), not the mean time per emitted token
    full = step.round_time_s if isinstance(step, SpeculativeStepModel) else step.step_time_s
    # whole tokens: a 1,907.3-token prompt is 1,908 tokens, one chunk when the budget
    # holds them (counting it as int() = 1,907 made ceil(1907.3 / 1907) two chunks)
    long_tokens = math.ceil(long_isl)
    long_cached = cached_tokens(long_isl, prefix_share)
    long_new = long_tokens - long_cached
    chunk = max(1, min(long_new, prompt_chunk_tokens(limits, b, getattr(step, "dp", 1))))
    chunk_step = full(
        BatchShape(
            prefill_tokens=chunk,
            prefill_attention_pairs=chunk * (long_cached + (long_new + 1) / 2.0),
            prefill_seqs=1,
            decode_seqs=b,
            decode_context_tokens=int(round(b * (isl + osl / 2.0))),
        )
    )
    ttft = 0.5 * full(shape) + math.ceil(long_new / chunk) * chunk_step
    return tpot, ttft


def capacity_at_slo(
    step: StepTimeModel,
    limits: SchedulerLimits,
    isl: float,
    osl: float,
    ttft_slo_s: float,
    tpot_slo_s: float,
    isl_tail: float | None = None,
    prefix_share: float = 0.0,
) -> Capacity | None:
    """Largest steady-state load meeting both targets, or None if even one
    sequence at a time misses them. ``limits`` should already exclude the shared
    prefix's KV (:func:`with_shared_prefix`)."""
    b_max, why = running_batch(limits, isl, osl, 1_000_000, cached=isl * prefix_share)
    b_max = max(1, b_max)

    def ok(b: int) -> bool:
        tpot, ttft = _estimate(step, limits, b, isl, osl, isl_tail, prefix_share)
        return tpot * TPOT_TAIL <= tpot_slo_s and ttft * TTFT_TAIL <= ttft_slo_s

    if not ok(1):
        return None
    lo, hi = 1, b_max
    if ok(hi):
        lo = hi
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ok(mid):
                lo = mid
            else:
                hi = mid
        why = "latency"
    tpot, ttft = _estimate(step, limits, lo, isl, osl, isl_tail, prefix_share)
    rps = lo / (osl * tpot)
    return Capacity(lo, rps, rps * osl, tpot, ttft, why)


def latency_floor(
    step: StepTimeModel,
    limits: SchedulerLimits,
    isl: float,
    osl: float,
    isl_tail: float | None = None,
    prefix_share: float = 0.0,
) -> tuple[float, float]:
    """(TPOT, TTFT) of a single sequence: what no amount of hardware of this design beats."""
    return _estimate(step, limits, 1, isl, osl, isl_tail, prefix_share)
