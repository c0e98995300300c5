"""``/api/v1/plans`` and ``/api/v1/jobs``: run plans as jobs, store and compare them.

``POST /plans`` validates the scenario, stores a queued plan row holding a copy of
the document, and runs :func:`inferplan.planner.search.plan` in a worker thread;
the answer (202) names the plan and its job. ``GET /jobs/{id}`` reports progress;
``POST /jobs/{id}/cancel`` (or ``/plans/{id}/cancel``) stops it at its next
progress report. ``POST /plans/{id}/rerun`` runs the same document again, with
today's catalog and prices.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response

from inferplan.api.deps import PathId, QueryId, get_jobs, get_store
from inferplan.api.documents import require_plannable, resolve_ref
from inferplan.api.jobs import JobContext, JobFailed, JobManager
from inferplan.api.routes_analysis import profile_named
from inferplan.api.schemas import (
    JobOut,
    PlanComparison,
    PlanIn,
    PlanList,
    PlanOut,
    PlanSubmitted,
    PlanSummary,
)
from inferplan.errors import InferplanError
from inferplan.planner.search import plan as run_planner
from inferplan.scenario_io import parse_scenario
from inferplan.service.calibration_store import CalibrationHook, calibration_hook
from inferplan.service.comparisons import compare_plan_results, diff_documents
from inferplan.store import records as repo
from inferplan.store.database import Store
from inferplan.store.tables import Job, Plan

router = APIRouter(tags=["plans"])
StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such plan"}}
BUSY: dict[int | str, dict[str, Any]] = {429: {"description": "too many jobs are waiting"}}


def plan_job(store: Store, plan_id: int, document: dict[str, Any],
             efficiency_for: CalibrationHook | None = None) -> Any:
    """The job function that runs one stored plan and records its result."""

    def run(ctx: JobContext) -> None:
        def progress(message: str, fraction: float) -> None:
            ctx.progress(message, fraction)
            repo.mark_plan_running(store, plan_id, message, fraction)

        progress("starting", 0.0)
        try:
            if efficiency_for is None:
                result = run_planner(parse_scenario(document), progress=progress)
            else:
                result = run_planner(parse_scenario(document), progress=progress,
                                     efficiency_for=efficiency_for)
        except InferplanError as exc:
            repo.finish_plan(store, plan_id, "failed", error=str(exc))
            raise JobFailed(str(exc)) from None
        ctx.progress("saving", 1.0)
        repo.finish_plan(store, plan_id, "succeeded", result=result.model_dump(mode="json"))

    return run


def submit_plan(
    store: Store,
    jobs: JobManager,
    document: dict[str, Any],
    scenario_id: int | None,
    version: int | None,
    rerun_of: int | None = None,
    calibration: str | None = None,
) -> tuple[Plan, Job]:
    """Store a queued plan and start its job (the job row first, so the plan always
    names a live job). ``calibration`` names a stored profile to apply."""
    hook = None
    if calibration is not None:
        hook = calibration_hook(profile_named(store, calibration))
    job_id = jobs.reserve("plan")
    try:
        row = repo.create_plan(store, document, scenario_id, version, rerun_of, job_id,
                               calibration)
    except Exception:
        jobs.abandon(job_id, "the plan could not be stored")
        raise
    pid = row.id

    def cancelled(_: str) -> None:
        repo.finish_plan(store, pid, "cancelled")

    def crashed(_: str) -> None:
        repo.finish_plan(store, pid, "failed", error="internal error")

    jobs.run(job_id, plan_job(store, pid, document, hook), {"plan_id": pid},
             on_cancel=cancelled, on_crash=crashed)
    job = jobs.get(job_id)
    assert job is not None
    return row, job


def _summary(row: Plan, jobs: JobManager) -> dict[str, Any]:
    data = PlanSummary.model_validate(row).model_dump()
    data["job_id"] = row.job_id
    return data


def _job_out(jobs: JobManager, job: Job) -> JobOut:
    return JobOut.model_validate(jobs.snapshot(job))


@router.post("/plans", response_model=PlanSubmitted, status_code=202,
             responses={**BUSY, 404: {"description": "no such scenario or version"}},
             summary="Run a plan (as a job)")
def create_plan(body: PlanIn, store: StoreDep, jobs: JobsDep,
                response: Response) -> PlanSubmitted:
    doc, spec, sid, ver = resolve_ref(store, body.scenario_id, body.scenario_version,
                                      body.document, body.yaml)
    require_plannable(spec)
    row, job = submit_plan(store, jobs, doc, sid, ver, calibration=body.calibration)
    response.headers["Location"] = f"/api/v1/plans/{row.id}"
    return PlanSubmitted(plan_id=row.id, job=_job_out(jobs, job))


@router.get("/plans", response_model=PlanList, summary="List stored plans")
def list_plans(
    store: StoreDep,
    jobs: JobsDep,
    scenario_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> PlanList:
    rows, total = repo.list_plans(store, scenario_id, limit, offset)
    return PlanList(items=[PlanSummary(**_summary(r, jobs)) for r in rows], total=total)


@router.get("/plans/compare", response_model=PlanComparison, responses=NOT_FOUND,
            summary="Compare two stored plans side by side")
def compare_plans(a: QueryId, b: QueryId, store: StoreDep, jobs: JobsDep) -> PlanComparison:
    pa, pb = repo.get_plan(store, a), repo.get_plan(store, b)
    rows = compare_plan_results(pa.result, pb.result)
    return PlanComparison(
        a=PlanSummary(**_summary(pa, jobs)),
        b=PlanSummary(**_summary(pb, jobs)),
        rows=rows,
        scenario_changes=diff_documents(pa.scenario_document, pb.scenario_document),
    )


@router.get("/plans/{plan_id}", response_model=PlanOut, responses=NOT_FOUND,
            summary="A stored plan with its result")
def get_plan(plan_id: PathId, store: StoreDep, jobs: JobsDep) -> PlanOut:
    row = repo.get_plan(store, plan_id)
    return PlanOut(**_summary(row, jobs), scenario_document=row.scenario_document,
                   result=row.result)


@router.post("/plans/{plan_id}/rerun", response_model=PlanSubmitted, status_code=202,
             responses={**NOT_FOUND, **BUSY}, summary="Run a stored plan's scenario again")
def rerun_plan(
    plan_id: PathId,
    store: StoreDep,
    jobs: JobsDep,
    latest: Annotated[bool, Query(description="use the scenario's newest version")] = False,
) -> PlanSubmitted:
    old = repo.get_plan(store, plan_id)
    if latest and old.scenario_id is not None:
        doc, spec, sid, ver = resolve_ref(store, old.scenario_id, None, None, None)
    else:
        doc, spec, sid, ver = resolve_ref(store, None, None, old.scenario_document, None)
        sid, ver = old.scenario_id, old.scenario_version
    require_plannable(spec)
    row, job = submit_plan(store, jobs, doc, sid, ver, rerun_of=plan_id,
                           calibration=old.calibration)
    return PlanSubmitted(plan_id=row.id, job=_job_out(jobs, job))


@router.post("/plans/{plan_id}/cancel", response_model=PlanSummary,
             responses={**NOT_FOUND, 409: {"description": "the plan is not running"}},
             summary="Cancel a queued or running plan")
def cancel_plan(plan_id: PathId, store: StoreDep, jobs: JobsDep) -> PlanSummary:
    row = repo.get_plan(store, plan_id)
    job = jobs.get(row.job_id) if row.job_id else None
    if row.status not in repo.ACTIVE or job is None or job.status not in repo.ACTIVE:
        raise HTTPException(409, f"plan {plan_id} is {row.status}; only a queued or running "
                            "plan can be cancelled")
    jobs.cancel(job.id)
    return PlanSummary(**_summary(repo.get_plan(store, plan_id), jobs))


@router.delete("/plans/{plan_id}", status_code=204,
               responses={**NOT_FOUND, 409: {"description": "the plan is running"}},
               summary="Delete a stored plan")
def delete_plan(plan_id: PathId, store: StoreDep) -> Response:
    repo.delete_plan(store, plan_id)
    return Response(status_code=204)


@router.get("/jobs", response_model=list[JobOut], tags=["jobs"],
            summary="Recent jobs of every server on this store (newest 100)")
def list_jobs(jobs: JobsDep) -> list[JobOut]:
    return [_job_out(jobs, j) for j in jobs.list()]


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"],
            responses={404: {"description": "no such job"}}, summary="A job's progress")
def get_job(job_id: JobId, jobs: JobsDep) -> JobOut:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"job {job_id} not found")
    return _job_out(jobs, job)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, tags=["jobs"],
             responses={404: {"description": "no such job"}}, summary="Cancel a job")
def cancel_job(job_id: JobId, jobs: JobsDep) -> JobOut:
    job = jobs.cancel(job_id)
    if job is None:
        raise HTTPException(404, f"job {job_id} not found")
    return _job_out(jobs, job)
