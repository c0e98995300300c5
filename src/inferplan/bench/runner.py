"""One benchmark run end to end: probe, calibrate, warm up, run stages, write results.

Order of work:

1. probe the server (engine, version, models, context) and write ``run.json``;
2. calibrate prompt lengths with two unstreamed requests (server ``usage``), and
   stream the first again to compare its chunk count with the server's token count;
3. warm up (recorded with ``phase="warmup"``, excluded from statistics);
4. for each stage: scrape ``/metrics``, run the load, scrape again;
5. write ``summary.json``, ``records.csv`` and ``report.html``, also when the run
   is interrupted or aborted (records were flushed one by one all along).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from inferplan.bench import results as res
from inferplan.bench.client import (
    ClientSettings,
    PlannedRequest,
    StreamClient,
    describe_connect_error,
)
from inferplan.bench.config import BenchConfig, plan_stages
from inferplan.bench.loadgen import LoadGenerator, Profile, StagePlan, StageRun
from inferplan.bench.probe import calibrate_prompts
from inferplan.bench.prompts import (
    LengthDist,
    PromptFactory,
    TraceEntry,
    load_trace,
)
from inferplan.bench.report import write_report
from inferplan.bench.server import (
    IGNORE_EOS_ENGINES,
    Engine,
    MetricsSnapshot,
    ServerInfo,
    client_metadata,
    derive_server_metrics,
    metrics_delta,
    probe_server,
    scrape_metrics,
)
from inferplan.bench.summary import build_summary
from inferplan.errors import BenchmarkError, SpecError


@dataclass
class ProgressSnapshot:
    """What the live display shows (counts of the current stage's run so far)."""

    stage: int
    stages: int
    label: str
    completed: int
    failed: int
    in_flight: int
    output_tokens: int
    elapsed_s: float


@dataclass
class RunOutcome:
    """The summary and where the files are."""

    summary: res.RunSummary
    output_dir: Path
    records_written: int
    cancelled: bool = False
    """The caller's cancel token stopped the run (``summary.interrupted`` is then set)."""


class CancelToken(Protocol):
    """What a caller passes to stop a run: ``threading.Event`` satisfies it."""

    def is_set(self) -> bool: ...


CANCEL_POLL_S = 0.05
"""How often the run looks at its cancel token (s)."""

ProgressHook = Callable[[ProgressSnapshot], None]


def _stage_label(plan: StagePlan) -> str:
    if plan.profile is Profile.RATE:
        return f"rate {plan.rate_req_per_s:g} req/s ({plan.arrival.value})"
    if plan.profile is Profile.TRACE:
        return f"trace x{plan.trace_speedup:g}"
    return f"concurrency {plan.concurrency}"


def default_output_dir() -> Path:
    """``bench-results/YYYYmmdd-HHMMSS`` under the current folder."""
    return Path("bench-results") / time.strftime("%Y%m%d-%H%M%S")


def _prepare_output(path: Path) -> Path:
    if (path / res.RECORDS_FILE).exists():
        raise SpecError("output", f"{path} already holds {res.RECORDS_FILE}; choose a new folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError("output", f"cannot create {path} ({exc.strerror})") from None
    return path


class _Run:
    """State of one run (kept together so an interruption can still write results)."""

    def __init__(self, config: BenchConfig, out_dir: Path) -> None:
        self.config = config
        self.out_dir = out_dir
        self.writer = res.JsonlWriter(out_dir / res.RECORDS_FILE)
        self.t0 = time.perf_counter()
        self.metadata: res.RunMetadata | None = None
        self.stage_runs: list[StageRun] = []
        self.stage_metrics: list[dict[str, float]] = []
        self.raw_metrics: dict[str, float] = {}
        self.warmup_records = 0
        self.factory: PromptFactory | None = None
        self.warnings: list[str] = []

    def clock(self) -> float:
        return time.perf_counter() - self.t0

    def sink(self, record: res.RequestRecord) -> None:
        factory = self.factory
        if (
            record.input_tokens is None
            and factory is not None
            and factory.calibration.samples
            and record.prompt_words
        ):
            record.input_tokens = factory.calibration.estimate_tokens(record.prompt_words)
            record.input_tokens_source = "estimate"
        if record.phase is res.Phase.WARMUP:
            self.warmup_records += 1
        self.writer.write(record)


async def _scrape(http: httpx.AsyncClient, base: str, enabled: bool) -> MetricsSnapshot | None:
    return await scrape_metrics(http, base) if enabled else None


async def _progress_loop(
    hook: ProgressHook,
    gen: LoadGenerator,
    run: _Run,
    plan: StagePlan,
    stages: int,
    started: float,
    base: tuple[int, int, int],
) -> None:
    while True:
        _report_progress(hook, gen, run, plan, stages, started, base)
        await asyncio.sleep(0.5)


def _report_progress(
    hook: ProgressHook,
    gen: LoadGenerator,
    run: _Run,
    plan: StagePlan,
    stages: int,
    started: float,
    base: tuple[int, int, int],
) -> None:
    hook(
        ProgressSnapshot(
            stage=plan.stage,
            stages=stages,
            label=_stage_label(plan),
            completed=gen.completed - base[0],
            failed=gen.failed - base[1],
            in_flight=gen.in_flight,
            output_tokens=gen.output_tokens - base[2],
            elapsed_s=run.clock() - started,
        )
    )


async def _why_unreachable(http: httpx.AsyncClient, base: str) -> str:
    """The real cause when no probe got an answer (DNS, TLS, refused, timeout)."""
    url = base + "/v1/models"
    try:
        await http.get(url, timeout=5.0)
    except httpx.ConnectTimeout:
        return f"connecting to {base} timed out (a firewall, or a wrong host or port?)"
    except httpx.ConnectError as exc:
        return describe_connect_error(exc, url)
    except httpx.TimeoutException:
        return f"{base} accepted the connection but did not answer in 5 s"
    except httpx.HTTPError as exc:
        return f"{base}: {type(exc).__name__}: {exc}"
    return f"no server answers at {base}"


async def connect(
    http: httpx.AsyncClient, config: BenchConfig
) -> tuple[ServerInfo, str, Engine, ClientSettings]:
    """Probe the server, pick the model and engine, and build the client settings."""
    base = config.base_url
    info = await probe_server(http, base)
    if not info.reachable:
        raise BenchmarkError(f"url: {await _why_unreachable(http, base)}")
    models_status = info.statuses.get("/v1/models")
    no_api = all(status >= 400 for status in info.statuses.values())
    if "/v1/models" in info.html_paths or (models_status in (404, 405) and no_api):
        what = "an HTML page" if "/v1/models" in info.html_paths else f"HTTP {models_status}"
        raise BenchmarkError(
            f"url: {base}/v1/models answered {what}: wrong path? give the server's base URL, "
            "e.g. http://HOST:PORT or http://HOST:PORT/v1"
        )
    model = config.model or (info.models[0] if info.models else None)
    if model is None:
        raise SpecError(
            "model", "not given and the server lists none at /v1/models; pass --model NAME"
        )
    engine = Engine(config.engine) if config.engine else info.engine
    ignore_eos = config.ignore_eos == "on" or (
        config.ignore_eos == "auto" and engine in IGNORE_EOS_ENGINES
    )
    settings = ClientSettings(
        base_url=base,
        model=model,
        endpoint=config.endpoint,
        api_key=config.api_key,
        ignore_eos=ignore_eos,
        include_usage=config.include_usage,
        continuous_usage=engine is Engine.VLLM and config.include_usage,
        temperature=config.temperature,
        timeout_s=config.timeout_s,
        connect_timeout_s=config.connect_timeout_s,
        extra_body=dict(config.extra_body),
    )
    return info, model, engine, settings


def run_metadata(
    config: BenchConfig,
    info: ServerInfo,
    model: str,
    engine: Engine,
    settings: ClientSettings,
    started: dt.datetime,
) -> res.RunMetadata:
    """What a run records about the server, the client and its own settings."""
    return res.RunMetadata(
        started_at=started.isoformat(),
        url=config.base_url,
        endpoint=config.endpoint.value,
        model=model,
        engine=engine.value,
        engine_version=info.engine_version,
        engine_evidence=info.evidence,
        max_context_tokens=info.max_context_tokens,
        server_info={
            "models": info.models,
            "metrics_available": info.metrics_available,
            "ignore_eos_sent": settings.ignore_eos,
            **info.details,
        },
        client=client_metadata(config.base_url),
        config=config.public_dict(),
    )


def prompt_factory(config: BenchConfig) -> PromptFactory:
    """Synthetic prompts with the run's length distributions and seed."""
    return PromptFactory(
        LengthDist.parse("isl", config.isl),
        LengthDist.parse("osl", config.osl),
        seed=config.seed,
        shared_prefix_tokens=config.shared_prefix_tokens,
    )


async def _execute(
    run: _Run, progress: ProgressHook | None, transport: httpx.AsyncBaseTransport | None
) -> None:
    config = run.config
    base = config.base_url
    trace = load_trace(config.trace) if config.trace is not None else None
    stages = plan_stages(config, trace)
    conns = max([s.concurrency or s.max_concurrency or 1000 for s in stages] + [config.warmup, 1])
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    timeout = httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, transport=transport) as http:
        info, model, engine, settings = await connect(http, config)
        run_start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=run.clock())
        run.metadata = run_metadata(config, info, model, engine, settings, run_start)
        run.metadata.client["max_connections"] = conns
        res.write_json(run.metadata, run.out_dir / res.METADATA_FILE)
        factory = prompt_factory(config)
        client = StreamClient(settings, http, run.clock)
        if config.calibrate_prompts:
            run.metadata.prompt_calibration = await calibrate_prompts(
                client, http, factory, config.isl, config.osl, run.warnings
            )
            res.write_json(run.metadata, run.out_dir / res.METADATA_FILE)
        run.factory = factory

        def make(
            rid: int, stage: int, phase: res.Phase, entry: TraceEntry | None
        ) -> PlannedRequest:
            if entry is None:
                return factory.make(rid, stage, phase)
            return factory.make(rid, stage, phase, entry.input_tokens, entry.output_tokens)

        gen = LoadGenerator(
            client,
            make,
            run.clock,
            run.sink,
            seed=config.seed,
            abort_after_connect_errors=config.abort_after_connect_errors,
        )
        if config.warmup:
            await gen.run_warmup(config.warmup, min(config.warmup, stages[0].concurrency or 1))
        for plan in stages:
            if gen.stop_reason is not None:
                break
            before = await _scrape(http, base, config.scrape_metrics)
            counters = (gen.completed, gen.failed, gen.output_tokens)
            started = run.clock()
            ticker = (
                asyncio.create_task(
                    _progress_loop(progress, gen, run, plan, len(stages), started, counters)
                )
                if progress is not None
                else None
            )
            try:
                stage_run = StageRun(plan=plan)
                run.stage_runs.append(stage_run)
                await gen.run_stage(plan, stage_run)
            finally:
                if ticker is not None and progress is not None:
                    ticker.cancel()
                    _report_progress(progress, gen, run, plan, len(stages), started, counters)
            after = await _scrape(http, base, config.scrape_metrics)
            delta = metrics_delta(before, after) if before is not None and after is not None else {}
            run.stage_metrics.append(derive_server_metrics(engine, delta))
            run.raw_metrics = delta
        if gen.stop_reason is not None:
            raise BenchmarkError(f"url: run stopped: {gen.stop_reason}")


def _finish(run: _Run, interrupted: bool, aborted: str | None) -> RunOutcome:
    """Write summary, CSV and HTML from what was measured; return the outcome."""
    run.writer.close()
    records = res.read_records(run.writer.path) if run.writer.path.exists() else []
    metadata = run.metadata or res.RunMetadata(
        started_at="", url=run.config.url, endpoint=run.config.endpoint.value, model=""
    )
    summary = build_summary(
        metadata,
        records,
        run.config.public_dict(),
        run.stage_metrics,
        [r.loop_lag_s for r in run.stage_runs],
    )
    summary.interrupted = interrupted
    summary.aborted_reason = aborted
    summary.server_metrics_raw = run.raw_metrics
    summary.warnings = run.warnings + summary.warnings
    res.write_json(summary, run.out_dir / res.SUMMARY_FILE)
    res.write_csv(records, run.out_dir / res.CSV_FILE)
    write_report(summary, records, run.out_dir / res.REPORT_FILE)
    return RunOutcome(summary=summary, output_dir=run.out_dir, records_written=len(records))


def _discard_empty(run: _Run) -> None:
    """Close the records file; remove it when the run failed before writing anything."""
    run.writer.close()
    path = run.writer.path
    if run.writer.count == 0 and path.exists() and path.stat().st_size == 0:
        path.unlink()


async def _watch(cancel: CancelToken, task: asyncio.Task[None]) -> None:
    """Cancel ``task`` once ``cancel`` is set (polled every :data:`CANCEL_POLL_S`)."""
    while not cancel.is_set():
        await asyncio.sleep(CANCEL_POLL_S)
    task.cancel()


def run_benchmark(
    config: BenchConfig,
    progress: ProgressHook | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    cancel: CancelToken | None = None,
) -> RunOutcome:
    """Run ``config`` to completion; results are written even when interrupted.

    Raises :class:`SpecError`/:class:`BenchmarkError` for bad input, an
    unreachable server or an aborted run (after writing what was measured), and
    ``KeyboardInterrupt`` after writing results when interrupted (SIGINT/SIGTERM).
    When ``cancel`` (e.g. a ``threading.Event``) is set during the run, the requests
    in flight are cancelled, the results are written and the outcome is returned
    with ``cancelled=True``.
    """
    config.check()
    out_dir = _prepare_output(config.output_dir or default_output_dir())
    run = _Run(config, out_dir)
    run.writer.open()
    interrupted = False
    aborted: str | None = None

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        try:
            if task is not None:
                loop.add_signal_handler(signal.SIGTERM, task.cancel)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        watcher = (
            asyncio.create_task(_watch(cancel, task))
            if cancel is not None and task is not None
            else None
        )
        try:
            await _execute(run, progress, transport)
        finally:
            if watcher is not None:
                watcher.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        interrupted = True
    except asyncio.CancelledError:
        interrupted = True
    except BenchmarkError as exc:
        aborted = str(exc)
        outcome = _finish(run, interrupted, aborted) if run.metadata is not None else None
        if outcome is None:
            _discard_empty(run)
            raise
        raise BenchmarkError(
            f"{exc}; {outcome.records_written} records kept in {out_dir}"
        ) from None
    except BaseException:
        _discard_empty(run)
        raise
    outcome = _finish(run, interrupted, aborted)
    if interrupted and cancel is not None and cancel.is_set():
        return dataclasses.replace(outcome, cancelled=True)
    if interrupted:
        raise KeyboardInterrupt(f"{outcome.records_written} records kept in {out_dir}")
    return outcome
