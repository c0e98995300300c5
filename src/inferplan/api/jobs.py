"""Background jobs (plans, benchmark runs): state in the store, work in threads.

The job's row lives in the store (:mod:`inferplan.store.jobs`), so every server on
one database sees every job, can cancel it, and a restart of one server does not
touch another's running job. The work runs in this server's thread pool. A job
function receives a :class:`JobContext`; it reports progress with
``ctx.progress(message, fraction)``, which raises :class:`JobCancelled` once any
server has asked the job to stop, so a cancelled job stops at its next report.
At most ``max_queued`` jobs wait at a time in the whole store; one more is
refused (:class:`QueueFull`, answered 429).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from inferplan.errors import InferplanError
from inferplan.store import jobs as repo
from inferplan.store.database import Store
from inferplan.store.tables import Job

log = logging.getLogger("inferplan.api.jobs")

PROGRESS_INTERVAL_S = 0.25
"""Least time between two progress writes of one job (cancel is checked with each)."""


class JobCancelled(Exception):
    """Raised inside a job at its next progress report after it was cancelled."""


class JobFailed(Exception):
    """A job ended with a message for the user (not a server fault)."""


class QueueFull(InferplanError):
    """Too many jobs are waiting (HTTP 429)."""


@dataclass
class _Local:
    """What this server keeps of a job it runs."""

    id: str
    refs: dict[str, int] = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    future: Future[None] | None = None
    last_write_s: float = 0.0

    @property
    def done(self) -> bool:
        return self.future is not None and self.future.done()


class JobContext:
    """What a job function sees: progress reporting and the cancel flag."""

    def __init__(self, manager: JobManager, local: _Local) -> None:
        self._manager = manager
        self.job = local

    @property
    def cancelled(self) -> bool:
        return self.job.cancel_event.is_set()

    def progress(self, message: str, fraction: float) -> None:
        """Record progress (0..1); raises :class:`JobCancelled` when cancelled."""
        if self.cancelled:
            raise JobCancelled()
        now = time.monotonic()
        if now - self.job.last_write_s < PROGRESS_INTERVAL_S and fraction < 1.0:
            return
        self.job.last_write_s = now
        frac = max(0.0, min(1.0, float(fraction)))
        if repo.report_progress(self._manager.store, self.job.id, message, frac):
            self.job.cancel_event.set()
            raise JobCancelled()


JobFunction = Callable[[JobContext], None]
Hook = Callable[[str], None]


def server_name(port: int) -> str:
    """``host:port`` of this server: a restart under the same name takes over (and
    interrupts) the jobs its previous run left."""
    return f"{socket.gethostname()}:{port}"


class JobManager:
    """Runs job functions in a thread pool and keeps their state in the store."""

    def __init__(self, store: Store, workers: int = 2, name: str = "local",
                 max_queued: int = 20) -> None:
        self.store = store
        self.name = name
        self.owner = f"{name}/{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.max_queued = max_queued
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="inferplan-job")
        self._local: dict[str, _Local] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> int:
        """Interrupt what a previous run of this server (same name) or a vanished
        server left, then keep this server's jobs alive; returns plans interrupted."""
        n = repo.interrupt_orphans(self.store, same_server=f"{self.name}/")
        self._beat = threading.Thread(target=self._heartbeat, name="inferplan-heartbeat",
                                      daemon=True)
        self._beat.start()
        return n

    def _heartbeat(self) -> None:
        while not self._stop.wait(repo.HEARTBEAT_S):
            try:
                repo.heartbeat(self.store, self.owner)
                repo.interrupt_orphans(self.store)
            except Exception:
                log.exception("job heartbeat failed")

    def shutdown(self) -> None:
        """Cancel this server's jobs and stop the workers (does not wait for running ones)."""
        self._stop.set()
        with self._lock:
            for local in self._local.values():
                local.cancel_event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- submitting --------------------------------------------------------------------

    def reserve(self, kind: str) -> str:
        """A queued job row (refused with :class:`QueueFull` when the queue is full)."""
        queued = repo.count_queued(self.store)
        if queued >= self.max_queued:
            raise QueueFull(f"{queued} jobs are waiting already (at most {self.max_queued}); "
                            "try again when some have finished")
        job_id = uuid.uuid4().hex
        repo.create_job(self.store, job_id, kind, self.owner)
        return job_id

    def run(self, job_id: str, fn: JobFunction, refs: dict[str, int] | None = None,
            on_cancel: Hook | None = None, on_crash: Hook | None = None) -> None:
        """Start a reserved job; ``on_cancel``/``on_crash`` run in the worker after it
        ended so (with the job id)."""
        local = _Local(id=job_id, refs=dict(refs or {}))
        if refs:
            repo.update_job(self.store, job_id, **refs)
        with self._lock:
            self._local[job_id] = local
            self._prune()
        local.future = self._pool.submit(self._run, local, fn, on_cancel, on_crash)

    def submit(self, kind: str, fn: JobFunction, refs: dict[str, int] | None = None,
               on_cancel: Hook | None = None, on_crash: Hook | None = None) -> str:
        """:meth:`reserve` and :meth:`run` in one call; returns the job id."""
        job_id = self.reserve(kind)
        self.run(job_id, fn, refs, on_cancel, on_crash)
        return job_id

    def abandon(self, job_id: str, reason: str) -> None:
        """End a reserved job that will not run."""
        repo.finish_job(self.store, job_id, "failed", reason, reason)

    def _run(self, local: _Local, fn: JobFunction, on_cancel: Hook | None,
             on_crash: Hook | None) -> None:
        if local.cancel_event.is_set() or not repo.start_job(self.store, local.id):
            repo.finish_job(self.store, local.id, "cancelled", "cancelled before it started")
            self._call(on_cancel, local.id)
            return
        try:
            fn(JobContext(self, local))
        except JobCancelled:
            repo.finish_job(self.store, local.id, "cancelled", "cancelled")
            self._call(on_cancel, local.id)
        except JobFailed as exc:
            repo.finish_job(self.store, local.id, "failed", str(exc), str(exc))
        except Exception as exc:
            log.exception("job %s crashed", local.id)
            error = f"internal error: {type(exc).__name__}"
            repo.finish_job(self.store, local.id, "failed", "internal error", error)
            self._call(on_crash, local.id)
        else:
            repo.finish_job(self.store, local.id, "succeeded", "done")

    @staticmethod
    def _call(hook: Hook | None, job_id: str) -> None:
        if hook is None:
            return
        try:
            hook(job_id)
        except Exception:
            log.exception("job %s: hook failed", job_id)

    def _prune(self) -> None:
        for jid in [j for j, loc in self._local.items() if loc.done]:
            del self._local[jid]

    # --- reading and cancelling ----------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        return repo.get_job(self.store, job_id)

    def of_plan(self, plan_id: int) -> Job | None:
        return repo.job_of_plan(self.store, plan_id)

    def list(self) -> list[Job]:
        return repo.list_jobs(self.store)

    def cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop, whichever server runs it; a queued job never starts."""
        with self._lock:
            local = self._local.get(job_id)
        if local is not None:
            local.cancel_event.set()
        return repo.request_cancel(self.store, job_id)

    def set_ref(self, job_id: str, key: str, value: int) -> None:
        repo.update_job(self.store, job_id, **{key: value})

    @staticmethod
    def snapshot(job: Job) -> dict[str, Any]:
        """The job's public fields."""
        return {
            "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
            "message": job.message, "error": job.error, "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at,
            "plan_id": job.plan_id, "bench_run_id": job.bench_run_id,
        }

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until this server runs no job (tests, shutdown)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self._lock:
                if all(loc.done for loc in self._local.values()):
                    return True
            time.sleep(0.02)
        return False


__all__ = ["JobCancelled", "JobContext", "JobFailed", "JobManager", "QueueFull", "server_name"]
