"""The run's HTML page: latency distributions, latency-throughput curve, tables.

Self-contained: plotly.js is embedded once (``include_plotlyjs=True``), so the
page opens offline. Latencies are shown in ms (converted only here).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from inferplan.bench.results import Phase, RequestRecord, RunSummary, StageSummary, StatResult

MS_PER_S = 1e3


def _stage_name(s: StageSummary) -> str:
    if s.rate_req_per_s is not None:
        return f"{s.rate_req_per_s:g} req/s"
    if s.concurrency is not None:
        return f"c={s.concurrency}"
    return f"stage {s.stage}"


def distributions_figure(summary: RunSummary, records: list[RequestRecord]) -> go.Figure:
    """2x2 histograms (TTFT, TPOT, E2E, ITL in ms), one trace per stage."""
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=("TTFT (ms)", "TPOT (ms)", "E2E (ms)", "ITL, pooled gaps (ms)"),
    )
    names = {s.stage: _stage_name(s) for s in summary.stages}
    for stage, name in names.items():
        ok = [r for r in records if r.phase is Phase.MEASURE and r.stage == stage and r.ok]
        series: tuple[list[float | None], ...] = (
            [r.ttft_s for r in ok],
            [r.tpot_s for r in ok],
            [r.e2e_s for r in ok],
            [g for r in ok for g in r.itl_gaps_s()[0]],
        )
        for i, values in enumerate(series):
            xs = [v * MS_PER_S for v in values if v is not None]
            fig.add_trace(
                go.Histogram(x=xs, name=name, legendgroup=name, showlegend=i == 0, opacity=0.6),
                row=i // 2 + 1,
                col=i % 2 + 1,
            )
    fig.update_layout(barmode="overlay", height=650, title="Latency distributions")
    return fig


def curve_figure(summary: RunSummary) -> go.Figure:
    """Latency against output throughput, one point per stage (p50 and p99)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("TTFT vs throughput", "TPOT vs throughput"))
    xs = [s.output_tokens_per_s for s in summary.stages]
    labels = [_stage_name(s) for s in summary.stages]
    for col, attr in ((1, "ttft_s"), (2, "tpot_s")):
        for pct in ("p50", "p99"):
            ys = [getattr(getattr(s, attr), pct) for s in summary.stages]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[y * MS_PER_S if y is not None else None for y in ys],
                    text=labels,
                    mode="lines+markers+text",
                    textposition="top center",
                    name=f"{attr[:-2].upper()} {pct}",
                    legendgroup=pct,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="output tokens/s", row=1, col=col)
        fig.update_yaxes(title_text="ms", row=1, col=col)
    fig.update_layout(height=420, title="Latency-throughput curve")
    return fig


def timeline_figure(records: list[RequestRecord]) -> go.Figure:
    """E2E of each request against the time it was sent (errors marked)."""
    fig = go.Figure()
    ok = [r for r in records if r.ok and r.sent_s is not None and r.e2e_s is not None]
    bad = [r for r in records if not r.ok and r.sent_s is not None]
    fig.add_trace(
        go.Scattergl(
            x=[r.sent_s for r in ok],
            y=[(r.e2e_s or 0) * MS_PER_S for r in ok],
            mode="markers",
            name="completed",
            text=[f"#{r.request_id} {r.phase.value}" for r in ok],
        )
    )
    if bad:
        fig.add_trace(
            go.Scattergl(
                x=[r.sent_s for r in bad],
                y=[((r.end_s or r.sent_s or 0) - (r.sent_s or 0)) * MS_PER_S for r in bad],
                mode="markers",
                marker={"symbol": "x", "color": "red"},
                name="failed",
                text=[f"#{r.request_id} {r.error_kind}" for r in bad],
            )
        )
    fig.update_layout(
        height=380,
        title="Requests over time",
        xaxis_title="sent (s from start)",
        yaxis_title="E2E or time to failure (ms)",
    )
    return fig


def _fmt_ms(stat: StatResult, pct: str) -> str:
    value = getattr(stat, pct)
    if value is None:
        return "-"
    ci = getattr(stat, f"{pct}_ci")
    text = f"{value * MS_PER_S:.2f}"
    return text + (f" [{ci[0] * MS_PER_S:.2f}, {ci[1] * MS_PER_S:.2f}]" if ci else " [n/a]")


def _stage_table(summary: RunSummary) -> str:
    head = (
        "<tr><th>stage</th><th>ok / total</th><th>metric</th><th>mean</th><th>p50 [95% CI]"
        "</th><th>p90 [95% CI]</th><th>p99 [95% CI]</th><th>out tok/s</th><th>in tok/s</th>"
        "<th>goodput req/s</th></tr>"
    )
    rows = []
    for s in summary.stages:
        for i, name in enumerate(("ttft_s", "itl_s", "tpot_s", "e2e_s")):
            stat: StatResult = getattr(s, name)
            mean = f"{stat.mean * MS_PER_S:.2f}" if stat.mean is not None else "-"
            lead = (
                (
                    f"<td rowspan=4>{html.escape(_stage_name(s))}</td><td rowspan=4>"
                    f"{s.counts['ok']} / {s.counts['total']}</td>"
                )
                if i == 0
                else ""
            )
            tail = (
                (
                    f"<td rowspan=4>{s.output_tokens_per_s:.1f}</td><td rowspan=4>"
                    f"{s.input_tokens_per_s:.1f}</td><td rowspan=4>"
                    f"{'-' if s.goodput_rps is None else f'{s.goodput_rps:.2f}'}"
                    "</td>"
                )
                if i == 0
                else ""
            )
            rows.append(
                f"<tr>{lead}<td>{name[:-2]} (ms)</td><td>{mean}</td>"
                f"<td>{_fmt_ms(stat, 'p50')}</td><td>{_fmt_ms(stat, 'p90')}</td>"
                f"<td>{_fmt_ms(stat, 'p99')}</td>{tail}</tr>"
            )
    return f"<table>{head}{''.join(rows)}</table>"


def _dl(items: Mapping[str, object]) -> str:
    return (
        "<dl>"
        + "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>"
            for k, v in items.items()
        )
        + "</dl>"
    )


def render_report(summary: RunSummary, records: list[RequestRecord]) -> str:
    """The full HTML page as a string."""
    md = summary.metadata
    figs = [distributions_figure(summary, records), curve_figure(summary), timeline_figure(records)]
    divs = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in summary.warnings) or "<li>none</li>"
    status = (
        "interrupted"
        if summary.interrupted
        else (f"aborted: {summary.aborted_reason}" if summary.aborted_reason else "complete")
    )
    meta = {
        "url": md.url,
        "model": md.model,
        "engine": md.engine,
        "engine version": md.engine_version,
        "max context": md.max_context_tokens,
        "started": md.started_at,
        "status": status,
        "counts": summary.counts,
        "warm-up requests (excluded)": summary.warmup_requests,
        "SLO (s)": summary.slo,
        "prompt calibration": md.prompt_calibration,
        "client": md.client,
    }
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>inferplan bench: {html.escape(md.model)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}dt{{font-weight:bold}}
dd{{margin:0 0 .4em 1em}}</style></head><body>
<h1>inferplan bench: {html.escape(md.model)} on {html.escape(md.engine)}</h1>
{_dl(meta)}
<h2>Statistics by stage</h2>{_stage_table(summary)}
<h2>Warnings</h2><ul>{warnings}</ul>
{"".join(divs)}
<h2>Metric definitions</h2>{_dl(dict(md.metric_definitions))}
</body></html>
"""


def write_report(summary: RunSummary, records: list[RequestRecord], path: Path) -> None:
    """Write :func:`render_report` to ``path``."""
    path.write_text(render_report(summary, records), encoding="utf-8")
