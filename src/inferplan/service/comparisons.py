"""Comparisons the service offers: two scenario documents, two plans, two bench runs.

Pure functions of stored documents (no store, no I/O), used by the REST API and
the web UI alike.

* :func:`diff_documents` lists field-level changes (``path``, ``added`` /
  ``removed`` / ``changed``, old and new value); :func:`unified_diff` is the
  unified diff of the two documents' YAML.
* :func:`compare_plan_results` puts the recommendations of two plans side by side
  (:data:`PLAN_COMPARE_FIELDS`, plus options priced, horizon and discount rate).
* :func:`compare_summaries` compares two ``inferplan bench`` summaries stage by
  stage (mean/p50/p99 of TTFT, TPOT, ITL, E2E and the throughputs: ``a``, ``b``,
  ``b - a`` and ``(b - a) / a``); :func:`bench_significance` adds a Mann-Whitney U
  test per metric when both runs' records are known
  (:func:`inferplan.bench.compare.compare_records`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import yaml

from inferplan.bench.compare import compare_records
from inferplan.bench.results import RequestRecord, upgrade_summary
from inferplan.store.summaries import stage_label

STATS = ("mean", "p50", "p99")
LATENCY_METRICS = ("ttft_s", "tpot_s", "itl_s", "e2e_s")
RATE_METRICS = ("output_tokens_per_s", "request_throughput_rps", "goodput_rps")
PLAN_COMPARE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("option", "recommended option", ""),
    ("kind", "kind", ""),
    ("provider", "provider", ""),
    ("region", "region", ""),
    ("model", "model", ""),
    ("hardware", "hardware", ""),
    ("count", "devices at peak", ""),
    ("precision", "precision", ""),
    ("engine", "engine", ""),
    ("npv_usd", "NPV", "USD"),
    ("tco_nominal_usd", "TCO (nominal)", "USD"),
    ("usd_per_million_tokens", "cost per million tokens", "USD"),
    ("p95_ttft_ms", "TTFT at the SLO percentile", "ms"),
    ("p95_tpot_ms", "TPOT at the SLO percentile", "ms"),
)
"""Recommendation fields compared: key, label, unit."""


def to_yaml(doc: dict[str, Any]) -> str:
    """The document as YAML, keys in their stored order."""
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def diff_documents(a: Any, b: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-level changes from ``a`` to ``b``: ``{path, change, old, new}`` each,
    ``change`` one of ``added``, ``removed``, ``changed``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[dict[str, Any]] = []
        for k in [*a, *(k for k in b if k not in a)]:
            p = f"{path}.{k}" if path else str(k)
            if k not in b:
                out.append({"path": p, "change": "removed", "old": a[k], "new": None})
            elif k not in a:
                out.append({"path": p, "change": "added", "old": None, "new": b[k]})
            else:
                out.extend(diff_documents(a[k], b[k], p))
        return out
    if isinstance(a, list) and isinstance(b, list) and a != b:
        out = []
        for i in range(max(len(a), len(b))):
            p = f"{path}[{i}]"
            if i >= len(b):
                out.append({"path": p, "change": "removed", "old": a[i], "new": None})
            elif i >= len(a):
                out.append({"path": p, "change": "added", "old": None, "new": b[i]})
            else:
                out.extend(diff_documents(a[i], b[i], p))
        return out
    if a != b or type(a) is not type(b):
        return [{"path": path or "document", "change": "changed", "old": a, "new": b}]
    return []


def unified_diff(a: dict[str, Any], b: dict[str, Any], label_a: str, label_b: str) -> str:
    """A unified diff of the two documents' YAML."""
    return "".join(
        difflib.unified_diff(
            to_yaml(a).splitlines(keepends=True),
            to_yaml(b).splitlines(keepends=True),
            fromfile=label_a,
            tofile=label_b,
        )
    )



def compare_plan_results(result_a: dict[str, Any] | None,
                         result_b: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Rows ``{field, label, unit, a, b, same}``: the recommendation fields, then the
    number of options priced, the horizon (months) and the discount rate."""
    ra = dict((result_a or {}).get("recommendation") or {})
    rb = dict((result_b or {}).get("recommendation") or {})
    rows = [
        {"field": key, "label": label, "unit": unit, "a": ra.get(key), "b": rb.get(key),
         "same": ra.get(key) == rb.get(key)}
        for key, label, unit in PLAN_COMPARE_FIELDS
    ]
    extra: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
        ("options priced", lambda r: len(r.get("options") or [])),
        ("horizon (months)", lambda r: r.get("horizon_months")),
        ("discount rate", lambda r: r.get("discount_rate")),
    )
    for label, fn in extra:
        va, vb = fn(result_a or {}), fn(result_b or {})
        rows.append({"field": label, "label": label, "unit": "", "a": va, "b": vb,
                     "same": va == vb})
    return rows


def _stat(stage: dict[str, Any], metric: str, stat: str) -> float | None:
    v = (stage.get(metric) or {}).get(stat)
    return float(v) if isinstance(v, int | float) else None


def compare_summaries(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean/p50/p99 of TTFT, TPOT, ITL, E2E and the throughputs, stage by stage
    (stages matched by index): ``a``, ``b``, ``b - a`` and ``(b - a) / a``.
    Runs saved with the older stage field names compare under today's names."""
    a, b = upgrade_summary(a), upgrade_summary(b)
    sa = {s.get("stage"): s for s in a.get("stages") or [] if isinstance(s, dict)}
    sb = {s.get("stage"): s for s in b.get("stages") or [] if isinstance(s, dict)}
    rows: list[dict[str, Any]] = []
    for idx in sorted(set(sa) & set(sb), key=lambda x: (x is None, x)):
        x, y = sa[idx], sb[idx]
        pairs: list[tuple[str, str, float | None, float | None]] = [
            (m, s, _stat(x, m, s), _stat(y, m, s)) for m in LATENCY_METRICS for s in STATS
        ]
        for m in RATE_METRICS:
            va, vb = x.get(m), y.get(m)
            pairs.append((m, "value", va if isinstance(va, int | float) else None,
                          vb if isinstance(vb, int | float) else None))
        for metric, stat, va, vb in pairs:
            diff = vb - va if va is not None and vb is not None else None
            rows.append(
                {
                    "stage": idx,
                    "label_a": stage_label(x),
                    "label_b": stage_label(y),
                    "metric": metric,
                    "stat": stat,
                    "a": va,
                    "b": vb,
                    "diff": diff,
                    "change_fraction": diff / va if diff is not None and va else None,
                }
            )
    return rows


def bench_significance(a: list[RequestRecord], b: list[RequestRecord], label_a: str,
                       label_b: str, alpha: float = 0.05) -> dict[str, Any]:
    """Mann-Whitney U per metric and stage of two runs' request records."""
    return compare_records(a, b, alpha, label_a, label_b).model_dump(mode="json")


__all__ = [
    "LATENCY_METRICS",
    "PLAN_COMPARE_FIELDS",
    "RATE_METRICS",
    "STATS",
    "bench_significance",
    "compare_plan_results",
    "compare_summaries",
    "diff_documents",
    "to_yaml",
    "unified_diff",
]
