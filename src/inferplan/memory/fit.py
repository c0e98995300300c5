"""Does a model fit, and how many sequences at what context fit beside it.

Per device: weights + runtime overhead (CUDA context, framework) + CUDA-graph pool
+ communication buffers (TP/PP > 1) + activation workspace for one batch of
``max_num_batched_tokens`` + KV cache <= the engine's memory budget. The KV cache
takes what is left (vLLM ``gpu_memory_utilization`` semantics) or a share of the
free memory (TensorRT-LLM ``kv_cache_free_gpu_mem_fraction``). The device's memory
is what the engine can allocate (:func:`inferplan.memory.unified.device_memory_bytes`):
the driver-visible figure, and on Apple silicon the GPU's wired-memory limit, not the
whole unified memory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from inferplan.errors import SpecError
from inferplan.memory.kv import kv_bytes_per_sequence, kv_bytes_per_token, kv_shard_fraction
from inferplan.memory.params import count_params
from inferplan.memory.unified import device_memory_bytes
from inferplan.memory.weights import weights_bytes, weights_bytes_per_device
from inferplan.results.memory import MemoryBreakdown
from inferplan.specs.engine import EngineSpec
from inferplan.specs.hardware import AcceleratorSpec
from inferplan.specs.model import ModelSpec
from inferplan.specs.precision import PrecisionInfo, kv_bytes_per_element

ACTIVATION_BYTES = 2.0
LOGIT_BYTES = 4.0


@dataclass(frozen=True, slots=True)
class FitRequest:
    """Inputs of a fit question (validated by :func:`check_parallelism`)."""

    model: ModelSpec
    accelerator: AcceleratorSpec
    engine: EngineSpec
    weights: PrecisionInfo
    kv_precision: str
    tp: int = 1
    pp: int = 1
    context_tokens: int = 4096
    concurrency: int = 1
    max_num_batched_tokens: int | None = None
    max_num_seqs: int | None = None
    ep: int = 1
    redundant_experts: int = 0
    dp: int = 1
    """Attention data-parallel degree: ``dp`` groups of ``tp`` devices each hold the KV
    cache of their own sequences (``ceil(concurrency / dp)`` on the busiest)."""


def check_parallelism(m: ModelSpec, a: AcceleratorSpec, tp: int, pp: int) -> None:
    """Raise :class:`SpecError` for TP/PP degrees the model or node cannot take."""
    if tp < 1 or pp < 1:
        raise SpecError("tp", "tensor and pipeline degrees must be >= 1")
    if m.num_attention_heads % tp:
        raise SpecError(
            "tp", f"{m.id} has {m.num_attention_heads} attention heads; tp must divide it"
        )
    if tp > a.max_devices_per_node:
        raise SpecError(
            "tp",
            f"{a.id} nodes hold at most {a.max_devices_per_node} devices; tp must not exceed it",
        )
    if pp > m.num_layers:
        raise SpecError("pp", f"{m.id} has {m.num_layers} layers; pp must not exceed it")


def activation_bytes_per_device(req: FitRequest) -> float:
    """Peak activation workspace of one forward pass of ``max_num_batched_tokens``.

    tokens x 2 B x (4 hidden + q/kv widths + 2 x MLP width / tp) plus fp32 logits of
    the sampled rows: a documented approximation of what vLLM's profiling run sees.
    """
    m, e = req.model, req.engine
    tokens = req.max_num_batched_tokens or e.scheduler.max_num_batched_tokens
    seqs = req.max_num_seqs or e.scheduler.max_num_seqs
    width = (
        m.moe_intermediate_size * max(1, m.experts_per_token) if m.is_moe else m.intermediate_size
    )
    qkv = (m.num_attention_heads + 2 * m.num_kv_heads) * m.head_dim
    per_token = ACTIVATION_BYTES * (4 * m.hidden_size + (qkv + 2 * width) / req.tp)
    per_token += e.memory.activation_bytes_per_token
    logits = min(seqs, tokens) * m.vocab_size * LOGIT_BYTES / req.tp
    return tokens * per_token + logits


def _seqs_per_device(req: FitRequest) -> int:
    """Sequences of ``concurrency`` that the busiest attention data-parallel group holds."""
    return -(-req.concurrency // max(1, req.dp))


def _kv_per_seq_device(req: FitRequest, context: int) -> float:
    kvb = kv_bytes_per_element(req.kv_precision)
    return kv_bytes_per_sequence(req.model, context, kvb) * kv_shard_fraction(
        req.model, req.tp, req.pp
    )


def fit(req: FitRequest) -> MemoryBreakdown:
    """Memory breakdown per device and the fit answers for ``req``."""
    m, a, e = req.model, req.accelerator, req.engine
    check_parallelism(m, a, req.tp, req.pp)
    if req.context_tokens < 1:
        raise SpecError("context", "must be >= 1 token")
    if req.context_tokens > m.max_context:
        raise SpecError(
            "context", f"{req.context_tokens} exceeds {m.id}'s maximum context {m.max_context}"
        )
    if req.concurrency < 1:
        raise SpecError("concurrency", "must be >= 1")
    counts = count_params(m)
    kvb = kv_bytes_per_element(req.kv_precision)
    w_dev = weights_bytes_per_device(
        m, req.weights, req.tp, req.pp, counts, ep=req.ep, redundant_experts=req.redundant_experts
    )
    multi = req.tp * req.pp > 1 or req.ep > 1
    fixed = {
        "weights": w_dev,
        "runtime": e.memory.runtime_overhead_bytes,
        "cuda_graphs": e.memory.cuda_graph_bytes,
        "communication": e.memory.comm_buffer_bytes if multi else 0.0,
        "activations": activation_bytes_per_device(req),
    }
    capacity = device_memory_bytes(a)
    budget = capacity * e.memory.memory_utilization
    used = sum(fixed.values())
    if e.memory.kv_share_of_free is not None:
        kv_cap = max(0.0, (capacity - used) * e.memory.kv_share_of_free)
    else:
        kv_cap = max(0.0, budget - used)
    per_seq = _kv_per_seq_device(req, req.context_tokens)
    per_tok_dev = kv_bytes_per_token(m, kvb) * kv_shard_fraction(m, req.tp, req.pp)
    dp = max(1, req.dp)
    kv_tokens = int(kv_cap // per_tok_dev) * dp if per_tok_dev else 0
    need_kv = per_seq * _seqs_per_device(req)
    max_conc = int(kv_cap // per_seq) * dp if per_seq else 0
    max_ctx = _max_context(req, kv_cap)
    if used > (budget if e.memory.kv_share_of_free is None else capacity):
        fits, reason = (
            False,
            (
                f"weights and runtime need {used / 1e9:.1f} GB per device; "
                f"{a.id} offers {budget / 1e9:.1f} GB to the engine"
            ),
        )
    elif need_kv > kv_cap:
        fits, reason = (
            False,
            (
                f"KV cache for {_seqs_per_device(req)} x {req.context_tokens} tokens needs "
                f"{need_kv / 1e9:.2f} GB per device; {kv_cap / 1e9:.2f} GB left "
                f"(at most {max_conc} sequences at this context)"
            ),
        )
    else:
        fits, reason = True, "fits"
    per_device = {**fixed, "kv_cache": min(need_kv, kv_cap) if fits else need_kv}
    return MemoryBreakdown(
        model=m.id,
        accelerator=a.id,
        engine=e.id,
        precision=req.weights.precision.value,
        kv_precision=req.kv_precision,
        tp=req.tp,
        pp=req.pp,
        count=req.tp * dp * req.pp,
        ep=req.ep,
        dp_attention=dp,
        context_tokens=req.context_tokens,
        concurrency=req.concurrency,
        total_params=counts.total,
        active_params=counts.active(m.experts_per_token),
        weights_bytes=weights_bytes(m, req.weights, counts),
        kv_cache_bytes_per_token=kv_bytes_per_token(m, kvb),
        kv_cache_bytes_per_sequence=kv_bytes_per_sequence(m, req.context_tokens, kvb),
        per_device_bytes=per_device,
        device_capacity_bytes=capacity,
        engine_budget_bytes=budget,
        kv_capacity_bytes_per_device=kv_cap,
        kv_capacity_tokens=kv_tokens,
        fits=fits,
        max_concurrency_at_context=max_conc,
        max_context_at_concurrency=max_ctx,
        reason=reason,
    )


def _max_context(req: FitRequest, kv_cap: float) -> int:
    """Longest context (<= model maximum) at which ``concurrency`` sequences fit."""
    lo, hi = 0, req.model.max_context
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _kv_per_seq_device(req, mid) * _seqs_per_device(req) <= kv_cap:
            lo = mid
        else:
            hi = mid - 1
    return lo


def parallel_layouts(
    m: ModelSpec, a: AcceleratorSpec, max_devices: int = 64
) -> list[tuple[int, int]]:
    """(tp, pp) pairs to try, fewest devices first: TP inside a node, PP across nodes."""
    out: list[tuple[int, int]] = []
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64, 72) if t <= a.max_devices_per_node]
    for tp in tps:
        if m.num_attention_heads % tp:
            continue
        for pp in (1, 2, 3, 4, 6, 8):
            if tp * pp <= max_devices and pp <= m.num_layers and (pp == 1 or tp == tps[-1]):
                out.append((tp, pp))
    return sorted(out, key=lambda x: (x[0] * x[1], x[1]))


def min_devices(req: FitRequest, max_devices: int = 64) -> MemoryBreakdown | None:
    """The smallest TP x PP layout on which ``req`` fits, or None."""
    for tp, pp in parallel_layouts(req.model, req.accelerator, max_devices):
        res = fit(replace(req, tp=tp, pp=pp))
        if res.fits:
            return res
    return None
