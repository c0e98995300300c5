"""Time a 10,000-request open-loop continuous-batching simulation on one core.

Workload: Poisson arrivals, input lengths log-normal (mean 1000, std 600 tokens,
clipped to [16, 8000]), output lengths log-normal (mean 250, std 150, clipped
to [1, 2000]); seed 0.

Step-time model shaped like an 8B dense model on one H100 (illustrative
constants, not a calibrated prediction): 7 ms per step + 0.02 ms per decode
sequence + 0.06 ms per prefill token. Scheduler: vLLM-like, max_num_seqs 256,
max_num_batched_tokens 8192, chunked prefill, 300,000 KV tokens, on-demand
admission.

The rate (default 13 rps) keeps the running batch around 100-250 sequences.
Prints requests, steps, mean and peak batch, simulated makespan, wall seconds of
the simulation alone (best of ``--repeat``, CPU time beside it) and the ratio to
the 0.2-second target.

Usage::

    PYTHONPATH=src python benchmarks/simulate_10k.py [--rate 12] [--requests 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from inferplan.perf.batch import BatchShape, SchedulerLimits
from inferplan.perf.metrics import summarize
from inferplan.perf.simulate import simulate
from inferplan.perf.workload import LognormalLength, PoissonArrivals, WorkloadSpec, draw_requests

TARGET_S = 0.2


class Linear8BH100:
    """7 ms + 0.02 ms per decode sequence + 0.06 ms per prefill token."""

    def step_time_s(self, shape: BatchShape) -> float:
        return 7e-3 + 2e-5 * shape.decode_seqs + 6e-5 * shape.prefill_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=13.0, help="Poisson rate, requests/s")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    spec = WorkloadSpec(
        isl=LognormalLength(mean=1000, std=600, min=16, max=8000),
        osl=LognormalLength(mean=250, std=150, min=1, max=2000),
        seed=0,
    )
    isl, osl = draw_requests(spec, args.requests)
    arrivals = PoissonArrivals(rate_rps=args.rate).arrival_times_s(
        np.random.default_rng(1), args.requests
    )
    limits = SchedulerLimits(
        max_num_seqs=256, max_num_batched_tokens=8192, kv_capacity_tokens=300_000
    )
    model = Linear8BH100()
    best = best_cpu = float("inf")
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = simulate(model, limits, isl, osl, arrivals_s=arrivals)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    m = summarize(result)
    busy = result.step_decode_seqs[result.step_decode_seqs > 0]
    print(f"requests        {args.requests}")
    print(f"steps           {result.num_steps}")
    print(f"mean / peak running batch  {busy.mean():.0f} / {result.peak_running}")
    print(f"preemptions     {int(result.preemptions.sum())}")
    print(f"makespan        {result.makespan_s:.1f} s simulated")
    print(f"output tok/s    {m.output_tokens_per_s:.0f}   p50 TTFT {m.ttft_s.p50:.3f} s")
    print(f"wall seconds    {best:.3f} (best of {args.repeat}; CPU {best_cpu:.3f} s)")
    print(f"ratio to target {best / TARGET_S:.2f} (target {TARGET_S:g} s)")


if __name__ == "__main__":
    main()
