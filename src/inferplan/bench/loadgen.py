"""Load profiles: when each request is sent, by which worker, until which limit.

Profiles:

* ``synchronous``: one request at a time, back to back (concurrency 1);
* ``concurrency``: N workers, each sends its next request when its last ends
  (closed loop; a list of N values is a sweep, one stage per value);
* ``rate``: open loop at R requests/s with ``constant``, ``poisson``
  (exponential gaps) or ``gamma`` gaps (shape k: coefficient of variation
  1/sqrt(k); k = 1 is Poisson); a list of rates is a sweep;
* ``trace``: open loop at the timestamps of a trace, optionally sped up.

The generator only needs a :class:`Backend` (a Protocol), never a concrete
client. Every stage stops issuing at its request or duration limit, then waits
for the requests in flight (each bounded by the backend's own timeout).

Client health: each request keeps its scheduled and sent times (schedule lag),
and a monitor samples event-loop lag every 10 ms: the delay between queueing a
callback with ``call_soon`` and its run, which bounds how late any timestamp
taken on this loop can be.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from inferplan.bench.client import PlannedRequest
from inferplan.bench.prompts import TraceEntry
from inferplan.bench.results import ErrorKind, Phase, RequestRecord

SPIN_S = 0.002
"""Sleep to this much before a send time, then yield in a loop (epoll waits in
whole milliseconds, so a plain sleep overshoots by up to 1 ms)."""

LOOP_LAG_INTERVAL_S = 0.010


class Profile(StrEnum):
    """How load is offered."""

    SYNCHRONOUS = "synchronous"
    CONCURRENCY = "concurrency"
    RATE = "rate"
    TRACE = "trace"


class Arrival(StrEnum):
    """Gaps between open-loop sends."""

    CONSTANT = "constant"
    POISSON = "poisson"
    GAMMA = "gamma"


class Backend(Protocol):
    """What the generator needs: send one request and fill its record.

    ``send`` must not raise for server faults (record them); on cancellation it
    marks the record ``incomplete`` and re-raises.
    """

    async def send(self, planned: PlannedRequest, record: RequestRecord) -> None: ...


RequestMaker = Callable[[int, int, Phase, TraceEntry | None], PlannedRequest]
"""(request_id, stage, phase, trace entry or None) -> planned request."""


@dataclass(frozen=True)
class StagePlan:
    """One load level. ``max_requests`` and/or ``duration_s`` bound it."""

    stage: int
    profile: Profile
    concurrency: int | None = None
    rate_req_per_s: float | None = None
    arrival: Arrival = Arrival.POISSON
    gamma_shape: float = 1.0
    max_requests: int | None = None
    duration_s: float | None = None
    max_concurrency: int | None = None
    trace: tuple[TraceEntry, ...] | None = None
    trace_speedup: float = 1.0


@dataclass
class StageRun:
    """What one stage did: its measured records and client-health samples."""

    plan: StagePlan
    records: list[RequestRecord] = field(default_factory=list)
    loop_lag_s: list[float] = field(default_factory=list)
    started_s: float = 0.0
    issue_end_s: float = 0.0
    ended_s: float = 0.0
    stopped_reason: str | None = None

    @property
    def issued(self) -> int:
        return len(self.records)


def arrival_offsets(
    rate_req_per_s: float, arrival: Arrival, rng: random.Random, gamma_shape: float = 1.0
) -> Iterator[float]:
    """Endless send times in s from the stage start (first at 0).

    Poisson gaps are exponential with mean 1/R; gamma gaps have shape k and
    scale 1/(k R), so the mean stays 1/R and the coefficient of variation is
    1/sqrt(k) (e.g. NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.6.11).
    """
    t = 0.0
    while True:
        yield t
        if arrival is Arrival.CONSTANT:
            t += 1.0 / rate_req_per_s
        elif arrival is Arrival.POISSON:
            t += rng.expovariate(rate_req_per_s)
        else:
            t += rng.gammavariate(gamma_shape, 1.0 / (gamma_shape * rate_req_per_s))


class LoadGenerator:
    """Runs warm-up and stages against ``backend``; ``on_record`` gets each finished record."""

    def __init__(
        self,
        backend: Backend,
        make_request: RequestMaker,
        clock: Callable[[], float],
        on_record: Callable[[RequestRecord], None],
        seed: int = 0,
        abort_after_connect_errors: int = 0,
    ) -> None:
        self.backend = backend
        self.make_request = make_request
        self.clock = clock
        self.on_record = on_record
        self.seed = seed
        self.abort_after_connect_errors = abort_after_connect_errors
        self.next_id = 0
        self.in_flight = 0
        self.completed = 0
        self.failed = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self._connect_streak = 0

    def stop(self, reason: str) -> None:
        """Stop issuing requests (the ones in flight finish)."""
        if self.stop_reason is None:
            self.stop_reason = reason

    def _take_id(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    async def _one(
        self, planned: PlannedRequest, record: RequestRecord, run: StageRun | None
    ) -> None:
        self.in_flight += 1
        try:
            await self.backend.send(planned, record)
        finally:
            self.in_flight -= 1
            if record.error_kind is None:
                self.completed += 1
                self.output_tokens += record.output_tokens or 0
                self._connect_streak = 0
            else:
                self.failed += 1
                if record.error_kind is ErrorKind.CONNECT:
                    self._connect_streak += 1
                    limit = self.abort_after_connect_errors
                    if limit and self._connect_streak >= limit:
                        self.stop(
                            f"{self._connect_streak} requests in a row could not connect "
                            f"(last: {record.error_message})"
                        )
                else:
                    self._connect_streak = 0
            if run is not None:
                run.records.append(record)
            self.on_record(record)

    async def run_warmup(self, count: int, concurrency: int) -> None:
        """Send ``count`` warm-up requests, ``concurrency`` at a time (never measured)."""
        plan = StagePlan(
            stage=-1,
            profile=Profile.CONCURRENCY,
            concurrency=max(1, concurrency),
            max_requests=count,
        )
        await self._closed_loop(plan, None, Phase.WARMUP)

    async def run_stage(self, plan: StagePlan, run: StageRun | None = None) -> StageRun:
        """Run one stage to its limits; fill and return ``run`` (kept if interrupted)."""
        run = run if run is not None else StageRun(plan=plan)
        run.started_s = self.clock()
        monitor = asyncio.create_task(self._monitor_loop_lag(run.loop_lag_s))
        try:
            if plan.profile in (Profile.SYNCHRONOUS, Profile.CONCURRENCY):
                await self._closed_loop(plan, run, Phase.MEASURE)
            else:
                await self._open_loop(plan, run)
        finally:
            monitor.cancel()
            run.ended_s = self.clock()
            run.stopped_reason = self.stop_reason
        return run

    async def _closed_loop(self, plan: StagePlan, run: StageRun | None, phase: Phase) -> None:
        start = self.clock()
        deadline = start + plan.duration_s if plan.duration_s is not None else math.inf
        limit = plan.max_requests if plan.max_requests is not None else math.inf
        issued = 0

        async def worker(worker_id: int) -> None:
            nonlocal issued
            while self.stop_reason is None and issued < limit and self.clock() < deadline:
                issued += 1
                rid = self._take_id()
                planned = self.make_request(rid, plan.stage, phase, None)
                record = RequestRecord(
                    request_id=rid,
                    stage=max(plan.stage, 0),
                    phase=phase,
                    worker_id=worker_id,
                    scheduled_s=self.clock(),
                )
                await self._one(planned, record, run)
            if run is not None:
                run.issue_end_s = max(run.issue_end_s, self.clock())

        workers = 1 if plan.profile is Profile.SYNCHRONOUS else max(1, plan.concurrency or 1)
        await asyncio.gather(*(worker(w) for w in range(workers)))

    async def _sleep_until(self, target_s: float) -> None:
        delay = target_s - self.clock()
        if delay > SPIN_S:
            await asyncio.sleep(delay - SPIN_S)
        while self.clock() < target_s:
            await asyncio.sleep(0)

    async def _open_loop(self, plan: StagePlan, run: StageRun) -> None:
        start = run.started_s
        limit = plan.max_requests if plan.max_requests is not None else math.inf
        horizon = plan.duration_s if plan.duration_s is not None else math.inf
        entries: list[TraceEntry | None]
        offsets: Iterator[float]
        if plan.profile is Profile.TRACE and plan.trace is not None:
            speed = plan.trace_speedup
            offsets = iter([e.timestamp_s / speed for e in plan.trace])
            entries = list(plan.trace)
        else:
            rate = plan.rate_req_per_s or 1.0
            rng = random.Random(f"{self.seed}:arrivals:{plan.stage}")
            offsets = arrival_offsets(rate, plan.arrival, rng, plan.gamma_shape)
            entries = []
        cap = asyncio.Semaphore(plan.max_concurrency) if plan.max_concurrency else None
        free_slots: list[int] = []
        slots_used = 0
        tasks: set[asyncio.Task[None]] = set()

        async def one(planned: PlannedRequest, record: RequestRecord) -> None:
            try:
                await self._one(planned, record, run)
            finally:
                heapq.heappush(free_slots, record.worker_id)
                if cap is not None:
                    cap.release()

        try:
            for index, offset in enumerate(offsets):
                if self.stop_reason is not None or index >= limit or offset >= horizon:
                    break
                target = start + offset
                await self._sleep_until(target)
                if cap is not None:
                    await cap.acquire()
                if free_slots:
                    slot = heapq.heappop(free_slots)
                else:
                    slot, slots_used = slots_used, slots_used + 1
                rid = self._take_id()
                entry = entries[index] if index < len(entries) else None
                planned = self.make_request(rid, plan.stage, Phase.MEASURE, entry)
                record = RequestRecord(
                    request_id=rid,
                    stage=plan.stage,
                    phase=Phase.MEASURE,
                    worker_id=slot,
                    scheduled_s=target,
                )
                task = asyncio.create_task(one(planned, record))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            run.issue_end_s = self.clock()
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _monitor_loop_lag(self, samples: list[float]) -> None:
        loop = asyncio.get_running_loop()
        clock = self.clock

        def landed(queued_at: float) -> None:
            samples.append(clock() - queued_at)

        while True:
            loop.call_soon(landed, clock())
            await asyncio.sleep(LOOP_LAG_INTERVAL_S)
