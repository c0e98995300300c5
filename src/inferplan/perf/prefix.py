"""Prefix caching: the share of prompt tokens an engine finds already in its KV cache.

Engines with a prefix cache (vLLM automatic prefix caching, SGLang RadixAttention,
TensorRT-LLM KV-cache reuse) keep the KV of prompt prefixes they have seen (a system prompt,
a RAG template, earlier turns of a chat) and skip their prefill: a request whose first
``c`` tokens are cached computes only its other ``isl - c`` tokens, which still attend to
all ``isl``; it holds private KV blocks only for them, while the shared prefix is stored
once. A workload states the share of its prompt tokens that is shared, ``prefix_share``
(0 = every prompt unique). API providers bill cached input tokens at a discount on the same
basis (cached input tokens / input tokens).

    >>> cached_prefix_tokens(np.array([2000]), 0.25).tolist()
    [500]
"""

from __future__ import annotations

import numpy as np

from inferplan.errors import SpecError


def cached_prefix_tokens(isl: np.ndarray, prefix_share: float) -> np.ndarray:
    """Tokens of each prompt found in the prefix cache: ``floor(share x isl)``, < isl."""
    if not 0.0 <= prefix_share < 1.0:
        raise SpecError("prefix_share", "must be >= 0 and < 1 (a share of prompt tokens)")
    a = np.asarray(isl, dtype=np.int64)
    return np.minimum(np.floor(a * prefix_share).astype(np.int64), np.maximum(a - 1, 0))


def shared_prefix_kv_tokens(isl: float, prefix_share: float) -> int:
    """KV tokens the shared prefix occupies once per replica (the mean request's prefix)."""
    if not 0.0 <= prefix_share < 1.0:
        raise SpecError("prefix_share", "must be >= 0 and < 1 (a share of prompt tokens)")
    return int(isl * prefix_share)
