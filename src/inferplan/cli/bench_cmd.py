"""``inferplan bench``: measure a real OpenAI-compatible server; also ``compare``, ``report``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from inferplan.bench.client import Endpoint
from inferplan.bench.compare import ComparisonResult, compare_runs
from inferplan.bench.config import BenchConfig
from inferplan.bench.loadgen import Arrival
from inferplan.bench.results import (
    CSV_FILE,
    METADATA_FILE,
    RECORDS_FILE,
    REPORT_FILE,
    SUMMARY_FILE,
    RunMetadata,
    RunSummary,
    write_csv,
    write_json,
)
from inferplan.bench.runner import ProgressSnapshot, run_benchmark
from inferplan.bench.server import Engine
from inferplan.bench.summary import build_summary
from inferplan.cli.common import console, err_console, fail, handle_errors, print_json
from inferplan.errors import BenchmarkError, SpecError

bench_app = typer.Typer(
    help="Benchmark a running OpenAI-compatible server (vLLM, SGLang, TGI, TensorRT-LLM, "
    "llama.cpp, Ollama, ...).",
    no_args_is_help=False,
)

MS = 1e-3

P = ParamSpec("P")
R = TypeVar("R")


def _choice(field: str, value: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise SpecError(field, f"'{value}' is not allowed; allowed: {', '.join(allowed)}")
    return value


def _int_list(field: str, text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise SpecError(field, f"'{text}' is not allowed; allowed: integers >= 1, e.g. 4 or 1,2,4")
    return values


def _float_list(field: str, text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or min(values) <= 0:
        raise SpecError(field, f"'{text}' is not allowed; allowed: numbers > 0, e.g. 2 or 1,2,4")
    return values


def _json_object(field: str, text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SpecError(field, 'allowed: a JSON object, e.g. \'{"logit_bias": {"2": -100}}\'')
    return value


def _ms_to_s(value: float | None) -> float | None:
    return None if value is None else value * MS


class _LiveProgress:
    """A rich progress bar on stderr, fed by the runner's snapshots."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        )
        self.tasks: dict[int, Any] = {}

    def __call__(self, snap: ProgressSnapshot) -> None:
        if snap.stage not in self.tasks:
            self.tasks[snap.stage] = self.progress.add_task(
                f"stage {snap.stage + 1}/{snap.stages} {snap.label}", total=self.total, stats=""
            )
        done = snap.completed + snap.failed
        rate = snap.output_tokens / snap.elapsed_s if snap.elapsed_s > 0 else 0.0
        stats = (
            f"{snap.completed} ok {snap.failed} failed {snap.in_flight} in flight {rate:.0f} tok/s"
        )
        self.progress.update(self.tasks[snap.stage], completed=done, stats=stats)


def _print_summary(summary: RunSummary, out_dir: Path) -> None:
    md = summary.metadata
    table = Table(title=f"{md.engine} at {md.url} (latencies in ms; goodput in req/s)")
    for col in (
        "load",
        "ok/n",
        "TTFT p50/p99",
        "TPOT p50/p99",
        "ITL p50",
        "E2E p50",
        "out tok/s",
        "in tok/s",
        "goodput",
        "client wait p50",
    ):
        table.add_column(col, justify="right")

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v / MS:.1f}"

    for s in summary.stages:
        level = f"c={s.concurrency}" if s.concurrency else f"{s.rate_req_per_s or 0:g} req/s"
        table.add_row(
            level if s.profile != "trace" else "trace",
            f"{s.counts['ok']}/{s.counts['total']}",
            f"{ms(s.ttft_s.p50)}/{ms(s.ttft_s.p99)}",
            f"{ms(s.tpot_s.p50)}/{ms(s.tpot_s.p99)}",
            ms(s.itl_s.p50),
            ms(s.e2e_s.p50),
            f"{s.output_tokens_per_s:.1f}",
            f"{s.input_tokens_per_s:.1f}",
            "-" if s.goodput_rps is None else f"{s.goodput_rps:.2f}",
            ms(s.client_health.client_queue_s.p50) if s.client_health.client_queue_s else "-",
        )
    console.print(table)
    console.print("client wait: sent - scheduled, time a request spent in the client before "
                  "its headers left (not in TTFT)", highlight=False, soft_wrap=True)
    console.print(
        f"results: {out_dir}/ ({RECORDS_FILE}, {SUMMARY_FILE}, {CSV_FILE}, {REPORT_FILE})"
    )
    for line in summary.warnings[:8]:
        err_console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
    if len(summary.warnings) > 8:
        err_console.print(f"[yellow]warning:[/] {len(summary.warnings) - 8} more in {SUMMARY_FILE}")


@bench_app.callback(invoke_without_command=True)
@handle_errors
def bench(
    ctx: typer.Context,
    url: str = typer.Option(None, "--url", help="server base URL, e.g. http://127.0.0.1:8000/v1"),
    model: str = typer.Option(None, "--model", help="model name (default: first of /v1/models)"),
    api_key_env: str = typer.Option(None, "--api-key-env", help="env variable with the API key"),
    endpoint: str = typer.Option("chat", "--endpoint", help="chat, completions or ollama"),
    engine: str = typer.Option(None, "--engine", help="override the detected engine"),
    concurrency: str = typer.Option(None, "--concurrency", "-c", help="N, or N1,N2,... sweep"),
    rate: str = typer.Option(None, "--rate", "-r", help="req/s, or R1,R2,... sweep (open loop)"),
    arrival: str = typer.Option("poisson", "--arrival", help="constant, poisson or gamma"),
    gamma_shape: float = typer.Option(1.0, "--gamma-shape", help="gamma arrivals: shape k"),
    max_concurrency: int = typer.Option(None, "--max-concurrency", help="cap for --rate/--trace"),
    trace: Path = typer.Option(None, "--trace", help="replay JSONL/CSV: timestamp_s, lengths"),
    trace_speedup: float = typer.Option(1.0, "--trace-speedup", help="replay this much faster"),
    max_requests: int = typer.Option(None, "--max-requests", "-n", help="requests per stage"),
    duration: float = typer.Option(None, "--duration", "-d", help="seconds per stage"),
    warmup: int = typer.Option(2, "--warmup", help="warm-up requests (not measured)"),
    isl: str = typer.Option("128", "--isl", help="input tokens: N, uniform:LO,HI, normal:M,SD"),
    osl: str = typer.Option("128", "--osl", help="output tokens (max_tokens), same forms"),
    shared_prefix: int = typer.Option(0, "--shared-prefix", help="tokens shared by all prompts"),
    ignore_eos: str = typer.Option("auto", "--ignore-eos", help="auto, on or off"),
    extra_body: str = typer.Option(None, "--extra-body", help="JSON merged into each request"),
    temperature: float = typer.Option(0.0, "--temperature", help="sampling temperature"),
    timeout: float = typer.Option(120.0, "--timeout", help="seconds per request"),
    output: Path = typer.Option(None, "--output", "-o", help="results folder"),
    seed: int = typer.Option(0, "--seed", help="seed for prompts and arrivals"),
    slo_ttft_ms: float = typer.Option(None, "--slo-ttft-ms", help="goodput: TTFT limit (ms)"),
    slo_tpot_ms: float = typer.Option(None, "--slo-tpot-ms", help="goodput: TPOT limit (ms)"),
    slo_e2e_ms: float = typer.Option(None, "--slo-e2e-ms", help="goodput: E2E limit (ms)"),
    no_metrics: bool = typer.Option(False, "--no-metrics", help="do not scrape /metrics"),
    no_calibrate: bool = typer.Option(False, "--no-calibrate", help="skip prompt calibration"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="live progress"),
    workers: int = typer.Option(1, "--workers", help="client processes sharing the schedule"),
    executor: str = typer.Option(None, "--executor", help="--workers: process (default) or ray"),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster; default local"),
) -> None:
    """Run a benchmark (``inferplan bench --url URL``); see also ``compare`` and ``report``."""
    if ctx.invoked_subcommand is not None:
        return
    if not url:
        raise SpecError(
            "url", "required: the server's base URL, e.g. --url http://127.0.0.1:8000/v1"
        )
    config = BenchConfig(
        url=url,
        model=model,
        api_key_env=api_key_env,
        endpoint=Endpoint(_choice("endpoint", endpoint, [e.value for e in Endpoint])),
        engine=_choice("engine", engine, [e.value for e in Engine]) if engine else None,
        concurrency=_int_list("concurrency", concurrency),
        rate=_float_list("rate", rate),
        arrival=Arrival(_choice("arrival", arrival, [a.value for a in Arrival])),
        gamma_shape=gamma_shape,
        max_concurrency=max_concurrency,
        trace=trace,
        trace_speedup=trace_speedup,
        max_requests=max_requests,
        duration_s=duration,
        warmup=warmup,
        isl=isl,
        osl=osl,
        shared_prefix_tokens=shared_prefix,
        ignore_eos=_choice("ignore_eos", ignore_eos, ["auto", "on", "off"]),
        extra_body=_json_object("extra_body", extra_body),
        temperature=temperature,
        timeout_s=timeout,
        output_dir=output,
        seed=seed,
        slo_ttft_s=_ms_to_s(slo_ttft_ms),
        slo_tpot_s=_ms_to_s(slo_tpot_ms),
        slo_e2e_s=_ms_to_s(slo_e2e_ms),
        scrape_metrics=not no_metrics,
        calibrate_prompts=not no_calibrate,
    )
    config.check()
    live = _LiveProgress(config.stage_limit) if progress and sys.stderr.isatty() else None
    try:
        if workers != 1 or executor is not None:
            from inferplan.bench.workers import run_distributed

            with err_console.status(f"{workers} client workers ({executor or 'process'})"):
                outcome = run_distributed(config, workers, executor or "process", ray_address)
        elif live is not None:
            with live.progress:
                outcome = run_benchmark(config, progress=live)
        else:
            outcome = run_benchmark(config)
    except KeyboardInterrupt as exc:
        fail(escape(f"interrupted; {exc}" if str(exc) else "interrupted"), code=130)
    summary = outcome.summary
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary, outcome.output_dir)
        if workers != 1 or executor is not None:
            console.print(f"per-worker client health: {outcome.output_dir}/workers.json")
    if summary.counts["total"] and not summary.counts["ok"]:
        kinds = ", ".join(
            f"{v} {k}" for k, v in summary.counts.items() if v and k not in ("ok", "total")
        )
        fail(
            escape(f"url: no request succeeded ({kinds}); records in {outcome.output_dir}"), code=1
        )


def _print_comparison(result: ComparisonResult) -> None:
    table = Table(title=f"A = {result.run_a}   B = {result.run_b}   (alpha {result.alpha:g})")
    for col in ("stage", "metric", "n A/B", "median A ms", "median B ms", "change", "p", "verdict"):
        table.add_column(col, justify="right")
    for m in result.metrics:
        table.add_row(
            str(m.stage),
            m.metric[:-2],
            f"{m.n_a}/{m.n_b}",
            "-" if m.median_a is None else f"{m.median_a / MS:.2f}",
            "-" if m.median_b is None else f"{m.median_b / MS:.2f}",
            "-" if m.change_fraction is None else f"{m.change_fraction:+.1%}",
            "-" if m.p_value is None else f"{m.p_value:.3g}",
            m.verdict,
        )
    console.print(table)
    console.print("runs differ beyond noise" if result.differs else "no difference beyond noise")


@bench_app.command("compare")
@handle_errors
def compare(
    run_a: Path = typer.Argument(..., help="run folder (or records.jsonl) A"),
    run_b: Path = typer.Argument(..., help="run folder (or records.jsonl) B"),
    alpha: float = typer.Option(0.05, "--alpha", help="significance level per metric"),
    as_json: bool = typer.Option(False, "--json", help="print the comparison as JSON"),
    fail_on_diff: bool = typer.Option(False, "--fail-on-diff", help="exit 1 if runs differ"),
    allow_different: bool = typer.Option(
        False, "--allow-different",
        help="compare runs whose load, lengths or endpoint differ (refused otherwise)",
    ),
) -> None:
    """Say whether two runs differ beyond noise (Mann-Whitney U per metric and stage)."""
    result = compare_runs(run_a, run_b, alpha, allow_different)
    for w in result.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    if not result.metrics:
        raise SpecError("run_b", "the runs share no measured stage with completed requests")
    if as_json:
        print_json(result)
    else:
        _print_comparison(result)
    if fail_on_diff and result.differs:
        raise typer.Exit(1)


@bench_app.command("report")
@handle_errors
def report(
    run_dir: Path = typer.Argument(..., help="run folder with run.json and records.jsonl"),
) -> None:
    """Rebuild summary.json, records.csv and report.html from a run's records (after a kill)."""
    from inferplan.bench.report import write_report
    from inferplan.bench.results import read_run_records

    meta_path = run_dir / METADATA_FILE
    if not meta_path.is_file():
        raise SpecError("run_dir", f"{run_dir} lacks {METADATA_FILE}")
    try:
        metadata = RunMetadata.model_validate_json(meta_path.read_text(encoding="utf-8"))
    except ValueError:
        raise BenchmarkError(f"{meta_path}: not an inferplan bench run file") from None
    records = read_run_records(run_dir)
    summary = build_summary(metadata, records)
    write_json(summary, run_dir / SUMMARY_FILE)
    write_csv(records, run_dir / CSV_FILE)
    write_report(summary, records, run_dir / REPORT_FILE)
    _print_summary(summary, run_dir)


def register(app: typer.Typer) -> None:
    """Add ``bench`` (run by default, plus ``compare`` and ``report``) to ``app``."""
    app.add_typer(bench_app, name="bench")
