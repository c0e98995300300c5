"""The plan report's charts, built with plotly's Python API.

Each builder takes a :class:`PlanResult` (and the scenario where it needs the SLO
or workload) and returns a :class:`Chart`: a stable div id, a title, a caption and
a ``plotly.graph_objects.Figure``, or ``None`` with a note when the plan has no data
for it (an API pick has no latency curve, a single option has no runner-up).

Money is in US dollars and latency in milliseconds, as in :class:`PlanResult`.
Option names are HTML-escaped before they reach plotly, whose text renderer reads
a few HTML tags (``<b>``, ``<a>``, ``<br>``) and decodes entities: an escaped name is
shown literally and never turns into markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from itertools import accumulate

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inferplan.results.plan import PlanOption, PlanResult
from inferplan.specs.scenario import ScenarioSpec

TOP_OPTIONS = 8
"""Options drawn in the per-option charts (cheapest by NPV; the pick is the first)."""
LABEL_CHARS = 46
"""Longest option label on an axis or legend before it is cut (full name on hover)."""
PICK_COLOUR = "#d62728"
OTHER_COLOUR = "#1f77b4"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
"""Colours of the other options: the D3 category-10 set without its red (the pick's)."""
USD_HOVER = "$%{y:,.0f}"

CHART_IDS: dict[str, str] = {
    "tco": "chart-cumulative-tco",
    "breakdown": "chart-cost-breakdown",
    "break_even": "chart-break-even",
    "pareto": "chart-pareto",
    "latency": "chart-latency-throughput",
    "tornado": "chart-sensitivity",
    "monte_carlo": "chart-monte-carlo",
}


@dataclass(frozen=True)
class Chart:
    """One chart of the report; ``figure`` is None when the plan lacks its data."""

    key: str
    div_id: str
    title: str
    caption: str
    figure: go.Figure | None
    note: str = ""


def safe_text(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` so plotly shows ``text`` literally."""
    return html.escape(text, quote=False)


def option_labels(options: list[PlanOption]) -> dict[str, str]:
    """Unique short labels ``"<rank>. <name>"`` (rank by NPV, as in the options table)."""
    out = {}
    for i, o in enumerate(options, start=1):
        name = o.name if len(o.name) <= LABEL_CHARS else o.name[: LABEL_CHARS - 1] + "…"
        out[o.name] = safe_text(f"{i}. {name}")
    return out


def _top(result: PlanResult) -> list[PlanOption]:
    """The cheapest options by NPV, always with the pick and the runner-up."""
    top = result.options[:TOP_OPTIONS]
    names = {o.name for o in top}
    extra = [
        o for o in result.options
        if o.name not in names
        and (o.name == result.recommendation.option
             or (result.runner_up is not None and o.name == result.runner_up.name))
    ]
    return top + extra


def _layout(fig: go.Figure, height_px: int, **kwargs: object) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height_px,
        margin={"l": 70, "r": 30, "t": 40, "b": 60},
        hoverlabel={"namelength": -1},
        **kwargs,
    )
    return fig


def cumulative_tco_chart(result: PlanResult) -> Chart:
    """Cumulative nominal cost by month (month 0 = upfront) of the top options."""
    labels = option_labels(result.options)
    fig = go.Figure()
    others = iter(PALETTE * 2)
    for o in _top(result):
        pick = o.name == result.recommendation.option
        fig.add_trace(go.Scatter(
            x=list(range(len(o.monthly_cash_flows_usd))),
            y=list(accumulate(o.monthly_cash_flows_usd)),
            mode="lines",
            name=labels[o.name] + (" (pick)" if pick else ""),
            line={"width": 4 if pick else 1.5, "color": PICK_COLOUR if pick else next(others)},
            hovertemplate=f"{safe_text(o.name)}<br>month %{{x}}: {USD_HOVER}<extra></extra>",
        ))
    _layout(fig, 460, xaxis_title="month", yaxis_title="cumulative cost (USD, nominal)",
            yaxis_tickformat="$,.0f", legend={"font": {"size": 10}})
    return Chart("tco", CHART_IDS["tco"], "Cumulative cost over time",
                 "Undiscounted cash paid up to each month; month 0 holds upfront purchases. "
                 f"The {TOP_OPTIONS} cheapest options by NPV; the pick is the thick red line.",
                 fig)


def _category(key: str) -> str:
    """``burst.cloud_compute`` -> ``burst: cloud compute``."""
    head, _, tail = key.rpartition(".")
    return (f"{head}: " if head else "") + tail.replace("_", " ")


def breakdown_chart(result: PlanResult) -> Chart:
    """Stacked nominal cost by category for the top options."""
    labels = option_labels(result.options)
    top = _top(result)
    cats = sorted({k for o in top for k in o.breakdown_usd})
    fig = go.Figure()
    for cat in cats:
        fig.add_trace(go.Bar(
            x=[labels[o.name] for o in top],
            y=[o.breakdown_usd.get(cat, 0.0) for o in top],
            name=_category(cat),
            hovertemplate=f"{_category(cat)}: {USD_HOVER}<extra>%{{x}}</extra>",
        ))
    _layout(fig, 480, barmode="stack", yaxis_title="cost over the horizon (USD, nominal)",
            yaxis_tickformat="$,.0f", xaxis_tickangle=-25, xaxis_tickfont={"size": 10})
    return Chart("breakdown", CHART_IDS["breakdown"], "Cost breakdown",
                 "Total undiscounted cost over the horizon by category.", fig)


def break_even_chart(result: PlanResult) -> Chart:
    """Cumulative cost of the pick against the runner-up, the break-even month marked."""
    cid, title = CHART_IDS["break_even"], "Break-even: pick vs runner-up"
    runner = result.runner_up
    pick = next((o for o in result.options if o.name == result.recommendation.option), None)
    if runner is None or pick is None:
        return Chart("break_even", cid, title, "", None, "There is no runner-up to compare.")
    fig = go.Figure()
    for o, colour, tag in ((pick, PICK_COLOUR, "pick"), (runner, OTHER_COLOUR, "runner-up")):
        fig.add_trace(go.Scatter(
            x=list(range(len(o.monthly_cash_flows_usd))),
            y=list(accumulate(o.monthly_cash_flows_usd)),
            mode="lines", name=f"{tag}: {safe_text(o.name)}", line={"color": colour, "width": 3},
            hovertemplate=f"{tag}<br>month %{{x}}: {USD_HOVER}<extra></extra>",
        ))
    month = result.break_even_month.get(runner.name)
    if month is not None:
        fig.add_vline(x=month, line_dash="dash", line_color="#444",
                      annotation_text=f"break-even: month {month}",
                      annotation_position="top left")
        caption = (f"From month {month} on, the pick's cumulative cost stays at or below the "
                   "runner-up's until the end of the horizon.")
    elif runner.name in result.break_even_month:
        caption = ("The pick's cumulative undiscounted cost ends above the runner-up's: it is "
                   "cheaper only after discounting (NPV).")
    else:
        caption = "The plan did not compute a break-even month for this runner-up."
    _layout(fig, 420, xaxis_title="month", yaxis_title="cumulative cost (USD, nominal)",
            yaxis_tickformat="$,.0f",
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "font": {"size": 11}})
    return Chart("break_even", cid, title, caption, fig)


def pareto_chart(result: PlanResult, scenario: ScenarioSpec) -> Chart:
    """NPV against estimated TTFT, coloured by sovereignty score, frontier as diamonds."""
    labels = option_labels(result.options)
    front = set(result.frontier)
    placed = [o for o in result.options if o.est_ttft_ms is not None]
    fig = go.Figure()
    for on_front in (False, True):
        group = [o for o in placed if (o.name in front) == on_front]
        if not group:
            continue
        fig.add_trace(go.Scatter(
            x=[o.est_ttft_ms for o in group],
            y=[o.npv_usd for o in group],
            mode="markers",
            name="on the frontier" if on_front else "dominated",
            text=[labels[o.name] for o in group],
            customdata=[[o.sovereignty_score] for o in group],
            marker={
                "size": 15 if on_front else 10,
                "symbol": "diamond" if on_front else "circle",
                "color": [o.sovereignty_score for o in group],
                "colorscale": "Viridis", "cmin": 0.0, "cmax": 1.0,
                "showscale": on_front, "colorbar": {"title": {"text": "sovereignty"}},
                "line": {"width": 2 if on_front else 0.5, "color": "#222"},
            },
            hovertemplate="%{text}<br>est. TTFT %{x:,.0f} ms<br>NPV $%{y:,.0f}"
                          "<br>sovereignty %{customdata[0]:.2f}<extra></extra>",
        ))
    pick = next((o for o in placed if o.name == result.recommendation.option), None)
    if pick is not None:
        fig.add_annotation(x=pick.est_ttft_ms, y=pick.npv_usd, text="pick", arrowhead=2,
                           ax=40, ay=-40)
    if scenario.slo is not None:
        fig.add_vline(x=scenario.slo.ttft_ms, line_dash="dot", line_color="#888",
                      annotation_text=f"SLO TTFT {scenario.slo.ttft_ms:,.0f} ms")
    missing = len(result.options) - len(placed)
    note = (f"{missing} option(s) without a latency estimate (APIs) are not drawn."
            if missing else "")
    _layout(fig, 460, xaxis_title="estimated TTFT (ms)", yaxis_title="NPV (USD)",
            yaxis_tickformat="$,.0f", legend={"orientation": "h", "y": -0.2})
    return Chart("pareto", CHART_IDS["pareto"], "Pareto frontier: cost, latency, sovereignty",
                 "Each allowed option by NPV and estimated TTFT; colour is the sovereignty "
                 "score (1 = fully sovereign). Diamonds are not beaten on all three at once; "
                 "a diamond may look dominated here because it wins on sovereignty.",
                 fig if placed else None, note or "")


def _curve_subject(result: PlanResult) -> PlanOption | None:
    """The option the latency curve describes: the pick, or when the pick runs no hardware
    of its own (an API) the cheapest option that does (the planner's fallback)."""
    pick = next((o for o in result.options if o.name == result.recommendation.option), None)
    if pick is not None and pick.hardware is not None:
        return pick
    return next((o for o in result.options if o.hardware is not None), None)


def latency_chart(result: PlanResult, scenario: ScenarioSpec) -> Chart:
    """p95 TTFT and TPOT of one replica against output tokens/s, SLO lines."""
    cid = CHART_IDS["latency"]
    curve = result.latency_curve
    subject = _curve_subject(result)
    is_pick = subject is not None and subject.name == result.recommendation.option
    title = "Latency vs throughput of " + (
        "the pick (one replica)" if is_pick else "the cheapest self-hosted option (one replica)"
    )
    if not curve:
        return Chart("latency", cid, title, "", None,
                     "The plan has no simulated latency curve (an API's latency is the "
                     "provider's).")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("p95 TTFT (ms)", "p95 TPOT (ms)"),
                        horizontal_spacing=0.12)
    xs = [p["output_tokens_per_s"] for p in curve]
    conc = [f"c={p['concurrency']:g}" for p in curve]
    check = result.recommendation.latency_check
    for col, key, slo_ms in (
        (1, "ttft_ms", scenario.slo.ttft_ms if scenario.slo else None),
        (2, "tpot_ms", scenario.slo.tpot_ms if scenario.slo else None),
    ):
        fig.add_trace(go.Scatter(
            x=xs, y=[p[key] for p in curve], text=conc, mode="lines+markers+text",
            textposition="top center", textfont={"size": 9},
            name=key.split("_")[0].upper(), line={"color": PICK_COLOUR},
            hovertemplate="%{text}<br>%{x:,.0f} tokens/s<br>%{y:,.1f} ms<extra></extra>",
        ), row=1, col=col)
        if slo_ms is not None:
            fig.add_hline(y=slo_ms, line_dash="dash", line_color="#444", row=1, col=col,
                          annotation_text=f"SLO {slo_ms:,.0f} ms")
        if check is not None and is_pick:
            load = check.requests_per_s_per_replica * scenario.workload.output_tokens_mean
            fig.add_vline(x=load, line_dash="dot", line_color="#888", row=1, col=col,
                          annotation_text="peak load" if col == 1 else "",
                          annotation_position="bottom right")
        fig.update_xaxes(title_text="output tokens/s per replica", row=1, col=col)
    _layout(fig, 440, showlegend=False)
    pct = f"p{scenario.slo.percentile:g} " if scenario.slo else ""
    who = subject.name if subject is not None else "the pick"
    caption = (f"{who}: simulated closed-loop sweep of one replica (c = concurrent requests "
               f"1, 2, 4, ...), p95 latency against output throughput, with the {pct}SLO "
               "(dashed)")
    caption += (" and the peak load per replica the fleet is sized for (dotted)."
                if check is not None and is_pick else ".")
    if not is_pick:
        caption += " The pick is an API, whose latency inferplan does not predict."
    return Chart("latency", cid, title, caption, fig)


def tornado_chart(result: PlanResult) -> Chart:
    """NPV of the pick at the low and high value of each factor, widest swing on top."""
    cid, title = CHART_IDS["tornado"], "Sensitivity of the pick's NPV"
    pick = result.recommendation.option
    base = result.recommendation.npv_usd
    bars = [b for b in result.sensitivity
            if pick in b.get("npv_low_usd", {}) and pick in b.get("npv_high_usd", {})]
    if not bars:
        return Chart("tornado", cid, title, "", None, "The plan has no sensitivity analysis.")
    bars.sort(key=lambda b: abs(b["npv_high_usd"][pick] - b["npv_low_usd"][pick]), reverse=True)
    names = [safe_text(f"{b['factor'].replace('_', ' ')} (×{b['low']:g} / ×{b['high']:g})")
             for b in bars]
    fig = go.Figure()
    for end, colour in (("low", "#2ca02c"), ("high", "#ff7f0e")):
        fig.add_trace(go.Bar(
            y=names, x=[b[f"npv_{end}_usd"][pick] - base for b in bars], base=base,
            orientation="h", name=f"factor at its {end} value", marker_color=colour,
            customdata=[[b[f"npv_{end}_usd"][pick]] for b in bars],
            hovertemplate="%{y}<br>NPV $%{customdata[0]:,.0f}<extra></extra>",
        ))
    fig.add_vline(x=base, line_color="#222")
    _layout(fig, 140 + 40 * len(bars), barmode="overlay",
            xaxis_title=f"NPV of the pick (USD); base case ${base:,.0f}",
            xaxis_tickformat="$,.0f", yaxis_autorange="reversed",
            legend={"orientation": "h", "y": -0.25})
    return Chart("tornado", cid, title,
                 "Each factor moved alone to the low and high end of its range (multipliers "
                 "of the base value); bar length is the change in the pick's NPV from the base "
                 "case (black line). A factor without a bar does not change the pick's cost.",
                 fig)


def monte_carlo_chart(result: PlanResult) -> Chart:
    """P10/P50/P90 NPV per option and the probability that each is the cheapest."""
    cid, title = CHART_IDS["monte_carlo"], "Monte Carlo: NPV spread and chance of being cheapest"
    mc = result.monte_carlo or {}
    stats: dict[str, dict[str, float]] = mc.get("options", {})
    if not stats:
        return Chart("monte_carlo", cid, title, "", None, "The plan has no Monte Carlo run.")
    labels = option_labels(result.options)
    names = sorted(stats, key=lambda n: stats[n]["npv_p50_usd"])
    ys = [labels.get(n, safe_text(n)) for n in names]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.7, 0.3],
                        subplot_titles=("NPV P10 / P50 / P90 (USD)", "probability cheapest"),
                        horizontal_spacing=0.04)
    p10 = [stats[n]["npv_p10_usd"] for n in names]
    p50 = [stats[n]["npv_p50_usd"] for n in names]
    p90 = [stats[n]["npv_p90_usd"] for n in names]
    fig.add_trace(go.Scatter(
        x=p50, y=ys, mode="markers", marker={"size": 11, "color": OTHER_COLOUR},
        error_x={"type": "data", "symmetric": False,
                 "array": [h - m for h, m in zip(p90, p50, strict=True)],
                 "arrayminus": [m - lo for m, lo in zip(p50, p10, strict=True)]},
        customdata=list(zip(p10, p90, strict=True)), name="NPV",
        hovertemplate="%{y}<br>P10 $%{customdata[0]:,.0f}<br>P50 $%{x:,.0f}"
                      "<br>P90 $%{customdata[1]:,.0f}<extra></extra>",
    ), row=1, col=1)
    prob = [stats[n].get("probability_cheapest", 0.0) for n in names]
    fig.add_trace(go.Bar(
        x=prob, y=ys, orientation="h", marker_color=PICK_COLOUR, name="P(cheapest)",
        text=[f"{p:.0%}" for p in prob], textposition="auto",
        hovertemplate="%{y}<br>cheapest in %{x:.0%} of draws<extra></extra>",
    ), row=1, col=2)
    fig.update_xaxes(tickformat="$,.0f", row=1, col=1)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], row=1, col=2)
    fig.update_yaxes(autorange="reversed", tickfont={"size": 10}, row=1, col=1)
    _layout(fig, 140 + 36 * len(names), showlegend=False)
    draws = mc.get("draws")
    return Chart("monte_carlo", cid, title,
                 f"{draws} joint random draws of prices and costs within their ranges (seed "
                 f"{mc.get('seed')}); dots are medians, whiskers the 10th-90th percentiles.",
                 fig)


def build_charts(result: PlanResult, scenario: ScenarioSpec) -> list[Chart]:
    """Every chart of the report, in reading order."""
    return [
        cumulative_tco_chart(result),
        breakdown_chart(result),
        break_even_chart(result),
        pareto_chart(result, scenario),
        latency_chart(result, scenario),
        tornado_chart(result),
        monte_carlo_chart(result),
    ]


__all__ = ["CHART_IDS", "Chart", "build_charts", "option_labels", "safe_text"]
