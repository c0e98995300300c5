"""The plan report: one self-contained HTML file (Jinja2 + plotly).

:func:`render_plan_html` returns a page that works offline: plotly.js is inlined
once (``plotly.offline.get_plotlyjs()``), each chart is a ``<div>`` with a small
``Plotly.newPlot`` script, and the only CSS is inline. There is no ``<script src>``,
no stylesheet link and no web font. Every value from the plan goes through Jinja2's
autoescaping; only the plotly snippets (whose JSON plotly escapes: ``<`` becomes
``\\u003c``) and plotly.js itself are marked safe.

Numbers are converted for people only here: US dollars with thousands separators,
latency in milliseconds, shares as percentages.

>>> from inferplan.scenario_io import load_scenario  # doctest: +SKIP
>>> from inferplan.planner.search import plan  # doctest: +SKIP
>>> s = load_scenario("src/inferplan/examples/default.yaml")  # doctest: +SKIP
>>> page = render_plan_html(plan(s), s)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from inferplan.errors import SpecError
from inferplan.report.charts import Chart, build_charts
from inferplan.results.plan import PlanOption, PlanResult
from inferplan.specs.scenario import ScenarioSpec

TEMPLATE_DIR = Path(__file__).parent / "templates"
PLOTLY_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
KIND_WORDS = {
    "on_prem": "own data centre",
    "colocation": "colocation",
    "cloud": "cloud",
    "api": "API",
    "hybrid": "hybrid",
}
DASH = "–"


def usd(value: float | None, decimals: int = 0) -> str:
    """``1234567.8`` -> ``$1,234,568``; negative as ``-$12``; ``None`` -> a dash."""
    if value is None:
        return DASH
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def ms(value: float | None) -> str:
    """Milliseconds: whole numbers from 100 ms up, one decimal below."""
    if value is None:
        return DASH
    return f"{value:,.0f} ms" if abs(value) >= 100 else f"{value:,.1f} ms"


def number(value: float | None, decimals: int = 0) -> str:
    """Thousands separators, ``None`` -> a dash."""
    return DASH if value is None else f"{value:,.{decimals}f}"


def percent(value: float | None, decimals: int = 1) -> str:
    """A share (0.08) as a percentage (``8.0%``)."""
    return DASH if value is None else f"{value:.{decimals}%}"


def kind_words(kind: str) -> str:
    """``on_prem`` -> ``own data centre``."""
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(usd=usd, ms=ms, number=number, percent=percent, kind=kind_words)
    return env


def _headline(result: PlanResult, pick: PlanOption | None) -> str:
    """What to buy or rent and where, in one sentence (the planner's own headline
    when the result has one: whole servers, conditions, verified latency)."""
    r = result.recommendation
    if r.headline:
        return r.headline
    fleet = f"{r.count} × {r.hardware}" if r.count and r.hardware else (r.hardware or "")
    where = f" in {r.region}" if r.region else ""
    if r.kind == "on_prem":
        text = f"Buy {fleet} for your own data centre"
    elif r.kind == "colocation":
        text = f"Buy {fleet} and host them in a colocation site"
    elif r.kind == "cloud":
        text = f"Rent {fleet} from {r.provider}{where}"
    elif r.kind == "api":
        text = f"Use the API of {r.provider}{where}"
    else:
        text = f"Run a {kind_words(r.kind)} deployment ({r.provider}{where})"
        if fleet:
            text += f" with {fleet} at peak"
    serve = [f"serving {r.model}" if r.model else "", f"at {r.precision}" if r.precision else "",
             f"on {r.engine}" if r.engine else ""]
    text += (", " + " ".join(s for s in serve if s)) if any(serve) else ""
    if pick is not None and pick.devices_per_replica:
        text += f" ({pick.devices_per_replica} devices per replica)"
    return text + "."


def _chart_html(chart: Chart) -> Markup | None:
    if chart.figure is None:
        return None
    return Markup(chart.figure.to_html(  # plotly escapes its JSON ("<" -> \u003c)
        full_html=False, include_plotlyjs=False, div_id=chart.div_id, config=PLOTLY_CONFIG,
    ))


def _findings(pick: PlanOption | None) -> list[dict[str, Any]]:
    return [
        {"rule": str(f.get("rule", "")), "passed": bool(f.get("passed", False)),
         "severity": str(f.get("severity", "")), "reason": str(f.get("reason", "")),
         "source": str(f.get("source", ""))}
        for f in (pick.findings if pick else [])
    ]


def _assumptions(result: PlanResult) -> list[dict[str, str]]:
    """item / source / as_of, other keys folded into a ``notes`` column."""
    out = []
    for a in result.assumptions:
        extra = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in a.items()
                          if k not in ("item", "source", "as_of") and v)
        out.append({"item": a.get("item", ""), "source": a.get("source", ""),
                    "as_of": a.get("as_of", ""), "notes": extra})
    return out


def plan_context(result: PlanResult, scenario: ScenarioSpec) -> dict[str, Any]:
    """Everything the template needs (plain values; formatting happens in the template)."""
    pick = next((o for o in result.options if o.name == result.recommendation.option), None)
    charts = build_charts(result, scenario)
    front = set(result.frontier)
    runner = result.runner_up
    return {
        "result": result,
        "scenario": scenario,
        "rec": result.recommendation,
        "check": result.recommendation.latency_check,
        "pick": pick,
        "headline": _headline(result, pick),
        "runner": runner,
        "runner_gap_usd": runner.npv_usd - result.recommendation.npv_usd if runner else None,
        "runner_break_even": result.break_even_month.get(runner.name) if runner else None,
        "charts": [{"chart": c, "html": _chart_html(c)} for c in charts],
        "options": [{"rank": i, "o": o, "frontier": o.name in front,
                     "pick": o.name == result.recommendation.option}
                    for i, o in enumerate(result.options, start=1)],
        "findings": _findings(pick),
        "assumptions": _assumptions(result),
        "plotly_js": Markup(get_plotlyjs()),  # the library bundle itself
    }


def render_plan_html(result: PlanResult, scenario: ScenarioSpec) -> str:
    """The plan as one self-contained HTML page (see the module docstring)."""
    template = _environment().get_template("plan.html.j2")
    return template.render(**plan_context(result, scenario))


def write_plan_html(result: PlanResult, scenario: ScenarioSpec, path: Path) -> None:
    """Render the report and write it to ``path`` (UTF-8).

    Raises :class:`SpecError` (field ``report``) when the file cannot be written.
    """
    page = render_plan_html(result, scenario)
    try:
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise SpecError("report", f"cannot write {path}: {exc.strerror or exc}") from None


__all__ = ["ms", "plan_context", "render_plan_html", "usd", "write_plan_html"]
