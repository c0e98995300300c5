"""The Ray executor: chunks as Ray tasks on a local runtime or a cluster.

Ray (https://docs.ray.io) is an optional dependency (``pip install
'inferplan[ray]'``); this module never imports it at import time, only when work
is first submitted, so a plain in-process run never loads it.

Connection (``address``): ``None`` starts a private local runtime (stopped again by
:meth:`RayExecutor.close`); ``"auto"`` joins the cluster this machine belongs to;
``"ray://HOST:10001"`` connects through Ray Client. When Ray is already initialised
in this process (a test, a notebook) that runtime is used and left running.
Every node needs the same inferplan version installed, since tasks import it.

Shipping work: ``fn`` (usually a :func:`functools.partial` holding the scenario
and catalogs) is put into the object store once per ``map`` and every chunk task
receives a reference to it, instead of a copy per task (Ray's "passing the same
large argument by value repeatedly" anti-pattern,
https://docs.ray.io/en/latest/ray-core/patterns/pass-large-arg-by-value.html).

Faults: a task whose worker process or node dies is re-executed by Ray up to
``max_retries`` times (https://docs.ray.io/en/latest/ray-core/fault_tolerance/tasks.html);
an exception raised by ``fn`` is not retried and propagates with its own type.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

from inferplan.errors import SpecError
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
from inferplan.executor.local import DEFAULT_MAX_RETRIES

INSTALL_HINT = "install the extra: pip install 'inferplan[ray]'"


def ray_available() -> bool:
    """True when the ``ray`` package can be imported (checked without importing it)."""
    return importlib.util.find_spec("ray") is not None


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> tuple[Any, bool]:
    """Import Ray and initialise it unless already done; returns (module, started here).

    Raises :class:`SpecError` (field ``executor``) when Ray is not installed.
    """
    if not ray_available():
        raise SpecError("executor", f"ray is not installed; {INSTALL_HINT}")
    import ray

    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {"address": address, "configure_logging": False}
    if address is None:
        kwargs.update(include_dashboard=False, num_cpus=num_cpus)
    try:
        ray.init(**kwargs)
    except ConnectionError as exc:
        raise SpecError("ray_address", f"cannot connect to Ray at {address}: {exc}") from None
    return ray, True


class RayExecutor(BaseExecutor):
    """Chunks as Ray tasks; ``workers`` defaults to the cluster's CPU count."""

    kind = ExecutorKind.RAY

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.address = address
        self._workers = workers
        self.max_retries = max_retries
        self._ray: Any = None
        self._owns_runtime = False
        self._task: Any = None

    def _start(self) -> Any:
        if self._ray is None:
            self._ray, self._owns_runtime = ensure_ray(self.address, self._workers)
            self._task = self._ray.remote(max_retries=self.max_retries)(run_chunk)
        return self._ray

    @property
    def workers(self) -> int:
        if self._workers:
            return self._workers
        ray = self._start()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], chunk_size: int | None = None
    ) -> list[R]:
        if not items:
            return []
        ray = self._start()
        chunks = split_chunks(items, chunk_size or chunk_size_for(len(items), self.workers))
        fn_ref = ray.put(fn)
        refs = [self._task.remote(fn_ref, chunk) for chunk in chunks]
        try:
            parts: list[list[R]] = ray.get(refs)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            raise (cause if isinstance(cause, BaseException) else exc) from None
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise ExecutorError(
                f"executor: a Ray task lost its worker more than {self.max_retries} times "
                f"({type(exc).__name__})"
            ) from None
        return concat(parts)

    def close(self) -> None:
        """Shut Ray down if this executor started it (idempotent)."""
        if self._ray is not None and self._owns_runtime and self._ray.is_initialized():
            self._ray.shutdown()
        self._ray = None
        self._task = None
        self._owns_runtime = False
