"""Calibration on a catalog CPU that gives its core count: the engine's CPU shares time the
step there, so they (not the generic shares they override) are what a fit can move."""

from __future__ import annotations

import pytest
from calibration_stages import one_at_a_time

from inferplan.deploy.deployment import resolve
from inferplan.service.calibration import (
    CANDIDATES,
    CPU_CANDIDATES,
    candidates_of,
    fit_efficiency,
)

CATALOG_CPU = ("llama-3.1-8b", "epyc-9654", "llamacpp", "q4_0")
HOST = ("smollm2-135m", "host-epyc-genoa-2vcpu", "llama-cpp-python", "q4_1")


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
    stages = [one_at_a_time(d, truth, 1024, 4), one_at_a_time(d, truth, 64, 128)]
    fit = fit_efficiency(d, stages, list(truth))
    for k, v in truth.items():
        assert fit.fitted[k] == pytest.approx(v, rel=0.01)
    assert fit.mean_abs_error(after=True) < 0.005 < 0.1 < fit.mean_abs_error(after=False)


def test_the_chosen_parameters_on_a_catalog_cpu_are_cpu_terms() -> None:
    # unnamed parameters: a decode-heavy and a prompt-heavy stage pick the CPU shares,
    # never a generic term the CPU shares override (no effect on the step)
    d = resolve(*CATALOG_CPU)
    truth = {"cpu_bandwidth_efficiency": 0.6, "cpu_gemm_efficiency": 0.25}
    stages = [one_at_a_time(d, truth, 1024, 4), one_at_a_time(d, truth, 64, 128)]
    fit = fit_efficiency(d, stages)
    assert set(fit.fitted) <= set(CPU_CANDIDATES)
    assert {"cpu_bandwidth_efficiency", "cpu_gemm_efficiency"} <= set(fit.fitted)
