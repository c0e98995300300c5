"""What the lists of the service show, computed once when a record is written.

Lists never load whole documents (a plan's result can be many megabytes); they
read these short columns instead: a scenario's description and a benchmark
run's per-stage headline figures.
"""

from __future__ import annotations

from typing import Any

from inferplan.bench.results import upgrade_summary

MAX_DESCRIPTION_CHARS = 300


def stage_label(stage: dict[str, Any]) -> str:
    """``concurrency 4``, ``2.5 req/s`` or the stage's profile."""
    if stage.get("concurrency") is not None:
        return f"concurrency {stage['concurrency']}"
    if stage.get("rate_req_per_s") is not None:
        return f"{stage['rate_req_per_s']:g} req/s"
    return str(stage.get("profile", "stage"))


def scenario_description(document: Any) -> str:
    """The first :data:`MAX_DESCRIPTION_CHARS` characters of ``description``."""
    if not isinstance(document, dict):
        return ""
    return str(document.get("description") or "")[:MAX_DESCRIPTION_CHARS]


def _stat(stage: dict[str, Any], metric: str, stat: str) -> float | None:
    v = (stage.get(metric) or {}).get(stat)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def bench_headline(summary: Any) -> list[dict[str, Any]]:
    """Per stage of a bench summary: label, measured requests (``total``) and those
    that completed (``ok``), p50/p99 TTFT and TPOT (s), output throughput (tokens/s)."""
    out: list[dict[str, Any]] = []
    summary = upgrade_summary(summary)
    stages = summary.get("stages") if isinstance(summary, dict) else None
    for st in stages or []:
        if not isinstance(st, dict):
            continue
        tput = st.get("output_tokens_per_s")
        out.append(
            {
                "stage": st.get("stage"),
                "label": stage_label(st),
                "ok": (st.get("counts") or {}).get("ok"),
                "total": (st.get("counts") or {}).get("total"),
                "ttft_p50_s": _stat(st, "ttft_s", "p50"),
                "ttft_p99_s": _stat(st, "ttft_s", "p99"),
                "tpot_p50_s": _stat(st, "tpot_s", "p50"),
                "tpot_p99_s": _stat(st, "tpot_s", "p99"),
                "output_tokens_per_s": tput if isinstance(tput, int | float) else None,
            }
        )
    return out


__all__ = ["MAX_DESCRIPTION_CHARS", "bench_headline", "scenario_description", "stage_label"]
