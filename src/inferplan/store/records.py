"""Stored plans, benchmark runs and calibration profiles.

A plan row is written when the plan is submitted (status ``queued``), updated
while it runs (``running``, progress 0..1) and once more when it ends
(``succeeded``, ``failed`` or ``cancelled``). Rows left ``queued``/``running``
by a server that stopped are marked ``interrupted`` at the next start.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, selectinload

from inferplan.store.database import Store
from inferplan.store.errors import ConflictError, NotFoundError
from inferplan.store.summaries import bench_headline
from inferplan.store.tables import BenchRun, Calibration, Plan, PlanPayload, utcnow

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled", "interrupted")
MAX_LIST = 500


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _get(s: Session, model: type[Any], kind: str, record_id: int) -> Any:
    row = s.get(model, record_id)
    if row is None:
        raise NotFoundError(kind, record_id)
    return row


# --- plans -----------------------------------------------------------------------------


def create_plan(
    store: Store,
    document: dict[str, Any],
    scenario_id: int | None = None,
    scenario_version: int | None = None,
    rerun_of: int | None = None,
    job_id: str | None = None,
    calibration: str | None = None,
) -> Plan:
    """A queued plan row holding its input document (and naming its job)."""
    with store.write() as s:
        row = Plan(
            scenario_id=scenario_id,
            scenario_version=scenario_version,
            scenario_name=str(document.get("name") or "unnamed")[:200],
            status="queued",
            progress=0.0,
            message="queued",
            rerun_of=rerun_of,
            created_at=utcnow(),
            job_id=job_id,
            calibration=calibration,
        )
        s.add(row)
        s.flush()
        row.payload = PlanPayload(plan_id=row.id, scenario_document=document, result=None)
        s.add(row.payload)
    return row


def mark_plan_running(store: Store, plan_id: int, message: str, progress: float) -> None:
    """Record progress (0..1) of a running plan."""
    values: dict[str, Any] = {"status": "running", "message": message[:200], "progress": progress}
    with store.write() as s:
        row = _get(s, Plan, "plan", plan_id)
        if row.started_at is None:
            values["started_at"] = utcnow()
        s.execute(update(Plan).where(Plan.id == plan_id).values(**values))


def finish_plan(
    store: Store,
    plan_id: int,
    status: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Record the end of a plan: its result, or why it has none."""
    values: dict[str, Any] = {
        "status": status,
        "finished_at": utcnow(),
        "error": error,
        "message": status if error is None else error[:200],
    }
    if result is not None:
        rec = result.get("recommendation") or {}
        values |= {
            "progress": 1.0,
            "recommended_option": str(rec.get("option", ""))[:300] or None,
            "npv_usd": json_safe(rec.get("npv_usd")),
            "usd_per_million_tokens": json_safe(rec.get("usd_per_million_tokens")),
        }
    with store.write() as s:
        s.execute(update(Plan).where(Plan.id == plan_id).values(**values))
        if result is not None:
            s.execute(update(PlanPayload).where(PlanPayload.plan_id == plan_id)
                      .values(result=json_safe(result)))


def interrupt_active_plans(store: Store) -> int:
    """Mark plans left queued or running by a stopped server; returns how many."""
    with store.write() as s:
        res = s.execute(
            update(Plan)
            .where(Plan.status.in_(ACTIVE))
            .values(status="interrupted", message="the server stopped before it finished",
                    finished_at=utcnow())
        )
        return int(res.rowcount)  # type: ignore[attr-defined]


def get_plan(store: Store, plan_id: int) -> Plan:
    """A plan with its scenario document and result."""
    with store.read() as s:
        row = s.get(Plan, plan_id, options=[selectinload(Plan.payload)])
        if row is None:
            raise NotFoundError("plan", plan_id)
        return row


def list_plans(
    store: Store, scenario_id: int | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Plan], int]:
    """Plans, newest first (optionally of one scenario), and how many in all; the
    rows hold the summary columns only (``result`` and ``scenario_document``, which
    can be megabytes, are not loaded)."""
    stmt = select(Plan).order_by(Plan.created_at.desc(), Plan.id.desc())
    count = select(func.count()).select_from(Plan)
    if scenario_id is not None:
        stmt = stmt.where(Plan.scenario_id == scenario_id)
        count = count.where(Plan.scenario_id == scenario_id)
    with store.read() as s:
        rows = list(s.scalars(stmt.limit(min(limit, MAX_LIST)).offset(offset)))
        return rows, int(s.scalar(count) or 0)


def delete_plan(store: Store, plan_id: int) -> None:
    with store.write() as s:
        row = _get(s, Plan, "plan", plan_id)
        if row.status in ACTIVE:
            raise ConflictError(f"plan {plan_id} is {row.status}; cancel it first")
        s.execute(delete(Plan).where(Plan.id == plan_id))


# --- benchmark runs ----------------------------------------------------------------------


def create_bench_run(
    store: Store,
    name: str,
    url_host: str,
    model: str,
    engine: str,
    summary: dict[str, Any],
    records_jsonl: str | None,
    record_count: int,
) -> BenchRun:
    with store.write() as s:
        row = BenchRun(
            name=name[:200],
            url_host=url_host[:255],
            model=model[:200],
            engine=engine[:64],
            summary=json_safe(summary),
            headline=json_safe(bench_headline(summary)),
            records_jsonl=records_jsonl,
            record_count=record_count,
            created_at=utcnow(),
        )
        s.add(row)
    return row


def get_bench_run(store: Store, run_id: int) -> BenchRun:
    with store.read() as s:
        return _get(s, BenchRun, "benchmark run", run_id)


def list_bench_runs(
    store: Store, model: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[BenchRun], int]:
    """Runs newest first, without loading their summaries or records (the list shows
    the ``headline`` column)."""
    stmt = select(BenchRun).order_by(BenchRun.created_at.desc(), BenchRun.id.desc())
    count = select(func.count()).select_from(BenchRun)
    if model:
        stmt, count = stmt.where(BenchRun.model == model), count.where(BenchRun.model == model)
    stmt = stmt.options(defer(BenchRun.records_jsonl), defer(BenchRun.summary))
    with store.read() as s:
        return list(s.scalars(stmt.limit(min(limit, MAX_LIST)).offset(offset))), int(
            s.scalar(count) or 0
        )


def delete_bench_run(store: Store, run_id: int) -> None:
    with store.write() as s:
        _get(s, BenchRun, "benchmark run", run_id)
        s.execute(delete(BenchRun).where(BenchRun.id == run_id))


# --- calibration profiles ---------------------------------------------------------------


def create_calibration(
    store: Store, name: str, engine: str, accelerator: str, parameters: dict[str, Any], notes: str
) -> Calibration:
    now = utcnow()
    try:
        with store.write() as s:
            row = Calibration(
                name=name, engine=engine, accelerator=accelerator, parameters=json_safe(parameters),
                notes=notes, version=1, created_at=now, updated_at=now,
            )
            s.add(row)
    except IntegrityError:
        raise ConflictError(f"name: a calibration profile named '{name}' exists already") from None
    return row


def get_calibration(store: Store, cal_id: int) -> Calibration:
    with store.read() as s:
        return _get(s, Calibration, "calibration profile", cal_id)


def calibration_named(store: Store, name: str) -> Calibration:
    """The profile called ``name`` (:class:`NotFoundError` when there is none)."""
    with store.read() as s:
        row = s.scalar(select(Calibration).where(Calibration.name == name))
        if row is None:
            raise NotFoundError("calibration profile", repr(name))
        return row


def list_calibrations(store: Store) -> list[Calibration]:
    with store.read() as s:
        return list(s.scalars(select(Calibration).order_by(Calibration.name)))


def update_calibration(
    store: Store, cal_id: int, based_on: int, changes: dict[str, Any]
) -> Calibration:
    """Apply ``changes`` if the profile is still at version ``based_on``."""
    values = {k: v for k, v in changes.items() if v is not None}
    if "parameters" in values:
        values["parameters"] = json_safe(values["parameters"])
    try:
        with store.write() as s:
            res = s.execute(
                update(Calibration)
                .where(Calibration.id == cal_id, Calibration.version == based_on)
                .values(version=based_on + 1, updated_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                current = _get(s, Calibration, "calibration profile", cal_id).version
                raise ConflictError(
                    f"version: the profile is at version {current}, this edit is based on "
                    f"version {based_on}; reload and save again",
                    current_version=current,
                )
            row = s.get(Calibration, cal_id, populate_existing=True)
    except IntegrityError:
        raise ConflictError(
            f"name: a calibration profile named '{values.get('name')}' exists already"
        ) from None
    assert row is not None
    return row


def delete_calibration(store: Store, cal_id: int) -> None:
    with store.write() as s:
        _get(s, Calibration, "calibration profile", cal_id)
        s.execute(delete(Calibration).where(Calibration.id == cal_id))


__all__ = [
    "ACTIVE",
    "FINISHED",
    "calibration_named",
    "create_bench_run",
    "create_calibration",
    "create_plan",
    "delete_bench_run",
    "delete_calibration",
    "delete_plan",
    "finish_plan",
    "get_bench_run",
    "get_calibration",
    "get_plan",
    "interrupt_active_plans",
    "json_safe",
    "list_bench_runs",
    "list_calibrations",
    "list_plans",
    "mark_plan_running",
    "update_calibration",
]
