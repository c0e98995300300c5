"""Where candidate evaluations run: in-process (default), a local process pool, or Ray.

The planner, the tornado and the Monte Carlo call :meth:`Executor.map` on a pure
function and a list of items; the results come back in item order and are
identical whichever executor ran them. Ray is an optional extra
(``pip install 'inferplan[ray]'``) and is only imported when a Ray executor runs.

>>> with make_executor("inprocess") as ex:
...     ex.map(str, [1, 2])
['1', '2']
"""

from __future__ import annotations

from inferplan.errors import SpecError
from inferplan.executor.base import (
    CHUNKS_PER_WORKER,
    BaseExecutor,
    Executor,
    ExecutorError,
    ExecutorKind,
    chunk_size_for,
    shippable,
    split_chunks,
)
from inferplan.executor.local import InProcessExecutor, ProcessExecutor, default_workers
from inferplan.executor.ray_backend import RayExecutor, ensure_ray, ray_available

ALLOWED_KINDS = ", ".join(k.value for k in ExecutorKind)


def make_executor(
    kind: str | ExecutorKind = ExecutorKind.INPROCESS,
    workers: int | None = None,
    ray_address: str | None = None,
) -> InProcessExecutor | ProcessExecutor | RayExecutor:
    """The executor named by ``kind`` (user input; bad values raise :class:`SpecError`).

    ``workers``: processes of the pool, or the CPUs a private local Ray runtime may
    use (default: all CPUs this process may run on, or the cluster's CPU count).
    """
    try:
        k = ExecutorKind(str(kind).lower())
    except ValueError:
        raise SpecError("executor", f"'{kind}' is not allowed; allowed: {ALLOWED_KINDS}") from None
    if workers is not None and workers < 1:
        raise SpecError("workers", f"{workers} is not allowed; allowed: an integer >= 1")
    if ray_address is not None and k is not ExecutorKind.RAY:
        raise SpecError("ray_address", "only used with --executor ray")
    if k is ExecutorKind.INPROCESS:
        return InProcessExecutor()
    if k is ExecutorKind.PROCESS:
        return ProcessExecutor(workers)
    if not ray_available():
        raise SpecError(
            "executor", "ray is not installed; install the extra: pip install 'inferplan[ray]'"
        )
    return RayExecutor(ray_address, workers)


__all__ = [
    "CHUNKS_PER_WORKER",
    "BaseExecutor",
    "Executor",
    "ExecutorError",
    "ExecutorKind",
    "InProcessExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "chunk_size_for",
    "default_workers",
    "ensure_ray",
    "make_executor",
    "ray_available",
    "shippable",
    "split_chunks",
]
