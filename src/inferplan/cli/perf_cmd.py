"""``inferplan perf``: predicted latency and throughput of one deployment."""

from __future__ import annotations

import typer
from rich.table import Table

from inferplan.cli.common import (
    DP_ATTENTION_OPTION,
    EP_OPTION,
    REDUNDANT_EXPERTS_OPTION,
    console,
    handle_errors,
    print_json,
)
from inferplan.deploy.deployment import Deployment, resolve, with_expert_parallel
from inferplan.deploy.layout import with_replicas
from inferplan.errors import SpecError
from inferplan.perf.speculative import SpeculativeSpec
from inferplan.results.perf import MetricStats, PerfResult
from inferplan.service.perf import disaggregation_note, predict
from inferplan.specs.plan import DEFAULT_DRAFT_TOKENS, MTP_ACCEPTANCE_RATE


def _fmt(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def _row(name: str, s: MetricStats) -> list[str]:
    iv = s.p95_interval
    return [
        name,
        _fmt(s.mean),
        _fmt(s.p50),
        _fmt(s.p90),
        _fmt(s.p95),
        _fmt(s.p99),
        f"{_fmt(iv[0])} - {_fmt(iv[1])}" if iv else "-",
    ]


def render(r: PerfResult, devices_per_replica: int | None = None) -> None:
    group = devices_per_replica or r.tp * r.pp
    title = (
        f"{r.model} on {r.replicas} x ({group} x {r.accelerator}) "
        f"{r.precision}/KV {r.kv_precision}, {r.engine}: {r.regime}"
        + (f" at {r.load:g}" if r.load is not None else "")
        + f", {r.isl:g} in / {r.osl:g} out tokens"
    )
    t = Table(title=title)
    for col in ("ms", "mean", "p50", "p90", "p95", "p99", "p95 80% interval"):
        t.add_column(col, justify="right" if col != "ms" else "left")
    t.add_row(*_row("TTFT", r.ttft_ms))
    t.add_row(*_row("TPOT", r.tpot_ms))
    t.add_row(*_row("ITL", r.itl_ms))
    t.add_row(*_row("E2E", r.e2e_ms))
    console.print(t)
    lo, hi = r.output_tokens_per_s_interval
    console.print(
        f"output {r.output_tokens_per_s:,.0f} tokens/s (80% interval {lo:,.0f} - {hi:,.0f}); "
        f"{r.request_throughput_rps:,.2f} requests/s"
        + (f"; goodput {r.goodput_rps:,.2f} req/s" if r.goodput_rps is not None else "")
        + (
            f"; highest rate within the SLO {r.max_rate_at_slo_rps:,.2f} req/s"
            if r.max_rate_at_slo_rps
            else ""
        )
    )
    if r.running_batch:
        console.print(
            f"running batch {r.running_batch}"
            + (f" (limited by {r.limited_by})" if r.limited_by else "")
        )
    console.print(
        f"KV capacity {r.kv_capacity_tokens:,} tokens per replica. Intervals: {r.interval_basis}."
    )
    for n in r.notes:
        console.print(f"note: {n}")
    if r.curve:
        c = Table(title="latency vs throughput (closed loop)")
        for col in ("concurrency", "output tok/s", "p95 TTFT ms", "p95 TPOT ms"):
            c.add_column(col, justify="right")
        for p in r.curve:
            c.add_row(
                f"{p['concurrency']:.0f}",
                f"{p['output_tokens_per_s']:,.0f}",
                f"{p['ttft_p95_ms']:,.0f}",
                f"{p['tpot_p95_ms']:,.1f}",
            )
        console.print(c)


def expert_parallel_note(d: Deployment) -> str:
    """One line describing an expert-parallel layout (experts per device, groups)."""
    m = d.model
    slots = -(-(m.num_experts + d.redundant_experts) // d.ep)
    spare = slots * d.ep - m.num_experts
    attention = (
        f"attention data parallel over {d.dp_attention} groups of tp {d.tp}, all-to-all "
        "dispatch and combine per MoE layer (DeepEP)"
        if d.dp_attention > 1
        else f"attention tensor parallel over the same {d.tp} devices"
    )
    return (
        f"expert parallel {d.ep}: {slots} of {m.num_experts} routed experts per device"
        + (f" ({spare} slots hold redundant copies)" if spare else "")
        + f"; {attention}; {d.devices_per_replica} devices per replica; the busiest "
        "device's load assumes uniform routing (balls into bins): real routing is more "
        "skewed, so without expert rebalancing (EPLB) steps are likely slower"
    )


def _speculative(
    method: str | None, k: int | None, acceptance: float | None
) -> SpeculativeSpec | None:
    """The speculative-decoding spec of the --spec flags, or None without --spec.

    Draft tokens default per method (MTP 1, otherwise 4: ``DEFAULT_DRAFT_TOKENS``); the
    acceptance rate defaults only for MTP, whose rate is published (``MTP_ACCEPTANCE_RATE``);
    a draft model's or n-gram lookup's depends on the pair and the text and must be given.
    """
    if method is None:
        return None
    if method not in ("draft_model", "mtp", "ngram"):
        raise SpecError("spec", "must be draft_model, mtp or ngram")
    k = DEFAULT_DRAFT_TOKENS[method] if k is None else k
    if not 1 <= k <= 16:
        raise SpecError("spec-k", "must be 1-16 draft tokens")
    if acceptance is None:
        if method != "mtp":
            raise SpecError(
                "spec-acceptance",
                f"give the acceptance rate (0-1) measured for {method} on your traffic; "
                "no general figure is published",
            )
        acceptance = MTP_ACCEPTANCE_RATE
    if not 0.0 < acceptance < 1.0:
        raise SpecError("spec-acceptance", "must be > 0 and < 1")
    return SpeculativeSpec(method=method, draft_tokens=k, acceptance_rate=acceptance)


def register(app: typer.Typer) -> None:
    @app.command("perf")
    @handle_errors
    def perf_cmd(
        model: str = typer.Argument(..., help="model id or alias"),
        gpu: str = typer.Option(..., "--gpu", help="accelerator id"),
        count: int = typer.Option(None, "--count", help="devices in total (replicas x tp x pp)"),
        precision: str = typer.Option("bf16", "--precision"),
        kv_precision: str = typer.Option(None, "--kv-precision"),
        engine: str = typer.Option("vllm", "--engine"),
        tp: int = typer.Option(None, "--tp", help="tensor-parallel degree per replica"),
        pp: int = typer.Option(None, "--pp"),
        ep: int = EP_OPTION,
        dp_attention: bool = DP_ATTENTION_OPTION,
        redundant_experts: int = REDUNDANT_EXPERTS_OPTION,
        isl: int = typer.Option(None, "--isl", help="prompt tokens per request (default 1024)"),
        osl: int = typer.Option(None, "--osl", help="output tokens per request (default 256)"),
        dataset: str = typer.Option(
            None,
            "--dataset",
            help="lengths from a public dataset's published statistics (e.g. ShareGPT; "
            "inferplan catalog list datasets)",
        ),
        batch: int = typer.Option(None, "--batch", help="static batch size"),
        concurrency: int = typer.Option(None, "--concurrency", help="closed-loop clients"),
        rate: float = typer.Option(None, "--rate", help="open-loop arrival rate, req/s"),
        cv: float = typer.Option(
            1.0, "--cv", help="inter-arrival coefficient of variation (1 Poisson, >1 bursty)"
        ),
        slo_ttft_ms: float = typer.Option(None, "--slo-ttft-ms"),
        slo_tpot_ms: float = typer.Option(None, "--slo-tpot-ms"),
        curve: bool = typer.Option(False, "--curve", help="add a latency-throughput sweep"),
        prefix_share: float = typer.Option(
            0.0, "--prefix-share", help="share of prompt tokens found in the prefix cache (0-1)"
        ),
        disagg: bool = typer.Option(
            False, "--disagg", help="compare disaggregated prefill/decode pools (a note)"
        ),
        spec_method: str = typer.Option(
            None, "--spec", help="speculative decoding: draft_model, mtp or ngram"
        ),
        spec_draft: str = typer.Option(None, "--spec-draft", help="draft model id (draft_model)"),
        spec_k: int = typer.Option(
            None, "--spec-k", help="draft tokens per verify step (default: mtp 1, else 4)"
        ),
        spec_acceptance: float = typer.Option(
            None,
            "--spec-acceptance",
            help="per-token acceptance rate of the drafts (0-1); required but for mtp "
            "(default 0.85, DeepSeek-V3 report)",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
        calibration: str = typer.Option(
            None, "--calibration", help="apply a calibration profile (inferplan calibrate)"
        ),
    ) -> None:
        """Predict TTFT, TPOT, ITL, E2E and throughput (no regime flag = max throughput)."""
        dataset_note = None
        length_specs = None
        if dataset is not None:
            if isl is not None or osl is not None:
                raise SpecError("dataset", "give --dataset or --isl/--osl, not both")
            from inferplan.catalog.datasets import get_dataset
            from inferplan.perf.datasets import dataset_lengths

            lengths = dataset_lengths(get_dataset(dataset))
            isl, osl = max(1, round(lengths.isl_mean)), max(1, round(lengths.osl_mean))
            dataset_note = lengths.describe()
            if not lengths.fixed:
                length_specs = (lengths.isl, lengths.osl)
        isl = 1024 if isl is None else isl
        osl = 256 if osl is None else osl
        d = resolve(model, gpu, engine, precision, kv_precision)
        if calibration is not None:
            from inferplan.service.calibration_profiles import FileCalibrationStore
            from inferplan.service.calibration_store import apply_calibration

            d = apply_calibration(d, FileCalibrationStore().get(calibration))
        if ep is not None or dp_attention or redundant_experts:
            d = with_expert_parallel(
                d, 1 if ep is None else ep, dp_attention, tp, pp, count, redundant_experts
            )
        else:
            d = with_replicas(d, count, tp, pp)
        if cv <= 0:
            raise SpecError("cv", "must be > 0 (1 = Poisson)")
        r = predict(
            d,
            isl,
            osl,
            batch,
            concurrency,
            rate,
            slo_ttft_ms,
            slo_tpot_ms,
            curve,
            arrival_cv=cv,
            prefix_share=prefix_share,
            speculative=_speculative(spec_method, spec_k, spec_acceptance),
            draft_model=spec_draft,
            lengths=length_specs,
        )
        if d.ep > 1:
            r = r.model_copy(update={"notes": [*r.notes, expert_parallel_note(d)]})
        if calibration is not None:
            note = f"efficiencies calibrated by profile '{calibration}' (inferplan calibrate)"
            r = r.model_copy(update={"notes": [*r.notes, note]})
        if dataset_note is not None:
            r = r.model_copy(update={"notes": [*r.notes, dataset_note]})
        if disagg:
            r = r.model_copy(update={"notes": [*r.notes, disaggregation_note(d, isl, osl)]})
        if json_out:
            print_json(r)
        else:
            render(r, d.devices_per_replica)
