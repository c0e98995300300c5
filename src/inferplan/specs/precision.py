"""Numeric precisions and quantization formats, with their real storage cost.

``bits_per_weight`` includes the scales and zero points a format stores, so
``params * bits_per_weight / 8`` is the weight storage in bytes. ``compute``
names the peak-FLOP/s key of :class:`~inferplan.specs.hardware.PeakFlops` the
matrix multiplications run at when kernels support the format natively;
weight-only formats dequantize to 16 bit and compute at the 16-bit rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from inferplan.errors import SpecError


class Precision(StrEnum):
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4_AWQ = "int4-awq"
    INT4_GPTQ = "int4-gptq"
    NVFP4 = "nvfp4"
    MXFP4 = "mxfp4"
    Q8_0 = "q8_0"
    Q6_K = "q6_k"
    Q5_K_M = "q5_k_m"
    Q4_K_M = "q4_k_m"
    Q4_0 = "q4_0"
    Q4_1 = "q4_1"


@dataclass(frozen=True, slots=True)
class PrecisionInfo:
    """Storage and compute facts of one precision (see module docstring)."""

    precision: Precision
    bits_per_weight: float
    compute: str
    weight_only: bool
    gguf: bool
    reference: str


_GGML = "ggml block layouts, ggml/src/ggml-common.h (github.com/ggml-org/llama.cpp)"

PRECISIONS: dict[Precision, PrecisionInfo] = {
    p.precision: p
    for p in (
        PrecisionInfo(Precision.FP32, 32.0, "fp32", False, False, "IEEE 754 binary32"),
        PrecisionInfo(Precision.BF16, 16.0, "bf16", False, False, "bfloat16"),
        PrecisionInfo(Precision.FP16, 16.0, "fp16", False, False, "IEEE 754 binary16"),
        PrecisionInfo(
            Precision.FP8,
            8.0,
            "fp8",
            False,
            False,
            "FP8 E4M3, arXiv:2209.05433; per-tensor/128x128-block scales add <0.01 bit",
        ),
        PrecisionInfo(
            Precision.INT8,
            8.0,
            "int8",
            False,
            False,
            "SmoothQuant W8A8, arXiv:2211.10438; per-channel scales negligible",
        ),
        # 4-bit codes + one fp16 scale and one 4-bit zero point per group of 128:
        # 4 + 16/128 + 4/128 = 4.156 bits (AWQ arXiv:2306.00978, GPTQ arXiv:2210.17323)
        PrecisionInfo(Precision.INT4_AWQ, 4.156, "fp16", True, False, "AWQ, group 128"),
        PrecisionInfo(Precision.INT4_GPTQ, 4.156, "fp16", True, False, "GPTQ, group 128"),
        # NVFP4: 4-bit E2M1 + one FP8 E4M3 scale per 16 values -> 4 + 8/16 = 4.5 bits
        PrecisionInfo(
            Precision.NVFP4,
            4.5,
            "fp4",
            False,
            False,
            "NVIDIA NVFP4, docs.nvidia.com/cuda/parallel-thread-execution (block scale 16)",
        ),
        # MXFP4: 4-bit E2M1 + one E8M0 scale per 32 values -> 4 + 8/32 = 4.25 bits
        PrecisionInfo(
            Precision.MXFP4,
            4.25,
            "fp4",
            False,
            False,
            "OCP Microscaling Formats (MX) v1.0, block 32, E8M0 scale",
        ),
        # block_q8_0: fp16 scale + 32 int8 = 34 bytes / 32 weights = 8.5 bits
        PrecisionInfo(Precision.Q8_0, 8.5, "fp16", True, True, _GGML + " block_q8_0"),
        # block_q6_K: 210 bytes per 256 weights = 6.5625 bits
        PrecisionInfo(Precision.Q6_K, 6.5625, "fp16", True, True, _GGML + " block_q6_K"),
        # Q5_K_M: q5_K (176 B/256 = 5.5 bits) with attn_v / half of ffn_down in q6_K;
        # llama.cpp's quantize tool reports ~5.69 bpw on Llama-class models.
        PrecisionInfo(
            Precision.Q5_K_M,
            5.69,
            "fp16",
            True,
            True,
            _GGML + " block_q5_K; mix per llama.cpp tools/quantize (Q5_K_M)",
        ),
        # Q4_K_M: q4_K (144 B/256 = 4.5 bits) with attn_v / half of ffn_down and the output
        # matrix in q6_K; llama.cpp's quantize tool reports ~4.85 bpw on Llama-class models.
        PrecisionInfo(
            Precision.Q4_K_M,
            4.85,
            "fp16",
            True,
            True,
            _GGML + " block_q4_K; mix per llama.cpp tools/quantize (Q4_K_M)",
        ),
        # block_q4_0: fp16 scale + 16 bytes of nibbles = 18 bytes / 32 weights = 4.5 bits
        PrecisionInfo(Precision.Q4_0, 4.5, "fp16", True, True, _GGML + " block_q4_0"),
        # block_q4_1: fp16 scale d + fp16 minimum m + 16 bytes of nibbles = 20 bytes / 32
        # weights = 5.0 bits
        PrecisionInfo(Precision.Q4_1, 5.0, "fp16", True, True, _GGML + " block_q4_1"),
    )
}

_ALIASES = {
    "float32": Precision.FP32,
    "float16": Precision.FP16,
    "half": Precision.FP16,
    "bfloat16": Precision.BF16,
    "fp8-e4m3": Precision.FP8,
    "e4m3": Precision.FP8,
    "fp8-e5m2": Precision.FP8,
    "e5m2": Precision.FP8,
    "w8a8-fp8": Precision.FP8,
    "w4a16": Precision.INT4_AWQ,
    "int4-awq": Precision.INT4_AWQ,
    "w8a8": Precision.INT8,
    "int4": Precision.INT4_AWQ,
    "awq": Precision.INT4_AWQ,
    "gptq": Precision.INT4_GPTQ,
    "fp4": Precision.NVFP4,
    "q4_k": Precision.Q4_K_M,
    "q5_k": Precision.Q5_K_M,
}


def parse_precision(value: str | Precision, field: str = "precision") -> PrecisionInfo:
    """Look a precision up by name or alias; unknown names raise :class:`SpecError`."""
    if isinstance(value, Precision):
        return PRECISIONS[value]
    key = value.strip().lower().replace("-", "_") if value else ""
    for p in Precision:
        if p.value.replace("-", "_") == key:
            return PRECISIONS[p]
    alias = _ALIASES.get(key.replace("_", "-")) or _ALIASES.get(key)
    if alias is not None:
        return PRECISIONS[alias]
    allowed = ", ".join(p.value for p in Precision)
    raise SpecError(field, f"unknown precision '{value}'; allowed: {allowed}")


KV_PRECISIONS = (Precision.FP32, Precision.BF16, Precision.FP16, Precision.FP8, Precision.INT8)


def kv_bytes_per_element(value: str | Precision, field: str = "kv_precision") -> float:
    """Bytes per cached K/V element; only formats engines offer for KV caches."""
    info = parse_precision(value, field)
    if info.precision not in KV_PRECISIONS:
        allowed = ", ".join(p.value for p in KV_PRECISIONS)
        raise SpecError(field, f"'{value}' is not a KV-cache precision; allowed: {allowed}")
    return info.bits_per_weight / 8.0
