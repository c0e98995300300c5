"""``/api/v1/bench-runs``: upload, list, compare benchmark runs; run one from the service.

``POST /bench-runs/jobs`` runs :func:`inferplan.bench.runner.run_benchmark`
against a server on the operator's allow-list (``--bench-allow``); any other
target is refused with 403. The ``api_key`` of the request is handed to the
client of that one run and is never stored, logged or returned.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import PrivateAttr

from inferplan.api.bench_runs import (
    check_summary,
    compare_summaries,
    headline,
    parse_records,
    records_to_jsonl,
    scrub,
    secret_values,
    significance,
    url_host,
)
from inferplan.api.deps import PathId, QueryId, get_jobs, get_settings, get_store
from inferplan.api.jobs import JobCancelled, JobContext, JobFailed, JobManager
from inferplan.api.schemas import (
    BenchComparison,
    BenchJobIn,
    BenchRunIn,
    BenchRunList,
    BenchRunOut,
    BenchRunSummary,
    JobOut,
)
from inferplan.api.settings import ServiceSettings, normalise_target
from inferplan.bench.config import BenchConfig
from inferplan.bench.results import (
    RECORDS_FILE,
    RequestRecord,
    RunSummary,
    read_records,
    upgrade_stage,
)
from inferplan.bench.runner import ProgressSnapshot, run_benchmark
from inferplan.errors import InferplanError
from inferplan.store import records as repo
from inferplan.store.database import Store
from inferplan.store.tables import BenchRun

router = APIRouter(prefix="/bench-runs", tags=["benchmark runs"])
StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such benchmark run"}}


def _summary(row: BenchRun) -> BenchRunSummary:
    return BenchRunSummary(
        id=row.id, name=row.name, url_host=row.url_host, model=row.model, engine=row.engine,
        record_count=row.record_count, created_at=row.created_at,
        stages=[upgrade_stage(s) for s in row.headline] if row.headline is not None
        else headline(row.summary),
    )


def store_run(store: Store, summary: dict[str, Any], records_text: str | None,
              name: str | None) -> BenchRun:
    """Check an uploaded run, then :func:`save_run` it."""
    run = check_summary(summary)
    records = parse_records(records_text) if records_text else None
    return save_run(store, run, records, name, raw_summary=summary)


def save_run(store: Store, run: RunSummary, records: list[RequestRecord] | None,
             name: str | None, extra_secrets: set[str] | None = None,
             raw_summary: dict[str, Any] | None = None) -> BenchRun:
    """The one path by which a benchmark run reaches the store (uploads and runs the
    service measured alike): scrubbed of credentials, by field and by value."""
    summary = raw_summary if raw_summary is not None else run.model_dump(mode="json")
    secrets = secret_values(summary) | (extra_secrets or set())
    return repo.create_bench_run(
        store,
        name=scrub(name or f"{run.metadata.model} @ {url_host(run)} "
                   f"{run.metadata.started_at[:16]}", secrets),
        url_host=url_host(run),
        model=scrub(run.metadata.model, secrets),
        engine=scrub(run.metadata.engine, secrets),
        summary=scrub(summary, secrets),
        records_jsonl=records_to_jsonl(records, secrets) if records is not None else None,
        record_count=len(records) if records is not None else 0,
    )


@router.post("", response_model=BenchRunSummary, status_code=201,
             summary="Upload the results of an `inferplan bench` run")
def upload(body: BenchRunIn, store: StoreDep, response: Response) -> BenchRunSummary:
    row = store_run(store, body.summary, body.records_jsonl, body.name)
    response.headers["Location"] = f"/api/v1/bench-runs/{row.id}"
    return _summary(row)


@router.get("", response_model=BenchRunList, summary="List benchmark runs")
def list_runs(
    store: StoreDep,
    model: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> BenchRunList:
    rows, total = repo.list_bench_runs(store, model, limit, offset)
    return BenchRunList(items=[_summary(r) for r in rows], total=total)


@router.get("/compare", response_model=BenchComparison, responses=NOT_FOUND,
            summary="Compare two runs")
def compare(a: QueryId, b: QueryId, store: StoreDep) -> BenchComparison:
    ra, rb = repo.get_bench_run(store, a), repo.get_bench_run(store, b)
    sig = significance(ra, rb)
    note = ("differences are b - a; change is (b - a) / a; stages are matched by index"
            + ("" if sig else "; upload records.jsonl of both runs for a significance test"))
    return BenchComparison(a=_summary(ra), b=_summary(rb),
                           rows=compare_summaries(ra.summary, rb.summary),
                           significance=sig, note=note)


@router.get("/{run_id}", response_model=BenchRunOut, responses=NOT_FOUND,
            summary="One run with its summary")
def get_run(run_id: PathId, store: StoreDep) -> BenchRunOut:
    row = repo.get_bench_run(store, run_id)
    return BenchRunOut(**_summary(row).model_dump(), summary=row.summary)


@router.get("/{run_id}/records", response_class=PlainTextResponse,
            responses={**NOT_FOUND, 200: {"description": "one request record per line",
                                          "content": {"application/x-ndjson":
                                                      {"schema": {"type": "string"}}}}},
            summary="The run's per-request records (JSON lines)")
def get_records(run_id: PathId, store: StoreDep) -> PlainTextResponse:
    row = repo.get_bench_run(store, run_id)
    return PlainTextResponse(row.records_jsonl or "", media_type="application/x-ndjson")


@router.delete("/{run_id}", status_code=204, responses=NOT_FOUND, summary="Delete a run")
def delete_run(run_id: PathId, store: StoreDep) -> Response:
    repo.delete_bench_run(store, run_id)
    return Response(status_code=204)


class _KeyedConfig(BenchConfig):
    """A run configuration whose API key lives in memory only (not in any field)."""

    _key: str | None = PrivateAttr(default=None)

    @property
    def api_key(self) -> str | None:
        return self._key


def bench_job(store: Store, jobs: JobManager, body: BenchJobIn, base_url: str) -> Any:
    """The job function of one benchmark run; the key is taken out of ``body`` here."""
    key = body.api_key.get_secret_value() if body.api_key is not None else None
    fields = {
        "url": base_url, "model": body.model, "concurrency": tuple(body.concurrency),
        "max_requests": body.max_requests, "isl": str(body.isl), "osl": str(body.osl),
        "warmup": body.warmup, "timeout_s": body.timeout_s, "connect_timeout_s": 10.0,
    }

    def run(ctx: JobContext) -> None:
        stages = len(body.concurrency)

        def hook(snap: ProgressSnapshot) -> None:
            done = min(1.0, snap.completed / body.max_requests)
            with contextlib.suppress(JobCancelled):  # sets the cancel event the run watches
                ctx.progress(f"stage {snap.stage + 1}/{stages} ({snap.label}): "
                             f"{snap.completed} requests", (snap.stage + done) / stages)

        with tempfile.TemporaryDirectory(prefix="inferplan-bench-") as tmp:
            out = Path(tmp) / "run"
            config = _KeyedConfig(**fields, output_dir=out)
            config._key = key
            ctx.progress("connecting", 0.0)
            try:
                outcome = run_benchmark(config, progress=hook, cancel=ctx.job.cancel_event)
            except InferplanError as exc:
                raise JobFailed(str(exc)) from None
            if outcome.cancelled:
                raise JobCancelled()
            recs = read_records(out / RECORDS_FILE) if (out / RECORDS_FILE).is_file() else []
            row = save_run(store, outcome.summary, recs,
                           body.name or f"{outcome.summary.metadata.model} via service",
                           extra_secrets={key} if key else None)
            jobs.set_ref(ctx.job.id, "bench_run_id", row.id)

    return run


@router.post("/jobs", response_model=JobOut, status_code=202,
             responses={403: {"description": "the target is not on the allow-list"},
                        429: {"description": "too many jobs are waiting"}},
             summary="Benchmark an allow-listed server (as a job)")
def start_bench(body: BenchJobIn, jobs: JobsDep, store: StoreDep,
                settings: SettingsDep) -> JobOut:
    target = normalise_target(body.url)
    if target not in settings.bench_allow:
        raise HTTPException(
            403, f"benchmark target {target} is not on the allow-list; the operator adds it "
            "with `inferplan serve --bench-allow URL`",
        )
    job_id = jobs.submit("bench", bench_job(store, jobs, body, target))
    job = jobs.get(job_id)
    assert job is not None
    return JobOut.model_validate(jobs.snapshot(job))
