"""llama.cpp on CPUs against the llama.cpp rows of Justine Tunney's "LLaMA Now Goes Faster on
CPUs" (justine.lol/matmul, 2024-03-31; validation/cpu_cases.csv): the four CPU parameters were
fitted on the Intel CPUs only (benchmarks/fit_cpu.py), the AMD Threadripper PRO 7995WX is held
out."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.service.cases import ValidationCase, read_cases
from inferplan.service.validation import predict_case

CPU_CASES = Path(__file__).resolve().parents[2] / "validation" / "cpu_cases.csv"
HELD_OUT = "threadripper-pro-7995wx"


def _median_error(cases: list[ValidationCase]) -> float:
    return statistics.median(abs(predict_case(c).value / c.value - 1.0) for c in cases)


def _case(case_id: str) -> ValidationCase:
    return next(c for c in read_cases(CPU_CASES) if c.case_id == case_id)


def test_the_cpu_file_has_three_cpus_both_metrics_and_both_halves() -> None:
    cases = read_cases(CPU_CASES)
    assert len(cases) == 24  # the post's llama.cpp rows at 5 tok/s or more, F32 left out
    assert {c.hardware for c in cases} == {
        "core-i9-9900-ddr4-2200",
        "core-i9-14900k-ddr5-6400",
        HELD_OUT,
    }
    assert {c.metric for c in cases} == {"prompt_tokens_per_s", "output_tokens_per_s"}
    assert {c.engine for c in cases} == {"llamacpp"}
    assert sum(c.hardware == HELD_OUT for c in cases) == 8


def test_model_median_error_on_cpus_is_within_15_percent() -> None:
    assert _median_error(read_cases(CPU_CASES)) <= 0.15


def test_held_out_amd_cpu_is_within_25_percent() -> None:
    held = [c for c in read_cases(CPU_CASES) if c.hardware == HELD_OUT]
    assert _median_error(held) <= 0.25


def test_generation_scales_with_memory_bandwidth_across_cpus() -> None:
    # TinyLlama 1.1B Q8_0 generation on 35.2, 102.4 and 332.8 GB/s. Without the barriers, a
    # token's time less the host time (1.792 ms + 22 layers x 31.2 us = 2.478 ms) is weight
    # streaming at one share of the DRAM peak, so it shrinks in the ratio of the bandwidths:
    # 102.4 / 35.2 = 2.91 and 332.8 / 102.4 = 3.25.
    cpus = ("i9-9900", "14900k", "7995wx")
    cases = [_case(f"cpu-jt-{cpu}-tinyllama-q8_0-tg") for cpu in cpus]
    eff = load_engines().get("llamacpp").efficiency
    bare = {"llamacpp": eff.model_copy(update={"cpu_sync_s_per_core": 0.0})}
    stream_s = [1.0 / predict_case(c, bare).value - 2.478e-3 for c in cases]
    assert stream_s[0] / stream_s[1] == pytest.approx(2.91, rel=0.05)
    assert stream_s[1] / stream_s[2] == pytest.approx(3.25, rel=0.05)
    # with the barriers (8, 24, 96 cores x 22 layers x 6.5 us) the 96-core part gains far
    # less than its bandwidth over the 24-core one (measured 53 and 60 tok/s)
    rates = [predict_case(c).value for c in cases]
    assert rates[0] < rates[1]
    assert rates[2] / rates[1] < 1.5
    # Mistral 7B Q8_0 (7.7 GB) on the 7995WX: 332.8e9 x 0.82 / 7.7e9 = 35 tok/s of streaming,
    # plus 32 layers x 96 cores x 6.5 us = 20 ms of barriers and 1.792 ms + 32 x 31.2 us =
    # 2.8 ms of host time: 1 / (1/35 + 0.020 + 0.0028) = 19.5 tok/s (measured 24)
    mistral = predict_case(_case("cpu-jt-7995wx-mistral7b-q8_0-tg")).value
    assert mistral == pytest.approx(19.5, rel=0.05)


def test_prompt_rate_follows_the_fp32_peak_and_the_weight_type() -> None:
    # prompt processing is compute bound: Q8_0 on two CPUs in the ratio of their FP32 peaks
    # (1.4336e12 / 793.6e9 = 1.81) for the same model, and F16 at 0.71 of Q8_0 on one CPU
    i9 = predict_case(_case("cpu-jt-i9-9900-mistral7b-q8_0-pp")).value
    k14 = predict_case(_case("cpu-jt-14900k-mistral7b-q8_0-pp")).value
    assert k14 / i9 == pytest.approx(1.81, rel=0.03)
    f16 = predict_case(_case("cpu-jt-i9-9900-mistral7b-fp16-pp")).value
    assert f16 / i9 == pytest.approx(0.71, rel=0.03)


def test_cpu_records_carry_the_cited_figures() -> None:
    acc = load_accelerators()
    i9 = acc.get("core-i9-9900-ddr4-2200")
    # Intel ARK: 8 cores, 3.1 GHz base, 65 W; the measured system's 2200 MT/s RAM, 2 channels
    assert (i9.cores, i9.tdp_w) == (8, 65)
    assert i9.memory_bandwidth_bytes_per_s == pytest.approx(2 * 8 * 2200e6)
    assert i9.peak_flops.fp32 == pytest.approx(8 * 3.1e9 * 32)  # two 256-bit FMA units
    k14 = acc.get("core-i9-14900k-ddr5-6400")
    # 8 P-cores at 3.2 GHz (32 FLOP/cycle) + 16 E-cores at 2.4 GHz (16 FLOP/cycle), 125 W
    assert (k14.cores, k14.tdp_w) == (24, 125)
    assert k14.memory_bandwidth_bytes_per_s == pytest.approx(2 * 8 * 6400e6)
    assert k14.peak_flops.fp32 == pytest.approx(8 * 3.2e9 * 32 + 16 * 2.4e9 * 16)
    tr = acc.get(HELD_OUT)
    # AMD: 96 Zen 4 cores, 2.5 GHz base, 350 W, 8 channels of DDR5-5200
    assert (tr.cores, tr.tdp_w) == (96, 350)
    assert tr.memory_bandwidth_bytes_per_s == pytest.approx(8 * 8 * 5200e6)
    assert tr.peak_flops.fp32 == pytest.approx(96 * 2.5e9 * 32)
    for rec in (i9, k14, tr):
        assert rec.kind == "cpu" and rec.source and rec.as_of
    # the server records' core counts: Xeon 6980P 128 P-cores, EPYC 9654 96 Zen 4 cores
    assert (acc.get("xeon-6980p").cores, acc.get("epyc-9654").cores) == (128, 96)
    # the measured host record keeps no core count: it is timed by the generic shares
    assert acc.get("host-epyc-genoa-2vcpu").cores is None
    tiny = load_models().get("tinyllama-1.1b")
    # config.json: hidden 2048, 22 layers, 32 heads, 4 KV heads, intermediate 5632
    assert (tiny.hidden_size, tiny.num_layers, tiny.num_kv_heads) == (2048, 22, 4)


def test_the_three_llamacpp_based_profiles_share_the_cpu_parameters() -> None:
    engines = load_engines()
    ref = engines.get("llamacpp").efficiency
    for eid in ("ollama", "llama-cpp-python"):
        eff = engines.get(eid).efficiency
        assert eff.cpu_bandwidth_efficiency == ref.cpu_bandwidth_efficiency == 0.82
        assert eff.cpu_sync_s_per_core == ref.cpu_sync_s_per_core
        assert eff.cpu_gemm_efficiency == ref.cpu_gemm_efficiency
        assert eff.cpu_float_gemm_efficiency == ref.cpu_float_gemm_efficiency
