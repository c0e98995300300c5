"""KV-cache size per token and per sequence.

Standard attention caches K and V for every KV head in every layer:
``2 * num_kv_heads * head_dim * num_layers`` elements per token (Pope et al. 2022,
arXiv:2211.05102). MLA caches one compressed latent plus the decoupled RoPE key,
``(kv_lora_rank + qk_rope_head_dim) * num_layers`` (DeepSeek-V2, arXiv:2405.04434).
Sliding-window layers hold at most ``sliding_window`` tokens per sequence.
"""

from __future__ import annotations

import math

from inferplan.specs.model import ModelSpec


def kv_elements_per_token_per_layer(m: ModelSpec) -> int:
    """Cached elements per token in one layer (whole model, before sharding)."""
    if m.is_mla:
        return m.kv_lora_rank + m.qk_rope_head_dim
    return 2 * m.num_kv_heads * m.head_dim


def kv_bytes_per_token(m: ModelSpec, kv_bytes_per_element: float) -> float:
    """KV bytes one token adds across all layers, ignoring sliding windows.

    >>> from inferplan.catalog import load_models
    >>> kv_bytes_per_token(load_models().get("llama-3.1-70b"), 2.0)
    327680.0
    """
    return float(kv_elements_per_token_per_layer(m) * m.num_layers * kv_bytes_per_element)


def kv_bytes_per_sequence(m: ModelSpec, context_tokens: int, kv_bytes_per_element: float) -> float:
    """KV bytes of one sequence of ``context_tokens`` tokens, with windows applied."""
    per_layer = kv_elements_per_token_per_layer(m) * kv_bytes_per_element
    windowed = m.num_sliding_window_layers
    full = m.num_layers - windowed
    capped = min(context_tokens, m.sliding_window) if windowed else 0
    return float(per_layer * (full * context_tokens + windowed * capped))


def kv_heads_per_device(m: ModelSpec, tp: int) -> float:
    """KV heads each tensor-parallel rank stores; replicated when ``tp`` exceeds them."""
    if m.is_mla:
        return float(m.num_kv_heads)  # the latent is replicated on every rank
    return max(1.0, m.num_kv_heads / tp) if m.num_kv_heads < tp else m.num_kv_heads / tp


def kv_shard_fraction(m: ModelSpec, tp: int, pp: int) -> float:
    """Fraction of a sequence's KV bytes that one device of a TP x PP group holds."""
    if m.is_mla:
        head_frac = 1.0
    else:
        head_frac = kv_heads_per_device(m, tp) / m.num_kv_heads
    layer_frac = math.ceil(m.num_layers / pp) / m.num_layers
    return head_frac * layer_frac
