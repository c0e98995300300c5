"""Weight storage in bytes at a precision, whole model and per device."""

from __future__ import annotations

import math

from inferplan.memory.params import ParamCounts, count_params
from inferplan.specs.model import ModelSpec
from inferplan.specs.precision import PrecisionInfo

EMBEDDING_BITS = 16.0
"""Non-GGUF quantized checkpoints keep embeddings and LM head in 16 bit (vLLM FP8,
AWQ/GPTQ and NVFP4 recipes quantize only the linear layers of the blocks)."""


def _embedding_bits(info: PrecisionInfo) -> float:
    if info.gguf or info.bits_per_weight >= EMBEDDING_BITS:
        return info.bits_per_weight
    return EMBEDDING_BITS


def weights_bytes(m: ModelSpec, info: PrecisionInfo, counts: ParamCounts | None = None) -> float:
    """Bytes of all weights stored at ``info`` (norms and routers counted at 16 bit
    when the format is narrower).

    >>> from inferplan.catalog import load_models
    >>> from inferplan.specs.precision import parse_precision
    >>> round(weights_bytes(load_models().get("llama-3.1-8b"), parse_precision("bf16")) / 1e9, 2)
    16.06
    """
    c = counts or count_params(m)
    block = c.attention + c.dense_mlp + c.experts_total + c.shared_experts
    small = c.norms + c.router
    emb_bits = _embedding_bits(info)
    small_bits = min(EMBEDDING_BITS, max(info.bits_per_weight, 16.0))
    return (
        block * info.bits_per_weight / 8.0
        + (c.embedding + c.lm_head) * emb_bits / 8.0
        + small * small_bits / 8.0
    )


def weights_bytes_per_device(
    m: ModelSpec,
    info: PrecisionInfo,
    tp: int,
    pp: int,
    counts: ParamCounts | None = None,
    ep: int = 1,
    redundant_experts: int = 0,
) -> float:
    """Bytes on the most loaded device of a TP x PP group.

    Block weights are split over ``tp`` (Megatron-style column/row sharding,
    arXiv:1909.08053) and layers over ``pp`` stages (the largest stage holds
    ``ceil(layers / pp)`` layers); the vocabulary-parallel embedding and LM head
    are split over ``tp`` and sit on the first and last stage. Under expert parallelism
    (``ep`` > 1) each device holds ``(E + redundant_experts) / ep`` whole routed experts per
    MoE layer (rounded up) instead of a ``1 / tp`` slice of all of them;
    ``tp`` then splits the rest (attention, dense and shared-expert MLPs, router,
    embeddings) of its attention group.
    """
    c = counts or count_params(m)
    if ep > 1 and m.is_moe:
        return _weights_bytes_per_device_ep(m, info, tp, pp, c, ep, redundant_experts)
    total = weights_bytes(m, info, c)
    emb_bits = _embedding_bits(info)
    emb = c.embedding * emb_bits / 8.0
    head = c.lm_head * emb_bits / 8.0
    blocks = total - emb - head
    stage_layers = math.ceil(m.num_layers / pp)
    stage_blocks = blocks * stage_layers / m.num_layers
    edge = emb + head if pp == 1 else max(emb, head if head else emb)
    return (stage_blocks + edge) / tp


def _weights_bytes_per_device_ep(
    m: ModelSpec, info: PrecisionInfo, tp: int, pp: int, c: ParamCounts, ep: int, redundant: int
) -> float:
    """:func:`weights_bytes_per_device` under expert parallelism."""
    total = weights_bytes(m, info, c)
    emb_bits = _embedding_bits(info)
    emb = c.embedding * emb_bits / 8.0
    head = c.lm_head * emb_bits / 8.0
    experts = c.experts_total * info.bits_per_weight / 8.0
    rest = total - emb - head - experts
    stage_share = math.ceil(m.num_layers / pp) / m.num_layers
    slots = -(-(m.num_experts + redundant) // ep)
    edge = emb + head if pp == 1 else max(emb, head if head else emb)
    return (rest * stage_share + edge) / tp + experts * stage_share * slots / m.num_experts
