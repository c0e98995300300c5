"""Distributed load generation: N client processes, one schedule, one clock.

One client process saturates before a large server does (its event loop and
HTTP parsing are single-threaded), so ``inferplan bench --workers N`` runs N
clients, as local processes or as Ray actors on a cluster, and merges what they
measured into one run folder.

* **One schedule.** The parent draws every stage's send times from the run seed
  exactly as a single client would (:func:`~inferplan.bench.loadgen.arrival_offsets`
  with the same generator seed, or the trace), numbers the requests, and deals
  them round-robin: request k goes to worker k mod N. Closed-loop stages split the
  concurrency and the request budget the same way (worker w sends requests
  w, w + N, w + 2N, ...). Prompts depend only on the seed and the request id, so
  the merged requests are the ones one client would have sent.
* **One clock.** The parent fixes the run's t = 0 as a wall-clock instant. Each
  worker anchors its monotonic clock (``time.perf_counter``) to its wall clock
  (``time.time``) once, at start, so every timestamp it records is "seconds since
  t = 0", measured by its monotonic clock. Each stage starts at a common instant
  on that clock chosen by the parent a margin ahead (a start barrier); a worker
  that receives it late starts at once and reports how late. Latencies (TTFT,
  ITL, E2E) are differences on one worker's clock and carry no cross-worker
  error; ordering and windows across workers carry the difference between the
  hosts' wall clocks (zero on one host, the NTP offset across hosts).
* **Client health per worker** (``workers.json``): per stage, requests, failures,
  start lateness, schedule lag and event-loop lag, with the single-client limits
  of :mod:`inferplan.bench.summary`.

Warm-up is split the same way (every worker opens its connections before the
first stage); prompt calibration and ``/metrics`` scrapes are done once, by the
parent. Each worker also appends every record to ``records.worker<N>.jsonl`` in
the run folder as the request ends (when it can see the folder), so a run whose
parent is killed keeps every finished request and ``inferplan bench report``
rebuilds it; a normal end merges them into ``records.jsonl``. A worker that dies
loses only the requests it had in flight; the run goes on with the others and
says so in the warnings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import random
import socket
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from inferplan.bench import results as res
from inferplan.bench.client import ClientSettings, PlannedRequest, StreamClient
from inferplan.bench.config import BenchConfig, plan_stages
from inferplan.bench.loadgen import (
    SPIN_S,
    LoadGenerator,
    Profile,
    StagePlan,
    StageRun,
    arrival_offsets,
)
from inferplan.bench.probe import calibrate_prompts
from inferplan.bench.prompts import (
    LengthDist,
    PromptCalibration,
    PromptFactory,
    TraceEntry,
    load_trace,
)
from inferplan.bench.report import write_report
from inferplan.bench.results import Phase, RequestRecord
from inferplan.bench.runner import (
    RunOutcome,
    connect,
    default_output_dir,
    prompt_factory,
    run_metadata,
)
from inferplan.bench.server import (
    Engine,
    MetricsSnapshot,
    derive_server_metrics,
    metrics_delta,
    scrape_metrics,
)
from inferplan.bench.summary import build_summary, summarize_stage
from inferplan.errors import BenchmarkError, SpecError
from inferplan.executor.actors import ActorFailure, make_actors

START_MARGIN_S = 0.5
"""How far ahead of "now" the parent places a stage's common start instant."""
WORKERS_FILE = "workers.json"


def anchored_clock(t0_wall_s: float) -> tuple[Any, float]:
    """A clock of seconds since the wall-clock instant ``t0_wall_s``, advanced by
    ``time.perf_counter``; returns it and the anchoring uncertainty in s (the
    shortest of five perf_counter brackets around one ``time.time`` read)."""
    best: tuple[float, float, float] | None = None
    for _ in range(5):
        p1 = time.perf_counter()
        wall = time.time()
        p2 = time.perf_counter()
        if best is None or p2 - p1 < best[0]:
            best = (p2 - p1, wall, (p1 + p2) / 2)
    assert best is not None
    width, wall, mid = best
    offset = wall - t0_wall_s - mid

    def clock() -> float:
        return time.perf_counter() + offset

    return clock, width


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs (picklable): how to talk, how to make prompts, t = 0."""

    index: int
    count: int
    settings: ClientSettings
    isl: str
    osl: str
    seed: int
    shared_prefix_tokens: int
    calibration: PromptCalibration
    t0_wall_s: float
    abort_after_connect_errors: int
    max_connections: int
    spool_dir: str | None = None
    """Folder for this worker's record file (written as requests end); None: none."""


@dataclass(frozen=True)
class StageSlice:
    """One worker's share of one stage. Open loop: its requests' global ids, send
    offsets (s from the stage start) and, for a trace, lengths. Closed loop: the
    plan holds its concurrency and request budget; ids are ``id_base + w + j N``."""

    plan: StagePlan
    start_s: float
    id_base: int
    stride: int = 1
    phase: Phase = Phase.MEASURE
    ids: tuple[int, ...] = ()
    offsets_s: tuple[float, ...] = ()
    lengths: tuple[tuple[int, int], ...] = ()


@dataclass
class StageOutput:
    """What a worker measured in one stage (or why it could not)."""

    worker: int
    stage: int
    records: list[RequestRecord] = field(default_factory=list)
    loop_lag_s: list[float] = field(default_factory=list)
    start_late_s: float = 0.0
    stopped_reason: str | None = None
    error: str | None = None


def _share(total: int, n: int, w: int) -> int:
    """Worker ``w``'s share of ``total`` dealt round-robin over ``n`` workers."""
    return total // n + (1 if w < total % n else 0)


def stage_offsets(plan: StagePlan, seed: int) -> tuple[list[float], list[tuple[int, int]] | None]:
    """Send offsets of an open-loop stage (and trace lengths), bounded like one client's."""
    limit = plan.max_requests if plan.max_requests is not None else math.inf
    horizon = plan.duration_s if plan.duration_s is not None else math.inf
    if plan.profile is Profile.TRACE and plan.trace is not None:
        pairs = [
            (e.timestamp_s / plan.trace_speedup, (e.input_tokens, e.output_tokens))
            for e in plan.trace
        ]
    else:
        if limit == math.inf and horizon == math.inf:
            raise ValueError("an open-loop stage needs max_requests or duration_s")
        rng = random.Random(f"{seed}:arrivals:{plan.stage}")
        pairs = []
        for i, t in enumerate(
            arrival_offsets(plan.rate_req_per_s or 1.0, plan.arrival, rng, plan.gamma_shape)
        ):
            if i >= limit or t >= horizon:
                break
            pairs.append((t, (0, 0)))
    out = [(t, ln) for i, (t, ln) in enumerate(pairs) if i < limit and t < horizon]
    lengths = [ln for _, ln in out] if plan.profile is Profile.TRACE else None
    return [t for t, _ in out], lengths


def split_stage(
    plan: StagePlan, workers: int, seed: int, id_base: int, start_s: float
) -> tuple[list[StageSlice], int]:
    """Deal one stage to ``workers``; returns the slices and the next free request id.

    Closed loop with only a duration has no known request count: the next id is
    then fixed after the stage from the ids actually used.
    """
    if plan.profile in (Profile.RATE, Profile.TRACE):
        offsets, lengths = stage_offsets(plan, seed)
        slices = []
        for w in range(workers):
            mine = range(w, len(offsets), workers)
            cap = plan.max_concurrency
            slices.append(
                StageSlice(
                    plan=replace(
                        plan,
                        profile=Profile.TRACE,
                        trace=tuple(TraceEntry(offsets[k], 1, 1) for k in mine),
                        trace_speedup=1.0,
                        max_requests=len(mine),
                        duration_s=None,
                        max_concurrency=max(1, _share(cap, workers, w)) if cap else None,
                    ),
                    start_s=start_s,
                    id_base=id_base,
                    ids=tuple(id_base + k for k in mine),
                    offsets_s=tuple(offsets[k] for k in mine),
                    lengths=tuple(lengths[k] for k in mine) if lengths else (),
                )
            )
        return slices, id_base + len(offsets)
    conc = 1 if plan.profile is Profile.SYNCHRONOUS else max(1, plan.concurrency or 1)
    return closed_slices(plan, workers, conc, id_base, start_s), id_base + (plan.max_requests or 0)


def closed_slices(
    plan: StagePlan,
    workers: int,
    concurrency: int,
    id_base: int,
    start_s: float,
    phase: Phase = Phase.MEASURE,
) -> list[StageSlice]:
    """Closed loop: the first min(concurrency, workers) workers share the virtual users
    and the request budget round-robin; the others sit the stage out."""
    active = min(concurrency, workers)
    out = []
    for w in range(workers):
        on = w < active
        budget = plan.max_requests
        out.append(
            StageSlice(
                plan=replace(
                    plan,
                    profile=Profile.CONCURRENCY,
                    concurrency=_share(concurrency, active, w) if on else 0,
                    max_requests=(_share(budget, active, w) if on else 0)
                    if budget is not None
                    else None,
                    duration_s=plan.duration_s if on else None,
                ),
                start_s=start_s,
                id_base=id_base,
                stride=active,
                phase=phase,
            )
        )
    return out


class ClientWorker:
    """One client process: an HTTP client, a prompt factory and an anchored clock.

    The methods are coroutines so that the same class runs in a local process
    (driven by :func:`serve_process`) and as an asynchronous Ray actor.
    """

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.http: httpx.AsyncClient | None = None
        self.clock: Any = None
        self.anchor_uncertainty_s = 0.0
        self.spool: res.JsonlWriter | None = None

    async def open(self, _: object = None) -> dict[str, Any]:
        """Open the HTTP client and anchor the clock; returns where this worker runs."""
        s = self.setup
        self.clock, self.anchor_uncertainty_s = anchored_clock(s.t0_wall_s)
        limits = httpx.Limits(
            max_connections=s.max_connections, max_keepalive_connections=s.max_connections
        )
        timeout = httpx.Timeout(s.settings.timeout_s, connect=s.settings.connect_timeout_s)
        self.http = httpx.AsyncClient(timeout=timeout, limits=limits)
        if s.spool_dir is not None:
            try:  # a Ray actor on another host cannot see the folder: it returns records only
                path = Path(s.spool_dir) / f"records.worker{s.index}.jsonl"
                self.spool = res.JsonlWriter(path).open()
            except OSError:
                self.spool = None
        return {
            "worker": s.index,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "clock_anchor_uncertainty_s": self.anchor_uncertainty_s,
        }

    async def run_slice(self, sl: StageSlice) -> StageOutput:
        """Wait for the common start instant, run this worker's share, return its records."""
        s = self.setup
        assert self.http is not None
        factory = PromptFactory(
            LengthDist.parse("isl", s.isl),
            LengthDist.parse("osl", s.osl),
            seed=s.seed,
            shared_prefix_tokens=s.shared_prefix_tokens,
            calibration=s.calibration,
        )
        closed = not sl.ids and not sl.offsets_s

        def global_id(local: int) -> int:
            return sl.id_base + s.index + local * sl.stride if closed else sl.ids[local]

        def make(rid: int, stage: int, phase: Phase, entry: TraceEntry | None) -> PlannedRequest:
            gid = global_id(rid)
            if sl.lengths:
                i, o = sl.lengths[rid]
                return factory.make(gid, stage, phase, i, o)
            return factory.make(gid, stage, phase)

        out = StageOutput(worker=s.index, stage=sl.plan.stage)

        def sink(rec: RequestRecord) -> None:
            local = rec.request_id
            rec.request_id = global_id(local)
            rec.worker_id = rec.worker_id * s.count + s.index
            if not closed:
                rec.scheduled_s = sl.start_s + sl.offsets_s[local]
            out.records.append(rec)
            if self.spool is not None:
                self.spool.write(rec)  # kept on disk even if the parent is killed

        gen = LoadGenerator(
            StreamClient(s.settings, self.http, self.clock),
            make,
            self.clock,
            sink,
            seed=s.seed,
            abort_after_connect_errors=s.abort_after_connect_errors,
        )
        delay = sl.start_s - self.clock()
        if delay > SPIN_S:
            await asyncio.sleep(delay - SPIN_S)
        while self.clock() < sl.start_s:
            await asyncio.sleep(0)
        out.start_late_s = self.clock() - sl.start_s
        busy = (sl.plan.concurrency or 0) > 0 if closed else bool(sl.ids)
        if sl.phase is Phase.WARMUP:
            if busy and sl.plan.max_requests:
                await gen.run_warmup(sl.plan.max_requests, sl.plan.concurrency or 1)
        elif busy and sl.plan.max_requests != 0:
            run = StageRun(plan=sl.plan)
            await gen.run_stage(sl.plan, run)
            out.loop_lag_s = run.loop_lag_s
        out.stopped_reason = gen.stop_reason
        return out

    async def close(self, _: object = None) -> None:
        """Close the HTTP client and the record file."""
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        if self.http is not None:
            await self.http.aclose()
            self.http = None


def worker_health(
    outputs: list[StageOutput], rate_req_per_s: float | None, workers: int, open_loop: bool
) -> list[dict[str, Any]]:
    """Per worker of one stage: counts, start lateness and client health (JSON-ready)."""
    out = []
    for o in outputs:
        measured = [r for r in o.records if r.phase is Phase.MEASURE]
        entry: dict[str, Any] = {
            "worker": o.worker,
            "stage": o.stage,
            "requests": len(measured),
            "ok": sum(1 for r in measured if r.ok),
            "start_late_s": o.start_late_s,
            "stopped_reason": o.stopped_reason,
            "error": o.error,
        }
        if measured:
            s = summarize_stage(
                o.stage,
                "rate" if open_loop else "concurrency",
                measured,
                rate_req_per_s=rate_req_per_s / workers if rate_req_per_s else None,
                loop_lag_s=o.loop_lag_s,
            )
            entry["client_health"] = s.client_health.model_dump(mode="json")
        if o.start_late_s > START_MARGIN_S / 2:
            entry.setdefault("warnings", []).append(
                f"started {o.start_late_s * 1e3:.0f} ms after the common start"
            )
        out.append(entry)
    return out


@dataclass
class _Prepared:
    metadata: res.RunMetadata
    settings: ClientSettings
    calibration: PromptCalibration
    engine: Engine
    warnings: list[str]


async def _prepare(config: BenchConfig, clock: Any, t0_wall_s: float) -> _Prepared:
    """Probe the server and calibrate prompts once, in the parent (as one client would)."""
    timeout = httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s)
    async with httpx.AsyncClient(timeout=timeout) as http:
        info, model, engine, settings = await connect(http, config)
        started = dt.datetime.fromtimestamp(t0_wall_s, dt.UTC)
        metadata = run_metadata(config, info, model, engine, settings, started)
        factory = prompt_factory(config)
        warnings: list[str] = []
        if config.calibrate_prompts:
            metadata.prompt_calibration = await calibrate_prompts(
                StreamClient(settings, http, clock), http, factory, config.isl, config.osl, warnings
            )
    return _Prepared(metadata, settings, factory.calibration, engine, warnings)


async def _scrape_once(base: str, enabled: bool) -> MetricsSnapshot | None:
    if not enabled:
        return None
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        return await scrape_metrics(http, base)


def _estimate_inputs(records: list[RequestRecord], cal: PromptCalibration) -> None:
    for r in records:
        if r.input_tokens is None and cal.samples and r.prompt_words:
            r.input_tokens = cal.estimate_tokens(r.prompt_words)
            r.input_tokens_source = "estimate"


def _results(got: list[Any], slices: list[StageSlice]) -> list[Any]:
    """Actor results; a failed stage call becomes an empty :class:`StageOutput` with its error."""
    if not slices:
        bad = [g for g in got if isinstance(g, ActorFailure)]
        if bad:
            raise BenchmarkError(f"workers: worker {bad[0].actor} did not start ({bad[0].error})")
        return got
    return [
        StageOutput(g.actor, sl.plan.stage, error=g.error) if isinstance(g, ActorFailure) else g
        for g, sl in zip(got, slices, strict=True)
    ]


def _write_run(
    out_dir: Path, summary: res.RunSummary, records: list[RequestRecord], health: dict[str, Any]
) -> None:
    """Merged records (warm-up first, then by request id), summary, CSV, report, health."""
    records.sort(key=lambda r: (r.phase is Phase.MEASURE, r.request_id))
    writer = res.JsonlWriter(out_dir / res.RECORDS_FILE).open()
    for r in records:
        writer.write(r)
    writer.close()
    res.write_json(summary, out_dir / res.SUMMARY_FILE)
    res.write_csv(records, out_dir / res.CSV_FILE)
    write_report(summary, records, out_dir / res.REPORT_FILE)
    text = json.dumps(health, indent=2) + "\n"
    (out_dir / WORKERS_FILE).write_text(text, encoding="utf-8")
    for spool in out_dir.glob(res.WORKER_RECORDS_GLOB):  # merged into records.jsonl above
        spool.unlink(missing_ok=True)


def run_distributed(
    config: BenchConfig, workers: int, executor: str = "process", ray_address: str | None = None
) -> RunOutcome:
    """Run ``config`` with ``workers`` client processes (``process``) or Ray actors (``ray``).

    Writes the usual run folder (``run.json``, ``records.jsonl``, ``summary.json``,
    ``records.csv``, ``report.html``) plus ``workers.json`` (per-worker health).
    """
    config.check()
    if workers < 1:
        raise SpecError("workers", f"{workers} is not allowed; allowed: an integer >= 1")
    out_dir = config.output_dir or default_output_dir()
    if (out_dir / res.RECORDS_FILE).exists():
        raise SpecError(
            "output", f"{out_dir} already holds {res.RECORDS_FILE}; choose a new folder"
        )
    host = make_actors(executor, ray_address)
    t0_wall = time.time()
    clock, _ = anchored_clock(t0_wall)
    prep = asyncio.run(_prepare(config, clock, t0_wall))
    out_dir.mkdir(parents=True, exist_ok=True)
    trace = load_trace(config.trace) if config.trace is not None else None
    stages = plan_stages(config, trace)
    widest = max([s.concurrency or s.max_concurrency or 1000 for s in stages] + [config.warmup, 1])
    setups = [
        WorkerSetup(
            w,
            workers,
            prep.settings,
            config.isl,
            config.osl,
            config.seed,
            config.shared_prefix_tokens,
            prep.calibration,
            t0_wall,
            config.abort_after_connect_errors,
            max(1, math.ceil(widest / workers)),
            str(out_dir.resolve()),
        )
        for w in range(workers)
    ]
    md = prep.metadata
    md.config.update(workers=workers, executor=executor)
    records: list[RequestRecord] = []
    health: list[dict[str, Any]] = []
    lags: list[list[float]] = []
    metrics: list[dict[str, float]] = []
    raw: dict[str, float] = {}
    aborted: str | None = None
    interrupted = False
    try:
        host.start(ClientWorker, setups)
        md.client["workers"] = _results(host.call_all("open", [None] * workers), [])
        res.write_json(md, out_dir / res.METADATA_FILE)
        if config.warmup:
            conc = min(config.warmup, max(workers, stages[0].concurrency or 1))
            warm = StagePlan(stage=-1, profile=Profile.CONCURRENCY, max_requests=config.warmup)
            start = clock() + START_MARGIN_S
            slices = closed_slices(warm, workers, conc, 0, start, Phase.WARMUP)
            for o in _results(host.call_all("run_slice", slices), slices):
                records += o.records
        next_id = config.warmup
        for plan in stages:
            before = asyncio.run(_scrape_once(config.base_url, config.scrape_metrics))
            slices, next_id = split_stage(
                plan, workers, config.seed, next_id, clock() + START_MARGIN_S
            )
            outs = _results(host.call_all("run_slice", slices), slices)
            after = asyncio.run(_scrape_once(config.base_url, config.scrape_metrics))
            got = [r for o in outs for r in o.records]
            next_id = max([next_id] + [r.request_id + 1 for r in got])
            records += got
            lags.append([x for o in outs for x in o.loop_lag_s])
            open_loop = plan.profile in (Profile.RATE, Profile.TRACE)
            health += worker_health(outs, plan.rate_req_per_s, workers, open_loop)
            delta = metrics_delta(before, after) if before and after else {}
            metrics.append(derive_server_metrics(prep.engine, delta))
            raw = delta
            failed = [f"worker {o.worker}: {o.error}" for o in outs if o.error]
            prep.warnings += [f"stage {plan.stage}: {f}; its requests are lost" for f in failed]
            stopped = next((o.stopped_reason for o in outs if o.stopped_reason), None)
            if stopped is not None or len(failed) == workers:
                aborted = f"url: run stopped: {stopped or 'every worker failed'}"
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        host.close()
    _estimate_inputs(records, prep.calibration)
    summary = build_summary(md, records, md.config, metrics, lags)
    summary.interrupted, summary.aborted_reason = interrupted, aborted
    summary.server_metrics_raw = raw
    per_worker = [
        f"stage {h['stage']} worker {h['worker']}: {w}"
        for h in health
        for w in [*h.get("warnings", []), *h.get("client_health", {}).get("reasons", [])]
    ]
    summary.warnings = prep.warnings + per_worker + summary.warnings
    _write_run(out_dir, summary, records, {"workers": md.client.get("workers"), "stages": health})
    outcome = RunOutcome(summary=summary, output_dir=out_dir, records_written=len(records))
    if interrupted:
        raise KeyboardInterrupt(f"{len(records)} records kept in {out_dir}")
    if aborted:
        raise BenchmarkError(f"{aborted}; {len(records)} records kept in {out_dir}")
    return outcome
