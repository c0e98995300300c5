"""Synthetic bench stages for calibration tests: what a stage of requests sent one at a time
would measure if the step model with ``truth`` were exact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from inferplan.deploy.deployment import Deployment, step_model_of
from inferplan.perf.batch import BatchShape
from inferplan.service.calibration import StageMeasurement, apply_parameters


def one_at_a_time(d: Deployment, truth: dict[str, float], isl: int, osl: int) -> StageMeasurement:
    """A stage of 8 sequential requests: TTFT = the prefill step, TPOT = the mean decode step
    (the step emitting token j + 1 attends to isl + j tokens), throughput = osl / E2E."""
    step = step_model_of(replace(d, efficiency=apply_parameters(d.engine.efficiency, truth)))
    ttft = step.step_time_s(
        BatchShape(prefill_tokens=isl, prefill_attention_pairs=isl * (isl + 1) / 2, prefill_seqs=1)
    )
    decode = [
        step.step_time_s(BatchShape(decode_seqs=1, decode_context_tokens=isl + j))
        for j in range(1, osl)
    ]
    e2e = ttft + sum(decode)
    return StageMeasurement(
        Path("synthetic"), 0, 8, isl, osl, ttft, sum(decode) / (osl - 1), osl / e2e, concurrency=1
    )
