"""Long-lived workers ("actors") that keep state between calls: local processes or Ray actors.

Tasks (:mod:`inferplan.executor.base`) suit pure functions; some work needs a worker
that lives across calls and holds open resources, such as a benchmark client with
its HTTP connections. An actor here is an instance of a class whose constructor
takes one picklable argument and whose methods are coroutines taking one argument.
:meth:`call_all` calls the same method on every actor at once, each with its own
argument, and returns the results in actor order; a call that raised, or an actor
that died, gives an :class:`ActorFailure` in its place instead of an exception, so
the caller can carry on with the others.

``ProcessActors``: one process per actor (``forkserver`` start), each running an
asyncio loop that serves calls sent over a pipe. ``RayActors``: asynchronous Ray
actors (https://docs.ray.io/en/latest/ray-core/actors/async_api.html) of one CPU
each, spread over the cluster's nodes (``SPREAD`` scheduling strategy,
https://docs.ray.io/en/latest/ray-core/scheduling/index.html).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import signal
import time
from dataclasses import dataclass
from typing import Any

from inferplan.errors import InferplanError

START_TIMEOUT_S = 60.0
"""Longest wait for the actors to start (a Ray cluster may need to find CPUs)."""


@dataclass(frozen=True)
class ActorFailure:
    """Stands in for the result of a call that failed: which actor, and why."""

    actor: int
    error: str


def _process_main(conn: Any, cls: type, arg: Any) -> None:
    """Body of an actor process: build the object, then serve calls until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    asyncio.run(_serve(conn, cls, arg))


async def _serve(conn: Any, cls: type, arg: Any) -> None:
    obj = cls(arg)
    loop = asyncio.get_running_loop()
    conn.send(("ok", None))
    while True:
        method, value = await loop.run_in_executor(None, conn.recv)
        if method is None:
            return
        try:
            conn.send(("ok", await getattr(obj, method)(value)))
        except Exception as exc:  # reported to the caller as an ActorFailure
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class ProcessActors:
    """One local process per actor."""

    kind = "process"

    def __init__(self, start_method: str = "forkserver") -> None:
        self.start_method = start_method
        self._procs: list[Any] = []
        self._conns: list[Any] = []

    def start(self, cls: type, args: list[Any]) -> None:
        """Start one actor per argument; raises :class:`InferplanError` if one cannot."""
        ctx: Any = multiprocessing.get_context(self.start_method)
        for arg in args:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_process_main, args=(child, cls, arg), daemon=True)
            proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)
        for i in range(len(args)):
            got = self._receive(i, START_TIMEOUT_S)
            if isinstance(got, ActorFailure):
                raise InferplanError(f"workers: actor process {i} did not start ({got.error})")

    def _receive(self, i: int, timeout_s: float | None = None) -> Any:
        conn, proc = self._conns[i], self._procs[i]
        deadline = time.monotonic() + timeout_s if timeout_s else math.inf
        while time.monotonic() < deadline:
            try:
                if conn.poll(0.2):
                    status, value = conn.recv()
                    return value if status == "ok" else ActorFailure(i, value)
            except (EOFError, OSError):
                break
            if not proc.is_alive() and not conn.poll(0):
                break
        return ActorFailure(i, f"worker process exited (code {proc.exitcode})")

    def call_all(self, method: str, args: list[Any]) -> list[Any]:
        """``method(arg)`` on every actor at once; results (or failures) in actor order."""
        sent = []
        for conn, arg in zip(self._conns, args, strict=True):
            try:
                conn.send((method, arg))
                sent.append(True)
            except (OSError, ValueError):
                sent.append(False)
        return [
            self._receive(i) if ok else ActorFailure(i, "worker process is gone")
            for i, ok in enumerate(sent)
        ]

    def close(self) -> None:
        """Ask every actor to stop; terminate those that do not within 5 s (idempotent)."""
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send((None, None))
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        self._procs, self._conns = [], []


class RayActors:
    """Asynchronous Ray actors of one CPU each; Ray is imported only in :meth:`start`."""

    kind = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self._ray: Any = None
        self._owns = False
        self._actors: list[Any] = []

    def start(self, cls: type, args: list[Any]) -> None:
        """Create one actor per argument (a private local runtime gets enough CPUs)."""
        from inferplan.executor.local import default_workers
        from inferplan.executor.ray_backend import ensure_ray

        cpus = max(len(args), default_workers()) if self.address is None else None
        ray, self._owns = ensure_ray(self.address, cpus)
        self._ray = ray
        remote_cls = ray.remote(num_cpus=1, max_restarts=0)(cls)
        self._actors = [remote_cls.options(scheduling_strategy="SPREAD").remote(a) for a in args]
        ready = [a.__ray_ready__.remote() for a in self._actors]
        try:
            ray.get(ready, timeout=START_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            free = ray.available_resources().get("CPU", 0)
            raise InferplanError(
                f"workers: {len(args)} Ray actors of 1 CPU each did not start in "
                f"{START_TIMEOUT_S:.0f} s ({free:g} CPUs free in the cluster)"
            ) from None

    def call_all(self, method: str, args: list[Any]) -> list[Any]:
        """``method(arg)`` on every actor at once; results (or failures) in actor order."""
        ray = self._ray
        refs = [getattr(a, method).remote(x) for a, x in zip(self._actors, args, strict=True)]
        out: list[Any] = []
        for i, ref in enumerate(refs):
            try:
                out.append(ray.get(ref))
            except ray.exceptions.RayTaskError as exc:
                out.append(ActorFailure(i, str(getattr(exc, "cause", exc))))
            except ray.exceptions.RayError as exc:
                out.append(ActorFailure(i, type(exc).__name__))
        return out

    def close(self) -> None:
        """Kill the actors; shut Ray down if it was started here (idempotent)."""
        if self._ray is None:
            return
        for a in self._actors:
            self._ray.kill(a)
        if self._owns:
            self._ray.shutdown()
        self._ray, self._actors = None, []


def make_actors(kind: str, ray_address: str | None = None) -> ProcessActors | RayActors:
    """``process`` or ``ray`` actors (user input; anything else raises ``SpecError``)."""
    from inferplan.errors import SpecError

    if ray_address is not None and kind != "ray":
        raise SpecError("ray_address", "only used with --executor ray")
    if kind == "process":
        return ProcessActors()
    if kind == "ray":
        from inferplan.executor.ray_backend import INSTALL_HINT, ray_available

        if not ray_available():
            raise SpecError("executor", f"ray is not installed; {INSTALL_HINT}")
        return RayActors(ray_address)
    raise SpecError("executor", f"'{kind}' is not allowed; allowed: process, ray")
