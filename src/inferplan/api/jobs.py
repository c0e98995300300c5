"""Background jobs (plans, benchmark runs) in worker threads, with progress and cancel.

A job function receives a :class:`JobContext`; it reports progress with
``ctx.progress(message, fraction)``, which raises :class:`JobCancelled` once the
job has been cancelled, so a cancelled job stops at its next progress report.
Jobs live in memory; what must survive a restart (a plan's state and result) is
written to the store by the job function itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("inferplan.api.jobs")

MAX_KEPT_JOBS = 500
"""Finished jobs kept in memory for status queries (oldest dropped first)."""


class JobCancelled(Exception):
    """Raised inside a job at its next progress report after it was cancelled."""


class JobFailed(Exception):
    """A job ended with a message for the user (not a server fault)."""


@dataclass
class Job:
    """State of one job as the API reports it."""

    id: str
    kind: str
    status: str = "queued"
    progress: float = 0.0
    message: str = "queued"
    error: str | None = None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    refs: dict[str, int] = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    future: Future[None] | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")


class JobContext:
    """What a job function sees: progress reporting and the cancel flag."""

    def __init__(self, job: Job, lock: threading.Lock) -> None:
        self.job = job
        self._lock = lock

    @property
    def cancelled(self) -> bool:
        return self.job.cancel_event.is_set()

    def progress(self, message: str, fraction: float) -> None:
        """Record progress (0..1); raises :class:`JobCancelled` when cancelled."""
        if self.cancelled:
            raise JobCancelled()
        with self._lock:
            self.job.message = message[:200]
            self.job.progress = max(0.0, min(1.0, float(fraction)))


JobFunction = Callable[[JobContext], None]
Hook = Callable[[Job], None]


class JobManager:
    """A thread pool that runs job functions and tracks their state."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="inferplan-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        kind: str,
        fn: JobFunction,
        refs: dict[str, int] | None = None,
        on_cancel: Hook | None = None,
        on_crash: Hook | None = None,
    ) -> Job:
        """Queue ``fn``; ``on_cancel``/``on_crash`` run in the worker after it ends so."""
        job = Job(id=uuid.uuid4().hex, kind=kind, refs=dict(refs or {}))
        with self._lock:
            self._jobs[job.id] = job
            self._prune()
        job.future = self._pool.submit(self._run, job, fn, on_cancel, on_crash)
        return job

    def _run(self, job: Job, fn: JobFunction, on_cancel: Hook | None,
             on_crash: Hook | None) -> None:
        ctx = JobContext(job, self._lock)
        with self._lock:
            if job.cancel_event.is_set():
                job.status, job.message = "cancelled", "cancelled before it started"
                job.finished_at = dt.datetime.now(dt.UTC)
            else:
                job.status, job.started_at = "running", dt.datetime.now(dt.UTC)
        if job.status == "cancelled":
            self._call(on_cancel, job)
            return
        try:
            fn(ctx)
        except JobCancelled:
            self._end(job, "cancelled", "cancelled", None)
            self._call(on_cancel, job)
        except JobFailed as exc:
            self._end(job, "failed", str(exc)[:200], str(exc))
        except Exception as exc:
            log.exception("job %s (%s) crashed", job.id, job.kind)
            self._end(job, "failed", "internal error", f"internal error: {type(exc).__name__}")
            self._call(on_crash, job)
        else:
            self._end(job, "succeeded", "done", None)
            with self._lock:
                job.progress = 1.0

    def _end(self, job: Job, status: str, message: str, error: str | None) -> None:
        with self._lock:
            job.status, job.message, job.error = status, message, error
            job.finished_at = dt.datetime.now(dt.UTC)

    @staticmethod
    def _call(hook: Hook | None, job: Job) -> None:
        if hook is None:
            return
        try:
            hook(job)
        except Exception:
            log.exception("job %s: hook failed", job.id)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def find(self, ref: str, value: int) -> Job | None:
        """The newest job whose ``refs[ref] == value``."""
        with self._lock:
            hits = [j for j in self._jobs.values() if j.refs.get(ref) == value]
        return max(hits, key=lambda j: j.created_at) if hits else None

    def list(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop; a queued job never starts. Returns the job or None."""
        job = self.get(job_id)
        if job is not None and not job.done:
            job.cancel_event.set()
            with self._lock:
                job.message = "cancelling"
        return job

    def snapshot(self, job: Job) -> dict[str, Any]:
        """The job's public fields, read under the lock."""
        with self._lock:
            return {
                "id": job.id,
                "kind": job.kind,
                "status": job.status,
                "progress": job.progress,
                "message": job.message,
                "error": job.error,
                "created_at": job.created_at,
                "started_at": job.started_at,
                "finished_at": job.finished_at,
                "plan_id": job.refs.get("plan_id"),
                "bench_run_id": job.refs.get("bench_run_id"),
            }

    def set_ref(self, job: Job, key: str, value: int) -> None:
        with self._lock:
            job.refs[key] = value

    def _prune(self) -> None:
        done = [j for j in self._jobs.values() if j.done]
        if len(self._jobs) <= MAX_KEPT_JOBS or not done:
            return
        for j in sorted(done, key=lambda j: j.created_at)[: len(self._jobs) - MAX_KEPT_JOBS]:
            del self._jobs[j.id]

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no job is queued or running (tests, shutdown)."""
        import time

        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self._lock:
                if all(j.done for j in self._jobs.values()):
                    return True
            time.sleep(0.02)
        return False

    def shutdown(self) -> None:
        """Cancel every job and stop the workers (does not wait for running ones)."""
        for job in self.list():
            job.cancel_event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["Job", "JobCancelled", "JobContext", "JobFailed", "JobManager"]
