"""Request and response bodies of the REST API (pydantic; they make the OpenAPI document).

Units follow the rest of inferplan: seconds, bytes, US dollars, unless a field
name says otherwise (``_ms``, ``_gb``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictFloat, model_validator

from inferplan.api.errors import FieldError, FieldErrors
from inferplan.api.limits import MAX_TEXT_CHARS, LimitError, check_value
from inferplan.service.catalog_views import CatalogKind

DOCUMENT_FIELDS = frozenset({"document", "summary", "parameters"})
"""Body fields holding free-form mappings; their strings are held to MAX_TEXT_CHARS."""


class _In(BaseModel):
    """A request body: refused whole (422) when any string in it cannot be stored
    or it breaks the shape limits of :mod:`inferplan.api.limits`, before any field
    is validated."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        try:
            if isinstance(data, dict):
                check_value(list(data), "body", max_text=None)
                for key, value in data.items():
                    limit = MAX_TEXT_CHARS if key in DOCUMENT_FIELDS else None
                    check_value(value, str(key), max_text=limit)
            else:
                check_value(data, "", max_text=None)
        except LimitError as exc:
            raise FieldErrors([FieldError(exc.path, exc.message, exc.kind)]) from None
        return data


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- scenarios ---------------------------------------------------------------------------


ONE_OF_DOCUMENT_OR_YAML: dict[str, Any] = {
    "oneOf": [{"required": ["document"], "not": {"required": ["yaml"]}},
              {"required": ["yaml"], "not": {"required": ["document"]}}]}


class ScenarioIn(_In):
    """A scenario as a JSON object (``document``) or as YAML text (``yaml``):
    exactly one of the two."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ONE_OF_DOCUMENT_OR_YAML)

    document: dict[str, Any] | None = Field(default=None, description="the scenario mapping")
    yaml: str | None = Field(default=None, max_length=1_000_000, description="scenario YAML")
    comment: str = Field(default="", max_length=500, description="what changed and why")


class ScenarioUpdate(ScenarioIn):
    version: int = Field(ge=1, le=2**31 - 1, description="the version this edit is based on")


class DuplicateIn(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ScenarioOut(_Out):
    id: int
    name: str
    version: int
    document: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class ScenarioSummary(_Out):
    id: int
    name: str
    version: int
    description: str = ""
    updated_at: dt.datetime


class ScenarioList(BaseModel):
    items: list[ScenarioSummary]
    total: int


class ScenarioVersionOut(_Out):
    version: int
    name: str
    comment: str
    created_at: dt.datetime
    document: dict[str, Any] | None = None


class DiffSide(BaseModel):
    scenario_id: int
    version: int
    name: str


class DiffEntry(BaseModel):
    path: str
    change: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class ScenarioDiff(BaseModel):
    a: DiffSide
    b: DiffSide
    changes: list[DiffEntry]
    unified: str


class ValidationOut(BaseModel):
    valid: bool
    name: str
    plannable: bool


# --- analysis ----------------------------------------------------------------------------


class DeploymentIn(_In):
    model: str = Field(min_length=1, max_length=200, description="model id or alias")
    gpu: str = Field(min_length=1, max_length=200, description="accelerator id or alias")
    engine: str = Field(default="vllm", min_length=1, max_length=64)
    precision: str = Field(default="bf16", min_length=1, max_length=32)
    kv_precision: str | None = Field(default=None, max_length=32)


class FitIn(DeploymentIn):
    """Without ``tp``/``pp``: the fewest devices on which the model fits."""

    tp: int | None = Field(default=None, ge=1, le=72)
    pp: int | None = Field(default=None, ge=1, le=256)
    context_tokens: int = Field(default=4096, ge=1, le=10_000_000)
    concurrency: int = Field(default=1, ge=1, le=100_000)


class PerfIn(DeploymentIn):
    """Give at most one of ``batch``, ``concurrency`` and ``rate_rps``; none means the
    saturated maximum throughput."""

    tp: int = Field(default=1, ge=1, le=72)
    pp: int = Field(default=1, ge=1, le=256)
    replicas: int = Field(default=1, ge=1, le=1024)
    input_tokens: int = Field(default=1024, ge=0, le=131_072)
    output_tokens: int = Field(default=256, ge=1, le=32_768)
    batch: int | None = Field(default=None, ge=1, le=512, description="static batch size")
    concurrency: int | None = Field(default=None, ge=1, le=1024, description="closed loop")
    rate_rps: float | None = Field(default=None, gt=0, le=10_000, description="Poisson rate")
    slo_ttft_ms: float | None = Field(default=None, gt=0, le=3_600_000)
    slo_tpot_ms: float | None = Field(default=None, gt=0, le=60_000)
    with_curve: bool = Field(default=False, description="add the concurrency sweep")
    calibration: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="name of a stored calibration profile of "
                                    "this engine and accelerator")


class ScenarioRef(_In):
    """A stored scenario (``scenario_id``, optionally a ``scenario_version``), or an
    inline ``document`` or ``yaml``: exactly one of the three."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": [k], "not": {"anyOf": [{"required": [o]} for o in others]}}
                  for k, others in (("scenario_id", ("document", "yaml")),
                                    ("document", ("scenario_id", "yaml")),
                                    ("yaml", ("scenario_id", "document")))]})

    scenario_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    scenario_version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    document: dict[str, Any] | None = None
    yaml: str | None = Field(default=None, max_length=1_000_000)


class PlanIn(ScenarioRef):
    """A scenario reference plus, optionally, the name of a stored calibration
    profile whose efficiencies apply on its accelerator and engine."""

    calibration: str | None = Field(default=None, min_length=1, max_length=200)


class TcoIn(ScenarioRef):
    sensitivity: bool = Field(default=False, description="add the tornado and Monte Carlo")


# --- jobs and plans ----------------------------------------------------------------------


class JobOut(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
    progress: float
    message: str
    error: str | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    plan_id: int | None = None
    bench_run_id: int | None = None


class PlanSummary(_Out):
    id: int
    scenario_id: int | None
    scenario_version: int | None
    scenario_name: str
    status: str
    progress: float
    message: str
    error: str | None
    recommended_option: str | None
    npv_usd: float | None
    usd_per_million_tokens: float | None
    rerun_of: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    job_id: str | None = None
    calibration: str | None = None


class PlanOut(PlanSummary):
    scenario_document: dict[str, Any]
    result: dict[str, Any] | None


class PlanList(BaseModel):
    items: list[PlanSummary]
    total: int


class PlanSubmitted(BaseModel):
    plan_id: int
    job: JobOut


class PlanComparison(BaseModel):
    a: PlanSummary
    b: PlanSummary
    rows: list[dict[str, Any]]
    scenario_changes: list[DiffEntry]


# --- benchmark runs ----------------------------------------------------------------------


class BenchRunIn(_In):
    """A run of ``inferplan bench``: its ``summary.json`` object and, optionally, the
    text of its ``records.jsonl`` (needed for the significance test in compare)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    summary: dict[str, Any]
    records_jsonl: str | None = Field(default=None, max_length=64_000_000)


class BenchRunSummary(_Out):
    id: int
    name: str
    url_host: str
    model: str
    engine: str
    record_count: int
    created_at: dt.datetime
    stages: list[dict[str, Any]] = Field(default_factory=list)


class BenchRunOut(BenchRunSummary):
    summary: dict[str, Any]


class BenchRunList(BaseModel):
    items: list[BenchRunSummary]
    total: int


class BenchComparison(BaseModel):
    a: BenchRunSummary
    b: BenchRunSummary
    rows: list[dict[str, Any]]
    significance: dict[str, Any] | None = None
    note: str


class BenchJobIn(_In):
    """Benchmark a server from the service. ``url`` must be on the operator's
    allow-list; ``api_key`` is used for this run only, never stored or returned."""

    url: str = Field(min_length=1, max_length=500)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    concurrency: list[Annotated[int, Field(ge=1, le=1024)]] = Field(
        default_factory=lambda: [1], min_length=1, max_length=8,
        description="closed-loop concurrency of each stage (1-1024)")
    max_requests: int = Field(default=20, ge=1, le=2000, description="requests per stage")
    isl: int = Field(default=128, ge=1, le=131_072, description="input tokens per request")
    osl: int = Field(default=128, ge=1, le=32_768, description="output tokens per request")
    warmup: int = Field(default=1, ge=0, le=20)
    timeout_s: float = Field(default=60.0, gt=0, le=600)
    api_key: SecretStr | None = Field(default=None, max_length=4096)


# --- calibration profiles ----------------------------------------------------------------


class CalibrationIn(_In):
    """``parameters``: efficiency parameters of the step-time model (the fields of
    ``EngineEfficiency``, e.g. ``bandwidth_efficiency`` in (0, 1],
    ``step_overhead_s`` >= 0), numbers only; they replace the engine profile's."""

    name: str = Field(min_length=1, max_length=200)
    engine: str = Field(min_length=1, max_length=64)
    accelerator: str = Field(min_length=1, max_length=64)
    parameters: dict[str, StrictFloat] = Field(default_factory=dict)
    notes: str = Field(default="", max_length=10_000)


class CalibrationUpdate(_In):
    version: int = Field(ge=1, le=2**31 - 1, description="the version this edit is based on")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    engine: str | None = Field(default=None, min_length=1, max_length=64)
    accelerator: str | None = Field(default=None, min_length=1, max_length=64)
    parameters: dict[str, StrictFloat] | None = None
    notes: str | None = Field(default=None, max_length=10_000)


class CalibrationOut(_Out):
    id: int
    name: str
    engine: str
    accelerator: str
    parameters: dict[str, Any]
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# --- catalog -----------------------------------------------------------------------------



class CatalogKindOut(BaseModel):
    kind: CatalogKind
    count: int
    description: str


class CatalogItem(BaseModel):
    id: str
    name: str | None = None
    section: str | None = None
    source: str | None = None
    as_of: str | None = None
    record: dict[str, Any]


class CatalogList(BaseModel):
    kind: CatalogKind
    total: int
    items: list[CatalogItem]
