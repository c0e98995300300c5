"""Memory sizing pinned to published figures (each with its citation)."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_models
from inferplan.memory.kv import (
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    kv_elements_per_token_per_layer,
)
from inferplan.memory.params import active_params, total_params
from inferplan.memory.weights import weights_bytes
from inferplan.specs.precision import parse_precision


def test_llama31_70b_parameters_and_kv() -> None:
    m = load_models().get("llama-3.1-70b")
    # Meta model card / HF safetensors metadata: 70,553,706,496 parameters ("70.6B").
    assert total_params(m) == pytest.approx(70.55e9, rel=1e-3)
    # 2 (K,V) x 8 KV heads x 128 head_dim x 80 layers x 2 bytes = 327,680 bytes per token
    assert kv_bytes_per_token(m, 2.0) == 327_680


def test_deepseek_v3_mla_latent_cache() -> None:
    m = load_models().get("deepseek-v3")
    # DeepSeek-V2/V3 papers (arXiv:2405.04434 sec. 2.1): cache (d_c + d_h^R) = 512 + 64 per layer
    assert kv_elements_per_token_per_layer(m) == 512 + 64
    assert kv_bytes_per_token(m, 1.0) == (512 + 64) * 61
    # DeepSeek-V3 technical report (arXiv:2412.19437): 671B total, 37B activated
    assert total_params(m) == pytest.approx(671e9, rel=0.01)
    assert active_params(m) == pytest.approx(37e9, rel=0.03)


def test_mixtral_total_and_active() -> None:
    m = load_models().get("mixtral-8x7b")
    # Mistral AI, "Mixtral of experts" (mistral.ai/news/mixtral-of-experts, Dec 2023):
    # 46.7B total parameters, 12.9B used per token.
    assert total_params(m) == pytest.approx(46.7e9, rel=0.005)
    assert active_params(m) == pytest.approx(12.9e9, rel=0.005)


def test_gguf_q4_k_m_file_size_within_3pct() -> None:
    m = load_models().get("llama-3.1-8b")
    # bartowski/Meta-Llama-3.1-8B-Instruct-GGUF README: Q4_K_M file 4.92 GB
    published = 4.92e9
    est = weights_bytes(m, parse_precision("q4_k_m"))
    assert abs(est - published) / published < 0.03


def test_gguf_q4_0_llama2_7b_size() -> None:
    m = load_models().get("llama-2-7b")
    # llama.cpp discussion #4225 (GPU benchmarks): llama-2-7b Q4_0 GGUF 3.56 GiB = 3.82e9 B.
    # 6.738e9 params x 4.5 bits / 8 = 3.79e9 B (output matrix kept in q6_K adds ~0.03e9)
    est = weights_bytes(m, parse_precision("q4_0"))
    assert abs(est - 3.82e9) / 3.82e9 < 0.03


def test_sliding_window_caps_kv() -> None:
    m = load_models().get("gemma-2-27b")
    per_layer = 2 * 16 * 128 * 2  # 2 (K,V) x 16 KV heads x 128 head_dim x 2 bytes
    # 23 global layers hold all 8192 tokens, 23 local layers at most 4096
    expected = per_layer * (23 * 8192 + 23 * 4096)
    assert m.num_sliding_window_layers == 23
    assert kv_bytes_per_sequence(m, 8192, 2.0) == expected
