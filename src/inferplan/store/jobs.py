"""Jobs in the store, shared by every server on one database.

A job row is written when a job is queued and updated as it runs. Only the
server that queued it (``owner``) runs it; that server refreshes
``heartbeat_at`` every few seconds while the job is queued or running. Any
server may read a job or set ``cancel_requested``; the owner stops the job at
its next progress report. A queued or running job whose heartbeat is older than
:data:`STALE_S` lost its server and is marked ``interrupted`` (with its plan) by
whichever server looks next; a running job of another live server is never
touched.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select, update

from inferplan.store.database import Store
from inferplan.store.tables import Job, Plan, utcnow

ACTIVE = ("queued", "running")
STALE_S = 30.0
"""Seconds without a heartbeat after which a job's server is taken as gone (six
missed heartbeats of :data:`HEARTBEAT_S`)."""
HEARTBEAT_S = 5.0
MAX_LIST = 100


def create_job(store: Store, job_id: str, kind: str, owner: str) -> Job:
    """A queued job. A plan is written after its job and names it (``job_id``), so
    no plan is ever without its live job."""
    now = utcnow()
    with store.write() as s:
        row = Job(id=job_id, kind=kind, status="queued", progress=0.0, message="queued",
                  owner=owner, cancel_requested=False, created_at=now, heartbeat_at=now)
        s.add(row)
    return row


def count_queued(store: Store) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(Job)
                            .where(Job.status == "queued")) or 0)


def get_job(store: Store, job_id: str) -> Job | None:
    with store.read() as s:
        return s.get(Job, job_id)


def job_of_plan(store: Store, plan_id: int) -> Job | None:
    """The newest job of a plan."""
    with store.read() as s:
        return s.scalars(select(Job).where(Job.plan_id == plan_id)
                         .order_by(Job.created_at.desc()).limit(1)).first()


def list_jobs(store: Store, limit: int = MAX_LIST) -> list[Job]:
    with store.read() as s:
        return list(s.scalars(select(Job).order_by(Job.created_at.desc())
                              .limit(min(limit, MAX_LIST))))


def update_job(store: Store, job_id: str, **values: Any) -> None:
    with store.write() as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def start_job(store: Store, job_id: str) -> bool:
    """Mark a queued job running; False when it was cancelled (or taken) meanwhile."""
    now = utcnow()
    with store.write() as s:
        res = s.execute(update(Job).where(Job.id == job_id, Job.status == "queued",
                                          Job.cancel_requested.is_(False))
                        .values(status="running", started_at=now, heartbeat_at=now,
                                message="running"))
        return int(res.rowcount) == 1  # type: ignore[attr-defined]


def report_progress(store: Store, job_id: str, message: str, progress: float) -> bool:
    """Record progress and a heartbeat; returns whether a cancel was requested."""
    with store.write() as s:
        s.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                  .values(message=message[:200], progress=progress, heartbeat_at=utcnow()))
        return bool(s.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def finish_job(store: Store, job_id: str, status: str, message: str,
               error: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "message": message[:200], "error": error,
                              "finished_at": utcnow()}
    if status == "succeeded":
        values["progress"] = 1.0
    update_job(store, job_id, **values)


def request_cancel(store: Store, job_id: str) -> Job | None:
    """Ask a queued or running job to stop (any server); returns the job or None."""
    with store.write() as s:
        s.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE))
                  .values(cancel_requested=True, message="cancelling"))
        return s.get(Job, job_id)


def heartbeat(store: Store, owner: str) -> None:
    """Refresh the heartbeat of every queued or running job of ``owner``."""
    with store.write() as s:
        s.execute(update(Job).where(Job.owner == owner, Job.status.in_(ACTIVE))
                  .values(heartbeat_at=utcnow()))


def interrupt_orphans(store: Store, same_server: str | None = None,
                      stale_s: float = STALE_S) -> int:
    """Mark ``interrupted`` the active jobs whose heartbeat is stale (or whose owner
    starts with ``same_server``: this server before a restart) and the active plans
    without a live job (plans written before jobs were stored have none); returns
    how many plans."""
    now = utcnow()
    stale = now - dt.timedelta(seconds=stale_s)
    gone = Job.heartbeat_at < stale
    if same_server:
        gone = or_(gone, Job.owner.startswith(same_server, autoescape=True))
    msg = "the server running it stopped before it finished"
    with store.write() as s:
        s.execute(update(Job).where(Job.status.in_(ACTIVE), gone)
                  .values(status="interrupted", message=msg, finished_at=now)
                  .execution_options(synchronize_session=False))
        live = select(Job.id).where(Job.status.in_(ACTIVE))
        orphan = or_(Plan.job_id.is_(None), Plan.job_id.not_in(live))
        res = s.execute(update(Plan).where(Plan.status.in_(ACTIVE), orphan)
                        .values(status="interrupted", message=msg, finished_at=now)
                        .execution_options(synchronize_session=False))
        return int(res.rowcount)  # type: ignore[attr-defined]


__all__ = [
    "ACTIVE",
    "HEARTBEAT_S",
    "STALE_S",
    "count_queued",
    "create_job",
    "finish_job",
    "get_job",
    "heartbeat",
    "interrupt_orphans",
    "job_of_plan",
    "list_jobs",
    "report_progress",
    "request_cancel",
    "start_job",
    "update_job",
]
