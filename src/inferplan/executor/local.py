"""Executors on this machine: in the calling process, or in a pool of processes.

The process pool starts its workers with ``forkserver`` by default: a fork of the
calling process would copy whatever threads and locks it holds (a progress bar, an
HTTP client), which the Python documentation warns can deadlock the child
(https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods).
Workers are started on the first ``map`` and kept until :meth:`close`.

Fault handling: when a worker process dies (killed, out of memory, a crash in
native code) the pool is broken and every chunk not yet returned fails with
``BrokenProcessPool``. The executor keeps the chunks that did return, starts a new
pool and resubmits the others, up to ``max_retries`` times per chunk; an exception
raised by ``fn`` itself is not retried (it would fail again) and propagates.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from inferplan.executor.base import (
    BaseExecutor,
    ExecutorError,
    ExecutorKind,
    R,
    T,
    chunk_size_for,
    concat,
    run_chunk,
    split_chunks,
)

DEFAULT_MAX_RETRIES = 3
"""Resubmissions of a chunk whose worker died (Ray's default for tasks is also 3:
https://docs.ray.io/en/latest/ray-core/fault_tolerance/tasks.html)."""


class InProcessExecutor(BaseExecutor):
    """Evaluate every item in the calling process, in order (the default).

    >>> InProcessExecutor().map(abs, [-1, 2, -3])
    [1, 2, 3]
    """

    kind = ExecutorKind.INPROCESS

    @property
    def workers(self) -> int:
        return 1

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], chunk_size: int | None = None
    ) -> list[R]:
        return [fn(x) for x in items]


def default_workers() -> int:
    """CPUs this process may run on (the scheduler affinity mask, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class ProcessExecutor(BaseExecutor):
    """A pool of ``workers`` local processes; ``fn`` and items must pickle.

    ``start_method`` is a :mod:`multiprocessing` start method (``forkserver``,
    ``spawn`` or ``fork``).
    """

    kind = ExecutorKind.PROCESS

    def __init__(
        self,
        workers: int | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        start_method: str = "forkserver",
    ) -> None:
        self._workers = workers
        self.max_retries = max_retries
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0

    @property
    def workers(self) -> int:
        return self._workers or default_workers()

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context(self.start_method)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], chunk_size: int | None = None
    ) -> list[R]:
        if not items:
            return []
        chunks = split_chunks(items, chunk_size or chunk_size_for(len(items), self.workers))
        done: dict[int, list[R]] = {}
        failures = [0] * len(chunks)
        while len(done) < len(chunks):
            pool = self._ensure_pool()
            futures: dict[Future[list[R]], int] = {}
            try:
                for i, chunk in enumerate(chunks):
                    if i not in done:
                        futures[pool.submit(run_chunk, fn, chunk)] = i
            except BrokenProcessPool:
                pass  # collected below: the futures already submitted fail the same way
            broken = self._collect(futures, done) or len(futures) < len(chunks) - len(done)
            if not broken:
                continue
            self._drop_pool()
            self.restarts += 1
            for i in range(len(chunks)):
                if i in done:
                    continue
                failures[i] += 1
                if failures[i] > self.max_retries:
                    raise ExecutorError(
                        f"executor: chunk {i + 1} of {len(chunks)} lost its worker process "
                        f"{failures[i]} times (max_retries {self.max_retries})"
                    )
        return concat([done[i] for i in range(len(chunks))])

    @staticmethod
    def _collect(futures: dict[Future[list[R]], int], done: dict[int, list[R]]) -> bool:
        """Store finished chunks; True when the pool broke. ``fn``'s own errors propagate."""
        broken = False
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in finished:
                exc = fut.exception()
                if exc is None:
                    done[futures[fut]] = fut.result()
                elif isinstance(exc, BrokenProcessPool):
                    broken = True
                else:
                    for other in pending:
                        other.cancel()
                    raise exc
        return broken

    def close(self) -> None:
        """Stop the worker processes (idempotent)."""
        self._drop_pool()
