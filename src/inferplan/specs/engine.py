"""Inference-engine profiles: memory policy, scheduler limits and fitted efficiencies.

The efficiency parameters are physical: the fraction of dense peak FLOP/s large
GEMMs reach, the token count at which a GEMM reaches half of that, the fraction
of peak memory bandwidth weight and KV streaming reach, attention-kernel
efficiency, all-reduce efficiency and latency, and the engine's fixed CPU/launch
overhead per step, per layer and per sequence. ``fitted_from`` records where
each profile's values came from.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from inferplan.specs.base import FrozenSpec, SourcedRecord
from inferplan.specs.hardware import AcceleratorSpec, DeviceKind


class Admission(StrEnum):
    """How an engine admits a waiting request into the running batch.

    on_demand: admit while the prompt's KV fits now; grow KV block by block and
        preempt (recompute) the youngest sequence on overflow (vLLM, SGLang).
    reserve_full: admit only if prompt + max output KV fits; never evicts
        (TensorRT-LLM ``GUARANTEED_NO_EVICT``, llama.cpp fixed slots).
    """

    ON_DEMAND = "on_demand"
    RESERVE_FULL = "reserve_full"


class EngineMemoryPolicy(FrozenSpec):
    """How an engine splits device memory between weights, runtime and KV cache.

    memory_utilization: share of device memory the engine may use in total
        (vLLM ``gpu_memory_utilization``, SGLang ``mem_fraction_static``).
    kv_share_of_free: if set, the KV cache takes this share of what is free after
        weights and runtime (TensorRT-LLM ``kv_cache_free_gpu_mem_fraction``)
        instead of everything up to ``memory_utilization``.
    """

    memory_utilization: float = Field(default=0.9, gt=0, le=1)
    kv_share_of_free: float | None = Field(default=None, gt=0, le=1)
    runtime_overhead_bytes: float = Field(default=1.0e9, ge=0)
    cuda_graph_bytes: float = Field(default=0.0, ge=0)
    comm_buffer_bytes: float = Field(default=0.0, ge=0, description="per device when TP*PP > 1")
    activation_bytes_per_token: float = Field(
        default=0.0, ge=0, description="extra workspace per batched token beyond the model's"
    )
    kv_block_tokens: int = Field(default=16, ge=1)


class EngineScheduler(FrozenSpec):
    """Default continuous-batching limits (a user may override them).

    Some engines pick larger defaults on GPUs with more memory: vLLM's ``EngineArgs``
    (``get_batch_defaults`` in ``vllm/engine/arg_utils.py``, since v0.9.0, PR 17885) gives
    GPUs of at least 70 GiB whose name does not contain "a100" ``max_num_seqs`` 1024 in
    place of 256. ``large_gpu_*`` holds such a rule: a GPU whose reported memory reaches
    ``large_gpu_min_memory_bytes`` and whose id and name contain none of
    ``large_gpu_excluded_names`` gets ``large_gpu_max_num_seqs`` and
    ``large_gpu_max_num_batched_tokens`` (each None: the plain default).
    """

    max_num_seqs: int = Field(default=256, ge=1)
    max_num_batched_tokens: int = Field(default=8192, ge=1)
    chunked_prefill: bool = True
    admission: Admission = Admission.ON_DEMAND
    large_gpu_min_memory_bytes: float | None = Field(default=None, gt=0)
    large_gpu_excluded_names: tuple[str, ...] = ()
    large_gpu_max_num_seqs: int | None = Field(default=None, ge=1)
    large_gpu_max_num_batched_tokens: int | None = Field(default=None, ge=1)

    def defaults_for(self, a: AcceleratorSpec) -> tuple[int, int]:
        """(max_num_seqs, max_num_batched_tokens) the engine picks by itself on ``a``.

        The memory compared is what the device reports (``capacity_bytes``); only GPUs
        qualify (vLLM's CPU and TPU platforms set their own defaults).
        """
        if self.large_gpu_min_memory_bytes is None or a.kind != DeviceKind.GPU:
            return self.max_num_seqs, self.max_num_batched_tokens
        names = f"{a.id} {a.name}".lower()
        if a.capacity_bytes < self.large_gpu_min_memory_bytes or any(
            n.lower() in names for n in self.large_gpu_excluded_names
        ):
            return self.max_num_seqs, self.max_num_batched_tokens
        return (
            self.large_gpu_max_num_seqs or self.max_num_seqs,
            self.large_gpu_max_num_batched_tokens or self.max_num_batched_tokens,
        )


class EngineEfficiency(FrozenSpec):
    """Physical efficiency parameters of the step-time model (see inferplan.perf.step)."""

    gemm_efficiency: float = Field(default=0.75, gt=0, le=1)
    gemm_half_tokens: float = Field(default=32.0, ge=0)
    gemm_half_width: float = Field(
        default=0.0, ge=0, description="per-device GEMM width (N or K) at half efficiency"
    )
    bandwidth_efficiency: float = Field(default=0.85, gt=0, le=1)
    kv_bandwidth_efficiency: float | None = Field(
        default=None, gt=0, le=1, description="paged-attention KV streaming; None = bandwidth"
    )
    attention_efficiency: float = Field(default=0.5, gt=0, le=1)
    gemm_latency_s: float = Field(
        default=0.0, ge=0, description="fixed device time per GEMM kernel"
    )
    layer_latency_s: float = Field(
        default=0.0, ge=0, description="device time per layer of its small kernels (norms, etc.)"
    )
    moe_routing_latency_s: float = Field(
        default=0.0,
        ge=0,
        description="device time per MoE layer of its routing kernels (top-k, token sort)",
    )
    comm_efficiency: float = Field(default=0.7, gt=0, le=1)
    allreduce_latency_s: float = Field(default=10e-6, ge=0)
    step_overhead_s: float = Field(default=1e-3, ge=0, description="host time per step")
    layer_overhead_s: float = Field(
        default=0.0, ge=0, description="host launch time per layer (engines without CUDA graphs)"
    )
    seq_overhead_s: float = Field(
        default=0.0, ge=0, description="host time per sequence per step (sampling, detokenisation)"
    )
    quantized_bandwidth_efficiency: float = Field(
        default=1.0, gt=0, le=1, description="extra factor for weight-only dequantizing kernels"
    )
    fp16_accumulate: bool = Field(
        default=False,
        description="16-bit GEMMs accumulate in FP16 (the accelerator's fp16_acc16 rate)",
    )
    soc_bandwidth_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of unified-memory bandwidth an SoC GPU's weight and KV streaming "
        "reaches; None = bandwidth_efficiency",
    )
    soc_gemm_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of an SoC GPU's 16-bit ALU peak its GEMMs reach; None = the "
        "discrete-GPU terms",
    )
    soc_quantized_gemm_efficiency: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="extra factor on an SoC GPU's GEMM rate for weight-only formats "
        "dequantized inside the kernel",
    )
    soc_layer_latency_s: float = Field(
        default=0.0, ge=0, description="time per layer of an SoC GPU's small kernels and dispatch"
    )
    cpu_bandwidth_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of a CPU's peak DRAM bandwidth its weight and KV streaming reaches "
        "(catalog CPUs that state their core count); None = bandwidth_efficiency",
    )
    cpu_gemm_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of a CPU's FP32 FMA peak its GEMMs reach for weight-only GGUF types "
        "(int8 dot products); None = the GPU terms",
    )
    cpu_float_gemm_efficiency: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="extra factor on a CPU's GEMM rate for 16-bit float weights",
    )
    cpu_sync_s_per_core: float = Field(
        default=0.0,
        ge=0,
        description="time per layer and step, per CPU core, of the threads' barriers",
    )
    dequantize_above_rows: int = Field(
        default=0,
        ge=0,
        description="GEMMs of more rows first dequantize weight-only formats to 16 bit in a "
        "separate kernel on discrete GPUs (0: the GEMM kernels read them directly)",
    )


class EngineSpec(SourcedRecord):
    """One inference engine profile."""

    name: str
    memory: EngineMemoryPolicy = EngineMemoryPolicy()
    scheduler: EngineScheduler = EngineScheduler()
    efficiency: EngineEfficiency = EngineEfficiency()
    fitted_from: str = ""
    supports_fp8_compute: bool = True
    supports_gguf: bool = False
