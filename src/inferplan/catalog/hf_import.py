"""Turn a Hugging Face ``config.json`` into a :class:`~inferplan.specs.model.ModelSpec`.

:func:`model_from_hf_config` is pure: it reads only the mapping it is given.
:func:`import_hf_config` reads one local file (never the network) and calls it.

Key names follow the ``transformers`` configuration classes (``LlamaConfig``,
``MixtralConfig``, ``Qwen2Config``, ``Qwen3MoeConfig``, ``DeepseekV3Config``,
``Gemma2Config``, ``Gemma3TextConfig``, ``GptOssConfig``, ``Phi3Config``,
``GPTJConfig``; github.com/huggingface/transformers, ``src/transformers/models``).
Where a config.json may omit a key, the default of that class is used and
named in the code. Unknown extra keys are ignored.

Example:
    >>> spec = model_from_hf_config(
    ...     {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    ...      "num_attention_heads": 32, "num_key_value_heads": 8,
    ...      "intermediate_size": 14336, "vocab_size": 128256,
    ...      "max_position_embeddings": 131072, "torch_dtype": "bfloat16"},
    ...     model_id="my-llama", source="https://example.org/config.json")
    >>> (spec.head_dim, spec.attention_kind.value)
    (128, 'gqa')
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inferplan.catalog.loader import decode_text
from inferplan.errors import CatalogError, SpecError
from inferplan.specs.model import ModelSpec

__all__ = ["import_hf_config", "model_from_hf_config"]

MAX_CONFIG_BYTES = 2**20
"""Largest config.json read (1 MiB; real ones are a few kB)."""
_MISSING = "missing; the Hugging Face config.json must give it to describe the architecture"

# ``tie_word_embeddings`` when the key is absent: each transformers config class's default.
# PretrainedConfig defaults to True; LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config,
# Qwen3Config, Qwen3MoeConfig, DeepseekV3Config, GptOssConfig and Phi3Config set False.
_UNTIED_BY_DEFAULT = frozenset(
    {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
     "deepseek_v2", "deepseek_v3", "gpt_oss", "phi3"}
)
# Keys a Gemma 3 ``text_config`` may omit, with Gemma3TextConfig's defaults
# (transformers src/transformers/models/gemma3/configuration_gemma3.py).
_GEMMA3_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262_208,
    "max_position_embeddings": 131_072,
    "sliding_window": 4096,
    "sliding_window_pattern": 6,
}
# Families whose config key names follow GPT-2 (n_embd, n_layer, n_head, n_positions, n_inner)
# and whose MLP is two matrices with GELU (fc_in/fc_out), not a gated SwiGLU/GeGLU.
_GPT_STYLE = frozenset({"gptj", "gpt2", "gpt_neo", "codegen"})
# Qwen2-family attention always has q/k/v biases (Qwen2Attention: bias=True); no config key.
_QKV_BIAS_ALWAYS = frozenset({"qwen2", "qwen2_moe"})
# Families where a sliding window applies only from layer ``max_window_layers`` on,
# and only when ``use_sliding_window`` is true (Qwen2Config docstring).
_QWEN_WINDOWED = frozenset({"qwen2", "qwen2_moe", "qwen3", "qwen3_moe"})
_FAMILY_ALIASES = {"gemma3_text": "gemma3"}
_TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
_ID_OK = re.compile(r"\A[a-z0-9][a-z0-9._-]*\Z")


class _Config:
    """Read access to a (possibly flattened) config with errors that name the key."""

    def __init__(self, values: Mapping[str, Any], prefix: str) -> None:
        self.values = values
        self.prefix = prefix

    def field(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def present(self, key: str) -> bool:
        return self.values.get(key) is not None

    def int_or_none(self, *keys: str) -> int | None:
        """First present key among ``keys`` as a non-negative int; None if all absent."""
        for key in keys:
            value = self.values.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SpecError(self.field(key), f"expected an integer, got {value!r}")
            if value < 0 or int(value) != value:
                raise SpecError(self.field(key), f"expected a non-negative integer, got {value!r}")
            return int(value)
        return None

    def required(self, *keys: str) -> int:
        """First present key among ``keys`` as a positive int; raise naming ``keys[0]``."""
        value = self.int_or_none(*keys)
        if value is None:
            raise SpecError(self.field(keys[0]), _MISSING)
        if value == 0:
            raise SpecError(self.field(keys[0]), "must be a positive integer, got 0")
        return value


def _flatten(config: Mapping[str, Any]) -> _Config:
    """Merge a multimodal config's ``text_config`` over its top level (Gemma 3 and similar)."""
    text = config.get("text_config")
    merged = {k: v for k, v in config.items() if k != "text_config"}
    prefix = "config"
    if isinstance(text, Mapping):
        merged.update(text)
        prefix = "config.text_config"
    types = {str(config.get("model_type", "")).lower(), str(merged.get("model_type", "")).lower()}
    if types & {"gemma3", "gemma3_text"}:
        for key, default in _GEMMA3_TEXT_DEFAULTS.items():
            if merged.get(key) is None:
                merged[key] = default
    return _Config(merged, prefix)


def _native_dtype(cfg: _Config) -> str:
    """Stored weight format: the quantization method if any, else ``torch_dtype``.

    A config without ``torch_dtype`` (or transformers 5's ``dtype``) loads as float32 in
    transformers (PreTrainedModel default dtype), so that is what it records.
    """
    quant = cfg.values.get("quantization_config")
    if isinstance(quant, Mapping):
        method = str(quant.get("quant_method", "")).lower()
        algo = str(quant.get("quant_algo", "")).lower()
        bits = quant.get("bits")
        if method == "fp8" or (method == "modelopt" and algo == "fp8"):
            return "fp8"
        if method == "mxfp4":
            return "mxfp4"
        if method == "modelopt" and algo == "nvfp4":
            return "nvfp4"
        if method in ("awq", "gptq") and bits in (4, None):
            return f"int4-{method}"
        raise SpecError(
            cfg.field("quantization_config.quant_method"),
            f"unsupported quantization '{method or quant}'; supported: fp8, mxfp4, "
            "modelopt fp8/nvfp4, 4-bit awq and gptq",
        )
    dtype = cfg.values.get("torch_dtype") or cfg.values.get("dtype")
    if dtype is None:
        return "fp32"
    name = str(dtype).removeprefix("torch.").lower()
    if name not in _TORCH_DTYPES:
        raise SpecError(
            cfg.field("torch_dtype"),
            f"unsupported dtype '{dtype}'; supported: {', '.join(_TORCH_DTYPES)}",
        )
    return _TORCH_DTYPES[name]


def _moe_fields(cfg: _Config, intermediate: int) -> dict[str, int]:
    """Routed/shared experts and leading dense layers (Mixtral, Qwen MoE, DeepSeek, gpt-oss)."""
    experts = cfg.int_or_none("num_local_experts", "n_routed_experts", "num_experts") or 0
    if not experts:
        return {}
    top_k = cfg.int_or_none("num_experts_per_tok", "experts_per_token")
    if not top_k:
        raise SpecError(cfg.field("num_experts_per_tok"), _MISSING + " for a MoE model")
    # Mixtral and gpt-oss have no moe_intermediate_size: every expert is intermediate_size wide.
    width = cfg.int_or_none("moe_intermediate_size") or intermediate
    shared = cfg.int_or_none("n_shared_experts", "num_shared_experts") or 0
    shared_width = cfg.int_or_none("shared_expert_intermediate_size") or 0
    if shared_width and not shared:
        # Qwen2-MoE: one shared expert of shared_expert_intermediate_size, which has the
        # parameters and FLOPs of shared_width / width routed-size experts.
        if shared_width % width:
            raise SpecError(
                cfg.field("shared_expert_intermediate_size"),
                f"{shared_width} is not a multiple of moe_intermediate_size {width}",
            )
        shared = shared_width // width
    for key in ("decoder_sparse_step", "moe_layer_freq"):
        step = cfg.int_or_none(key)
        if step not in (None, 1):
            raise SpecError(cfg.field(key), f"only 1 (every layer MoE) is supported, got {step}")
    first_dense = cfg.int_or_none("first_k_dense_replace") or 0
    dense_only = cfg.values.get("mlp_only_layers") or []
    if dense_only:
        if not isinstance(dense_only, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in dense_only
        ):
            raise SpecError(
                cfg.field("mlp_only_layers"), f"expected layer indices, got {dense_only!r}"
            )
        if sorted(dense_only) != list(range(len(dense_only))):
            raise SpecError(
                cfg.field("mlp_only_layers"),
                f"only leading dense layers (0, 1, ...) are supported, got {dense_only}",
            )
        first_dense = max(first_dense, len(dense_only))
    return {
        "num_experts": experts,
        "experts_per_token": top_k,
        "moe_intermediate_size": width,
        "num_shared_experts": shared,
        "first_dense_layers": first_dense,
    }


def _mla_fields(cfg: _Config) -> dict[str, int]:
    """DeepSeek-V2/V3 multi-head latent attention sizes; empty when not MLA."""
    kv_lora = cfg.int_or_none("kv_lora_rank") or 0
    if not kv_lora:
        return {}
    return {
        "kv_lora_rank": kv_lora,
        "q_lora_rank": cfg.int_or_none("q_lora_rank") or 0,  # None in DeepSeek-V2-Lite
        "qk_rope_head_dim": cfg.required("qk_rope_head_dim"),
        "qk_nope_head_dim": cfg.required("qk_nope_head_dim"),
        "v_head_dim": cfg.required("v_head_dim"),
    }


def _sliding(cfg: _Config, family: str, layers: int, max_context: int) -> tuple[int, int]:
    """(window tokens, layers using it); a window >= max_context changes nothing -> (0, 0).

    ``layer_types`` counts exactly. Otherwise the transformers layer rules: Gemma 2 and
    gpt-oss slide on even layers, Gemma 3 on all but every ``sliding_window_pattern``-th,
    Qwen from ``max_window_layers`` on when ``use_sliding_window``; Mistral-style configs
    apply ``sliding_window`` to every layer.
    """
    window = cfg.int_or_none("sliding_window") or 0
    layer_types = cfg.values.get("layer_types")
    if isinstance(layer_types, list):
        if len(layer_types) != layers:
            raise SpecError(
                cfg.field("layer_types"),
                f"has {len(layer_types)} entries but num_hidden_layers is {layers}",
            )
        count = sum(1 for t in layer_types if t == "sliding_attention")
        if count and not window:
            raise SpecError(cfg.field("sliding_window"), _MISSING + " (layer_types slide)")
    elif not window or cfg.values.get("use_sliding_window") is False:
        count = 0
    elif family in _QWEN_WINDOWED:
        start = cfg.int_or_none("max_window_layers")
        count = layers - min(layers, start if start is not None else layers)
    elif family in ("gemma2", "gpt_oss"):
        count = (layers + 1) // 2
    elif family == "gemma3":
        pattern = cfg.int_or_none("sliding_window_pattern") or 6
        count = layers - layers // pattern
    else:
        count = layers
    if count == 0 or window >= max_context:
        return 0, 0
    return window, count


def model_from_hf_config(
    config: Mapping[str, Any],
    model_id: str,
    source: str,
    as_of: dt.date | None = None,
) -> ModelSpec:
    """A :class:`ModelSpec` from a parsed Hugging Face ``config.json`` (pure, no I/O).

    ``head_dim`` is the config key when present, else hidden_size / num_attention_heads;
    for MLA it is qk_nope_head_dim + qk_rope_head_dim and ``num_kv_heads`` equals the
    query heads. ``as_of`` defaults to today. Missing required keys raise
    :class:`SpecError` naming ``config.<key>``.
    """
    if not isinstance(config, Mapping):
        raise SpecError("config", "expected a JSON object (the content of config.json)")
    model_type = str(config.get("model_type") or "").lower()
    family = _FAMILY_ALIASES.get(model_type, model_type) or "unknown"
    cfg = _flatten(config)
    gpt_style = family in _GPT_STYLE or (cfg.present("n_embd") and not cfg.present("hidden_size"))
    if gpt_style:
        hidden = cfg.required("n_embd", "hidden_size")
        layers = cfg.required("n_layer", "num_hidden_layers")
        heads = cfg.required("n_head", "num_attention_heads")
        max_context = cfg.required("n_positions", "max_position_embeddings")
        # GPTJConfig / GPT2Config: n_inner None means 4 * n_embd.
        intermediate = cfg.int_or_none("n_inner", "intermediate_size") or 4 * hidden
    else:
        hidden = cfg.required("hidden_size")
        layers = cfg.required("num_hidden_layers")
        heads = cfg.required("num_attention_heads")
        max_context = cfg.required("max_position_embeddings")
        intermediate = cfg.required("intermediate_size")
    vocab = cfg.required("vocab_size")
    mla = _mla_fields(cfg)
    if mla:
        kv_heads = heads
        head_dim = mla["qk_nope_head_dim"] + mla["qk_rope_head_dim"]
    else:
        kv_heads = cfg.int_or_none("num_key_value_heads") or heads
        head_dim = cfg.int_or_none("head_dim") or 0
        if not head_dim:
            if hidden % heads:
                raise SpecError(
                    cfg.field("head_dim"),
                    f"missing, and hidden size {hidden} is not a multiple of {heads} heads",
                )
            head_dim = hidden // heads
    tie = cfg.values.get("tie_word_embeddings")
    if tie is None:
        tie = family not in _UNTIED_BY_DEFAULT
    window, window_layers = _sliding(cfg, family, layers, max_context)
    name = config.get("_name_or_path")
    fields: dict[str, Any] = {
        "id": model_id,
        "name": name if isinstance(name, str) and name else model_id,
        "family": family,
        "source": source,
        "as_of": as_of or dt.date.today(),
        "notes": f"imported from a Hugging Face config.json (model_type '{model_type}')",
        "hidden_size": hidden,
        "num_layers": layers,
        "num_attention_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": intermediate,
        "vocab_size": vocab,
        "max_context": max_context,
        "tie_word_embeddings": bool(tie),
        "mlp_gated": not gpt_style,
        "qkv_bias": family in _QKV_BIAS_ALWAYS or bool(cfg.values.get("attention_bias", False)),
        "sliding_window": window,
        "num_sliding_window_layers": window_layers,
        "native_dtype": _native_dtype(cfg),
        **_moe_fields(cfg, intermediate),
        **mla,
        # DeepSeek-V3/R1 ship their multi-token-prediction module(s) in the checkpoint
        "mtp_modules": cfg.int_or_none("num_nextn_predict_layers") or 0,
    }
    try:
        return ModelSpec.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise SpecError(f"config.{loc}" if loc else "config", message) from None


def _derive_id(raw: Mapping[str, Any], path: Path) -> str:
    """Lowercase id from ``_name_or_path`` (a hub id, or a local path's last part) or folder."""
    name = raw.get("_name_or_path")
    text = ""
    if isinstance(name, str) and name.strip():
        text = name.strip()
        if text.startswith(("/", ".", "~")) or "\\" in text or text.count("/") > 1:
            text = Path(text.replace("\\", "/")).name
    if not text:
        text = path.resolve().parent.name
    text = re.sub(r"[^a-z0-9._-]+", "-", text.lower().replace("/", "-"))
    text = re.sub(r"-{2,}", "-", text).strip("-._")
    if not text:
        raise SpecError("model_id", f"cannot derive an id from {path}; pass one explicitly")
    return text


def import_hf_config(path: Path, model_id: str | None = None) -> ModelSpec:
    """Read a local ``config.json`` (or a folder holding one) into a :class:`ModelSpec`.

    The id defaults to ``_name_or_path`` or the folder name, lowercased with '/' -> '-';
    ``source`` is ``file://<absolute path>`` and ``as_of`` today. No network access.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / "config.json"
    try:
        size = file.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise SpecError("path", f"{file}: {size:,} bytes is over the limit of "
                            f"{MAX_CONFIG_BYTES:,} bytes for a config.json")
        data = file.read_bytes()
    except OSError as exc:
        raise SpecError("path", f"cannot read {file} ({exc.strerror or exc})") from None
    try:
        text = decode_text(data, str(file), MAX_CONFIG_BYTES)
    except CatalogError as exc:
        raise SpecError("path", str(exc)) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}: {exc.msg}"
        raise SpecError("path", f"{file} is not valid JSON ({where})") from None
    if not isinstance(raw, dict):
        raise SpecError("path", f"{file} must hold a JSON object")
    if model_id is None:
        model_id = _derive_id(raw, file)
    elif not _ID_OK.match(model_id):
        raise SpecError(
            "model_id",
            f"'{model_id}' is not a valid id; use lowercase letters, digits, '.', '_' and '-'",
        )
    return model_from_hf_config(raw, model_id, f"file://{file.resolve()}", dt.date.today())
