"""FP16-accumulate GEMMs (llama.cpp's cuBLAS path) and its dequantization kernel."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.perf.batch import BatchShape
from inferplan.perf.step import build_step_model
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.precision import parse_precision

PLAIN = EngineEfficiency(gemm_half_tokens=0.0, step_overhead_s=0.0)
ACC16 = PLAIN.model_copy(update={"fp16_accumulate": True})


def _step(gpu: str, eff: EngineEfficiency, precision: str = "fp16"):  # type: ignore[no-untyped-def]
    return build_step_model(
        load_models().get("llama-3.1-8b"),
        load_accelerators().get(gpu),
        parse_precision(precision),
        "fp16",
        eff,
    )


def test_rtx_4090_fp16_accumulate_rate_is_twice_the_fp32_accumulate_rate() -> None:
    # NVIDIA Ada whitepaper, appendix table (GeForce RTX 4090, dense): FP16 tensor TFLOPS
    # with FP16 accumulate 330.3, with FP32 accumulate 165.2
    pf = load_accelerators().get("rtx-4090-24gb").peak_flops
    assert pf.fp16_acc16 == pytest.approx(330.3e12)
    assert pf.fp16 == pytest.approx(165.2e12)
    assert pf.fp16_acc16 / pf.fp16 == pytest.approx(2.0, rel=1e-3)


def test_accelerator_without_the_field_behaves_as_before() -> None:
    h100 = load_accelerators().get("h100-sxm-80gb")
    assert h100.peak_flops.fp16_acc16 is None
    assert h100.fp16_acc16_flops() == h100.peak_flops_for("fp16")
    shapes = [BatchShape(prefill_tokens=4096, prefill_seqs=1, prefill_attention_pairs=4096**2 / 2)]
    shapes.append(BatchShape(decode_seqs=64, decode_context_tokens=64 * 2000))
    for shape in shapes:
        assert _step("h100-sxm-80gb", ACC16).step_time_s(shape) == _step(
            "h100-sxm-80gb", PLAIN
        ).step_time_s(shape)


def test_fp16_accumulate_engine_doubles_the_geforce_gemm_rate_only() -> None:
    plain, acc = _step("rtx-4090-24gb", PLAIN), _step("rtx-4090-24gb", ACC16)
    assert acc.gemm_flops_per_s == pytest.approx(2.0 * plain.gemm_flops_per_s, rel=1e-3)
    assert acc.attn_flops_per_s == pytest.approx(2.0 * plain.attn_flops_per_s, rel=1e-3)
    # FP32-accumulate engines keep the whitepaper's FP32-accumulate rate
    assert plain.gemm_flops_per_s == pytest.approx(165.2e12 * 0.8 * PLAIN.gemm_efficiency)


def test_dequantize_kernel_runs_only_above_the_gemv_rows() -> None:
    eff = ACC16.model_copy(update={"dequantize_above_rows": 8})
    with_pass, without = _step("rtx-4090-24gb", eff, "q4_0"), _step("rtx-4090-24gb", ACC16, "q4_0")
    # Llama-3.1-8B linear layers (no embedding, no LM head): 8.030e9 - 2 x 128,256 x 4,096
    # = 6.979e9 weights; a Q4_0 block is 18 bytes per 32 weights (4.5 bits), and the kernel
    # writes 2 bytes per weight: 6.979e9 x (0.5625 + 2) / (1.008e12 x 0.85) = 20.9 ms
    linear = 8.030e9 - 2 * 128_256 * 4096
    expected = linear * (4.5 / 8 + 2) / (1.008e12 * 0.85)
    prompt = BatchShape(prefill_tokens=512, prefill_seqs=1, prefill_attention_pairs=512**2 / 2)
    extra = with_pass.step_time_s(prompt) - without.step_time_s(prompt)
    assert extra == pytest.approx(expected, rel=0.01)
    decode = BatchShape(decode_seqs=8, decode_context_tokens=8 * 512)
    assert with_pass.step_time_s(decode) == without.step_time_s(decode)
    # F16 weights need no conversion
    f16 = _step("rtx-4090-24gb", eff)
    assert f16.step_time_s(prompt) == _step("rtx-4090-24gb", ACC16).step_time_s(prompt)


def test_llamacpp_profile_accumulates_in_fp16_and_dequantizes_many_row_gemms() -> None:
    eff = load_engines().get("llamacpp").efficiency
    assert eff.fp16_accumulate
    assert eff.dequantize_above_rows == 8  # MMVQ_MAX_BATCH_SIZE, ggml-cuda/mmvq.cuh
    assert not load_engines().get("vllm").efficiency.fp16_accumulate
