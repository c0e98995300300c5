"""CSV export of a plan: one row per priced option.

Columns are :data:`CSV_COLUMNS`. Values keep the plan's units (US dollars,
milliseconds, sovereignty scores in [0, 1]) without thousands separators or
currency signs, so spreadsheets read them as numbers; a missing value (an API has
no hardware or latency estimate) is an empty cell, and so is ``serving_technique`` for
plain colocated replicas (else speculative decoding or disaggregated pools, named with
their settings). ``recommended`` and
``on_frontier`` are ``true``/``false``.

>>> write_plan_csv(result, Path("plan.csv"))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
from pathlib import Path

from inferplan.errors import SpecError
from inferplan.results.plan import PlanOption, PlanResult

CSV_COLUMNS: tuple[str, ...] = (
    "name",
    "kind",
    "provider",
    "region",
    "model",
    "hardware",
    "devices_per_replica",
    "layout",
    "peak_devices",
    "precision",
    "engine",
    "serving_technique",
    "tco_nominal_usd",
    "npv_usd",
    "usd_per_million_tokens",
    "est_ttft_ms",
    "est_tpot_ms",
    "legal_sovereignty",
    "operational_sovereignty",
    "sovereignty_score",
    "recommended",
    "on_frontier",
)


def _num(value: float | int | None, decimals: int) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def option_row(option: PlanOption, recommended: bool, on_frontier: bool) -> dict[str, str]:
    """One CSV row: dollars to the cent, $/1M tokens to 4 decimals, ms to 0.01 ms."""
    return {
        "name": option.name,
        "kind": option.kind,
        "provider": option.provider,
        "region": option.region or "",
        "model": option.model or "",
        "hardware": option.hardware or "",
        "devices_per_replica": _num(option.devices_per_replica, 0),
        "layout": option.layout or "",
        "peak_devices": _num(option.peak_devices, 0),
        "precision": option.precision or "",
        "engine": option.engine or "",
        "serving_technique": option.serving_technique or "",
        "tco_nominal_usd": _num(option.tco_nominal_usd, 2),
        "npv_usd": _num(option.npv_usd, 2),
        "usd_per_million_tokens": _num(option.usd_per_million_tokens, 4),
        "est_ttft_ms": _num(option.est_ttft_ms, 2),
        "est_tpot_ms": _num(option.est_tpot_ms, 2),
        "legal_sovereignty": _num(option.legal_sovereignty, 4),
        "operational_sovereignty": _num(option.operational_sovereignty, 4),
        "sovereignty_score": _num(option.sovereignty_score, 4),
        "recommended": "true" if recommended else "false",
        "on_frontier": "true" if on_frontier else "false",
    }


def write_plan_csv(result: PlanResult, path: Path) -> None:
    """Write one row per priced option (in the plan's NPV order) to ``path``, UTF-8.

    Raises :class:`SpecError` (field ``csv``) when the file cannot be written.
    """
    front = set(result.frontier)
    pick = result.recommendation.option
    try:
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
            writer.writeheader()
            for o in result.options:
                writer.writerow(option_row(o, o.name == pick, o.name in front))
    except OSError as exc:
        raise SpecError("csv", f"cannot write {path}: {exc.strerror or exc}") from None


__all__ = ["CSV_COLUMNS", "option_row", "write_plan_csv"]
