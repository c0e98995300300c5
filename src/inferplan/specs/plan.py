"""Planner sections of a scenario: latency targets and the candidate space."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inferplan.specs.base import FrozenSpec

OptionKind = Literal["on_prem", "colocation", "cloud", "api", "hybrid"]
ALL_KINDS: tuple[OptionKind, ...] = ("on_prem", "colocation", "cloud", "api", "hybrid")


class SloSpec(FrozenSpec):
    """Latency targets at a percentile (metric definitions in the README)."""

    ttft_ms: float = Field(gt=0, description="time to first token limit, ms")
    tpot_ms: float = Field(gt=0, description="time per output token limit, ms")
    percentile: float = Field(default=95.0, ge=50.0, lt=100.0)
    strict: bool | None = Field(
        default=None,
        description="options whose latency is not verified rank behind verified ones; "
        "unset: strict when ttft_ms <= 500 or tpot_ms <= 25",
    )


class CandidatesSpec(FrozenSpec):
    """The search space. ``None`` means every catalog entry that has a price."""

    accelerators: list[str] | None = None
    precisions: list[str] = Field(default_factory=lambda: ["bf16", "fp8", "int4-awq"])
    kv_precision: str | None = None
    engines: list[str] = Field(default_factory=lambda: ["vllm"])
    kinds: list[OptionKind] = Field(default_factory=lambda: list(ALL_KINDS))
    providers: list[str] | None = None
    max_devices_per_replica: int = Field(
        default=32,
        ge=1,
        le=576,
        description="largest replica: tensor parallel inside a node, pipeline stages across",
    )
    target_utilisation: float = Field(
        default=0.7, gt=0, le=1, description="share of SLO capacity the fleet is sized to use"
    )
    site_country: str | None = Field(
        default=None, description="country of own data centre / colocation (ISO alpha-2)"
    )
    colocation_power_included: bool = False
    min_concurrency: int = Field(default=8, ge=1, description="sequences a replica must hold")
    lead_time_months: int = Field(
        default=0,
        ge=0,
        le=36,
        description="months from ordering servers to serving on them (own and colocated "
        "fleets); the cheapest allowed cloud or API option bridges them when there is one",
    )
    spare_replicas: int = Field(
        default=1,
        ge=0,
        le=16,
        description="availability of own and colocated fleets: replicas bought beyond the "
        "peak need (1 = N+1, production default; 0 = none)",
    )


__all__ = ["CandidatesSpec", "OptionKind", "SloSpec"]
