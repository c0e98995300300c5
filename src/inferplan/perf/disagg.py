"""Disaggregated serving: separate prefill and decode pools joined by a KV transfer.

A prefill replica runs only prompts (whole prompts packed up to its token budget, longer ones
chunked) and emits each request's first token; the request's KV cache then moves over the
interconnect to a decode replica, whose steps carry only decodes, so prompts never stall
them (DistServe, Zhong et al., OSDI 2024, arXiv:2401.09670; Splitwise, Patel et al., ISCA
2024, arXiv:2311.18677). Each pool is sized to the other's rate: a decode replica finishing
``r_d`` requests per second needs ``r_d / r_p`` prefill replicas of rate ``r_p``.

:func:`disaggregated` gives the steady state of one decode replica with its share of the
prefill pool: rates, the pool ratio, TTFT of an unloaded prefill, the KV transfer that
delays the second token, TPOT at the decode pool's running batch and output tokens per
second per device, to compare with a colocated deployment of the same devices
(:func:`~inferplan.perf.regimes.max_throughput`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.perf.regimes import prefill_time_s, running_batch


@dataclass(frozen=True, slots=True)
class DisaggResult:
    """Steady state of a decode replica and its share of the prefill pool (s, req/s, tok/s)."""

    prefill_rps_per_replica: float
    decode_rps_per_replica: float
    prefill_replicas_per_decode_replica: float
    decode_running_batch: int
    ttft_s: float
    kv_transfer_s: float
    tpot_s: float
    output_tokens_per_s_per_device: float


def disaggregated(
    prefill_step: StepTimeModel,
    decode_step: StepTimeModel,
    prefill_limits: SchedulerLimits,
    decode_limits: SchedulerLimits,
    isl: int,
    osl: int,
    kv_bytes_per_token: float,
    link_bytes_per_s: float,
    prefill_devices: int = 1,
    decode_devices: int = 1,
) -> DisaggResult:
    """Steady state of disaggregated serving of ``isl``-token prompts and ``osl`` outputs.

    ``kv_bytes_per_token`` is the whole model's KV per token (all layers, all devices of a
    replica); ``link_bytes_per_s`` the bandwidth one transfer gets between the pools.
    """
    if isl < 1 or osl < 1:
        raise ValueError("isl and osl must be >= 1")
    budget = prefill_limits.max_num_batched_tokens
    per_step = max(1, min(budget // isl, prefill_limits.max_num_seqs))
    prefill_rps = per_step / prefill_time_s(prefill_step, per_step, isl, budget)
    b, _ = running_batch(decode_limits, isl, osl, requests=10**9)
    if b < 1:
        raise ValueError("a decode replica cannot hold one request's KV cache")
    ctx = isl + osl / 2.0
    tpot = decode_step.step_time_s(
        BatchShape(decode_seqs=b, decode_context_tokens=int(round(b * ctx)))
    )
    # the first token comes from the prefill replica; the rest from b-wide decode steps
    decode_rps = b / (max(osl - 1, 1) * tpot)
    ratio = decode_rps / prefill_rps
    devices = ratio * prefill_devices + decode_devices
    return DisaggResult(
        prefill_rps_per_replica=prefill_rps,
        decode_rps_per_replica=decode_rps,
        prefill_replicas_per_decode_replica=ratio,
        decode_running_batch=b,
        ttft_s=prefill_time_s(prefill_step, 1, isl, budget),
        kv_transfer_s=isl * kv_bytes_per_token / link_bytes_per_s,
        tpot_s=tpot,
        output_tokens_per_s_per_device=decode_rps * osl / devices
        if math.isfinite(devices)
        else 0.0,
    )
