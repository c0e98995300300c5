"""Validation cases: the public-measurement CSV format (see README, 'Validation')."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from inferplan.catalog.loader import decode_text, format_validation_error
from inferplan.errors import CatalogError, SpecError

SCENARIOS = ("static_batch", "max_throughput", "server", "closed_loop", "single_stream")
METRICS = (
    "output_tokens_per_s",
    "prompt_tokens_per_s",
    "ttft_ms",
    "itl_ms",
    "tpot_ms",
    "e2e_latency_s",
    "request_throughput_rps",
)

MAX_CASES_BYTES = 64 * 2**20
"""Largest cases file read (64 MiB)."""
STATISTICS = ("value", "mean", "median", "p99")
"""What ``value`` is: a single figure or a mean (predicted as the mean), the median or p99."""


class ValidationCase(BaseModel):
    """One published measurement. Empty CSV cells become None."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    case_id: str
    source_ref: str = ""
    scenario: str
    engine: str
    hardware: str
    num_gpus: int
    tp: int | None = None
    ep: int | None = None
    """Expert-parallel degree (optional column; empty = no expert parallelism)."""
    dp_attention: bool | None = None
    """Attention data parallel over the ``ep`` devices (optional column)."""
    redundant_experts: int | None = None
    """Redundant expert copies under expert parallelism (optional column)."""
    model: str
    weight_dtype: str
    kv_dtype: str = "fp16"
    isl: float | None = None
    osl: float | None = None
    length_kind: str | None = None
    batch: int | None = None
    concurrency: int | None = None
    request_rate: float | None = None
    slo_percentile: float | None = None
    slo_ttft_ms: float | None = None
    slo_tpot_ms: float | None = None
    metric: str
    statistic: str = "value"
    value: float
    trust: str = "medium"
    notes: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and v.strip() == "" else v

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        if v not in SCENARIOS:
            raise ValueError(f"must be one of {', '.join(SCENARIOS)}")
        return v

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"must be one of {', '.join(METRICS)}")
        return v

    @field_validator("statistic", mode="before")  # runs before _empty_is_none
    @classmethod
    def _statistic(cls, v: object) -> object:
        if v is None or (isinstance(v, str) and not v.strip()):
            return "value"
        if isinstance(v, str) and v.strip() not in STATISTICS:
            raise ValueError(f"'{v}' is not a statistic the predictor gives; allowed: "
                             f"{', '.join(STATISTICS)}")
        return v.strip() if isinstance(v, str) else v

    @field_validator("value")
    @classmethod
    def _positive(cls, v: float) -> float:
        if not math.isfinite(v) or v <= 0:
            raise ValueError("must be a finite number > 0")
        return v

    @field_validator("isl", "osl", "request_rate", "slo_percentile", "slo_ttft_ms",
                     "slo_tpot_ms")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


def read_cases(path: Path | str) -> list[ValidationCase]:
    """Read a cases CSV; a malformed row raises :class:`SpecError` naming row and column."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_CASES_BYTES:
            raise SpecError("cases", f"{p} is over the limit of {MAX_CASES_BYTES:,} bytes")
        text = decode_text(p.read_bytes(), str(p), MAX_CASES_BYTES)
    except OSError as exc:
        raise SpecError("cases", f"cannot read {p} ({exc.strerror})") from None
    except CatalogError as exc:
        raise SpecError("cases", str(exc)) from None
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        required = {"case_id", "scenario", "engine", "hardware", "model", "metric", "value"}
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise SpecError("cases", f"{p} lacks columns: {', '.join(sorted(missing))}")
        out = []
        for i, row in enumerate(reader, start=2):
            try:
                out.append(ValidationCase.model_validate(row))
            except ValidationError as exc:
                raise SpecError(f"cases line {i}", format_validation_error(exc)) from None
    return out
