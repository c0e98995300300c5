"""Templates, display filters and the data behind the UI's charts.

Values are SI inside inferplan and converted here, only for display: dollars with
thousands separators, milliseconds for latencies, percentages for shares.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from inferplan import __version__
from inferplan.http_shared import presented_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_CHART_OPTIONS = 15
MAX_CASH_LINES = 5


def usd(value: Any, decimals: int = 0) -> str:
    """``$1,234`` (``-$5`` for negatives), ``—`` for missing values."""
    if not isinstance(value, int | float):
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def num(value: Any, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}" if isinstance(value, int | float) else "—"


def pct(value: Any, decimals: int = 1) -> str:
    return f"{100 * value:.{decimals}f} %" if isinstance(value, int | float) else "—"


def ms(value: Any) -> str:
    """A latency already in milliseconds."""
    if not isinstance(value, int | float):
        return "—"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


METRIC_LABELS = {
    "ttft_s": "TTFT",
    "tpot_s": "TPOT",
    "itl_s": "ITL",
    "e2e_s": "E2E latency",
    "output_tokens_per_s": "output tokens/s",
    "request_throughput_rps": "requests/s",
    "goodput_rps": "goodput (requests/s)",
}


def metric(value: Any, name: str) -> str:
    """A benchmark figure: latencies (``*_s``) shown in ms, rates (``*_per_s``) as numbers."""
    if not isinstance(value, int | float):
        return "—"
    name = str(name)
    return ms(value * 1e3) if name.endswith("_s") and not name.endswith("_per_s") else num(value, 2)


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name)


def counts(value: Any) -> str:
    """Request outcomes as ``72 ok, 3 timeout`` (zero counts left out)."""
    if not isinstance(value, dict):
        return "—"
    parts = [f"{n} {k.replace('_', ' ')}" for k, n in value.items() if n and k != "total"]
    return ", ".join(parts) or "none"


def when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value or "")


def compact(value: Any, limit: int = 160) -> str:
    """Short JSON text of a value for tables."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


URL = re.compile(r"https?://[^\s;,)\]]+")


def source_link(value: Any, short: bool = False) -> Markup:
    """A source text with its URLs as links; ``short`` shows only the links' hosts."""
    text = str(value or "")
    urls = URL.findall(text)
    link = Markup('<a href="{}" rel="noopener noreferrer" target="_blank" title="{}">{}</a>')
    if short:
        if not urls:
            return escape(text if len(text) <= 90 else text[:89] + "…")
        hosts = []
        for u in dict.fromkeys(urls):
            host = (urlsplit(u).hostname or u).removeprefix("www.")
            hosts.append(link.format(u, u, host))
        return Markup(", ").join(hosts)
    out, pos = Markup(""), 0
    for m in URL.finditer(text):
        out += escape(text[pos : m.start()]) + link.format(m.group(0), m.group(0), m.group(0))
        pos = m.end()
    return out + escape(text[pos:])


def fmt(value: Any, kind: str) -> str:
    """Catalog figures for tables: ``gb`` (bytes as GB), ``tbps`` (bytes/s as TB/s)."""
    if not isinstance(value, int | float):
        return "" if value is None else compact(value, 60)
    if kind == "gb":
        return f"{value / 1e9:,.0f} GB"
    if kind == "tbps":
        return f"{value / 1e12:,.2f} TB/s"
    if kind == "w":
        return f"{value:,.0f} W"
    return f"{value:,.6g}"


def pick(record: dict[str, Any], key: str, kind: str = "") -> str:
    """``a.b`` from a record, formatted for a table cell (see :func:`fmt`)."""
    cur: Any = record
    for part in key.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return fmt(cur, kind)


def cell(value: Any, unit: str) -> str:
    if unit == "USD":
        return usd(value, 2 if isinstance(value, float) and abs(value) < 100 else 0)
    if unit == "ms":
        return ms(value)
    return "—" if value is None else str(value)


def delta(row: dict[str, Any]) -> str:
    a, b = row.get("a"), row.get("b")
    if not isinstance(a, int | float) or not isinstance(b, int | float) or isinstance(a, bool):
        return ""
    d = b - a
    text = cell(d, row.get("unit", ""))
    return f"{text} ({d / a:+.1%})" if a else text


def make_templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES_DIR))
    t.env.policies["json.dumps_kwargs"] = {"sort_keys": False}  # keep the documents' order
    t.env.filters.update(usd=usd, num=num, pct=pct, ms=ms, when=when, compact=compact,
                         source_link=source_link, pick=pick, fmt=fmt, cell=cell, delta=delta,
                         metric=metric, metric_label=metric_label, counts=counts)
    return t


def base_context(request: Request, page: str, section: str, **extra: Any) -> dict[str, Any]:
    settings = request.app.state.settings
    return {
        "page": page,
        "section": section,
        "version": __version__,
        "signed_in": settings.auth_required and presented_token(request) is not None,
        "charts": False,
        **extra,
    }


_templates: Jinja2Templates | None = None


def page(request: Request, name: str, section: str, status: int = 200,
         **ctx: Any) -> HTMLResponse:
    """Render template ``name`` with the base context (``section`` is the active tab)."""
    global _templates
    if _templates is None:
        _templates = make_templates()
    return _templates.TemplateResponse(
        request, name, base_context(request, name.removesuffix(".html"), section, **ctx),
        status_code=status,
    )


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a": {...}, "a.b": 1}`` (lists kept whole)."""
    out: dict[str, Any] = {}
    for k, v in doc.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        out[key] = v
        if isinstance(v, dict):
            out |= flatten(v, key)
    return out


class Lookup(dict[str, Any]):
    """A dict that answers None for missing keys (template convenience)."""

    def __missing__(self, key: str) -> None:
        return None


def side_by_side(a: str, b: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Lines of two texts with the removed (A) and added (B) ones marked."""
    la, lb = a.splitlines(), b.splitlines()
    sa = [{"text": t, "cls": ""} for t in la]
    sb = [{"text": t, "cls": ""} for t in lb]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb).get_opcodes():
        if tag in ("replace", "delete"):
            for i in range(i1, i2):
                sa[i]["cls"] = "diff-del"
        if tag in ("replace", "insert"):
            for j in range(j1, j2):
                sb[j]["cls"] = "diff-add"
    return sa, sb


def chart_labels(names: list[Any], width: int = 36) -> list[str]:
    """Axis labels for ``names``: shortened to ``width`` characters and always
    distinct. A chart's category axis merges equal labels, so two options whose
    names share their first characters would be drawn as one bar (plotly stacks
    bars of one category); a repeated label gets a number instead."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = str(raw)
        label = name if len(name) <= width else name[: width - 1] + "…"
        n = 2
        while label in seen:
            suffix = f" ({n})"
            keep = width - 1 - len(suffix)
            stem = name if len(name) + len(suffix) <= width else name[:keep] + "…"
            label = stem + suffix
            n += 1
        seen.add(label)
        out.append(label)
    return out


def _cumulative(values: list[float | None]) -> list[float]:
    total, out = 0.0, []
    for v in values:
        total += v or 0.0
        out.append(total)
    return out


def plan_chart_data(result: dict[str, Any], slo: dict[str, Any] | None = None) -> dict[str, Any]:
    """NPV bars, cumulative cash flows, the latency curve and the tornado of a plan."""
    rec = result.get("recommendation") or {}
    pick_name = rec.get("option")
    options = sorted(result.get("options") or [], key=lambda o: o.get("npv_usd") or 0.0)
    top = options[:MAX_CHART_OPTIONS]
    cash_opts = options[:MAX_CASH_LINES]
    if pick_name and all(o.get("name") != pick_name for o in cash_opts):
        cash_opts = [o for o in options if o.get("name") == pick_name] + cash_opts[:-1]
    tornado = []
    base = rec.get("npv_usd")
    for bar in (result.get("sensitivity") or [])[:8]:
        lo = (bar.get("npv_low_usd") or {}).get(pick_name)
        hi = (bar.get("npv_high_usd") or {}).get(pick_name)
        if isinstance(lo, int | float) and isinstance(hi, int | float) and base is not None:
            tornado.append({"factor": bar.get("factor"), "low": lo - base, "high": hi - base,
                            "range": f"x{bar.get('low')}..x{bar.get('high')}"})
    return {
        "pick": pick_name,
        "npv": {"names": [o.get("name") for o in top], "values": [o.get("npv_usd") for o in top],
                "labels": chart_labels([o.get("name") for o in top]),
                "kinds": [o.get("kind") for o in top]},
        "cash": [{"name": o.get("name"), "values": _cumulative(o.get("monthly_cash_flows_usd")
                                                               or [])} for o in cash_opts],
        "latency": result.get("latency_curve") or [],
        "tornado": tornado,
        "slo": slo or {},
    }


def bench_stage_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per stage: label and headline figures (latencies in ms)."""
    from inferplan.bench.results import upgrade_summary
    from inferplan.store.summaries import stage_label

    summary = upgrade_summary(summary)

    def stat(st: dict[str, Any], m: str, s: str) -> float | None:
        v = (st.get(m) or {}).get(s)
        return v * 1e3 if isinstance(v, int | float) else None

    rows = []
    for st in summary.get("stages") or []:
        if not isinstance(st, dict):
            continue
        rows.append({
            "label": stage_label(st), "ok": (st.get("counts") or {}).get("ok"),
            "ttft_p50": stat(st, "ttft_s", "p50"), "ttft_p99": stat(st, "ttft_s", "p99"),
            "tpot_p50": stat(st, "tpot_s", "p50"), "tpot_p99": stat(st, "tpot_s", "p99"),
            "e2e_p50": stat(st, "e2e_s", "p50"),
            "output_tokens_per_s": st.get("output_tokens_per_s"),
            "request_throughput_rps": st.get("request_throughput_rps"),
        })
    return rows


__all__ = [
    "STATIC_DIR",
    "Lookup",
    "base_context",
    "bench_stage_rows",
    "chart_labels",
    "flatten",
    "make_templates",
    "page",
    "plan_chart_data",
    "side_by_side",
]
