"""``perf --concurrency`` and the validation of closed-loop measurements share one
closed-loop TTFT: the simulated TTFT plus the mean wait for the step in progress."""

from __future__ import annotations

import numpy as np
import pytest

from inferplan.deploy.deployment import resolve
from inferplan.perf.batch import BatchShape, SchedulerLimits
from inferplan.perf.closed_loop import closed_loop_metrics
from inferplan.service.cases import ValidationCase
from inferplan.service.perf import predict
from inferplan.service.validation import predict_case


def _ttft_case(statistic: str, concurrency: int) -> ValidationCase:
    return ValidationCase.model_validate(
        dict(
            case_id="t-cl",
            scenario="closed_loop",
            engine="vllm",
            hardware="h100-sxm-80gb",
            num_gpus=1,
            model="llama-3.1-8b",
            weight_dtype="fp16",
            isl=2048,
            osl=256,
            concurrency=concurrency,
            metric="ttft_ms",
            statistic=statistic,
            value=100.0,
        )
    )


def test_perf_and_validation_give_the_same_closed_loop_ttft() -> None:
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", precision="fp16")
    r = predict(d, 2048, 256, concurrency=25)
    assert r.regime == "closed_loop"
    for statistic, field in (("mean", "mean"), ("median", "p50"), ("p99", "p99")):
        expected = getattr(r.ttft_ms, field)
        assert predict_case(_ttft_case(statistic, 25)).value == pytest.approx(expected, rel=1e-9)
    # 25 clients keep the engine busy: every request waits for part of a step, and perf says so
    assert any("wait for the step in progress" in n for n in r.notes)


class _TenMs:
    def step_time_s(self, shape: BatchShape) -> float:
        return 0.010


def test_closed_loop_ttft_and_its_slo_include_the_mid_step_wait() -> None:
    # every step takes 10 ms: a request joins the next step and gets its first token at its
    # end (10 ms simulated TTFT); reaching the busy engine at a random instant adds half a
    # step on average (5 ms), so the TTFT is 15 ms: a 12 ms SLO is missed, a 16 ms one met
    limits = SchedulerLimits(max_num_seqs=8, max_num_batched_tokens=512, kv_capacity_tokens=8192)
    tight = closed_loop_metrics(_TenMs(), limits, 100, 20, clients=4, slo_ttft_s=0.012)
    assert tight.simulated_ttft_s.p50 == pytest.approx(0.010)
    assert tight.mid_step_wait_s == pytest.approx(0.005)
    assert tight.metrics.ttft_s.p50 == pytest.approx(0.015)
    assert tight.metrics.ttft_s.max == pytest.approx(0.015)
    assert tight.metrics.slo_attainment == 0.0
    loose = closed_loop_metrics(_TenMs(), limits, 100, 20, clients=4, slo_ttft_s=0.016)
    assert loose.metrics.slo_attainment == 1.0
    # a lone client finds the engine idle: no wait
    alone = closed_loop_metrics(_TenMs(), limits, 100, 20, clients=1)
    assert alone.mid_step_wait_s == 0.0
    assert np.isclose(alone.metrics.ttft_s.p50, 0.010)
