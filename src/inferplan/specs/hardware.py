"""Accelerator specs (GPUs, NPUs, Apple SoCs, server CPUs), per device."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from inferplan.specs.base import FrozenSpec, SourcedRecord


class DeviceKind(StrEnum):
    GPU = "gpu"
    NPU = "npu"
    SOC = "soc"
    CPU = "cpu"


class PeakFlops(FrozenSpec):
    """Dense (never 2:4-sparse) peak throughput per operand type, in FLOP/s (OP/s for int8).

    ``fp16`` is the FP16 tensor rate with FP32 accumulation, what PyTorch/cuBLAS GEMMs
    run at. ``fp16_acc16`` is the FP16 rate with FP16 accumulation where the vendor lists
    a different one (GeForce and some workstation cards: twice ``fp16``); absent, it is
    ``fp16``. Only engines whose GEMMs accumulate in FP16 use it.
    """

    fp32: float | None = Field(default=None, gt=0)
    tf32: float | None = Field(default=None, gt=0)
    fp16: float | None = Field(default=None, gt=0)
    fp16_acc16: float | None = Field(default=None, gt=0)
    bf16: float | None = Field(default=None, gt=0)
    fp8: float | None = Field(default=None, gt=0)
    int8: float | None = Field(default=None, gt=0)
    fp4: float | None = Field(default=None, gt=0)


class AcceleratorSpec(SourcedRecord):
    """One accelerator device. All figures per device, SI units.

    ``interconnect_bandwidth_bytes_per_s`` is the per-direction bandwidth one device
    can drive to its peers inside a node (NVLink: half the marketed bidirectional
    figure); for PCIe-only cards it is the PCIe link's per-direction rate.
    """

    name: str
    vendor: str
    kind: DeviceKind = DeviceKind.GPU
    form_factor: str
    memory_bytes: float = Field(gt=0)
    usable_memory_bytes: float | None = Field(
        default=None, gt=0, description="memory the driver exposes (nvidia-smi), when known"
    )
    matmul_efficiency: float | None = Field(
        default=None, gt=0, le=1, description="measured max achievable 16-bit matmul / dense peak"
    )
    cores: int | None = Field(
        default=None, ge=1, description="CPU cores the engine's threads run on (CPU records)"
    )
    memory_type: str = ""
    memory_bandwidth_bytes_per_s: float = Field(gt=0)
    peak_flops: PeakFlops
    tdp_w: float = Field(gt=0)
    interconnect: str = ""
    interconnect_bandwidth_bytes_per_s: float = Field(gt=0)
    max_devices_per_node: int = Field(default=8, ge=1, le=72)
    launch_year: int | None = Field(default=None, ge=2015, le=2030)

    @property
    def capacity_bytes(self) -> float:
        """Memory an engine can allocate: the driver-visible figure when known."""
        return self.usable_memory_bytes or self.memory_bytes

    def peak_flops_for(self, compute: str) -> float:
        """Dense peak FLOP/s for a compute type, falling back to the next wider type."""
        pf = self.peak_flops
        chain = {
            "fp4": ("fp4", "fp8", "fp16", "bf16", "fp32"),
            "fp8": ("fp8", "fp16", "bf16", "fp32"),
            "int8": ("int8", "fp8", "fp16", "bf16", "fp32"),
            "fp16": ("fp16", "bf16", "fp32"),
            "bf16": ("bf16", "fp16", "fp32"),
            "fp32": ("fp32", "tf32", "fp16", "bf16"),
        }.get(compute, ("fp16", "bf16", "fp32"))
        for key in chain:
            value = getattr(pf, key)
            if value:
                return float(value)
        raise ValueError(f"{self.id}: no peak FLOP/s for {compute}")

    def fp16_acc16_flops(self) -> float:
        """Dense FP16 FLOP/s with FP16 accumulation: ``peak_flops.fp16_acc16`` when the
        catalog lists it, else the FP16 (FP32-accumulate) rate."""
        return float(self.peak_flops.fp16_acc16 or self.peak_flops_for("fp16"))

    @model_validator(mode="after")
    def _has_16bit_rate(self) -> AcceleratorSpec:
        pf = self.peak_flops
        if pf.fp16 is None and pf.bf16 is None and pf.fp32 is None:
            raise ValueError("peak_flops needs at least one of fp16, bf16, fp32")
        return self
