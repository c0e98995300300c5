"""Prediction intervals from the validation residuals of each metric.

``data/perf_uncertainty.yaml`` (written by ``benchmarks/fit_efficiencies.py
--write-uncertainty``) holds, per metric, the 10th and 90th percentiles of
measured / predicted over the validation cases; a prediction ``p`` is shown as
``[p * low, p * high]``, an 80 % interval if the cases are representative.
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml

FALLBACK = (0.75, 1.25)


@functools.cache
def _table() -> dict[str, dict[str, float]]:
    ref = resources.files("inferplan.catalog") / "data" / "perf_uncertainty.yaml"
    try:
        data = yaml.safe_load(ref.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return dict(data.get("metrics", {}))


def interval(metric: str, value: float) -> tuple[float, float, str]:
    """(low, high, basis) around ``value`` for a metric such as ``ttft_ms``."""
    row = _table().get(metric)
    if row is None:
        lo, hi = FALLBACK
        return value * lo, value * hi, "no validation cases for this metric: +/-25 % assumed"
    return (
        value * row["ratio_p10"],
        value * row["ratio_p90"],
        f"10th-90th percentile of measured/predicted over {int(row['n'])} validation cases",
    )
