"""The executor interface: map a function over items in ordered chunks.

An executor evaluates ``fn(item)`` for every item and returns the results in the
order of the items, whatever order the work finished in. Work is cut into chunks
of consecutive items; each chunk is one scheduled task that runs ``fn`` over its
items in a loop, so the per-task cost of scheduling, pickling and a round trip
is paid once per chunk instead of once per item (Ray's guide calls one task per
tiny item the "too fine-grained tasks" anti-pattern:
https://docs.ray.io/en/latest/ray-core/patterns/too-fine-grained-tasks.html).

Results are identical between executors as long as ``fn`` is a pure function of
its arguments: randomness is drawn once in the caller from its seed and handed to
``fn`` inside the items, never drawn in the workers.

Three implementations: :class:`~inferplan.executor.local.InProcessExecutor`
(default), :class:`~inferplan.executor.local.ProcessExecutor` (a local process
pool) and :class:`~inferplan.executor.ray_backend.RayExecutor` (a Ray cluster;
Ray is imported only when that executor first runs work).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Sequence
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, TypeVar

from inferplan.errors import InferplanError, SpecError

T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4
"""Default chunks per worker: with 4, the last chunk to finish holds at most a
quarter of a worker's share (load balance), while the number of tasks stays a
small multiple of the workers (scheduling overhead)."""


class ExecutorKind(StrEnum):
    """Where candidates are evaluated."""

    INPROCESS = "inprocess"
    PROCESS = "process"
    RAY = "ray"


class ExecutorError(InferplanError):
    """Work could not be completed: a worker died more often than retries allow."""


class Executor(Protocol):
    """What the planner and the Monte Carlo need from an executor."""

    kind: ExecutorKind

    @property
    def workers(self) -> int:
        """How many items can be evaluated at the same time."""
        ...

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], chunk_size: int | None = None
    ) -> list[R]:
        """``[fn(x) for x in items]``, evaluated in chunks, results in item order."""
        ...

    def close(self) -> None:
        """Release workers this executor started (idempotent)."""
        ...


def chunk_size_for(n_items: int, workers: int, per_worker: int = CHUNKS_PER_WORKER) -> int:
    """Items per chunk so that there are about ``workers x per_worker`` chunks.

    >>> chunk_size_for(200, 2)
    25
    """
    if n_items <= 0:
        return 1
    return max(1, math.ceil(n_items / (max(1, workers) * max(1, per_worker))))


def split_chunks(items: Sequence[T], chunk_size: int) -> list[list[T]]:
    """Consecutive chunks of ``chunk_size`` items (the last may be shorter).

    >>> split_chunks([1, 2, 3, 4, 5], 2)
    [[1, 2], [3, 4], [5]]
    """
    size = max(1, chunk_size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class RemoteSpecError(SpecError):
    """A :class:`SpecError` raised in a worker, in a form that survives pickling
    (``SpecError(field, message)`` cannot be rebuilt from its ``args`` alone)."""

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (RemoteSpecError, (self.field, self.message))


class RemoteTaskError(InferplanError):
    """An error raised in a worker whose own type cannot be pickled back."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (RemoteTaskError, (str(self), self.kind))


def portable_error(exc: Exception) -> Exception:
    """``exc``, or a stand-in with the same message that can cross a process boundary."""
    if isinstance(exc, SpecError):
        return RemoteSpecError(exc.field, exc.message)
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RemoteTaskError(str(exc), type(exc).__name__)
    return exc


def run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    """Evaluate one chunk in a loop (the body of every scheduled task); an error is
    re-raised in a form that pickles (:func:`portable_error`)."""
    try:
        return [fn(x) for x in chunk]
    except Exception as exc:
        raise portable_error(exc) from None


def shippable(executor: Executor, obj: object) -> bool:
    """Whether ``obj`` can reach ``executor``'s workers (in-process: always; else by pickle)."""
    if executor.kind is ExecutorKind.INPROCESS:
        return True
    try:
        pickle.dumps(obj)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def concat(parts: Sequence[list[R]]) -> list[R]:
    """Chunk results, concatenated in chunk order."""
    out: list[R] = []
    for part in parts:
        out.extend(part)
    return out


class BaseExecutor:
    """Context-manager plumbing shared by the implementations."""

    kind: ExecutorKind = ExecutorKind.INPROCESS

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
