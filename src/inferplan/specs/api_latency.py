"""Published latency of a hosted model API: time to first token and output speed.

One record per price-catalog API row (``api``), from a dated public measurement.
Medians are what most benchmarks publish; the 95th percentiles are kept when the
source gives them, because the planner checks SLOs at a percentile.
"""

from __future__ import annotations

from pydantic import Field

from inferplan.specs.base import SourcedRecord


class ApiLatencyRecord(SourcedRecord):
    """Measured latency of one API offer (``api`` = price-catalog API row id).

    ttft_p50_s / ttft_p95_s: seconds from request sent to first token.
    output_tokens_per_s_p50: output tokens per second while streaming, median;
    output_tokens_per_s_p95_slow: the speed 95 % of requests exceed (the slow tail).
    prompt_tokens / output_tokens: request shape of the measurement.
    """

    api: str
    ttft_p50_s: float = Field(gt=0)
    ttft_p95_s: float | None = Field(default=None, gt=0)
    output_tokens_per_s_p50: float = Field(gt=0)
    output_tokens_per_s_p95_slow: float | None = Field(default=None, gt=0)
    prompt_tokens: int | None = Field(default=None, gt=0)
    output_tokens: int | None = Field(default=None, gt=0)


__all__ = ["ApiLatencyRecord"]
