"""Time of one engine step: device kernels from FLOPs and bytes, plus the engine's host time.

A step's time is ``device_time_s + comm_time_s + host_time_s``:

* **device kernels** (what a CUDA-graph replay of a bare forward measures, the
  floor of ``tests/reference/data/h200_*_steps.csv``):

  - every GEMM group (fused QKV and output projections, gate/up and down MLP,
    MoE experts, LM head) takes a smooth roofline of its weight streaming and its
    compute, ``(t_mem^p + t_cmp^p)^(1/p)`` with ``p = KNEE_EXPONENT`` (the roofline
    of Williams et al. 2009 per operator as in LLM-Viewer, arXiv:2402.16363, with the
    rounded knee that measured GEMMs show near the ridge point);
  - weight streaming is ``bytes / (peak bandwidth x bandwidth_efficiency)`` plus
    ``gemm_latency_s`` per GEMM kernel, so a small matrix reaches a lower share of
    the bandwidth than a large one (bandwidth efficiency by transfer size:
    ``S / (S + BW t0)``);
  - GEMM compute runs at the hardware's measured maximum achievable matmul rate
    (MAMF) x ``gemm_efficiency`` x ``M / (M + gemm_half_tokens)`` for ``M`` rows
    (small-M GEMMs leave tensor-core tiles partly empty), but never below the
    FP32 vector rate: a GEMM of a few rows runs as a GEMV on the CUDA cores
    instead of padding tensor-core tiles; an engine whose 16-bit GEMMs accumulate in
    FP16 (llama.cpp's cuBLAS path) runs them at the accelerator's FP16-accumulate rate
    (GeForce: twice the FP32-accumulate rate), and one that first converts weight-only
    formats to 16 bit for many-row GEMMs pays that kernel (read the format, write 16 bit);
  - on an SoC GPU (Apple silicon) an engine may give its own measured shares of the
    unified-memory bandwidth and of the ALU peak its GEMMs reach (weight-only formats
    dequantized in the kernel at a further factor) and a per-layer time of its small
    kernels (``soc_*`` in :class:`~inferplan.specs.engine.EngineEfficiency`);
  - on a CPU whose record gives its core count an engine may give its own measured shares
    of the DRAM bandwidth and of the FP32 FMA peak its GEMMs reach (16-bit float weights at
    a further factor), and the time per layer and core of its threads' barriers
    (``cpu_*`` in :class:`~inferplan.specs.engine.EngineEfficiency`);
  - elementwise kernels (RMSNorm, residual adds, SiLU x up, attention-output
    relayout) move ``2 x (10 h + 3 i + 2 q)`` bytes per token and layer at the
    weight-streaming bandwidth, and every layer pays ``layer_latency_s`` for its
    small kernels whatever the batch;
  - decode attention streams each sequence's KV at ``kv_bandwidth_efficiency``
    (MLA in latent space, sliding-window layers capped at their window); causal
    prefill attention is compute bound at ``attention_efficiency`` of the 16-bit peak;
  - MoE layers read only the experts a batch touches, ``E (1 - (1 - k/E)^T)`` for
    uniform routing, and each expert's GEMMs see ``T k / touched`` rows; each MoE layer
    first routes its tokens (top-k, then sorting tokens by expert), small kernels that take
    ``moe_routing_latency_s`` whatever the batch;
  - under expert parallelism (``ep`` > 1) each device holds ``ceil(E / ep)`` whole experts
    and the busiest device sets the time: its assignments are the mean ``T k / ep`` times
    the load-imbalance factor of :mod:`inferplan.perf.moe`, over the experts of its own
    that they touch; with attention data parallelism (``dp`` > 1) attention, dense layers
    and the LM head run on each device's own share of the sequences (``ceil(n / dp)``);

* **communication**: two ring all-reduces per layer under tensor parallelism,
  ``2 (tp-1)/tp x bytes / (link bandwidth x comm_efficiency) + latency``
  (Megatron-LM, arXiv:1909.08053; NCCL ring algorithm), over the accelerator's
  interconnect inside a node and at the scale-out link's bandwidth once the group spans
  nodes (a ring runs at its slowest hop); between pipeline stages, each step's
  activations (tokens x hidden x 2 bytes) cross ``pp - 1`` stage boundaries, over the
  scale-out network where stages sit on different nodes; with attention data parallelism
  every MoE layer dispatches each device's tokens to their experts' devices and combines
  the outputs back (two all-to-all calls, NVLink inside a node, RDMA between nodes,
  :func:`inferplan.perf.moe.all_to_all_time_s`); expert parallelism without it keeps every
  token on every device of the tensor-parallel group, so the experts' partial outputs are
  summed by that group's all-reduce and nothing more is sent;

* **host time** the engine does not hide behind the GPU: ``step_overhead_s`` per
  step (scheduling, input preparation), ``seq_overhead_s`` per sequence in the step
  (sampling, detokenisation, output processing) and ``layer_overhead_s`` per layer
  (kernel launches of engines that replay no CUDA graph). Per-engine values and
  their sources are in ``catalog/data/engines.yaml``.

Pipeline stages run one after the other for a single batch, so a step's latency
is the whole model's work divided by ``tp`` plus the stage transfers. Splitting a batch into
``pp`` micro-batches that fill every stage gives the same decode rate when weight streaming
dominates (each stage then reads its weights once per micro-batch), so the model keeps one
batch per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from inferplan.memory.kv import kv_elements_per_token_per_layer
from inferplan.memory.params import count_params, mlp_params
from inferplan.memory.weights import EMBEDDING_BITS
from inferplan.perf.batch import BatchShape
from inferplan.perf.moe import (
    A2A_NVLINK_EFFICIENCY,
    A2A_RDMA_EFFICIENCY,
    all_to_all_time_s,
    busiest_rank_experts,
    experts_per_rank,
)
from inferplan.perf.network import scale_out_link
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.hardware import AcceleratorSpec, DeviceKind
from inferplan.specs.model import ModelSpec
from inferplan.specs.precision import PrecisionInfo, kv_bytes_per_element

DEFAULT_MATMUL_EFFICIENCY = 0.8
"""Achievable / peak dense matmul when the catalog has no measurement (H100 SXM
measured 0.80 by the MAMF benchmark, github.com/stas00/ml-engineering)."""

KNEE_EXPONENT = 4.0
"""Exponent of the smooth roofline max. Read off the H200 GEMM rows of
``tests/reference/data/h200_roofs.csv`` (K 4096, N 14336): M = 1-64 stream the weights in
34-36 us, M = 256 takes 49 us where a sharp max of streaming (34.5 us) and compute
(about 48 us at the ramped rate) would give 48 us and a plain sum 83 us; p = 4 gives 50 us."""

ACT_BYTES = 2.0

CPU_FIT_CORES = (8, 24)
"""Fewest and most cores of the CPUs the engines' ``cpu_*`` efficiencies (llama.cpp's ggml
CPU kernels, ``cpu_sync_s_per_core`` above all) were fitted on: the Core i9-9900 (8) and
Core i9-14900K (24) rows of ``validation/cpu_cases.csv`` (``benchmarks/fit_cpu.py``). On
more cores the barrier term, linear in the cores, is extrapolated: on the held-out 96-core
Threadripper PRO 7995WX generation is predicted 17-18% slower than measured."""


def cpu_sync_s(e: EngineEfficiency, cores: int, layers: int) -> float:
    """Seconds one step spends in the CPU threads' barriers: ``cpu_sync_s_per_core`` per
    core and layer (see :data:`CPU_FIT_CORES` for the cores it was fitted on)."""
    return e.cpu_sync_s_per_core * cores * layers


def cpu_extrapolation_note(
    accelerator: AcceleratorSpec,
    e: EngineEfficiency,
    layers: int,
    token_s: Callable[[], float],
) -> str | None:
    """A note when a catalog CPU has more cores than :data:`CPU_FIT_CORES`, stating the
    barrier term's share of a token of ``token_s()`` seconds (called only then); None
    otherwise."""
    cores = accelerator.cores if accelerator.kind is DeviceKind.CPU else None
    lo, hi = CPU_FIT_CORES
    sync = cpu_sync_s(e, cores or 0, layers)
    if not cores or cores <= hi or not sync:
        return None
    return (
        f"llama.cpp CPU parameters were fitted on {lo}-{hi}-core CPUs; on {cores} cores the "
        f"thread-synchronisation term ({sync * 1e3:.1f} ms of this {token_s() * 1e3:.1f} ms "
        "token) is extrapolated and likely pessimistic (held-out 96-core CPU: generation "
        "predicted 17-18% slow)"
    )


_MEMO_ENTRIES = 1 << 16
"""At most this many (tokens, rows) entries per step model (then it starts over)."""


@dataclass(frozen=True, slots=True)
class GemmGroup:
    """GEMM kernels that see the same rows: per-device FLOPs per row and streaming time."""

    flops_per_row: float
    stream_s: float
    width_factor: float = 1.0
    dequant_s: float = 0.0
    """Seconds of a separate kernel that dequantizes the weights to 16 bit before a GEMM of
    more than ``StepModel.dequant_above_rows`` rows (read the format, write 16 bit)."""


@dataclass(frozen=True, slots=True)
class StepModel:
    """Per-device constants of one deployment; :meth:`step_time_s` is pure arithmetic.

    Build it with :func:`build_step_model`.
    """

    layers: int
    tp: int
    hidden: int
    vocab: int
    dense: tuple[GemmGroup, ...]
    head: GemmGroup
    moe_layers: int
    num_experts: int
    experts_per_token: int
    expert_flops_per_row: float
    expert_stream_s: float
    expert_kernel_s: float
    expert_width_factor: float
    elementwise_s_per_token: float
    layer_latency_s: float
    kv_bytes_per_token_dev: float
    kv_window: int
    kv_windowed_share: float
    attn_flops_per_pair: float
    attn_decode_flops_per_ctx: float
    gemm_flops_per_s: float
    vector_flops_per_s: float
    attn_flops_per_s: float
    kv_bandwidth_bytes_per_s: float
    link_bytes_per_s: float
    eff: EngineEfficiency
    pp: int = 1
    stage_link_bytes_per_s: float = 0.0
    dequant_above_rows: int = 0
    ep: int = 1
    """Expert-parallel degree: devices the routed experts of a MoE layer are split over."""
    dp: int = 1
    """Attention data-parallel degree: devices that each run their own sequences."""
    expert_slots: int = 0
    """Routed experts each device holds under expert parallelism (redundant copies included)."""
    devices_per_node: int = 8
    a2a_nvlink_bytes_per_s: float = 0.0
    a2a_rdma_bytes_per_s: float = 0.0
    _memo: dict[tuple[int, int], tuple[float, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Per (tokens, sampled rows): the linear-layer and LM-head seconds, and the
    communication seconds (they depend on nothing else; see :meth:`step_time_of`)."""

    def gemm_time_s(self, flops: float, rows: float, stream_s: float, width: float = 1.0) -> float:
        """Smooth roofline of one GEMM group: ``stream_s`` of weights, ``flops`` over ``rows``."""
        if rows <= 0:
            return 0.0
        rate = self.gemm_flops_per_s * width * rows / (rows + self.eff.gemm_half_tokens)
        compute = flops / max(rate, self.vector_flops_per_s)
        return float((stream_s**KNEE_EXPONENT + compute**KNEE_EXPONENT) ** (1.0 / KNEE_EXPONENT))

    def _experts_time_s(self, tokens: int) -> float:
        """Routed experts of ``tokens`` tokens (the whole replica's): only the experts the
        batch touches, E (1 - (1 - k/E)^T), are read, each GEMM seeing T k / touched rows;
        under expert parallelism, those of the busiest device
        (:func:`inferplan.perf.moe.busiest_rank_experts`)."""
        n, k = self.num_experts, self.experts_per_token
        if self.ep > 1:
            if tokens <= 0:
                return 0.0
            assignments, touched = busiest_rank_experts(
                tokens, n, k, self.ep, self.expert_slots or None
            )
            return self.gemm_time_s(
                self.expert_flops_per_row * assignments,
                assignments / touched,
                touched * self.expert_stream_s + self.expert_kernel_s,
                self.expert_width_factor,
            )
        touched = n * (1.0 - (1.0 - k / n) ** tokens)
        return self.gemm_time_s(
            self.expert_flops_per_row * tokens * k,
            tokens * k / touched,
            touched * self.expert_stream_s + self.expert_kernel_s,
            self.expert_width_factor,
        )

    def _rank_share(self, n: int) -> int:
        """Sequences (or tokens) the busiest of ``dp`` attention ranks gets of ``n``."""
        return -(-n // self.dp)

    def rank_shape(self, shape: BatchShape) -> BatchShape:
        """The part of ``shape`` the busiest attention data-parallel device runs: whole
        sequences are spread over the ``dp`` devices, ``ceil(n / dp)`` on the busiest, with
        their mean prompt tokens, attention pairs and context (``shape`` when ``dp`` = 1).

        A single prompt gains nothing: one device runs all of it.
        """
        if self.dp <= 1:
            return shape
        ps, ds = shape.prefill_seqs, shape.decode_seqs
        p_share = self._rank_share(ps) / ps if ps else 1.0
        d_share = self._rank_share(ds) / ds if ds else 1.0
        return BatchShape(
            prefill_tokens=-(-shape.prefill_tokens * self._rank_share(ps) // ps) if ps else 0,
            prefill_attention_pairs=shape.prefill_attention_pairs * p_share,
            prefill_seqs=self._rank_share(ps),
            decode_seqs=self._rank_share(ds),
            decode_context_tokens=round(shape.decode_context_tokens * d_share),
        )

    def lm_head_time_s(self, rows: int) -> float:
        """Seconds of the LM head for ``rows`` sampled rows on one device."""
        if rows <= 0:
            return 0.0
        h = self.head
        return self.gemm_time_s(h.flops_per_row * rows, rows, h.stream_s)

    def device_time_s(self, shape: BatchShape) -> float:
        """Seconds of device kernels for ``shape`` on one device (no communication, no host);
        with attention data parallelism, on the busiest device (:meth:`rank_shape`)."""
        if shape.tokens <= 0:
            return 0.0
        replica_tokens = shape.tokens
        shape = self.rank_shape(shape)
        tokens = shape.tokens
        t = self.layer_latency_s + tokens * self.elementwise_s_per_token
        dequant = self.dequant_above_rows and tokens > self.dequant_above_rows
        for g in self.dense:
            t += self.gemm_time_s(g.flops_per_row * tokens, tokens, g.stream_s, g.width_factor)
            if dequant:
                t += g.dequant_s
        # routed experts: only those the batch touches are read
        if self.moe_layers:
            t += self._experts_time_s(replica_tokens)
        # LM head for the rows that sample a token
        rows = shape.decode_seqs + shape.prefill_seqs
        if rows:
            h = self.head
            t += self.gemm_time_s(h.flops_per_row * rows, rows, h.stream_s)
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
        return t

    def comm_time_s(self, shape: BatchShape) -> float:
        """Seconds of tensor-parallel all-reduces (two per layer), pipeline-stage
        transfers and, with attention data parallelism, the MoE layers' all-to-all
        dispatch and combine for ``shape`` (the busiest device's tokens)."""
        rank = self.rank_shape(shape)
        return self._comm_of_tokens_s(rank.tokens, rank.prefill_tokens == 0)

    def _comm_of_tokens_s(self, tokens: int, decode_only: bool = True) -> float:
        """:meth:`comm_time_s` of a device that holds ``tokens`` tokens (all-to-all with
        DeepEP's low-latency kernels for a decode-only step, its normal ones otherwise)."""
        if tokens <= 0:
            return 0.0
        msg = tokens * self.hidden * ACT_BYTES
        t = 0.0
        if self.tp > 1:
            ring = 2.0 * (self.tp - 1) / self.tp * msg / self.link_bytes_per_s
            t += 2 * self.layers * (ring + self.eff.allreduce_latency_s)
        if self.pp > 1 and self.stage_link_bytes_per_s > 0:
            t += (self.pp - 1) * (msg / self.stage_link_bytes_per_s + self.eff.allreduce_latency_s)
        if self.dp > 1 and self.ep > 1 and self.moe_layers:
            t += self.moe_layers * all_to_all_time_s(
                tokens,
                self.hidden,
                self.experts_per_token,
                self.ep,
                self.devices_per_node,
                self.a2a_nvlink_bytes_per_s,
                self.a2a_rdma_bytes_per_s,
                low_latency=decode_only,
            )
        return t

    def host_time_s(self, shape: BatchShape) -> float:
        """Seconds of engine host work per step that the device waits for."""
        e = self.eff
        return (
            e.step_overhead_s
            + e.layer_overhead_s * self.layers
            + e.seq_overhead_s * (shape.decode_seqs + shape.prefill_seqs)
        )

    def step_time_s(self, shape: BatchShape) -> float:
        """Seconds one engine step takes for ``shape`` on this deployment:
        ``device_time_s + comm_time_s + host_time_s`` (see :meth:`step_time_of`)."""
        return self.step_time_of(
            shape.prefill_tokens,
            shape.prefill_attention_pairs,
            shape.prefill_seqs,
            shape.decode_seqs,
            shape.decode_context_tokens,
        )

    def step_time_of(
        self,
        prefill_tokens: int,
        prefill_attention_pairs: float,
        prefill_seqs: int,
        decode_seqs: int,
        decode_context_tokens: int,
    ) -> float:
        """:meth:`step_time_s` of the shape with these fields, the three parts inlined
        (the planner calls this some 10^5 times per plan, the simulator without building
        a :class:`BatchShape`).

        The linear layers, the LM head and the communication depend only on the tokens
        and the sampled rows of the step, which repeat across the steps of a simulation
        far more than whole shapes do; they are computed once per (tokens, rows) pair and
        kept on this object. The sum is taken in the same order as in
        ``device_time_s + comm_time_s + host_time_s``, so the value is the same float.
        """
        if self.dp > 1:
            return self._dp_step_time_s(
                BatchShape(
                    prefill_tokens,
                    prefill_attention_pairs,
                    prefill_seqs,
                    decode_seqs,
                    decode_context_tokens,
                )
            )
        decode = decode_seqs
        tokens = prefill_tokens + decode
        if tokens <= 0:
            return 0.0
        rows = decode + prefill_seqs
        key = (tokens, rows)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._linear_and_comm_s(tokens, rows)
            if len(self._memo) >= _MEMO_ENTRIES:
                self._memo.clear()
            self._memo[key] = hit
        t, comm = hit
        if decode:
            ctx = float(decode_context_tokens)
            if self.kv_windowed_share:
                capped = min(ctx / decode, self.kv_window) * decode
                share = self.kv_windowed_share
                ctx = ctx * (1 - share) + capped * share
            t += max(
                ctx * self.kv_bytes_per_token_dev / self.kv_bandwidth_bytes_per_s,
                ctx * self.attn_decode_flops_per_ctx / self.attn_flops_per_s,
            )
        if prefill_attention_pairs:
            t += prefill_attention_pairs * self.attn_flops_per_pair / self.attn_flops_per_s
        t += comm
        e = self.eff
        return t + e.step_overhead_s + e.layer_overhead_s * self.layers + e.seq_overhead_s * rows

    def decode_step_times_s(self, decode_seqs: int, context_tokens: int, steps: int) -> np.ndarray:
        """:meth:`step_time_of` of ``steps`` consecutive decode-only steps of ``decode_seqs``
        sequences, the first attending to ``context_tokens`` in all, each next one to
        ``decode_seqs`` more (one new token per sequence), as one array: the same
        operations in the same order, element by element, so the same floats.
        """
        if decode_seqs <= 0 or steps <= 0:
            return np.zeros(max(steps, 0))
        if self.dp > 1:
            return np.array(
                [
                    self.step_time_of(0, 0.0, 0, decode_seqs, context_tokens + decode_seqs * i)
                    for i in range(steps)
                ]
            )
        key = (decode_seqs, decode_seqs)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._linear_and_comm_s(decode_seqs, decode_seqs)
            self._memo[key] = hit
        base, comm = hit
        ctx = (context_tokens + decode_seqs * np.arange(steps, dtype=np.int64)).astype(float)
        if self.kv_windowed_share:
            capped = np.minimum(ctx / decode_seqs, self.kv_window) * decode_seqs
            share = self.kv_windowed_share
            ctx = ctx * (1 - share) + capped * share
        t = base + np.maximum(
            ctx * self.kv_bytes_per_token_dev / self.kv_bandwidth_bytes_per_s,
            ctx * self.attn_decode_flops_per_ctx / self.attn_flops_per_s,
        )
        t += comm
        e = self.eff
        return (
            t
            + e.step_overhead_s
            + e.layer_overhead_s * self.layers
            + e.seq_overhead_s * decode_seqs
        )

    def _dp_step_time_s(self, shape: BatchShape) -> float:
        """Step time under attention data parallelism: the busiest device's device time,
        communication and host time (each data-parallel rank schedules its own sequences)."""
        if shape.tokens <= 0:
            return 0.0
        return (
            self.device_time_s(shape)
            + self.comm_time_s(shape)
            + self.host_time_s(self.rank_shape(shape))
        )

    def _linear_and_comm_s(self, tokens: int, rows: int) -> tuple[float, float]:
        """Device seconds up to the attention (layer latency, elementwise kernels, dense
        GEMMs, routed experts, LM head over ``rows``; the terms and order of
        :meth:`device_time_s`), and the communication seconds of ``tokens``."""
        p = KNEE_EXPONENT
        inv_p = 1.0 / KNEE_EXPONENT
        peak = self.gemm_flops_per_s
        half = self.eff.gemm_half_tokens
        vector = self.vector_flops_per_s
        t = self.layer_latency_s + tokens * self.elementwise_s_per_token
        ramp = tokens / (tokens + half)
        dequant = self.dequant_above_rows and tokens > self.dequant_above_rows
        for g in self.dense:
            rate = peak * g.width_factor * ramp
            compute = g.flops_per_row * tokens / (rate if rate > vector else vector)
            t += (g.stream_s**p + compute**p) ** inv_p
            if dequant:
                t += g.dequant_s
        if self.moe_layers:
            t += self._experts_time_s(tokens)
        if rows:
            h = self.head
            rate = peak * rows / (rows + half)
            compute = h.flops_per_row * rows / (rate if rate > vector else vector)
            t += (h.stream_s**p + compute**p) ** inv_p
        comm = self.comm_time_s(BatchShape(tokens)) if self.tp > 1 or self.pp > 1 else 0.0
        return t, comm


def build_step_model(
    model: ModelSpec,
    accelerator: AcceleratorSpec,
    weights: PrecisionInfo,
    kv_precision: str,
    efficiency: EngineEfficiency,
    tp: int = 1,
    fp8_compute: bool = True,
    pp: int = 1,
    scale_out_bytes_per_s: float | None = None,
    ep: int = 1,
    dp: int = 1,
    redundant_experts: int = 0,
) -> StepModel:
    """Precompute the per-device constants of ``model`` on ``tp`` x ``accelerator``
    (``pp`` pipeline stages of ``tp`` devices; nodes of ``max_devices_per_node`` joined by
    ``scale_out_bytes_per_s`` per GPU, :mod:`inferplan.perf.network` by default).

    ``ep`` > 1 splits each MoE layer's routed experts, whole, over ``ep`` devices; ``dp`` > 1
    runs attention (and the dense layers and LM head, ``tp`` ways each) data parallel over
    ``dp`` groups, ``tp x dp = ep`` devices per stage in all (SGLang DP attention), each
    holding ``(E + redundant_experts) / ep`` experts."""
    c = count_params(model)
    e = efficiency
    m = model
    wbytes = weights.bits_per_weight / 8.0
    emb_bytes = (
        weights.bits_per_weight if weights.gguf else max(weights.bits_per_weight, EMBEDDING_BITS)
    ) / 8.0
    compute = weights.compute
    if compute in ("fp8", "fp4", "int8") and not fp8_compute:
        compute = "fp16"
    mamf = accelerator.matmul_efficiency or DEFAULT_MATMUL_EFFICIENCY
    # an engine whose 16-bit GEMMs accumulate in FP16 runs them at that rate (GeForce: 2x)
    acc16 = e.fp16_accumulate
    peak16 = accelerator.fp16_acc16_flops() if acc16 else accelerator.peak_flops_for("fp16")
    peak = peak16 if compute == "fp16" else accelerator.peak_flops_for(compute)
    gemm_peak = peak * mamf * e.gemm_efficiency
    attn_peak = peak16 * e.attention_efficiency
    peak_bw = accelerator.memory_bandwidth_bytes_per_s
    bw = peak_bw * e.bandwidth_efficiency
    kv_bw = peak_bw * (e.kv_bandwidth_efficiency or e.bandwidth_efficiency)
    # an SoC GPU (Apple silicon) with the engine's own measured shares of its unified memory
    # and of its ALU peak (its GEMMs, vector or simdgroup-matrix, run on the same ALUs)
    soc = accelerator.kind is DeviceKind.SOC
    if soc and e.soc_bandwidth_efficiency:
        bw = kv_bw = peak_bw * e.soc_bandwidth_efficiency
    soc_gemm = e.soc_gemm_efficiency if soc else None
    if soc_gemm:
        soc_gemm *= e.soc_quantized_gemm_efficiency if weights.weight_only else 1.0
        gemm_peak = peak * soc_gemm
    # a catalog CPU (its core count and datasheet peaks given) with the engine's own measured
    # shares of its DRAM bandwidth and of its FP32 FMA peak: weight-only GGUF types run int8
    # dot products, 16-bit float weights a further factor (llama.cpp's ggml CPU kernels). A
    # measured host record (no core count: sustained rates) keeps the generic shares, which
    # ``inferplan calibrate`` fits per machine.
    cores = accelerator.cores if accelerator.kind is DeviceKind.CPU else None
    if cores and e.cpu_bandwidth_efficiency:
        bw = kv_bw = peak_bw * e.cpu_bandwidth_efficiency
    cpu_gemm = e.cpu_gemm_efficiency if cores else None
    if cpu_gemm:
        cpu_gemm *= 1.0 if weights.weight_only else e.cpu_float_gemm_efficiency
        gemm_peak = (accelerator.peak_flops.fp32 or peak) * cpu_gemm
    wbw = bw * (e.quantized_bandwidth_efficiency if weights.weight_only else 1.0)
    layers = m.num_layers
    # kernel latencies were measured on a discrete GPU; a CPU or an SoC runs without them.
    # A few-row GEMM runs as a GEMV at the vector rate on any GPU (an SoC's too); a CPU's
    # cores run every GEMM, so its rate ramps with the rows alone
    gpu = accelerator.kind in (DeviceKind.GPU, DeviceKind.NPU)
    lat = e.gemm_latency_s if gpu else 0.0
    vector = accelerator.kind is not DeviceKind.CPU

    # engines that dequantize weight-only formats to 16 bit before a many-row GEMM on a
    # discrete GPU read the format and write 16-bit weights once more per GEMM
    dequantizes = gpu and e.dequantize_above_rows > 0 and weights.weight_only
    dequant_bytes = wbytes + ACT_BYTES if dequantizes else 0.0

    def group(params: float, kernels: float, width: float = 1.0, nbytes: float = 0.0) -> GemmGroup:
        """A GEMM group of ``params`` weights (all devices) in ``kernels`` launches per device."""
        stream = (params * wbytes + nbytes) / tp / wbw + kernels * lat
        return GemmGroup(2.0 * params / tp, stream, width, params * dequant_bytes / tp / bw)

    h = m.hidden_size
    half_w = e.gemm_half_width
    dense_layers = layers - c.moe_layers
    attn_kernels = 5 if m.is_mla else 2  # MLA: q down/up, kv down/up, output
    # the attention group also reads the (tiny) norm weights
    groups = [
        group(c.attention, attn_kernels * layers, _attention_width(m, tp, half_w), c.norms * 2.0)
    ]
    if c.dense_mlp:
        groups.append(group(c.dense_mlp, 2 * dense_layers, _mlp_width(m, tp, half_w)))
    if c.shared_experts + c.router:
        groups.append(group(c.shared_experts + c.router, 3 * c.moe_layers))
    head_params = m.vocab_size * h  # tied or not, one matrix is read
    head = GemmGroup(2.0 * head_params / tp, head_params * emb_bytes / tp / wbw + lat)
    expert_params = mlp_params(h, m.moe_intermediate_size, m.mlp_gated) if m.is_moe else 0.0
    # tensor parallelism slices every expert ``tp`` ways; expert parallelism keeps them whole
    etp = tp if ep <= 1 else 1
    # elementwise traffic per token and layer (see module docstring), 16-bit activations
    q_dev = m.num_attention_heads * (m.v_head_dim if m.is_mla else m.head_dim) / tp
    mlp_width = (
        m.experts_per_token * m.moe_intermediate_size
        + m.num_shared_experts * m.moe_intermediate_size
        if m.is_moe
        else m.intermediate_size
    )
    elem_bytes = ACT_BYTES * (10.0 * h + 3.0 * mlp_width / tp + 2.0 * q_dev) * layers
    kvb = kv_bytes_per_element(kv_precision)
    kv_heads_dev = m.num_kv_heads if m.is_mla else max(1.0, m.num_kv_heads / tp)
    per_layer_elems = float(kv_elements_per_token_per_layer(m))
    if not m.is_mla:
        per_layer_elems = per_layer_elems * kv_heads_dev / m.num_kv_heads
    kv_tok_dev = per_layer_elems * layers * kvb
    if m.is_mla:
        latent = m.kv_lora_rank + m.qk_rope_head_dim
        dec_flops = (2.0 * latent + 2.0 * m.kv_lora_rank) * m.num_attention_heads
        pair_flops = 2.0 * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim)
        pair_flops *= m.num_attention_heads
    else:
        dec_flops = 4.0 * m.num_attention_heads * m.head_dim
        pair_flops = dec_flops
    intra = accelerator.interconnect_bandwidth_bytes_per_s
    inter = scale_out_bytes_per_s or scale_out_link().bandwidth_bytes_per_s
    node = accelerator.max_devices_per_node
    # a TP ring runs at its slowest hop; stages cross nodes once tp x pp exceeds a node
    link = (min(intra, inter) if tp > node else intra) * e.comm_efficiency
    stage_link = (inter if tp * dp * pp > node else intra) * e.comm_efficiency
    return StepModel(
        layers=layers,
        tp=tp,
        hidden=h,
        vocab=m.vocab_size,
        dense=tuple(groups),
        head=head,
        moe_layers=c.moe_layers,
        num_experts=m.num_experts,
        experts_per_token=m.experts_per_token,
        expert_flops_per_row=2.0 * expert_params * c.moe_layers / etp,
        expert_stream_s=expert_params * wbytes * c.moe_layers / etp / wbw,
        expert_kernel_s=2 * c.moe_layers * lat,
        expert_width_factor=_expert_width_factor(m, etp, half_w),
        elementwise_s_per_token=elem_bytes / bw,
        layer_latency_s=(
            e.layer_latency_s * layers + e.moe_routing_latency_s * c.moe_layers
            if gpu
            else e.soc_layer_latency_s * layers * soc
            + cpu_sync_s(e, cores or 0, layers)
        ),
        kv_bytes_per_token_dev=kv_tok_dev,
        kv_window=m.sliding_window,
        kv_windowed_share=m.num_sliding_window_layers / layers,
        attn_flops_per_pair=pair_flops * layers / tp,
        attn_decode_flops_per_ctx=dec_flops * layers / tp,
        gemm_flops_per_s=gemm_peak,
        # a CPU with the engine's GEMM share runs every product as dot products on its cores'
        # vector units, at that rate whatever the rows (no tiles to fill)
        vector_flops_per_s=(
            gemm_peak
            if cpu_gemm
            else (accelerator.peak_flops.fp32 or 0.0) * (soc_gemm or 1.0) * vector
        ),
        attn_flops_per_s=attn_peak,
        kv_bandwidth_bytes_per_s=kv_bw,
        link_bytes_per_s=link,
        eff=e,
        pp=pp,
        stage_link_bytes_per_s=stage_link,
        dequant_above_rows=e.dequantize_above_rows if dequant_bytes else 0,
        ep=ep,
        dp=dp,
        expert_slots=experts_per_rank(m.num_experts, ep, redundant_experts) if ep > 1 else 0,
        devices_per_node=node,
        a2a_nvlink_bytes_per_s=intra * A2A_NVLINK_EFFICIENCY,
        a2a_rdma_bytes_per_s=inter * A2A_RDMA_EFFICIENCY,
    )


def _width_factor(gemms: Sequence[tuple[float, float]], half_width: float) -> float:
    """FLOP-weighted mean of ``w / (w + half_width)`` over (flops share, width) pairs."""
    if half_width <= 0 or not gemms:
        return 1.0
    total = sum(f for f, _ in gemms)
    return sum(f * w / (w + half_width) for f, w in gemms) / total


def _attention_width(m: ModelSpec, tp: int, half_width: float) -> float:
    """Shape efficiency of the attention projections: fused QKV is column-parallel
    (output width split by ``tp``), the output projection row-parallel (input split)."""
    h = m.hidden_size
    q = m.num_attention_heads * m.head_dim
    qkv = (m.num_attention_heads + 2 * m.num_kv_heads) * m.head_dim
    return _width_factor([(h * qkv, qkv / tp), (q * h, q / tp)], half_width)


def _mlp_width(m: ModelSpec, tp: int, half_width: float) -> float:
    """Shape efficiency of the dense MLP: gate/up column-parallel, down row-parallel."""
    h, i = m.hidden_size, m.intermediate_size
    up = 2 * i if m.mlp_gated else i
    return _width_factor([(h * up, up / tp), (i * h, i / tp)], half_width)


def _expert_width_factor(m: ModelSpec, tp: int, half_width: float) -> float:
    """Shape efficiency of one expert's GEMMs, each sliced ``tp`` ways."""
    if not m.is_moe:
        return 1.0
    i = m.moe_intermediate_size
    up = 2 * i if m.mlp_gated else i
    return _width_factor([(up, up / tp), (i, i / tp)], half_width)


__all__ = [
    "DEFAULT_MATMUL_EFFICIENCY",
    "KNEE_EXPONENT",
    "GemmGroup",
    "StepModel",
    "build_step_model",
]
