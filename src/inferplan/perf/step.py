"""Time of one engine step from FLOPs and bytes per operator group.

Each operator group takes ``max(FLOPs / achievable FLOP/s, bytes / achievable
bandwidth)`` (the roofline of Williams et al. 2009, applied per operator as in
LLM-Viewer, arXiv:2402.16363), with efficiencies that have physical meaning:

* GEMM efficiency rises with the tokens a GEMM sees: ``eff(T) = e_max * T / (T + T_half)``
  (small-M GEMMs leave tensor cores idle) and with the per-device width of its
  weight matrix, ``w / (w + W_half)`` (tensor parallelism slices matrices thin), on
  top of the hardware's measured maximum achievable matmul rate (MAMF);
* weight streaming reaches ``bandwidth_efficiency`` of peak bandwidth (weight-only
  dequantizing kernels a further ``quantized_bandwidth_efficiency``), paged KV
  streaming ``kv_bandwidth_efficiency``;
* attention kernels reach ``attention_efficiency`` of the 16-bit peak;
* MoE layers read only the experts a batch touches, ``E * (1 - (1 - k/E)^T)`` for
  uniform routing, and their GEMMs see ``T * k / touched`` tokens each;
* tensor parallelism adds two ring all-reduces per layer,
  ``2 (tp-1)/tp * bytes / (link bandwidth * comm_efficiency) + latency``
  (Megatron-LM, arXiv:1909.08053; NCCL ring algorithm);
* the engine adds a fixed CPU/launch overhead per step, per layer and per sequence.

Pipeline stages run one after the other for a single batch, so a step's latency
is the whole model's work divided by ``tp`` (micro-batch overlap is not modelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inferplan.memory.kv import kv_elements_per_token_per_layer
from inferplan.memory.params import count_params, mlp_params
from inferplan.memory.weights import EMBEDDING_BITS
from inferplan.perf.batch import BatchShape
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.hardware import AcceleratorSpec
from inferplan.specs.model import ModelSpec
from inferplan.specs.precision import PrecisionInfo, kv_bytes_per_element

DEFAULT_MATMUL_EFFICIENCY = 0.8
"""Achievable / peak dense matmul when the catalog has no measurement (H100 SXM
measured 0.80 by the MAMF benchmark, github.com/stas00/ml-engineering)."""

ACT_BYTES = 2.0


@dataclass(frozen=True, slots=True)
class StepModel:
    """Per-device constants of one deployment; :meth:`step_time_s` is pure arithmetic.

    Build it with :func:`build_step_model`.
    """

    layers: int
    tp: int
    hidden: int
    vocab: int
    dense_params_dev: float
    dense_bytes_dev: float
    dense_width_factor: float
    expert_width_factor: float
    head_params_dev: float
    head_bytes_dev: float
    moe_layers: int
    num_experts: int
    experts_per_token: int
    expert_params_dev: float
    expert_bytes_dev: float
    kv_bytes_per_token_dev: float
    kv_window: int
    kv_windowed_share: float
    attn_flops_per_pair: float
    attn_decode_flops_per_ctx: float
    gemm_flops_per_s: float
    attn_flops_per_s: float
    kv_bandwidth_bytes_per_s: float
    weight_bandwidth_bytes_per_s: float
    link_bytes_per_s: float
    eff: EngineEfficiency

    def gemm_time_s(self, flops: float, tokens: float) -> float:
        """Compute time of GEMMs over ``tokens`` rows at the ramped efficiency."""
        if flops <= 0:
            return 0.0
        ramp = tokens / (tokens + self.eff.gemm_half_tokens) if tokens > 0 else 1.0
        return flops / (self.gemm_flops_per_s * ramp)

    def step_time_s(self, shape: BatchShape) -> float:
        """Seconds one engine step takes for ``shape`` on this deployment."""
        tokens = shape.tokens
        if tokens <= 0:
            return 0.0
        e = self.eff
        # dense linear layers (attention projections, dense MLPs, shared experts)
        t = max(
            self.gemm_time_s(2.0 * tokens * self.dense_params_dev, tokens)
            / self.dense_width_factor,
            self.dense_bytes_dev / self.weight_bandwidth_bytes_per_s,
        )
        # routed experts: only those the batch touches are read
        if self.moe_layers:
            n, k = self.num_experts, self.experts_per_token
            touched = n * (1.0 - (1.0 - k / n) ** tokens)
            per_expert_tokens = tokens * k / touched
            flops = 2.0 * tokens * k * self.expert_params_dev * self.moe_layers
            bytes_ = touched * self.expert_bytes_dev * self.moe_layers
            t += max(
                self.gemm_time_s(flops, per_expert_tokens) / self.expert_width_factor,
                bytes_ / self.weight_bandwidth_bytes_per_s,
            )
        # LM head for the rows that sample a token
        rows = shape.decode_seqs + shape.prefill_seqs
        if rows:
            t += max(
                self.gemm_time_s(2.0 * rows * self.head_params_dev, rows),
                self.head_bytes_dev / self.weight_bandwidth_bytes_per_s,
            )
        # decode attention: stream every decode sequence's KV
        if shape.decode_seqs:
            ctx = float(shape.decode_context_tokens)
            if self.kv_windowed_share:
                mean_ctx = ctx / shape.decode_seqs
                capped = min(mean_ctx, self.kv_window) * shape.decode_seqs
                ctx_eff = ctx * (1 - self.kv_windowed_share) + capped * self.kv_windowed_share
            else:
                ctx_eff = ctx
            t += max(
                ctx_eff * self.kv_bytes_per_token_dev / self.kv_bandwidth_bytes_per_s,
                ctx_eff * self.attn_decode_flops_per_ctx / self.attn_flops_per_s,
            )
        # prefill attention (causal, FlashAttention-style: compute bound)
        if shape.prefill_attention_pairs:
            t += shape.prefill_attention_pairs * self.attn_flops_per_pair / self.attn_flops_per_s
        # tensor-parallel all-reduces: two per layer
        if self.tp > 1:
            msg = tokens * self.hidden * ACT_BYTES
            ring = 2.0 * (self.tp - 1) / self.tp * msg / self.link_bytes_per_s
            t += 2 * self.layers * (ring + e.allreduce_latency_s)
        return (
            t
            + e.step_overhead_s
            + e.layer_overhead_s * self.layers
            + e.seq_overhead_s * (shape.decode_seqs + shape.prefill_seqs)
        )


def build_step_model(
    model: ModelSpec,
    accelerator: AcceleratorSpec,
    weights: PrecisionInfo,
    kv_precision: str,
    efficiency: EngineEfficiency,
    tp: int = 1,
    fp8_compute: bool = True,
) -> StepModel:
    """Precompute the per-device constants of ``model`` on ``tp`` x ``accelerator``."""
    c = count_params(model)
    wbytes = weights.bits_per_weight / 8.0
    emb_bytes = (
        weights.bits_per_weight if weights.gguf else max(weights.bits_per_weight, EMBEDDING_BITS)
    ) / 8.0
    dense_params = c.attention + c.dense_mlp + c.shared_experts + c.router
    head_params = model.vocab_size * model.hidden_size  # tied or not, one matrix is read
    expert_params = (
        mlp_params(model.hidden_size, model.moe_intermediate_size, model.mlp_gated)
        if model.is_moe
        else 0.0
    )
    compute = weights.compute
    if compute in ("fp8", "fp4", "int8") and not fp8_compute:
        compute = "fp16"
    mamf = accelerator.matmul_efficiency or DEFAULT_MATMUL_EFFICIENCY
    gemm_peak = accelerator.peak_flops_for(compute) * mamf * efficiency.gemm_efficiency
    attn_peak = accelerator.peak_flops_for("fp16") * efficiency.attention_efficiency
    peak_bw = accelerator.memory_bandwidth_bytes_per_s
    bw = peak_bw * efficiency.bandwidth_efficiency
    kv_bw = peak_bw * (efficiency.kv_bandwidth_efficiency or efficiency.bandwidth_efficiency)
    wbw = bw * (efficiency.quantized_bandwidth_efficiency if weights.weight_only else 1.0)
    kvb = kv_bytes_per_element(kv_precision)
    kv_heads_dev = model.num_kv_heads if model.is_mla else max(1.0, model.num_kv_heads / tp)
    per_layer_elems = float(kv_elements_per_token_per_layer(model))
    if not model.is_mla:
        per_layer_elems = per_layer_elems * kv_heads_dev / model.num_kv_heads
    kv_tok_dev = per_layer_elems * model.num_layers * kvb
    if model.is_mla:
        lat = model.kv_lora_rank + model.qk_rope_head_dim
        dec_flops = (2.0 * lat + 2.0 * model.kv_lora_rank) * model.num_attention_heads
        pair_flops = 2.0 * (model.qk_nope_head_dim + model.qk_rope_head_dim + model.v_head_dim)
        pair_flops *= model.num_attention_heads
    else:
        dec_flops = 4.0 * model.num_attention_heads * model.head_dim
        pair_flops = dec_flops
    layers = model.num_layers
    link = accelerator.interconnect_bandwidth_bytes_per_s * efficiency.comm_efficiency
    return StepModel(
        layers=layers,
        tp=tp,
        hidden=model.hidden_size,
        vocab=model.vocab_size,
        dense_params_dev=dense_params / tp,
        dense_bytes_dev=(dense_params * wbytes + c.norms * 2.0) / tp,
        dense_width_factor=_dense_width_factor(model, tp, efficiency.gemm_half_width),
        expert_width_factor=_expert_width_factor(model, tp, efficiency.gemm_half_width),
        head_params_dev=head_params / tp,
        head_bytes_dev=head_params * emb_bytes / tp,
        moe_layers=c.moe_layers,
        num_experts=model.num_experts,
        experts_per_token=model.experts_per_token,
        expert_params_dev=expert_params / tp,
        expert_bytes_dev=expert_params * wbytes / tp,
        kv_bytes_per_token_dev=kv_tok_dev,
        kv_window=model.sliding_window,
        kv_windowed_share=model.num_sliding_window_layers / layers,
        attn_flops_per_pair=pair_flops * layers / tp,
        attn_decode_flops_per_ctx=dec_flops * layers / tp,
        gemm_flops_per_s=gemm_peak,
        attn_flops_per_s=attn_peak,
        kv_bandwidth_bytes_per_s=kv_bw,
        weight_bandwidth_bytes_per_s=wbw,
        link_bytes_per_s=link,
        eff=efficiency,
    )


def _width_factor(gemms: Sequence[tuple[float, float]], half_width: float) -> float:
    """FLOP-weighted mean of ``w / (w + half_width)`` over (flops share, width) pairs."""
    if half_width <= 0 or not gemms:
        return 1.0
    total = sum(f for f, _ in gemms)
    return sum(f * w / (w + half_width) for f, w in gemms) / total


def _dense_width_factor(m: ModelSpec, tp: int, half_width: float) -> float:
    """Shape efficiency of the dense GEMMs: fused QKV and gate/up are column-parallel
    (output width split by ``tp``), O and down projections row-parallel (input split)."""
    h = m.hidden_size
    q = m.num_attention_heads * m.head_dim
    qkv = (m.num_attention_heads + 2 * m.num_kv_heads) * m.head_dim
    gemms = [(h * qkv, qkv / tp), (q * h, q / tp)]
    if not m.is_moe or m.first_dense_layers:
        up = 2 * m.intermediate_size if m.mlp_gated else m.intermediate_size
        gemms += [(h * up, up / tp), (m.intermediate_size * h, m.intermediate_size / tp)]
    return _width_factor(gemms, half_width)


def _expert_width_factor(m: ModelSpec, tp: int, half_width: float) -> float:
    """Shape efficiency of one expert's GEMMs, each sliced ``tp`` ways."""
    if not m.is_moe:
        return 1.0
    i = m.moe_intermediate_size
    up = 2 * i if m.mlp_gated else i
    return _width_factor([(up, up / tp), (i, i / tp)], half_width)
