"""Closed-loop clients: one definition of the run, its steady window and its TTFT.

``clients`` clients each send their next request when the previous one ends
(:func:`~inferplan.perf.simulate.simulate` with ``concurrency``). The simulated clients
send at a step boundary, so a request joins the very next step. A real client's request
reaches the engine a round trip later (HTTP, tokenisation: milliseconds, never zero, never
the same twice), when the next step has been formed, at an instant unrelated to the steps:
it waits for the rest of the step in progress, on average ``sum(d^2) / (2 sum(d))`` over
the steps of the measured window (:func:`~inferplan.perf.workload.residual_step_wait_s`).
A lone client finds the engine idle and waits for nothing. The TTFT of a closed loop is
the simulated TTFT plus that mean wait, for every statistic alike and for the TTFT SLO.

Both ``perf --concurrency`` and the validation of closed-loop measurements use
:func:`closed_loop_metrics`, so the two report the same TTFT for the same deployment
and lengths.

Example (10 ms steps: a request reaching a busy engine waits 5 ms on average)::

    >>> import numpy as np
    >>> from inferplan.perf.batch import SchedulerLimits
    >>> class TenMs:
    ...     def step_time_s(self, shape):
    ...         return 0.010
    >>> lim = SchedulerLimits(max_num_seqs=8, max_num_batched_tokens=512, kv_capacity_tokens=8192)
    >>> cl = closed_loop_metrics(TenMs(), lim, 100, 20, clients=4)
    >>> round(cl.mid_step_wait_s, 4)
    0.005
    >>> round(cl.metrics.ttft_s.p50 - cl.simulated_ttft_s.p50, 4)
    0.005
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inferplan.errors import SpecError
from inferplan.perf.batch import SchedulerLimits, StepTimeModel
from inferplan.perf.metrics import Distribution, ServingMetrics, summarize
from inferplan.perf.simulate import SimulationResult, simulate
from inferplan.perf.workload import LengthSpec, residual_step_wait_s

REQUESTS_PER_CLIENT = 40
"""Closed-loop runs last this many requests per client: clients that all start at once
send their prompts in one wave, and with equal lengths they stay partly in step for
several request lifetimes; 40 lifetimes bring ITL and throughput of the
5000-in/500-out, 25-100 client runs within about 1% of a run twice as long."""
WARMUP_WAVES = 8
"""Requests per client dropped at the start (the start-up waves) before measuring."""
MIN_REQUESTS = 100
LENGTH_SEED = 0
"""Seed of the request lengths drawn when a closed loop runs length distributions."""
MAX_REQUESTS = 41_000
"""Cap on simulated requests: 40 per client up to 1,024 clients (about 0.2 s at 1,024).
A cap of 4,000 left 4 requests per client at 1,024 clients, and the measured window, mostly
start-up and tail, read a KV-bound engine's throughput 37% low."""


@dataclass(frozen=True)
class ClosedLoop:
    """Steady-state metrics of a closed loop (TTFT with the mid-step wait), the wait (s)
    and the TTFT as simulated (without it)."""

    metrics: ServingMetrics
    mid_step_wait_s: float
    simulated_ttft_s: Distribution


def closed_loop_requests(clients: int) -> tuple[int, int]:
    """Requests simulated and requests dropped at the start as warm-up for ``clients``."""
    n = min(MAX_REQUESTS, max(MIN_REQUESTS, clients * REQUESTS_PER_CLIENT))
    return n, min(clients * WARMUP_WAVES, n // 4)


def mid_step_wait_s(run: SimulationResult, clients: int, warmup: int) -> float:
    """Mean time a closed-loop request waits for the step in progress when it arrives:
    the residual step time over the steps between the first measured arrival (after
    ``warmup`` requests) and the last wave's; 0 for a lone client (see the module text)."""
    if clients < 2:
        return 0.0
    arrivals = np.sort(run.arrival_s)
    t0 = arrivals[min(warmup, arrivals.size - 1)]
    t1 = arrivals[max(arrivals.size - clients - 1, 0)]
    inside = (run.step_end_s > t0) & (run.step_end_s <= t1)
    return residual_step_wait_s(run.step_duration_s[inside])


def with_ttft_wait(d: Distribution, wait_s: float) -> Distribution:
    """``d`` shifted by ``wait_s`` (every statistic; the count is unchanged)."""
    if not wait_s:
        return d

    def shift(x: float | None) -> float | None:
        return None if x is None else x + wait_s

    return d.model_copy(
        update={k: shift(getattr(d, k)) for k in ("mean", "p50", "p90", "p95", "p99", "min", "max")}
    )


def closed_loop_metrics(
    step_model: StepTimeModel,
    limits: SchedulerLimits,
    isl: int,
    osl: int,
    clients: int,
    cached_tokens: int = 0,
    slo_ttft_s: float | None = None,
    slo_tpot_s: float | None = None,
    slo_percentile: float = 95.0,
    lengths: tuple[LengthSpec, LengthSpec] | None = None,
) -> ClosedLoop:
    """Steady state of ``clients`` closed-loop clients on one replica, every request
    ``isl`` prompt tokens (``cached_tokens`` of them in the prefix cache) and ``osl``
    output tokens: :func:`closed_loop_requests` requests, the warm-up waves and the last
    wave dropped, TTFT with the mid-step wait (the TTFT SLO is checked on it too). With
    ``lengths`` (prompt, output) each request draws its lengths from them (seeded) instead."""
    if clients < 1:
        raise SpecError("concurrency", f"must be >= 1, got {clients}")
    n, warmup = closed_loop_requests(clients)
    cached = np.full(n, cached_tokens) if cached_tokens else None
    if lengths is None:
        isls, osls = np.full(n, isl), np.full(n, osl)
    else:
        rng = np.random.default_rng(LENGTH_SEED)
        isls, osls = lengths[0].sample(rng, n), lengths[1].sample(rng, n)
        if cached is not None:
            cached = np.minimum(cached, isls - 1)
    run = simulate(
        step_model,
        limits,
        isls,
        osls,
        concurrency=clients,
        cached_tokens=cached,
    )
    wait = mid_step_wait_s(run, clients, warmup)
    # a request meets the TTFT SLO when its simulated TTFT plus the wait does
    slo_sim = None if slo_ttft_s is None else slo_ttft_s - wait
    m = summarize(
        run,
        slo_sim,
        slo_tpot_s,
        slo_percentile,
        warmup_requests=warmup,
        cooldown_requests=clients,
    )
    return ClosedLoop(
        metrics=m.model_copy(update={"ttft_s": with_ttft_wait(m.ttft_s, wait)}),
        mid_step_wait_s=wait,
        simulated_ttft_s=m.ttft_s,
    )


__all__ = [
    "MAX_REQUESTS",
    "MIN_REQUESTS",
    "REQUESTS_PER_CLIENT",
    "WARMUP_WAVES",
    "ClosedLoop",
    "closed_loop_metrics",
    "closed_loop_requests",
    "mid_step_wait_s",
    "with_ttft_wait",
]
