"""Benchmark result records and files: per-request JSON lines, summary JSON, CSV.

Every time in a :class:`RequestRecord` is in seconds on the client's monotonic
clock (``time.perf_counter``), relative to the run start recorded in
:class:`RunMetadata` (``started_at`` holds the wall-clock time of that instant).

Files written in a run's output folder:

* ``run.json``: :class:`RunMetadata`, written before the first request;
* ``records.jsonl``: one :class:`RequestRecord` per line, flushed as each request
  ends, so an interrupted run keeps every request it finished;
* ``summary.json``: :class:`RunSummary`, written when the run ends (also after an
  interruption);
* ``records.csv``: the records without the per-token arrays;
* ``report.html``: distributions and the latency-throughput curve.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)

from inferplan.errors import BenchmarkError
from inferplan.perf.metrics import METRIC_DEFINITIONS as SERVING_METRIC_DEFINITIONS
from inferplan.perf.metrics import Distribution

RECORDS_FILE = "records.jsonl"
WORKER_RECORDS_GLOB = "records.worker*.jsonl"
"""Per-worker record files of ``--workers N``, written as requests end (merged into
``records.jsonl`` when the run ends; read by ``bench report`` after a kill)."""
SUMMARY_FILE = "summary.json"
METADATA_FILE = "run.json"
CSV_FILE = "records.csv"
REPORT_FILE = "report.html"

SCHEMA_VERSION = 1

MEASUREMENT_DEFINITIONS: dict[str, str] = {
    "ttfc_s": "request sent -> first visible content received (reasoning excluded)",
    "token_counts": "from the server's usage when present; the source is recorded per "
    "request (usage, continuous_usage, timings); without them, a request stopped by "
    "its length limit (finish_reason 'length') generated exactly max_tokens (source "
    "max_tokens), otherwise the client counts streamed chunks (client_chunks, a lower "
    "bound when a chunk carries several tokens)",
    "sent": "the moment the request's headers start to leave on a connection (after any "
    "wait for a free pooled connection and any new connection's setup)",
    "schedule_lag_s": "request sent - request scheduled (client health)",
    "client_queue_s": "request sent - request scheduled: time a request spent in the "
    "client (late dispatch, waiting for a pooled connection, opening one); never counted "
    "in TTFT or E2E",
    "loop_lag_s": "delay between queueing a callback on the client's event loop and "
    "its run, sampled every 10 ms (client health; bounds every client timestamp error)",
    "percentile_ci": "distribution-free order-statistic confidence interval at 95%",
}
"""What only a measurement has: client timing and token-count provenance."""

METRIC_DEFINITIONS: dict[str, str] = {**SERVING_METRIC_DEFINITIONS, **MEASUREMENT_DEFINITIONS}
"""The serving-metric definitions shared with predictions
(:data:`inferplan.perf.metrics.METRIC_DEFINITIONS`) plus the measurement-only ones;
written into every run's metadata."""

LEGACY_STAGE_FIELDS: dict[str, str] = {
    "output_throughput_tok_per_s": "output_tokens_per_s",
    "input_throughput_tok_per_s": "input_tokens_per_s",
    "request_throughput_req_per_s": "request_throughput_rps",
    "goodput_req_per_s": "goodput_rps",
    "slo_met_fraction": "slo_attainment",
}
"""Stage fields as runs saved before the shared vocabulary named them -> today's name."""


def upgrade_stage(stage: dict[str, Any]) -> dict[str, Any]:
    """A stage dict (summary stage or headline row) with legacy field names renamed.

    >>> upgrade_stage({"output_throughput_tok_per_s": 9.0})
    {'output_tokens_per_s': 9.0}
    """
    if not any(k in stage for k in LEGACY_STAGE_FIELDS):
        return stage
    out: dict[str, Any] = {}
    for key, value in stage.items():
        name = LEGACY_STAGE_FIELDS.get(key)
        if name is None:
            out[key] = value
        elif name not in stage:
            out[name] = value
    return out


def upgrade_summary(summary: Any) -> Any:
    """A summary dict whose stages carry today's field names (other values unchanged)."""
    if not isinstance(summary, dict) or not isinstance(summary.get("stages"), list):
        return summary
    stages = [upgrade_stage(s) if isinstance(s, dict) else s for s in summary["stages"]]
    return {**summary, "stages": stages}


class ErrorKind(StrEnum):
    """Why a request did not complete."""

    CONNECT = "connect"  # no TCP/TLS connection
    TIMEOUT = "timeout"  # connect, read or total deadline passed
    HTTP_STATUS = "http_status"  # a non-2xx status
    STREAM_ABORTED = "stream_aborted"  # the transport failed mid-body
    TRUNCATED = "truncated"  # the body ended cleanly but without [DONE] or finish_reason
    MALFORMED = "malformed"  # an event that is not valid JSON or not a completion chunk
    INCOMPLETE = "incomplete"  # cut off by the end of the run (interrupt or drain deadline)


class Phase(StrEnum):
    """Warm-up requests are recorded but excluded from every statistic."""

    WARMUP = "warmup"
    MEASURE = "measure"


class RequestRecord(BaseModel):
    """One request, as written to ``records.jsonl`` (times in s from the run start).

    ``token_times_s`` holds the arrival time of every streamed chunk that carried
    generated text; ``chunk_tokens`` the number of tokens in each of those chunks
    where the server reported it (vLLM ``continuous_usage_stats``), else ``None``.
    """

    model_config = ConfigDict(extra="ignore")

    request_id: int
    stage: int = 0
    phase: Phase = Phase.MEASURE
    worker_id: int = 0
    scheduled_s: float | None = None
    dispatched_s: float | None = None
    sent_s: float | None = None
    connect_s: float | None = None
    first_token_s: float | None = None
    first_content_s: float | None = None
    last_token_s: float | None = None
    end_s: float | None = None
    token_times_s: list[float] = Field(default_factory=list)
    chunk_tokens: list[int] | None = None
    requested_input_tokens: int | None = None
    prompt_words: int | None = None
    input_tokens: int | None = None
    input_tokens_source: str | None = None
    requested_output_tokens: int | None = None
    output_tokens: int | None = None
    output_tokens_source: str | None = None
    client_chunk_count: int = 0
    finish_reason: str | None = None
    error_kind: ErrorKind | None = None
    error_message: str | None = None
    http_status: int | None = None
    server_timings: dict[str, float] | None = None

    @field_serializer("token_times_s")
    def _round_times(self, times: list[float]) -> list[float]:
        """0.1 us resolution on disk (perf_counter is finer than any network event)."""
        return [round(t, 7) for t in times]

    @property
    def ok(self) -> bool:
        """True when the request completed without error."""
        return self.error_kind is None and self.end_s is not None

    @property
    def ttft_s(self) -> float | None:
        """Time to first token in s, or ``None``."""
        if self.sent_s is None or self.first_token_s is None:
            return None
        return self.first_token_s - self.sent_s

    @property
    def e2e_s(self) -> float | None:
        """Request sent -> last token, in s, or ``None``."""
        if self.sent_s is None or self.last_token_s is None:
            return None
        return self.last_token_s - self.sent_s

    @property
    def tpot_s(self) -> float | None:
        """(E2E - TTFT) / (output_tokens - 1) in s; ``None`` below 2 tokens."""
        ttft, e2e, n = self.ttft_s, self.e2e_s, self.output_tokens
        if ttft is None or e2e is None or n is None or n < 2:
            return None
        return (e2e - ttft) / (n - 1)

    def itl_gaps_s(self) -> tuple[list[float], str]:
        """Inter-token gaps in s and their basis (``token`` or ``chunk``).

        A chunk carrying k tokens after a gap g contributes k gaps of g/k when
        per-chunk counts are known; otherwise one gap per chunk.
        """
        times = self.token_times_s
        if len(times) < 2:
            return [], "token"
        counts = self.chunk_tokens
        if counts is not None and len(counts) == len(times):
            gaps: list[float] = []
            for i in range(1, len(times)):
                k = max(1, counts[i])
                gaps.extend([(times[i] - times[i - 1]) / k] * k)
            return gaps, "token"
        gaps = [times[i] - times[i - 1] for i in range(1, len(times))]
        basis = "chunk" if self.output_tokens not in (None, len(times)) else "token"
        return gaps, basis


class RunMetadata(BaseModel):
    """What was run, against what, from where; written before the first request."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    started_at: str = Field(description="wall-clock ISO 8601 time of the run start (t=0)")
    url: str
    endpoint: str
    model: str
    engine: str = "unknown"
    engine_version: str | None = None
    engine_evidence: str | None = None
    max_context_tokens: int | None = None
    server_info: dict[str, Any] = Field(default_factory=dict)
    client: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    prompt_calibration: dict[str, float] = Field(default_factory=dict)
    metric_definitions: dict[str, str] = Field(default_factory=lambda: dict(METRIC_DEFINITIONS))


class StatResult(Distribution):
    """Distribution summary of one measured metric in SI units (s for latencies).

    The same statistics type as predictions (:class:`inferplan.perf.metrics.Distribution`:
    count, mean, p50/p90/p95/p99, min, max) plus what a sample adds: the standard
    deviation, distribution-free 95% intervals of p50/p90/p99 and sample-size warnings.
    """

    model_config = ConfigDict(frozen=False, extra="ignore")

    std: float | None = None
    p50_ci: tuple[float, float] | None = None
    p90_ci: tuple[float, float] | None = None
    p99_ci: tuple[float, float] | None = None
    warnings: list[str] = Field(default_factory=list)


class ClientHealth(BaseModel):
    """Whether the client kept up: if not, slow numbers may be the client's fault.

    ``scheduled_rate_req_per_s`` is the rate of the send times the schedule drew
    for these requests (a Poisson draw differs from the nominal rate by chance);
    ``achieved_rate_req_per_s`` the rate at which they really left.
    """

    requested_rate_req_per_s: float | None = None
    scheduled_rate_req_per_s: float | None = None
    achieved_rate_req_per_s: float | None = None
    schedule_lag_s: StatResult
    client_queue_s: StatResult | None = None
    dispatch_lag_s: StatResult | None = None
    pool_wait_s: StatResult | None = None
    connect_s: StatResult | None = None
    loop_lag_s: StatResult
    client_limited: bool = False
    reasons: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class StageSummary(BaseModel):
    """Statistics of one load level (one concurrency or rate of a sweep).

    Throughput names are those of predictions (:data:`METRIC_DEFINITIONS`); a run
    saved with the older names (:data:`LEGACY_STAGE_FIELDS`) still loads.
    """

    stage: int
    profile: str
    concurrency: int | None = None
    rate_req_per_s: float | None = None
    counts: dict[str, int] = Field(description="requests by outcome: ok and each error kind")
    window_s: float
    ttft_s: StatResult
    ttfc_s: StatResult
    itl_s: StatResult
    itl_basis: str = "token"
    tpot_s: StatResult
    e2e_s: StatResult
    output_tokens_total: int
    input_tokens_total: int
    output_tokens_per_s: float
    input_tokens_per_s: float
    request_throughput_rps: float
    goodput_rps: float | None = None
    slo_attainment: float | None = None
    token_checks: dict[str, int] = Field(default_factory=dict)
    client_health: ClientHealth
    server_metrics: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _legacy_names(cls, data: Any) -> Any:
        return upgrade_stage(data) if isinstance(data, dict) else data


class RunSummary(BaseModel):
    """The summary JSON: metadata, per-stage statistics and run-level status."""

    metadata: RunMetadata
    stages: list[StageSummary]
    counts: dict[str, int]
    warmup_requests: int = 0
    interrupted: bool = False
    aborted_reason: str | None = None
    slo: dict[str, float] = Field(default_factory=dict)
    server_metrics_raw: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class JsonlWriter:
    """Append records to a JSON-lines file, one line per record, flushed at once.

    The file is opened by :meth:`open` (not the constructor) and line-buffered, so
    a killed process leaves only whole lines (the last may be cut; readers skip it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        self.count = 0

    def open(self) -> JsonlWriter:
        """Open (append mode) and return self."""
        self._fh = self.path.open("a", encoding="utf-8", buffering=1)
        return self

    def write(self, record: RequestRecord) -> None:
        """Write one record as a line and flush it to the operating system."""
        if self._fh is None:
            raise BenchmarkError(f"{self.path}: writer is not open")
        self._fh.write(record.model_dump_json(exclude_defaults=False) + "\n")
        self._fh.flush()
        self.count += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_records(path: Path) -> list[RequestRecord]:
    """Read ``records.jsonl``; a cut last line (killed writer) is skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read ({exc.strerror})") from None
    records: list[RequestRecord] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(RequestRecord.model_validate_json(line))
        except ValidationError:
            if i == len(lines) - 1:
                break  # a line cut by a killed writer
            raise BenchmarkError(f"{path}:{i + 1}: not a request record") from None
    return records


def read_run_records(run_dir: Path) -> list[RequestRecord]:
    """Every record of a run folder: ``records.jsonl`` merged with any per-worker files
    a killed ``--workers`` run left, each request once, warm-up first, by request id."""
    files = [run_dir / RECORDS_FILE] if (run_dir / RECORDS_FILE).is_file() else []
    files += sorted(run_dir.glob(WORKER_RECORDS_GLOB))
    if not files:
        raise BenchmarkError(f"{run_dir}: no {RECORDS_FILE} (nor per-worker record files)")
    seen: dict[tuple[str, int], RequestRecord] = {}
    for f in files:
        for rec in read_records(f):
            seen.setdefault((rec.phase.value, rec.request_id), rec)
    return sorted(seen.values(), key=lambda r: (r.phase is Phase.MEASURE, r.request_id))


CSV_COLUMNS = (
    "request_id",
    "stage",
    "phase",
    "worker_id",
    "scheduled_s",
    "dispatched_s",
    "sent_s",
    "connect_s",
    "first_token_s",
    "first_content_s",
    "last_token_s",
    "end_s",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "requested_input_tokens",
    "input_tokens",
    "input_tokens_source",
    "requested_output_tokens",
    "output_tokens",
    "output_tokens_source",
    "client_chunk_count",
    "finish_reason",
    "error_kind",
    "http_status",
    "error_message",
)


def write_csv(records: list[RequestRecord], path: Path) -> None:
    """Write one CSV row per record (no per-token arrays)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for rec in records:
            row: list[Any] = []
            for col in CSV_COLUMNS:
                value = getattr(rec, col)
                row.append("" if value is None else value)
            writer.writerow(row)


def write_json(data: BaseModel, path: Path) -> None:
    """Write a pydantic model as indented JSON (replacing the file atomically)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_summary(path: Path) -> RunSummary:
    """Read a ``summary.json``."""
    try:
        return RunSummary.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read ({exc.strerror})") from None
    except ValidationError:
        raise BenchmarkError(f"{path}: not an inferplan bench summary") from None
