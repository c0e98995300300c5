"""Result of ``inferplan perf``: predicted latency and throughput with intervals."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MetricStats(BaseModel):
    """One latency metric in milliseconds: mean and percentiles, with the 80 %
    interval of the p95 from validation residuals."""

    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    p95_interval: tuple[float, float] | None = None


class PerfResult(BaseModel):
    model: str
    accelerator: str
    engine: str
    precision: str
    kv_precision: str
    tp: int
    pp: int
    replicas: int
    regime: str
    isl: float
    osl: float
    load: float | None = Field(default=None, description="batch, concurrency or rate (req/s)")
    ttft_ms: MetricStats
    tpot_ms: MetricStats
    itl_ms: MetricStats
    e2e_ms: MetricStats
    output_tokens_per_s: float
    output_tokens_per_s_interval: tuple[float, float]
    request_throughput_rps: float
    goodput_rps: float | None = None
    slo_attainment: float | None = None
    max_rate_at_slo_rps: float | None = None
    running_batch: int | None = None
    kv_capacity_tokens: int
    limited_by: str | None = None
    interval_basis: str
    curve: list[dict[str, float]] = Field(default_factory=list)
    metric_definitions: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
