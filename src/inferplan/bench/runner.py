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
import datetime as dt
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from inferplan.bench import results as res
from inferplan.bench.client import (
    ClientSettings,
    PlannedRequest,
    StreamClient,
    send_unstreamed,
)
from inferplan.bench.config import BenchConfig
from inferplan.bench.loadgen import LoadGenerator, Profile, StagePlan, StageRun
from inferplan.bench.prompts import (
    LengthDist,
    PromptFactory,
    TraceEntry,
    fit_prompt_calibration,
    load_trace,
)
from inferplan.bench.report import write_report
from inferplan.bench.server import (
    IGNORE_EOS_ENGINES,
    Engine,
    MetricsSnapshot,
    client_metadata,
    derive_server_metrics,
    metrics_delta,
    probe_server,
    scrape_metrics,
)
from inferplan.bench.summary import Slo, outcome_counts, summarize_stage
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


ProgressHook = Callable[[ProgressSnapshot], None]


def plan_stages(config: BenchConfig, trace: list[TraceEntry] | None) -> list[StagePlan]:
    """One :class:`StagePlan` per load level of ``config``."""
    limit, duration = config.stage_limit, config.duration_s
    profile = config.profile
    if profile is Profile.TRACE and trace is not None:
        return [
            StagePlan(
                stage=0,
                profile=profile,
                trace=tuple(trace),
                trace_speedup=config.trace_speedup,
                max_concurrency=config.max_concurrency,
                max_requests=limit,
                duration_s=duration,
            )
        ]
    if profile is Profile.RATE and config.rate is not None:
        return [
            StagePlan(
                stage=i,
                profile=profile,
                rate_req_per_s=r,
                arrival=config.arrival,
                gamma_shape=config.gamma_shape,
                max_concurrency=config.max_concurrency,
                max_requests=limit,
                duration_s=duration,
            )
            for i, r in enumerate(config.rate)
        ]
    levels = config.concurrency or (1,)
    return [
        StagePlan(
            stage=i,
            profile=Profile.SYNCHRONOUS if c == 1 else Profile.CONCURRENCY,
            concurrency=c,
            max_requests=limit,
            duration_s=duration,
        )
        for i, c in enumerate(levels)
    ]


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


async def _calibrate(
    run: _Run,
    settings: ClientSettings,
    http: httpx.AsyncClient,
    client: StreamClient,
    factory: PromptFactory,
) -> dict[str, float]:
    """Two unstreamed probes fit tokens-per-word; the first, streamed, checks chunk counts."""
    isl = LengthDist.parse("isl", run.config.isl).mean
    w1 = factory.calibration.words_for(round(isl))
    w2 = max(1, w1 // 2) if w1 > 2 else w1 + 8
    osl = max(2, min(16, round(LengthDist.parse("osl", run.config.osl).mean)))
    probes = [factory.make(-1 - i, phase=res.Phase.WARMUP, output_tokens=osl) for i in range(2)]
    probes = [
        PlannedRequest(
            request_id=p.request_id,
            prompt=" ".join(p.prompt.split()[:w]),
            max_tokens=osl,
            prompt_words=w,
            phase=res.Phase.WARMUP,
        )
        for p, w in zip(probes, (w1, w2), strict=True)
    ]
    samples: list[tuple[int, int]] = []
    usage: list[dict[str, int]] = []
    for probe in probes:
        try:
            u = await send_unstreamed(settings, http, probe)
        except httpx.ConnectError as exc:
            raise BenchmarkError(f"url: cannot connect to {settings.base_url} ({exc})") from None
        except (httpx.HTTPError, ValueError) as exc:
            run.warnings.append(f"prompt calibration skipped: {exc}")
            return {}
        usage.append(u)
        samples.append((probe.prompt_words, u["prompt_tokens"]))
    cal = fit_prompt_calibration(samples)
    factory.calibration = cal
    if cal.overhead_tokens > 0.5 * isl:
        run.warnings.append(
            f"the server adds {cal.overhead_tokens:.0f} prompt tokens of its own (chat template) "
            f"to every request; an input length of {isl:.0f} leaves little room for the prompt"
        )
    out = {
        "tokens_per_word": cal.tokens_per_word,
        "overhead_tokens": cal.overhead_tokens,
        "samples": float(cal.samples),
    }
    if settings.temperature == 0.0:
        twin = res.RequestRecord(request_id=-1, phase=res.Phase.WARMUP)
        await client.send(probes[0], twin)
        if twin.ok:
            out["twin_unstreamed_completion_tokens"] = float(usage[0]["completion_tokens"])
            out["twin_streamed_chunks"] = float(len(twin.token_times_s))
            out["twin_stream_reports_usage"] = float(twin.output_tokens_source != "client_chunks")
            if usage[0]["completion_tokens"] != len(twin.token_times_s):
                run.warnings.append(
                    f"a deterministic request streamed {len(twin.token_times_s)} chunks for "
                    f"{usage[0]['completion_tokens']} tokens: chunks carry several tokens"
                )
    return out


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
        info = await probe_server(http, base)
        if not info.reachable:
            raise BenchmarkError(
                f"url: no server answers at {base} (connection refused or timed out)"
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
        run.metadata = res.RunMetadata(
            started_at=(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=run.clock())).isoformat(),
            url=base,
            endpoint=config.endpoint.value,
            model=model,
            engine=engine.value,
            engine_version=info.engine_version,
            engine_evidence=info.evidence,
            max_context_tokens=info.max_context_tokens,
            server_info={
                "models": info.models,
                "metrics_available": info.metrics_available,
                "ignore_eos_sent": ignore_eos,
                **info.details,
            },
            client=client_metadata(base),
            config=config.public_dict(),
        )
        res.write_json(run.metadata, run.out_dir / res.METADATA_FILE)
        factory = PromptFactory(
            LengthDist.parse("isl", config.isl),
            LengthDist.parse("osl", config.osl),
            seed=config.seed,
            shared_prefix_tokens=config.shared_prefix_tokens,
        )
        client = StreamClient(settings, http, run.clock)
        if config.calibrate_prompts:
            run.metadata.prompt_calibration = await _calibrate(run, settings, http, client, factory)
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
        metadata, records, run.config, run.stage_metrics, [r.loop_lag_s for r in run.stage_runs]
    )
    summary.interrupted = interrupted
    summary.aborted_reason = aborted
    summary.server_metrics_raw = run.raw_metrics
    summary.warnings = run.warnings + summary.warnings
    res.write_json(summary, run.out_dir / res.SUMMARY_FILE)
    res.write_csv(records, run.out_dir / res.CSV_FILE)
    write_report(summary, records, run.out_dir / res.REPORT_FILE)
    return RunOutcome(summary=summary, output_dir=run.out_dir, records_written=len(records))


def build_summary(
    metadata: res.RunMetadata,
    records: list[res.RequestRecord],
    config: BenchConfig | None = None,
    stage_metrics: list[dict[str, float]] | None = None,
    loop_lags: list[list[float]] | None = None,
) -> res.RunSummary:
    """The run summary from its records (used live and by ``bench report``)."""
    cfg = config.model_dump() if config is not None else metadata.config
    slo = Slo(
        ttft_s=cfg.get("slo_ttft_s"), tpot_s=cfg.get("slo_tpot_s"), e2e_s=cfg.get("slo_e2e_s")
    )
    measured = [r for r in records if r.phase is res.Phase.MEASURE]
    stage_ids = sorted({r.stage for r in measured})
    profile = str(cfg.get("profile") or (config.profile.value if config else "concurrency"))
    levels = list(cfg.get("concurrency") or cfg.get("rate") or [])
    stages = []
    for sid in stage_ids:
        level = levels[sid] if sid < len(levels) else None
        is_rate = cfg.get("rate") is not None
        closed = not is_rate and profile != "trace"
        stage_profile = profile
        if closed:
            stage_profile = "synchronous" if level in (None, 1) else "concurrency"
        stages.append(
            summarize_stage(
                sid,
                stage_profile,
                [r for r in measured if r.stage == sid],
                concurrency=(int(level) if level is not None else 1) if closed else None,
                rate_req_per_s=float(level) if is_rate and level is not None else None,
                max_concurrency=cfg.get("max_concurrency"),
                slo=slo,
                loop_lag_s=loop_lags[sid] if loop_lags and sid < len(loop_lags) else None,
                server_metrics=(
                    stage_metrics[sid] if stage_metrics and sid < len(stage_metrics) else None
                ),
            )
        )
    warnings = [f"stage {s.stage}: {w}" for s in stages for w in s.warnings]
    return res.RunSummary(
        metadata=metadata,
        stages=stages,
        counts=outcome_counts(measured),
        warmup_requests=len(records) - len(measured),
        slo=slo.as_dict(),
        warnings=warnings,
    )


def _discard_empty(run: _Run) -> None:
    """Close the records file; remove it when the run failed before writing anything."""
    run.writer.close()
    path = run.writer.path
    if run.writer.count == 0 and path.exists() and path.stat().st_size == 0:
        path.unlink()


def run_benchmark(
    config: BenchConfig,
    progress: ProgressHook | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunOutcome:
    """Run ``config`` to completion; results are written even when interrupted.

    Raises :class:`SpecError`/:class:`BenchmarkError` for bad input, an
    unreachable server or an aborted run (after writing what was measured), and
    ``KeyboardInterrupt`` after writing results when interrupted (SIGINT/SIGTERM).
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
        await _execute(run, progress, transport)

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
    if interrupted:
        raise KeyboardInterrupt(f"{outcome.records_written} records kept in {out_dir}")
    return outcome
