"""Result of ``inferplan plan``: the pick, the frontier, the rejections and why."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PlanOption(BaseModel):
    """One priced, allowed option."""

    name: str
    kind: str
    provider: str
    region: str | None = None
    country: str | None = None
    model: str | None = None
    hardware: str | None = None
    devices_per_replica: int | None = None
    tensor_parallel: int | None = None
    pipeline_stages: int | None = None
    expert_parallel: int | None = Field(
        default=None,
        description="devices the routed experts of a MoE layer are split over, whole (1: "
        "tensor parallel experts)",
    )
    attention_data_parallel: int | None = Field(
        default=None, description="attention data-parallel groups of a replica (1: none)"
    )
    layout: str | None = Field(
        default=None,
        description="a replica's parallel layout in words ('EP 16 with attention data "
        "parallelism over 2 nodes', 'tensor parallel 8 x 2 pipeline stages')",
    )
    replicas: int | None = Field(
        default=None, description="replicas at the peak of the horizon, spares included"
    )
    spare_replicas: int = 0
    peak_devices: int | None = Field(
        default=None, description="replicas x devices per replica, spares included"
    )
    servers: int | None = Field(default=None, description="whole servers bought (own/colo)")
    gpus_per_server: int | None = None
    server_id: str | None = Field(default=None, description="server price row bought")
    commitment: str | None = Field(default=None, description="cloud term")
    precision: str | None = None
    engine: str | None = None
    serving_technique: str | None = Field(
        default=None,
        description="speculative decoding or disaggregated prefill and decode pools, "
        "named with their settings; None for plain colocated replicas",
    )
    replica_output_tokens_per_s: float | None = None
    replica_requests_per_s: float | None = None
    capacity_basis: str | None = Field(
        default=None, description="what limits a replica and whether it was simulated"
    )
    replica_batch: int | None = None
    est_ttft_ms: float | None = None
    est_tpot_ms: float | None = None
    tco_nominal_usd: float
    npv_usd: float
    usd_per_million_tokens: float | None
    monthly_cash_flows_usd: list[float]
    breakdown_usd: dict[str, float]
    energy_kwh: float | None = None
    co2_kg: float | None = None
    kwh_per_million_tokens: float | None = None
    kg_co2_per_million_tokens: float | None = None
    legal_sovereignty: float = 1.0
    operational_sovereignty: float = 1.0
    sovereignty_score: float = 1.0
    findings: list[dict[str, Any]] = Field(default_factory=list)
    conditions: list[str] = Field(
        default_factory=list, description="rules passed only under a condition"
    )
    latency_verified: bool | None = Field(
        default=None,
        description="self-hosted: modelled; API: True with a published latency profile, "
        "False without one",
    )
    meets_slo: bool | None = Field(
        default=None, description="predicted or published latency within the SLO"
    )
    latency_source: str | None = None
    compliance_drivers: list[dict[str, Any]] = Field(
        default_factory=list,
        description="what the 'compliance' cost line holds: driver, ops_fte, usd_per_year, basis",
    )
    unserved_share: float = 0.0
    warnings: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class LatencyCheck(BaseModel):
    """The pick simulated at its peak per-replica load (discrete-event simulation)."""

    requests_per_s_per_replica: float
    replicas_at_peak: int
    p_ttft_ms: float
    p_tpot_ms: float
    p_ttft_interval_ms: tuple[float, float]
    p_tpot_interval_ms: tuple[float, float]
    percentile: float
    meets_slo: bool
    interval_basis: str


class Recommendation(BaseModel):
    option: str
    kind: str
    provider: str
    region: str | None
    hardware: str | None
    count: int | None
    servers: int | None = None
    gpus_per_server: int | None = None
    replicas: int | None = None
    spare_replicas: int = 0
    commitment: str | None = Field(default=None, description="cloud term")
    base_kind: str | None = Field(
        default=None, description="hybrid: where its base runs (on_prem or colocation)"
    )
    precision: str | None
    engine: str | None
    model: str | None
    serving_technique: str | None = Field(
        default=None, description="the pick's serving technique (see PlanOption)"
    )
    layout: str | None = Field(default=None, description="the pick's layout (see PlanOption)")
    tco_nominal_usd: float
    npv_usd: float
    usd_per_million_tokens: float | None
    p95_ttft_ms: float | None
    p95_tpot_ms: float | None
    latency_check: LatencyCheck | None = None
    latency_verified: bool | None = None
    latency_source: str | None = None
    conditions: list[str] = Field(default_factory=list)
    headline: str = ""
    reasons: list[str]
    stale_figures: list[dict[str, str]] = Field(
        default_factory=list,
        description="catalog figures behind this option older than 12 months on the plan's "
        "date: item, as_of, age_days, source",
    )


class RejectedFamily(BaseModel):
    family: str
    stage: str
    reason: str


class PlanResult(BaseModel):
    scenario: str
    horizon_months: int
    discount_rate: float
    recommendation: Recommendation
    runner_up: PlanOption | None
    why_not_runner_up: str | None
    frontier: list[str]
    options: list[PlanOption]
    rejected: list[RejectedFamily]
    break_even_month: dict[str, int | None]
    quality_notes: list[str]
    assumptions: list[dict[str, str]]
    sensitivity: list[dict[str, Any]] = Field(default_factory=list)
    monte_carlo: dict[str, Any] | None = None
    latency_curve: list[dict[str, float]] = Field(default_factory=list)
    metric_definitions: dict[str, str] = Field(default_factory=dict)
