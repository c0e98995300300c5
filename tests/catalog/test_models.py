"""The shipped model catalog (catalog/data/models.yaml).

Field pins cite the published Hugging Face config.json of each model; parameter counts
are checked against the vendors' stated totals with an independent shape count below.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

import inferplan.catalog
from inferplan.catalog import load_models
from inferplan.specs.model import AttentionKind, ModelSpec
from inferplan.specs.precision import parse_precision

DATA = Path(inferplan.catalog.__file__).parent / "data" / "models.yaml"

REQUIRED_IDS = [
    "llama-2-7b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b",
    "llama-3.1-405b", "llama-3.2-1b", "llama-3.2-3b", "llama-3.3-70b", "mistral-7b",
    "mistral-7b-v0.1", "mixtral-8x7b", "mixtral-8x22b", "qwen2.5-7b", "qwen2.5-32b",
    "qwen2.5-72b", "qwen3-8b", "qwen3-32b", "qwen3-235b-a22b", "deepseek-v3", "deepseek-r1",
    "gemma-2-27b", "gemma-3-27b", "phi-4", "gpt-j-6b", "gpt-oss-20b", "gpt-oss-120b",
    "smollm2-135m",
]

# Model ids the validation data uses: the `model` vocabulary of the validation cases plus the
# further ids its README says the catalog must resolve.
VALIDATION_IDS = [
    "gpt-j-6b", "llama-2-70b", "llama-2-7b", "llama-3-70b", "llama-3-8b", "llama-3.1-405b",
    "llama-3.1-70b", "llama-3.1-8b", "llama-3.3-70b", "mixtral-8x7b",
    "mistral-7b", "qwen3-235b-a22b", "deepseek-r1",
]

ALIASES = {
    "meta-llama/Llama-3.1-70B-Instruct": "llama-3.1-70b",
    "llama-3.1-70b-instruct": "llama-3.1-70b",
    "meta-llama/Meta-Llama-3-8B-Instruct": "llama-3-8b",
    "meta-llama/Llama-2-7b-chat-hf": "llama-2-7b",
    "Qwen/Qwen3-8B": "qwen3-8b",
    "Qwen/Qwen2.5-72B-Instruct": "qwen2.5-72b",
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
    "HuggingFaceTB/SmolLM2-135M-Instruct": "smollm2-135m",
    "mistralai/Mistral-7B-Instruct-v0.3": "mistral-7b",
    "mistralai/Mistral-7B-v0.1": "mistral-7b-v0.1",
    "mistralai/Mixtral-8x7B-Instruct-v0.1": "mixtral-8x7b",
    "EleutherAI/gpt-j-6b": "gpt-j-6b",
    "openai/gpt-oss-120b": "gpt-oss-120b",
    "google/gemma-3-27b-it": "gemma-3-27b",
}


def _raw_records() -> list[dict[str, Any]]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    assert isinstance(raw, dict) and isinstance(raw["records"], list)
    return raw["records"]


def test_every_record_validates_with_source_and_as_of() -> None:
    records = _raw_records()
    assert len(records) >= len(REQUIRED_IDS)
    for item in records:
        spec = ModelSpec.model_validate(item)
        assert "source" in item and "as_of" in item, spec.id
        assert spec.source.startswith("https://huggingface.co/"), spec.id
        assert dt.date(2024, 1, 1) <= spec.as_of <= dt.date.today(), spec.id
        parse_precision(spec.native_dtype, f"{spec.id}.native_dtype")  # a known precision


def test_required_ids_resolve_to_themselves() -> None:
    catalog = load_models()
    for model_id in REQUIRED_IDS:
        assert catalog.get(model_id).id == model_id


def test_validation_ids_resolve() -> None:
    catalog = load_models()
    for model_id in VALIDATION_IDS:
        assert model_id in catalog, model_id


@pytest.mark.parametrize(("alias", "model_id"), sorted(ALIASES.items()))
def test_aliases_resolve(alias: str, model_id: str) -> None:
    assert load_models().get(alias).id == model_id


def test_no_id_or_alias_repeats() -> None:
    # The loader compares keys lowercased with '_' and ' ' read as '-'.
    seen: dict[str, str] = {}
    for item in _raw_records():
        for key in (item["id"], *item.get("aliases", [])):
            norm = key.strip().lower().replace("_", "-").replace(" ", "-")
            assert norm not in seen, f"{key} of {item['id']} repeats {seen.get(norm)}"
            seen[norm] = item["id"]


# Architecture pins, each from the model's published config.json (key names in comments).
PINS: dict[str, dict[str, Any]] = {
    # huggingface.co/meta-llama/Llama-3.1-70B config.json: num_hidden_layers 80, hidden_size 8192,
    # num_attention_heads 64, num_key_value_heads 8, intermediate_size 28672, vocab_size 128256,
    # max_position_embeddings 131072, tie_word_embeddings false
    "llama-3.1-70b": dict(num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                          intermediate_size=28672, vocab_size=128256, max_context=131072,
                          tie_word_embeddings=False),
    # huggingface.co/meta-llama/Llama-3.1-8B config.json
    "llama-3.1-8b": dict(num_layers=32, hidden_size=4096, num_kv_heads=8, intermediate_size=14336),
    # huggingface.co/meta-llama/Llama-3.1-405B config.json
    "llama-3.1-405b": dict(num_layers=126, hidden_size=16384, num_attention_heads=128,
                           num_kv_heads=8, intermediate_size=53248),
    # huggingface.co/meta-llama/Llama-2-7b-hf config.json: MHA (num_key_value_heads 32), 11008, 4096
    "llama-2-7b": dict(num_layers=32, num_kv_heads=32, intermediate_size=11008, vocab_size=32000,
                       max_context=4096, native_dtype="fp16"),
    # huggingface.co/meta-llama/Llama-2-70b-hf config.json: GQA with 8 KV heads
    "llama-2-70b": dict(num_layers=80, num_kv_heads=8, intermediate_size=28672, max_context=4096),
    # huggingface.co/meta-llama/Meta-Llama-3-8B config.json: 8192 positions, no rope scaling
    "llama-3-8b": dict(max_context=8192, vocab_size=128256),
    # huggingface.co/meta-llama/Llama-3.2-1B config.json: head_dim 64 key, tied embeddings
    "llama-3.2-1b": dict(num_layers=16, hidden_size=2048, head_dim=64, tie_word_embeddings=True),
    # huggingface.co/meta-llama/Llama-3.3-70B-Instruct config.json: tie_word_embeddings false
    "llama-3.3-70b": dict(num_layers=80, intermediate_size=28672, tie_word_embeddings=False),
    # huggingface.co/mistralai/Mistral-7B-v0.3 config.json: vocab 32768, sliding_window null
    "mistral-7b": dict(vocab_size=32768, sliding_window=0, num_sliding_window_layers=0),
    # huggingface.co/mistralai/Mistral-7B-v0.1 config.json: sliding_window 4096 (every layer)
    "mistral-7b-v0.1": dict(vocab_size=32000, sliding_window=4096, num_sliding_window_layers=32),
    # huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json: num_local_experts 8,
    # num_experts_per_tok 2, intermediate_size 14336 (the expert width)
    "mixtral-8x7b": dict(num_experts=8, experts_per_token=2, moe_intermediate_size=14336,
                         intermediate_size=14336, first_dense_layers=0, num_shared_experts=0),
    # huggingface.co/mistralai/Mixtral-8x22B-v0.1 config.json
    "mixtral-8x22b": dict(num_layers=56, hidden_size=6144, num_attention_heads=48,
                          moe_intermediate_size=16384, max_context=65536),
    # huggingface.co/Qwen/Qwen2.5-7B config.json (+ Qwen2Attention q/k/v bias)
    "qwen2.5-7b": dict(num_attention_heads=28, num_kv_heads=4, intermediate_size=18944,
                       vocab_size=152064, qkv_bias=True),
    # huggingface.co/Qwen/Qwen3-32B config.json: head_dim 128 with 64 heads != hidden 5120
    "qwen3-32b": dict(hidden_size=5120, num_attention_heads=64, head_dim=128, qkv_bias=False,
                      max_context=40960),
    # huggingface.co/Qwen/Qwen3-235B-A22B config.json: num_experts 128, num_experts_per_tok 8,
    # moe_intermediate_size 1536, 94 layers, 4 KV heads
    "qwen3-235b-a22b": dict(num_layers=94, num_kv_heads=4, num_experts=128, experts_per_token=8,
                            moe_intermediate_size=1536, num_shared_experts=0),
    # huggingface.co/deepseek-ai/DeepSeek-V3 config.json: kv_lora_rank 512, q_lora_rank 1536,
    # qk_rope_head_dim 64, qk_nope_head_dim 128, v_head_dim 128, 61 layers, n_routed_experts 256,
    # num_experts_per_tok 8, n_shared_experts 1, first_k_dense_replace 3, FP8 quantization_config
    "deepseek-v3": dict(num_layers=61, hidden_size=7168, kv_lora_rank=512, q_lora_rank=1536,
                        qk_rope_head_dim=64, qk_nope_head_dim=128, v_head_dim=128,
                        num_experts=256, experts_per_token=8, moe_intermediate_size=2048,
                        num_shared_experts=1, first_dense_layers=3, intermediate_size=18432,
                        vocab_size=129280, max_context=163840, native_dtype="fp8"),
    # huggingface.co/google/gemma-2-27b config.json: sliding_window 4096 on alternate layers
    "gemma-2-27b": dict(num_layers=46, hidden_size=4608, head_dim=128, intermediate_size=36864,
                        sliding_window=4096, num_sliding_window_layers=23,
                        tie_word_embeddings=True),
    # huggingface.co/google/gemma-3-27b-it config.json text_config: 62 layers, window 1024
    "gemma-3-27b": dict(num_layers=62, hidden_size=5376, num_kv_heads=16, head_dim=128,
                        intermediate_size=21504, sliding_window=1024),
    # huggingface.co/microsoft/phi-4 config.json
    "phi-4": dict(num_layers=40, num_attention_heads=40, num_kv_heads=10, vocab_size=100352,
                  max_context=16384, tie_word_embeddings=False),
    # huggingface.co/EleutherAI/gpt-j-6b config.json: n_layer 28, n_embd 4096, n_head 16,
    # n_inner null (4 * n_embd), n_positions 2048, vocab_size 50400, untied; fc_in/fc_out MLP
    "gpt-j-6b": dict(num_layers=28, hidden_size=4096, num_attention_heads=16, num_kv_heads=16,
                     head_dim=256, intermediate_size=16384, vocab_size=50400, max_context=2048,
                     tie_word_embeddings=False, mlp_gated=False),
    # huggingface.co/openai/gpt-oss-20b config.json: num_local_experts 32, experts_per_token 4,
    # sliding_window 128, layer_types 12 x [sliding, full], attention_bias true, mxfp4
    "gpt-oss-20b": dict(num_layers=24, num_experts=32, experts_per_token=4, head_dim=64,
                        sliding_window=128, num_sliding_window_layers=12, qkv_bias=True,
                        native_dtype="mxfp4"),
    # huggingface.co/openai/gpt-oss-120b config.json: 128 experts, 36 layers
    "gpt-oss-120b": dict(num_layers=36, num_experts=128, num_sliding_window_layers=18),
    # huggingface.co/HuggingFaceTB/SmolLM2-135M config.json
    "smollm2-135m": dict(hidden_size=576, num_layers=30, num_attention_heads=9, num_kv_heads=3,
                         intermediate_size=1536, vocab_size=49152, max_context=8192,
                         tie_word_embeddings=True),
}


@pytest.mark.parametrize("model_id", sorted(PINS))
def test_fields_match_published_configs(model_id: str) -> None:
    spec = load_models().get(model_id)
    for field, expected in PINS[model_id].items():
        assert getattr(spec, field) == expected, f"{model_id}.{field}"


# Configs without a head_dim key: head_dim = hidden_size / num_attention_heads.
DERIVED_HEAD_DIM = [
    "llama-2-7b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b",
    "llama-3.1-405b", "llama-3.3-70b", "mistral-7b", "mistral-7b-v0.1", "mixtral-8x7b",
    "mixtral-8x22b", "qwen2.5-7b", "qwen2.5-32b", "qwen2.5-72b", "phi-4", "gpt-j-6b",
    "smollm2-135m",
]


@pytest.mark.parametrize("model_id", DERIVED_HEAD_DIM)
def test_derived_head_dim(model_id: str) -> None:
    spec = load_models().get(model_id)
    assert spec.head_dim * spec.num_attention_heads == spec.hidden_size


def test_mla_records_follow_the_mla_convention() -> None:
    for spec in load_models():
        if spec.attention_kind is AttentionKind.MLA and spec.family == "deepseek_v3":
            assert spec.head_dim == spec.qk_nope_head_dim + spec.qk_rope_head_dim == 192
            assert spec.num_kv_heads == spec.num_attention_heads
            # KV cache per token in bf16: (512 + 64) values x 61 layers x 2 bytes = 70,272 bytes
            assert (spec.kv_lora_rank + spec.qk_rope_head_dim) * spec.num_layers * 2 == 70_272


def test_kv_cache_shapes_of_llama_3_1_70b() -> None:
    # 2 (K and V) x 80 layers x 8 KV heads x 128 head_dim x 2 bytes = 327,680 bytes per token
    spec = load_models().get("llama-3.1-70b")
    assert 2 * spec.num_layers * spec.num_kv_heads * spec.head_dim * 2 == 327_680


def test_gemma_3_local_global_pattern() -> None:
    # Gemma 3 report (arXiv:2503.19786): 5 local layers per global one, starting with local;
    # sliding_window_pattern 6 -> layers 6, 12, ..., 60 (1-based) are global: 62 // 6 = 10,
    # so 62 - 10 = 52 layers slide.
    spec = load_models().get("gemma-3-27b")
    assert spec.num_sliding_window_layers == 62 - 62 // 6 == 52


def test_only_windowed_families_have_sliding_layers() -> None:
    windowed = {
        "mistral-7b-v0.1", "gemma-2-27b", "gemma-3-27b", "gpt-oss-20b", "gpt-oss-120b",
        "gemma-2-9b", "gemma-3-12b", "phi-3-mini-4k", "phi-3-medium",
        "llama-4-scout-17b-16e", "llama-4-maverick-17b-128e",
    }
    for spec in load_models():
        assert (spec.num_sliding_window_layers > 0) == (spec.id in windowed), spec.id


def _shape_params(m: ModelSpec) -> float:
    """Weights implied by the shapes, ignoring norms and biases (< 0.1 %).

    embeddings V*h, plus an untied lm_head V*h; per layer attention
      GQA: q h*H*d + k,v 2*h*K*d + o H*d*h
      MLA: q (h*q_lora + q_lora*H*(nope+rope)) + kv (h*(kv_lora+rope) + kv_lora*H*(nope+v))
           + o H*v*h
    and MLP 3*h*I (gated) or 2*h*I, or for MoE layers (E + shared)*3*h*I_moe + router h*E.
    """
    h, n_heads = m.hidden_size, m.num_attention_heads
    total = m.vocab_size * h * (1 if m.tie_word_embeddings else 2)
    if m.is_mla:
        q_in = m.q_lora_rank or h
        q = (h * m.q_lora_rank if m.q_lora_rank else 0)
        q += q_in * n_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
        kv = h * (m.kv_lora_rank + m.qk_rope_head_dim)
        kv += m.kv_lora_rank * n_heads * (m.qk_nope_head_dim + m.v_head_dim)
        attn = q + kv + n_heads * m.v_head_dim * h
    else:
        d = m.head_dim
        attn = 2 * h * n_heads * d + 2 * h * m.num_kv_heads * d
    dense = (3 if m.mlp_gated else 2) * h * m.intermediate_size
    if m.is_moe:
        moe = (m.num_experts + m.num_shared_experts) * 3 * h * m.moe_intermediate_size
        moe += h * m.num_experts
        mlps = m.first_dense_layers * dense + (m.num_layers - m.first_dense_layers) * moe
    else:
        mlps = m.num_layers * dense
    return float(total + m.num_layers * attn + mlps)


# Vendor figures stated to 3+ significant digits; the rest ('7B', '70B', '14B') are nominal.
PRECISE_PUBLISHED = {
    "llama-3.1-405b", "llama-3.2-1b", "llama-3.2-3b", "mixtral-8x7b", "mixtral-8x22b",
    "qwen2.5-7b", "qwen2.5-32b", "qwen2.5-72b", "qwen3-8b", "qwen3-32b", "qwen3-235b-a22b",
    "deepseek-v3", "deepseek-r1", "gemma-3-27b", "gpt-j-6b", "gpt-oss-20b", "gpt-oss-120b",
    "smollm2-135m",
}


def test_shapes_reproduce_the_published_parameter_counts() -> None:
    # e.g. Mixtral 8x7B: 2 x 32000 x 4096 + 32 x (41.9M attention + 8 x 3 x 4096 x 14336)
    #   = 46.70e9 vs 46.7B announced; DeepSeek-V3 gives 670.9e9 vs 671B (MTP layer excluded).
    checked = 0
    for spec in load_models():
        if spec.published_params is None:
            continue
        tolerance = 0.015 if spec.id in PRECISE_PUBLISHED else 0.06
        derived = _shape_params(spec)
        assert derived == pytest.approx(spec.published_params, rel=tolerance), spec.id
        checked += 1
    assert checked >= len(REQUIRED_IDS)


def test_gpt_j_count_matches_the_model_card_closely() -> None:
    # EleutherAI card: n_parameters 6,053,381,344. Shapes: 2 x 50400 x 4096 = 412,876,800
    # embeddings + lm_head, 28 x (4 x 4096^2 + 2 x 4096 x 16384) = 28 x 201,326,592
    # = 5,637,144,576 -> 6,050,021,376 without biases and norms (0.06 % below the card).
    spec = load_models().get("gpt-j-6b")
    assert _shape_params(spec) == 6_050_021_376
    assert spec.published_params == 6_053_381_344
