"""Catalog extensions: more accelerators and models so published benchmarks resolve.

Expected numbers are vendor figures (cited next to each) or hand calculations written out
here; none is read back from the catalog under test.
"""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_models
from inferplan.memory.kv import kv_bytes_per_sequence, kv_bytes_per_token
from inferplan.memory.params import active_params, total_params
from inferplan.specs.hardware import AcceleratorSpec, DeviceKind
from inferplan.specs.model import AttentionKind, ModelSpec

NEW_ACCELERATOR_IDS = [
    "v100-sxm2-32gb", "v100-sxm2-16gb", "a10-24gb", "rtx-a6000-48gb", "rtx-6000-ada-48gb",
    "l20-48gb", "h800-sxm-80gb", "h20-96gb", "h200-nvl-141gb", "rtx-5090-32gb",
    "b300-sxm-288gb", "gb300-288gb", "mi250x-128gb", "mi355x-288gb", "apple-m2-max-96gb",
    "apple-m3-ultra-512gb", "apple-m4-max-128gb",
]

# Spellings used by published benchmarks and the record each must resolve to.
ACCELERATOR_ALIASES = {
    "h100-80gb": "h100-sxm-80gb",  # form factor not stated: SXM, as for a100-80gb
    "b200-192gb": "b200-180gb",  # March 2024 launch capacity
    "gb200": "gb200-192gb",
    "h100-nvl": "h100-nvl-94gb",
    "rtx5090": "rtx-5090-32gb",
    "a10": "a10-24gb",
    "a6000": "rtx-a6000-48gb",
    "rtx-6000-ada": "rtx-6000-ada-48gb",
    "h800": "h800-sxm-80gb",
    "h20": "h20-96gb",
    "l20": "l20-48gb",
    "h200-nvl": "h200-nvl-141gb",
    "b300": "b300-sxm-288gb",
    "gb300": "gb300-288gb",
    "mi250x": "mi250x-128gb",
    "mi355x": "mi355x-288gb",
    "m3-ultra": "apple-m3-ultra-512gb",
    "m4-max": "apple-m4-max-128gb",
    "m2-max": "apple-m2-max-96gb",
}

# Vendor parameter counts, each with its source.
VENDOR_PARAMS = {
    "llama-2-13b": 13.0e9,  # Llama 2 model card, '13B'
    "codellama-34b": 34.0e9,  # Code Llama paper arXiv:2308.12950, '34B'
    "mistral-nemo-12b": 12.0e9,  # mistral.ai/news/mistral-nemo, '12B'
    "mistral-small-24b": 24.0e9,  # Mistral-Small-24B-Base-2501 model card, '24B'
    "mistral-large-123b": 123.0e9,  # mistral.ai/news/mistral-large-2407, '123B'
    "qwen2.5-14b": 14.7e9,  # Qwen2.5-14B card, 'Number of Parameters: 14.7B'
    "qwen2.5-3b": 3.09e9,  # Qwen2.5-3B card, '3.09B'
    "qwen2.5-1.5b": 1.54e9,  # Qwen2.5-1.5B card, '1.54B'
    "qwen2-72b": 72.0e9,  # model name Qwen2-72B
    "qwen3-30b-a3b": 30.5e9,  # Qwen3-30B-A3B card, '30.5B in total and 3.3B activated'
    "qwen3-14b": 14.8e9,  # Qwen3-14B card, '14.8B'
    "qwen3-4b": 4.0e9,  # Qwen3-4B card, '4.0B'
    "deepseek-v2-lite": 15.7e9,  # DeepSeek-V2 paper arXiv:2405.04434, V2-Lite 15.7B total
    "deepseek-r1-distill-llama-70b": 70.0e9,  # DeepSeek-R1 card distill table (Llama-3.3-70B)
    "deepseek-r1-distill-qwen-32b": 32.0e9,  # model name, base Qwen2.5-32B
    "falcon-180b": 180.0e9,  # Falcon-180B model card, '180B'
    "gemma-2-9b": 9.0e9,  # Gemma 2 report arXiv:2408.00118, '9B'
    "gemma-3-12b": 12.0e9,  # Gemma 3 report arXiv:2503.19786, '12B' (incl. vision tower)
    "phi-3-mini-4k": 3.8e9,  # Phi-3 report arXiv:2404.14219, '3.8B'
    "phi-3-medium": 14.0e9,  # Phi-3 report, '14B'
    "llama-4-scout-17b-16e": 109.0e9,  # Llama 4 model card, 109B total
    "llama-4-maverick-17b-128e": 400.0e9,  # Llama 4 model card, 400B total
}
# Falcon-40B is checked separately: its card's '40B' is a rounding the shapes exceed by 3.3 %.
NEW_MODEL_IDS = [*VENDOR_PARAMS, "falcon-40b"]

MODEL_ALIASES = {
    "meta-llama/Llama-2-13b-chat-hf": "llama-2-13b",
    "codellama/CodeLlama-34b-Instruct-hf": "codellama-34b",
    "mistralai/Mistral-Nemo-Instruct-2407": "mistral-nemo-12b",
    "mistralai/Mistral-Small-24B-Instruct-2501": "mistral-small-24b",
    "mistralai/Mistral-Large-Instruct-2411": "mistral-large-123b",
    "Qwen/Qwen2.5-14B-Instruct": "qwen2.5-14b",
    "Qwen/Qwen2-72B-Instruct": "qwen2-72b",
    "Qwen/Qwen3-30B-A3B": "qwen3-30b-a3b",
    "deepseek-ai/DeepSeek-V2-Lite-Chat": "deepseek-v2-lite",
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": "deepseek-r1-distill-llama-70b",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B": "deepseek-r1-distill-qwen-32b",
    "tiiuae/falcon-180B-chat": "falcon-180b",
    "tiiuae/falcon-40b-instruct": "falcon-40b",
    "google/gemma-3-12b-it": "gemma-3-12b",
    "microsoft/Phi-3-mini-4k-instruct": "phi-3-mini-4k",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": "llama-4-scout-17b-16e",
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct": "llama-4-maverick-17b-128e",
}


def _acc(key: str) -> AcceleratorSpec:
    return load_accelerators().get(key)


def _model(key: str) -> ModelSpec:
    return load_models().get(key)


# ---------------------------------------------------------------- resolution


@pytest.mark.parametrize("rid", NEW_ACCELERATOR_IDS)
def test_new_accelerator_ids_resolve_to_themselves(rid: str) -> None:
    assert _acc(rid).id == rid


@pytest.mark.parametrize(("alias", "rid"), sorted(ACCELERATOR_ALIASES.items()))
def test_accelerator_aliases(alias: str, rid: str) -> None:
    assert _acc(alias).id == rid


@pytest.mark.parametrize("mid", NEW_MODEL_IDS)
def test_new_model_ids_resolve_to_themselves(mid: str) -> None:
    assert _model(mid).id == mid


@pytest.mark.parametrize(("alias", "mid"), sorted(MODEL_ALIASES.items()))
def test_model_aliases(alias: str, mid: str) -> None:
    assert _model(alias).id == mid


# ---------------------------------------------------------------- model parameter counts


@pytest.mark.parametrize(("mid", "vendor"), sorted(VENDOR_PARAMS.items()))
def test_parameter_count_within_3_percent_of_vendor_figure(mid: str, vendor: float) -> None:
    spec = _model(mid)
    assert spec.published_params == vendor
    assert total_params(spec) == pytest.approx(vendor, rel=0.03)


def test_falcon_40b_exceeds_its_rounded_figure_by_about_3_percent() -> None:
    # 60 x (attention 2 x 8192^2 + 2 x 8192 x 512 = 142.6M, MLP 2 x 8192 x 32768 = 536.9M)
    # + tied embedding 65024 x 8192 = 533M -> 41.30e9, 3.3 % above the card's nominal '40B'.
    spec = _model("falcon-40b")
    assert spec.published_params == 40.0e9
    ratio = total_params(spec) / 40.0e9
    assert 1.03 < ratio < 1.04


def test_maverick_parameter_count_by_hand() -> None:
    # Llama 4 Maverick: 24 dense layers (MLP 16384) alternate with 24 MoE layers (128 routed +
    # 1 shared expert of 8192, router 5120 x 128). Hand count, weights and RMSNorm gains:
    h, v = 5120, 202048
    embed_and_head = 2 * v * h  # untied
    attention = 48 * (2 * h * 40 * 128 + 2 * h * 8 * 128)  # q,o 5120x5120; k,v 5120x1024
    dense_mlp = 24 * 3 * h * 16384
    moe = 24 * (129 * 3 * h * 8192 + h * 128)
    norms = 2 * h * 48 + h
    expected = embed_and_head + attention + dense_mlp + moe + norms  # 400,711,848,960
    spec = _model("llama-4-maverick-17b-128e")
    assert total_params(spec) == expected == 400_711_848_960
    assert expected == pytest.approx(400e9, rel=0.01)  # card: 400B total
    # Active: all but 127 of the 128 routed experts in each MoE layer -> ~17.2B (card: 17B).
    assert active_params(spec) == expected - 24 * 127 * 3 * h * 8192
    assert active_params(spec) == pytest.approx(17e9, rel=0.03)


def test_active_parameters_of_moe_models_match_the_cards() -> None:
    # Qwen3-30B-A3B card: 3.3B activated; Llama 4 Scout card: 17B active.
    assert active_params(_model("qwen3-30b-a3b")) == pytest.approx(3.3e9, rel=0.03)
    assert active_params(_model("llama-4-scout-17b-16e")) == pytest.approx(17e9, rel=0.03)
    # DeepSeek-V2-Lite paper: 2.4B activated, counting without the input embedding
    # (102400 x 2048 = 0.21B), which the parameter count here includes.
    v2 = _model("deepseek-v2-lite")
    assert active_params(v2) - 102400 * 2048 == pytest.approx(2.4e9, rel=0.03)


# ---------------------------------------------------------------- KV cache


KV_BF16_BY_HAND = {
    # 2 (K and V) x kv_heads x head_dim x layers x 2 bytes
    "llama-2-13b": 2 * 40 * 128 * 40 * 2,  # = 819,200 (MHA)
    "qwen3-30b-a3b": 2 * 4 * 128 * 48 * 2,  # = 98,304
    "falcon-180b": 2 * 8 * 64 * 80 * 2,  # = 163,840 (8 KV groups of 64)
    "gemma-3-12b": 2 * 8 * 256 * 48 * 2,  # = 393,216 (windows ignored per token)
    "mistral-large-123b": 2 * 8 * 128 * 88 * 2,  # = 360,448
    "llama-4-scout-17b-16e": 2 * 8 * 128 * 48 * 2,  # = 196,608
}


@pytest.mark.parametrize(("mid", "expected"), sorted(KV_BF16_BY_HAND.items()))
def test_kv_bytes_per_token_by_hand(mid: str, expected: int) -> None:
    assert kv_bytes_per_token(_model(mid), 2.0) == expected


def test_deepseek_v2_lite_caches_the_mla_latent() -> None:
    # MLA: (kv_lora_rank 512 + qk_rope_head_dim 64) x 27 layers x 2 bytes = 31,104 bytes per token.
    spec = _model("deepseek-v2-lite")
    assert spec.attention_kind is AttentionKind.MLA
    assert kv_bytes_per_token(spec, 2.0) == (512 + 64) * 27 * 2 == 31_104


def test_gemma_2_9b_window_caps_half_the_layers() -> None:
    # 8192-token sequence: 21 global layers hold 8192 tokens, 21 local layers 4096, each token
    # 2 x 8 x 256 x 2 bytes = 8,192 bytes per layer -> (21 x 8192 + 21 x 4096) x 8192.
    spec = _model("gemma-2-9b")
    assert kv_bytes_per_sequence(spec, 8192, 2.0) == (21 * 8192 + 21 * 4096) * 8192


def test_llama_4_chunked_layers_and_maverick_interleave() -> None:
    # transformers Llama4TextConfig: every 4th layer is a global NoPE layer, the other 36 use
    # 8192-token chunks (modelled as a window). Maverick: interleave_moe_layer_step 2 -> 24 + 24.
    for mid in ("llama-4-scout-17b-16e", "llama-4-maverick-17b-128e"):
        spec = _model(mid)
        assert spec.num_sliding_window_layers == 48 - 48 // 4 == 36
        assert spec.sliding_window == 8192
    mav = _model("llama-4-maverick-17b-128e")
    assert mav.first_dense_layers == mav.num_layers - mav.first_dense_layers == 24
    assert _model("llama-4-scout-17b-16e").first_dense_layers == 0


def test_falcon_uses_two_matrix_gelu_mlps_and_grouped_kv() -> None:
    # Falcon configs: new_decoder_architecture, 8 KV heads, dense_h_to_4h / dense_4h_to_h.
    for mid, hidden in (("falcon-40b", 8192), ("falcon-180b", 14848)):
        spec = _model(mid)
        assert not spec.mlp_gated
        assert spec.intermediate_size == 4 * hidden
        assert spec.num_kv_heads == 8
        assert spec.head_dim == 64
        assert spec.attention_kind is AttentionKind.GQA


def test_distills_keep_their_base_model_shapes() -> None:
    # DeepSeek-R1 card: Distill-Llama-70B is tuned from Llama-3.3-70B-Instruct, Distill-Qwen-32B
    # from Qwen2.5-32B; weight shapes are those of the base models.
    shape_fields = (
        "hidden_size", "num_layers", "num_attention_heads", "num_kv_heads", "head_dim",
        "intermediate_size", "vocab_size", "tie_word_embeddings", "qkv_bias",
    )
    for distill, base in (
        ("deepseek-r1-distill-llama-70b", "llama-3.3-70b"),
        ("deepseek-r1-distill-qwen-32b", "qwen2.5-32b"),
    ):
        d, b = _model(distill), _model(base)
        assert [getattr(d, f) for f in shape_fields] == [getattr(b, f) for f in shape_fields]


# ---------------------------------------------------------------- accelerator figures


def test_a10_pinned_figures() -> None:
    # NVIDIA A10 datasheet: 24 GB GDDR6, 600 GB/s, BF16 125 | 250 TFLOPS (dense | sparse),
    # FP32 31.2, 150 W, PCIe Gen4 x16 (64 GB/s bidirectional -> 32 GB/s per direction).
    a10 = _acc("a10-24gb")
    assert (a10.memory_bytes, a10.memory_bandwidth_bytes_per_s) == (24e9, 600e9)
    assert a10.peak_flops.bf16 == pytest.approx(250e12 / 2)
    assert a10.tdp_w == 150
    assert a10.interconnect_bandwidth_bytes_per_s == 64e9 / 2
    # nvidia-smi 23028 MiB = 23028 x 2^20 B
    assert a10.usable_memory_bytes == pytest.approx(23028 * 2**20, rel=1e-6)


def test_v100_sxm2_pinned_figures() -> None:
    # V100 datasheet: 32/16 GB HBM2 at 900 GB/s, 125 TFLOPS tensor (FP16; no sparsity on
    # Volta), NVLink 300 GB/s = 6 links x 25 GB/s x 2 directions -> 150 GB/s per direction.
    for rid, mem in (("v100-sxm2-32gb", 32e9), ("v100-sxm2-16gb", 16e9)):
        v = _acc(rid)
        assert v.memory_bytes == mem
        assert v.memory_bandwidth_bytes_per_s == 900e9
        assert v.peak_flops.fp16 == 125e12
        assert v.peak_flops.bf16 is None  # no BF16 on Volta
        assert v.interconnect_bandwidth_bytes_per_s == 6 * 25e9


def test_h200_nvl_pinned_figures() -> None:
    # NVIDIA H200 page, H200 NVL column: 141 GB, 4.8 TB/s, BF16 1,671 TFLOPS with sparsity.
    nvl = _acc("h200-nvl-141gb")
    assert (nvl.memory_bytes, nvl.memory_bandwidth_bytes_per_s) == (141e9, 4.8e12)
    assert nvl.peak_flops.bf16 == pytest.approx(1671e12 / 2, rel=1e-3)


def test_rtx_5090_and_mi355x_pinned_figures() -> None:
    # RTX 5090: 32 GB GDDR7, 28 Gb/s x 512 bit / 8 = 1,792 GB/s; 3,352 'AI TOPS' (FP4 sparse).
    rtx = _acc("rtx-5090-32gb")
    assert rtx.memory_bytes == 32e9
    assert rtx.memory_bandwidth_bytes_per_s == pytest.approx(28e9 * 512 / 8)
    assert rtx.peak_flops.fp4 == pytest.approx(3352e12 / 2)
    # MI355X: 288 GB HBM3E at 8 TB/s; FP8 = 256 CUs x 2.4 GHz x 8,192 FLOP/CU/clock.
    mi = _acc("mi355x-288gb")
    assert (mi.memory_bytes, mi.memory_bandwidth_bytes_per_s) == (288e9, 8e12)
    assert mi.peak_flops.fp8 == pytest.approx(256 * 2.4e9 * 8192, rel=1e-4)


def test_gb300_is_per_gpu_not_per_rack() -> None:
    # GB300 NVL72: 576 TB/s and 1,080 PF dense FP4 per 72-GPU rack; FP8 720 PF with sparsity.
    gb = _acc("gb300-288gb")
    assert gb.memory_bandwidth_bytes_per_s == pytest.approx(576e12 / 72)
    assert gb.peak_flops.fp4 == pytest.approx(1080e15 / 72)
    assert gb.peak_flops.fp8 == pytest.approx(720e15 / 72 / 2)
    assert gb.max_devices_per_node == 72


def test_mi250x_is_per_package_of_two_gcds() -> None:
    # AMD MI250X: 128 GB HBM2e and 383 TFLOPS FP16/BF16 per package of two 64 GB GCDs;
    # 8 HBM2e stacks x 409.6 GB/s = 3,276.8 GB/s (marketed 3.2 TB/s).
    mi = _acc("mi250x-128gb")
    assert mi.memory_bytes == 2 * 64e9
    assert mi.peak_flops.bf16 == 383e12
    assert mi.memory_bandwidth_bytes_per_s == pytest.approx(8 * 409.6e9)
    assert mi.peak_flops.fp8 is None  # CDNA 2 has no FP8


def test_export_variants_differ_from_h100_where_documented() -> None:
    # H800: NVLink 400 GB/s bidirectional -> 200 GB/s per direction, compute as H100 SXM.
    h800, h100 = _acc("h800-sxm-80gb"), _acc("h100-sxm-80gb")
    assert h800.interconnect_bandwidth_bytes_per_s == 400e9 / 2
    assert h800.peak_flops.bf16 == h100.peak_flops.bf16
    # H20: 96 GB HBM3 at 4.0 TB/s, 148 TFLOPS FP16 dense, 400 W.
    h20 = _acc("h20-96gb")
    assert (h20.memory_bytes, h20.memory_bandwidth_bytes_per_s) == (96e9, 4.0e12)
    assert (h20.peak_flops.bf16, h20.tdp_w) == (148e12, 400)


# Devices whose datasheet DENSE 16-bit rate exceeds 2,600 TFLOPS. None so far: the largest
# dense figures are MI355X 2,516.6 and GB300 2,500 TFLOPS (B300 2,250).
DENSE_ABOVE_GUARD: dict[str, str] = {}


def test_dense_vs_sparse_guard_on_new_records() -> None:
    for rid in NEW_ACCELERATOR_IDS:
        pf = _acc(rid).peak_flops
        for value in (pf.bf16, pf.fp16):
            if value is not None and rid not in DENSE_ABOVE_GUARD:
                assert value <= 2600e12, rid
        # A 2:4-sparse figure would also double fp8 against a dense bf16; fp8 is 2x bf16 or absent.
        if pf.fp8 is not None and pf.bf16 is not None:
            assert pf.fp8 / pf.bf16 == pytest.approx(2.0, rel=0.05), rid


def test_apple_records_are_single_socs_with_unified_memory() -> None:
    # Apple: M3 Ultra 512 GB at 819 GB/s; M4 Max 128 GB at 546 GB/s; M2 Max 96 GB at 400 GB/s.
    expected = {
        "apple-m3-ultra-512gb": (512e9, 819e9),
        "apple-m4-max-128gb": (128e9, 546e9),
        "apple-m2-max-96gb": (96e9, 400e9),
    }
    for rid, (mem, bw) in expected.items():
        soc = _acc(rid)
        assert soc.kind is DeviceKind.SOC and soc.max_devices_per_node == 1
        assert (soc.memory_bytes, soc.memory_bandwidth_bytes_per_s) == (mem, bw)
        assert soc.peak_flops.fp16 == soc.peak_flops.fp32
