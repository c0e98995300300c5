"""Plausibility limits on money inputs that do not pass through a spec field.

Spec fields carry their own limits (``le=`` in :mod:`inferplan.specs.economics`
and :mod:`inferplan.specs.scenario`, and no ``inf``/``nan``). A scenario's
``price_overrides`` change catalog rows, whose models accept any non-negative
number; :func:`check_price_overrides` holds them to the same limits as the spec
field each row stands in for (a support share is a share of the price per year,
so at most 1; a PUE lies in [1, 3]), and :func:`check_finite` guards every total
before it is reported, so that no NaN or infinity reaches a table or JSON.
"""

from __future__ import annotations

import math
from typing import Any

from inferplan.errors import SpecError
from inferplan.specs.economics import MAX_USD

RATE_LIMITS_BY_UNIT: dict[str, tuple[float, float]] = {
    "share_per_year": (0.0, 1.0),
    "share_of_max_power": (0.0, 1.0),
    "share": (0.0, 1.0),
    "ratio": (1.0, 3.0),
    "usd_per_kw_month": (0.0, 1e5),
    "usd_per_kw": (0.0, 1e6),
    "usd_per_fte_year": (0.0, 1e7),
    "fte_per_deployment": (0.0, 1e5),
    "fte": (0.0, 1e5),
    "servers_per_fte": (1.0, 1e6),
    "usd_per_gpu_year": (0.0, 1e6),
    "usd_per_server": (0.0, 1e7),
    "years": (0.5, 100.0),
}
"""Allowed ``value`` range of a rates row, by its ``unit``."""


def _field_limits(field: str) -> tuple[float, float]:
    if "per_million" in field:
        return 0.0, 1e4
    if "per_hour" in field:
        return 0.0, 1e5
    if "usd_per_kwh" in field:
        return 0.0, 10.0
    if "local_per_kwh" in field:
        return 0.0, 1e4  # local currency units (yen, rupees...)
    if "pue" in field:
        return 1.0, 3.0
    if "discount" in field or "share" in field:
        return 0.0, 1.0
    return 0.0, MAX_USD


def check_price_overrides(overrides: dict[str, dict[str, Any]], rate_units: dict[str, str]) -> None:
    """Refuse non-finite numbers and values beyond the limits of the field they stand for.

    ``rate_units`` maps a rates-row id to its unit (limits from
    :data:`RATE_LIMITS_BY_UNIT`); other rows are checked by field name.
    """
    for rid, changes in overrides.items():
        if not isinstance(changes, dict):
            continue  # the catalog layer reports the shape error
        for key, value in changes.items():
            at = f"price_overrides.{rid}.{key}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not math.isfinite(value):
                raise SpecError(at, "must be a finite number")
            if key == "value" and rid in rate_units:
                lo, hi = RATE_LIMITS_BY_UNIT.get(rate_units[rid], (0.0, MAX_USD))
                unit = rate_units[rid]
            else:
                (lo, hi), unit = _field_limits(key), ""
            if not lo <= value <= hi:
                what = f" ({unit})" if unit else ""
                raise SpecError(at, f"must be between {lo:g} and {hi:g}{what}, got {value:g}")


def check_finite(values: dict[str, float], where: str) -> None:
    """Raise if any reported figure is NaN or infinite (inputs too large for float maths)."""
    for name, v in values.items():
        if not math.isfinite(v):
            raise SpecError(where, f"{name} is not a finite number: a price or volume is too large")


__all__ = ["RATE_LIMITS_BY_UNIT", "check_finite", "check_price_overrides"]
