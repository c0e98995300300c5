"""Hugging Face config.json import (inferplan.catalog.hf_import).

Fixtures in ``fixtures/`` are the architecture keys of public config.json files:
  llama-3.1-8b.json  huggingface.co/meta-llama/Llama-3.1-8B config.json, as copied in
                     mlc-ai/mlc-llm@01ced331a9e1 python/mlc_llm/model/model_preset.py (llama3_1_8b)
  mixtral-8x7b.json  huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json (same mlc file,
                     preset Mixtral-8x7B-v0.1)
  deepseek-v3.json   huggingface.co/deepseek-ai/DeepSeek-V3 config.json (DeepSeek-R1 has the same
                     keys and values), keys a public verbatim copy shows
  gemma-3-27b.json   huggingface.co/google/gemma-3-27b-it config.json: its text_config omits
                     vocab_size, max_position_embeddings and sliding_window_pattern
  gpt-oss-20b.json   huggingface.co/openai/gpt-oss-20b config.json (layer_types, mxfp4)
  gpt-j-6b.json      huggingface.co/EleutherAI/gpt-j-6b config.json (mlc preset gpt_j without
                     the rope_scaling key mlc adds)
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from inferplan.catalog import load_models
from inferplan.catalog.hf_import import import_hf_config, model_from_hf_config
from inferplan.errors import SpecError
from inferplan.specs.model import ModelSpec

FIXTURES = Path(__file__).parent / "fixtures"
NOT_ARCHITECTURE = {"id", "source", "as_of", "aliases", "notes", "published_params", "name"}
SOURCE = "https://example.org/config.json"


def _architecture(spec: ModelSpec) -> dict[str, Any]:
    return {k: v for k, v in spec.model_dump().items() if k not in NOT_ARCHITECTURE}


def _fixture(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _spec(config: dict[str, Any]) -> ModelSpec:
    return model_from_hf_config(config, "test-model", SOURCE, dt.date(2025, 1, 1))


LLAMA_3_8B = {  # huggingface.co/meta-llama/Meta-Llama-3-8B config.json (architecture keys)
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "max_position_embeddings": 8192, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "rope_theta": 500000.0, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "vocab_size": 128256,
}


@pytest.mark.parametrize(
    ("fixture", "model_id"),
    [
        ("llama-3.1-8b", "llama-3.1-8b"),
        ("mixtral-8x7b", "mixtral-8x7b"),
        ("deepseek-v3", "deepseek-v3"),
        ("gemma-3-27b", "gemma-3-27b"),
        ("gpt-oss-20b", "gpt-oss-20b"),
        ("gpt-j-6b", "gpt-j-6b"),
    ],
)
def test_import_matches_catalog_record(fixture: str, model_id: str) -> None:
    imported = _spec(_fixture(fixture))
    record = load_models().get(model_id)
    expected = _architecture(record)
    got = _architecture(imported)
    for field in expected:
        assert got[field] == expected[field], f"{model_id}.{field}"
    assert imported.source == SOURCE and imported.as_of == dt.date(2025, 1, 1)


def test_inline_configs_match_catalog_records() -> None:
    # huggingface.co/google/gemma-2-27b config.json as in mlc-ai/mlc-llm@01ced331a9e1 (gemma2_27b):
    # no tie_word_embeddings key (Gemma2Config default true), no layer_types (even layers slide)
    gemma2 = {
        "model_type": "gemma2", "head_dim": 128, "hidden_size": 4608, "intermediate_size": 36864,
        "max_position_embeddings": 8192, "num_attention_heads": 32, "num_hidden_layers": 46,
        "num_key_value_heads": 16, "query_pre_attn_scalar": 144, "sliding_window": 4096,
        "sliding_window_size": 4096, "torch_dtype": "bfloat16", "vocab_size": 256000,
    }
    # huggingface.co/mistralai/Mistral-7B-v0.1 config.json: sliding_window 4096, no layer rule
    mistral_v01 = {
        "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
        "max_position_embeddings": 32768, "num_attention_heads": 32, "num_hidden_layers": 32,
        "num_key_value_heads": 8, "rope_theta": 10000.0, "sliding_window": 4096,
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 32000,
    }
    # huggingface.co/Qwen/Qwen2.5-7B config.json (LLM-Prof copy): no bias key, Qwen2 has q/k/v bias
    qwen25 = {
        "model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944,
        "max_position_embeddings": 131072, "max_window_layers": 28, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4, "sliding_window": 131072,
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_sliding_window": False,
        "vocab_size": 152064,
    }
    # huggingface.co/HuggingFaceTB/SmolLM2-135M config.json (mlc preset smollm2_135m)
    smollm2 = {
        "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
        "max_position_embeddings": 8192, "num_attention_heads": 9, "num_hidden_layers": 30,
        "num_key_value_heads": 3, "rope_theta": 100000, "tie_word_embeddings": True,
        "torch_dtype": "bfloat16", "vocab_size": 49152,
    }
    # huggingface.co/microsoft/phi-4 config.json
    phi4 = {
        "model_type": "phi3", "hidden_size": 5120, "intermediate_size": 17920,
        "max_position_embeddings": 16384, "num_attention_heads": 40, "num_hidden_layers": 40,
        "num_key_value_heads": 10, "sliding_window": None, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", "vocab_size": 100352,
    }
    catalog = load_models()
    for config, model_id in [
        (gemma2, "gemma-2-27b"), (mistral_v01, "mistral-7b-v0.1"), (qwen25, "qwen2.5-7b"),
        (smollm2, "smollm2-135m"), (phi4, "phi-4"), (LLAMA_3_8B, "llama-3-8b"),
    ]:
        assert _architecture(_spec(config)) == _architecture(catalog.get(model_id)), model_id


def test_missing_num_hidden_layers_names_the_key() -> None:
    config = _fixture("llama-3.1-8b")
    del config["num_hidden_layers"]
    with pytest.raises(SpecError) as err:
        _spec(config)
    assert err.value.field == "config.num_hidden_layers"
    assert err.value.message.startswith("missing")


def test_missing_keys_of_gpt_j_and_nested_configs_are_named() -> None:
    gptj = _fixture("gpt-j-6b")
    del gptj["n_layer"]
    with pytest.raises(SpecError, match=r"^config\.n_layer: missing"):
        _spec(gptj)
    gemma3 = _fixture("gemma-3-27b")
    del gemma3["text_config"]["hidden_size"]
    with pytest.raises(SpecError, match=r"^config\.text_config\.hidden_size: missing"):
        _spec(gemma3)
    moe = _fixture("mixtral-8x7b")
    del moe["num_experts_per_tok"]
    with pytest.raises(SpecError, match=r"^config\.num_experts_per_tok: missing"):
        _spec(moe)


def test_unknown_keys_are_ignored_and_bad_values_rejected() -> None:
    config = {**LLAMA_3_8B, "some_future_key": {"x": 1}, "rope_scaling": None}
    assert _spec(config).num_layers == 32
    with pytest.raises(SpecError, match=r"^config\.num_hidden_layers: expected an integer"):
        _spec({**LLAMA_3_8B, "num_hidden_layers": "32"})
    with pytest.raises(SpecError, match=r"^config\.num_hidden_layers: must be a positive"):
        _spec({**LLAMA_3_8B, "num_hidden_layers": 0})
    # 16384.0 (some fine-tunes write integral floats) is accepted as 16384
    assert _spec({**LLAMA_3_8B, "max_position_embeddings": 16384.0}).max_context == 16384
    with pytest.raises(SpecError, match=r"^config:"):
        model_from_hf_config([1, 2], "x", SOURCE)  # type: ignore[arg-type]


def test_head_dim_key_wins_over_hidden_over_heads() -> None:
    # Qwen3-32B: 64 heads of head_dim 128 with hidden_size 5120 (config key head_dim 128)
    qwen3 = {**LLAMA_3_8B, "model_type": "qwen3", "hidden_size": 5120, "num_attention_heads": 64,
             "head_dim": 128}
    assert _spec(qwen3).head_dim == 128
    # Mistral configs may write head_dim null: fall back to 4096 / 32 = 128
    assert _spec({**LLAMA_3_8B, "head_dim": None}).head_dim == 128
    with pytest.raises(SpecError, match=r"^config\.head_dim"):
        _spec({**LLAMA_3_8B, "hidden_size": 4000, "num_attention_heads": 48})


def test_kv_heads_default_to_query_heads() -> None:
    config = {k: v for k, v in LLAMA_3_8B.items() if k != "num_key_value_heads"}
    spec = _spec(config)
    assert spec.num_kv_heads == 32 and spec.attention_kind.value == "mha"


def test_qwen3_moe_keys() -> None:
    # huggingface.co/Qwen/Qwen3-30B-A3B config.json keys: num_experts 128, num_experts_per_tok 8,
    # moe_intermediate_size 768, decoder_sparse_step 1, mlp_only_layers []
    base = {
        "model_type": "qwen3_moe", "head_dim": 128, "hidden_size": 2048,
        "intermediate_size": 6144, "max_position_embeddings": 40960, "num_attention_heads": 32,
        "num_hidden_layers": 48, "num_key_value_heads": 4, "num_experts": 128,
        "num_experts_per_tok": 8, "moe_intermediate_size": 768, "decoder_sparse_step": 1,
        "mlp_only_layers": [], "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "vocab_size": 151936, "use_sliding_window": False, "sliding_window": None,
    }
    spec = _spec(base)
    assert (spec.num_experts, spec.experts_per_token, spec.moe_intermediate_size) == (128, 8, 768)
    assert (spec.first_dense_layers, spec.num_shared_experts, spec.qkv_bias) == (0, 0, False)
    assert _spec({**base, "mlp_only_layers": [0, 1]}).first_dense_layers == 2
    with pytest.raises(SpecError, match=r"^config\.mlp_only_layers"):
        _spec({**base, "mlp_only_layers": [5]})
    with pytest.raises(SpecError, match=r"^config\.decoder_sparse_step"):
        _spec({**base, "decoder_sparse_step": 2})
    with pytest.raises(SpecError, match=r"^config: experts_per_token must be in 1\.\.num_experts"):
        _spec({**base, "num_experts_per_tok": 129})


def test_qwen2_moe_shared_expert_width_in_expert_units() -> None:
    # Qwen1.5-MoE-A2.7B config.json: moe_intermediate_size 1408, shared_expert_intermediate_size
    # 5632 = 4 x 1408 -> the shared expert counts as 4 routed-size experts.
    config = {
        "model_type": "qwen2_moe", "hidden_size": 2048, "intermediate_size": 5632,
        "max_position_embeddings": 8192, "num_attention_heads": 16, "num_hidden_layers": 24,
        "num_key_value_heads": 16, "num_experts": 60, "num_experts_per_tok": 4,
        "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
        "torch_dtype": "bfloat16", "vocab_size": 151936, "use_sliding_window": False,
    }
    spec = _spec(config)
    assert (spec.num_shared_experts, spec.qkv_bias) == (4, True)


def test_sliding_window_layer_rules() -> None:
    # Gemma 3 with layer_types (newer transformers writes them): counted exactly
    gemma3 = _fixture("gemma-3-27b")
    types = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(62)]
    gemma3["text_config"]["layer_types"] = types
    assert _spec(gemma3).num_sliding_window_layers == 52
    gemma3["text_config"]["layer_types"] = types[:-1]
    with pytest.raises(SpecError, match=r"^config\.text_config\.layer_types: has 61 entries"):
        _spec(gemma3)
    # gpt-oss without layer_types: even layers slide (GptOssConfig default) -> 12 of 24
    oss = _fixture("gpt-oss-20b")
    del oss["layer_types"]
    assert _spec(oss).num_sliding_window_layers == 12
    # Qwen2 with use_sliding_window: layers from max_window_layers on -> 28 - 20 = 8
    qwen = {**LLAMA_3_8B, "model_type": "qwen2", "num_hidden_layers": 28,
            "sliding_window": 4096, "use_sliding_window": True, "max_window_layers": 20}
    spec = _spec(qwen)
    assert (spec.sliding_window, spec.num_sliding_window_layers) == (4096, 8)
    # Phi-3-mini-4k: sliding_window 2047 < 4096 positions on every layer; Phi-3.5-mini's
    # 262144 exceeds its 131072 positions and changes nothing
    phi3 = {**LLAMA_3_8B, "model_type": "phi3", "max_position_embeddings": 4096,
            "sliding_window": 2047}
    assert (_spec(phi3).sliding_window, _spec(phi3).num_sliding_window_layers) == (2047, 32)
    phi35 = {**phi3, "max_position_embeddings": 131072, "sliding_window": 262144}
    assert (_spec(phi35).sliding_window, _spec(phi35).num_sliding_window_layers) == (0, 0)


def test_native_dtype() -> None:
    assert _spec({**LLAMA_3_8B, "torch_dtype": "float16"}).native_dtype == "fp16"
    assert _spec({**LLAMA_3_8B, "dtype": "bfloat16", "torch_dtype": None}).native_dtype == "bf16"
    no_dtype = {k: v for k, v in LLAMA_3_8B.items() if k != "torch_dtype"}
    assert _spec(no_dtype).native_dtype == "fp32"  # transformers loads float32 by default
    awq = {**LLAMA_3_8B, "quantization_config": {"quant_method": "awq", "bits": 4}}
    assert _spec(awq).native_dtype == "int4-awq"
    with pytest.raises(SpecError, match=r"quantization_config\.quant_method"):
        _spec({**LLAMA_3_8B, "quantization_config": {"quant_method": "bitsandbytes"}})
    with pytest.raises(SpecError, match=r"^config\.torch_dtype"):
        _spec({**LLAMA_3_8B, "torch_dtype": "float64"})


def test_import_hf_config_reads_a_local_file(tmp_path: Path) -> None:
    folder = tmp_path / "Mixtral-8x7B-v0.1"
    folder.mkdir()
    shutil.copy(FIXTURES / "mixtral-8x7b.json", folder / "config.json")
    spec = import_hf_config(folder / "config.json")
    assert spec.id == "mixtral-8x7b-v0.1"
    assert spec.source == f"file://{(folder / 'config.json').resolve()}"
    assert spec.as_of == dt.date.today()
    assert spec.num_experts == 8
    assert import_hf_config(folder, model_id="my-mixtral").id == "my-mixtral"  # a folder works


def test_import_hf_config_id_from_name_or_path(tmp_path: Path) -> None:
    config = {**_fixture("llama-3.1-8b"), "_name_or_path": "meta-llama/Llama-3.1-8B"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    spec = import_hf_config(path)
    assert spec.id == "meta-llama-llama-3.1-8b" and spec.name == "meta-llama/Llama-3.1-8B"
    config["_name_or_path"] = "/data/runs/checkpoint-3890"  # a local path: its last part
    path.write_text(json.dumps(config), encoding="utf-8")
    assert import_hf_config(path).id == "checkpoint-3890"


def test_import_hf_config_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^path: cannot read"):
        import_hf_config(tmp_path / "nope.json")
    bad = tmp_path / "config.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SpecError, match=r"^path: .* is not valid JSON"):
        import_hf_config(bad)
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SpecError, match=r"^path: .* must hold a JSON object"):
        import_hf_config(bad)
    shutil.copy(FIXTURES / "gpt-j-6b.json", bad)
    with pytest.raises(SpecError, match=r"^model_id: 'Bad Id'"):
        import_hf_config(bad, model_id="Bad Id")
