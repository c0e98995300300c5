"""Calibration on a catalog CPU that gives its core count: the engine's CPU shares time the
step there, so they (not the generic shares they override) are what a fit can move."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inferplan.deploy.deployment import Deployment, resolve, step_model_of
from inferplan.perf.batch import BatchShape
from inferplan.service.calibration import (
    CANDIDATES,
    CPU_CANDIDATES,
    StageMeasurement,
    apply_parameters,
    candidates_of,
    fit_efficiency,
)

CATALOG_CPU = ("llama-3.1-8b", "epyc-9654", "llamacpp", "q4_0")
HOST = ("smollm2-135m", "host-epyc-genoa-2vcpu", "llama-cpp-python", "q4_1")


def _one_request(d: Deployment, truth: dict[str, float], isl: int, osl: int) -> StageMeasurement:
    """A stage of single requests measured as if the model were exact (TTFT = the prefill
    step, TPOT = the mean decode step, throughput = osl / E2E)."""
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


def test_a_catalog_cpu_fits_the_cpu_shares_and_the_host_keeps_the_generic_ones() -> None:
    cpu = resolve(*CATALOG_CPU)
    host = resolve(*HOST)
    assert candidates_of(cpu, cpu.engine.efficiency) == CPU_CANDIDATES
    assert candidates_of(host, host.engine.efficiency) == CANDIDATES


def test_recovers_a_catalog_cpus_bandwidth_and_gemm_shares() -> None:
    # Llama-3.1-8B Q4_0 on an EPYC 9654 (460.8 GB/s, 7.37 TFLOPS FP32), one request at a time:
    # a 1024-token prompt is compute bound (TTFT fixes cpu_gemm_efficiency, s ~ 1), decode
    # streams 4.6 GB per token (TPOT fixes cpu_bandwidth_efficiency, s = its share of TPOT
    # ~ 0.5 with the barriers and host time): bias 0.02^2 ln(0.82 / 0.6) / 0.5^2 < 0.1 %;
    # allow 1 %
    d = resolve(*CATALOG_CPU)
    truth = {"cpu_bandwidth_efficiency": 0.6, "cpu_gemm_efficiency": 0.25}
    stages = [_one_request(d, truth, 1024, 4), _one_request(d, truth, 64, 128)]
    fit = fit_efficiency(d, stages, list(truth))
    for k, v in truth.items():
        assert fit.fitted[k] == pytest.approx(v, rel=0.01)
    assert fit.mean_abs_error(after=True) < 0.005 < 0.1 < fit.mean_abs_error(after=False)


def test_the_chosen_parameters_on_a_catalog_cpu_are_cpu_terms() -> None:
    # unnamed parameters: a decode-heavy and a prompt-heavy stage pick the CPU shares,
    # never a generic term the CPU shares override (no effect on the step)
    d = resolve(*CATALOG_CPU)
    truth = {"cpu_bandwidth_efficiency": 0.6, "cpu_gemm_efficiency": 0.25}
    stages = [_one_request(d, truth, 1024, 4), _one_request(d, truth, 64, 128)]
    fit = fit_efficiency(d, stages)
    assert set(fit.fitted) <= set(CPU_CANDIDATES)
    assert {"cpu_bandwidth_efficiency", "cpu_gemm_efficiency"} <= set(fit.fitted)
