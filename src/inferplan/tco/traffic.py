"""Traffic: weekly hourly profiles, monthly demand, and fleet sizing per hour.

Demand is held as an array ``rps[m, h]``: mean requests per second in hour-of-week
``h`` (0 = Monday 00:00, 167 = Sunday 23:00) of month ``m``. Row 0 is the order
date (no traffic); months 1..N are the horizon. A month holds
``HOURS_PER_MONTH / 168 = 730 / 168`` weeks, so a monthly quantity is the sum over
the 168 hours of the week times :data:`WEEKS_PER_MONTH`.

Preset profiles (relative to the weekday mean) come from the team reference
``traffic.md``: the Azure LLM inference trace 2024 (DynamoLLM, HPCA 2025; weekday
and weekend 24-hour rows, digitized) and the BurstGPT ChatGPT conversation log
(README Fig. 2, digitized; weekend about half of a weekday, read by eye).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from inferplan.specs.scenario import ProfilePreset, TrafficSpec
from inferplan.units import HOURS_PER_MONTH, SECONDS_PER_HOUR

HOURS_PER_WEEK = 168
WEEKS_PER_MONTH = HOURS_PER_MONTH / HOURS_PER_WEEK
"""730 / 168: weeks in an average month (8760 h / 12)."""

FloatArray = npt.NDArray[np.float64]

# (weekday row, weekend row), each 24 values relative to the weekday mean.
_AZURE_CONVERSATION = (
    [0.89, 0.97, 0.96, 0.79, 0.80, 0.87, 1.01, 1.09, 1.11, 1.08, 0.97, 1.03,
     1.15, 1.27, 1.34, 1.24, 1.13, 1.09, 1.08, 1.01, 0.92, 0.77, 0.69, 0.72],
    [0.50, 0.53, 0.53, 0.45, 0.44, 0.46, 0.47, 0.52, 0.54, 0.49, 0.52, 0.58,
     0.62, 0.69, 0.70, 0.72, 0.68, 0.67, 0.64, 0.60, 0.60, 0.58, 0.54, 0.58],
)  # fmt: skip
_AZURE_CODING = (
    [0.70, 0.68, 0.64, 0.52, 0.42, 0.34, 0.29, 0.25, 0.23, 0.24, 0.26, 0.38,
     0.70, 1.19, 1.69, 1.82, 1.73, 1.99, 2.19, 2.23, 2.07, 1.52, 1.10, 0.82],
    [0.44, 0.43, 0.38, 0.37, 0.31, 0.25, 0.20, 0.14, 0.11, 0.10, 0.09, 0.13,
     0.19, 0.26, 0.32, 0.37, 0.40, 0.43, 0.47, 0.48, 0.49, 0.48, 0.48, 0.45],
)  # fmt: skip
_BURSTGPT_CHAT_WEEKDAY = [
    0.57, 0.35, 0.20, 0.09, 0.08, 0.06, 0.09, 0.06, 0.25, 1.30, 1.93, 1.94,
    0.84, 1.13, 1.90, 2.26, 2.31, 1.62, 0.95, 1.24, 1.45, 1.31, 1.15, 0.92,
]  # fmt: skip
_BURSTGPT_WEEKEND_FACTOR = 0.5


def _week(weekday: list[float], weekend: list[float]) -> FloatArray:
    return np.array(weekday * 5 + weekend * 2, dtype=float)


def weekly_weights(traffic: TrafficSpec) -> FloatArray:
    """168 relative weights of the weekly profile, normalised to mean 1.0."""
    prof = traffic.profile
    wf = traffic.weekend_factor
    if isinstance(prof, list):
        if len(prof) == HOURS_PER_WEEK:
            w = np.array(prof, dtype=float)
        else:
            f = 1.0 if wf is None else wf
            w = _week(list(prof), [x * f for x in prof])
    elif prof is ProfilePreset.FLAT:
        f = 1.0 if wf is None else wf
        w = _week([1.0] * 24, [f] * 24)
    elif prof is ProfilePreset.OFFICE_CHAT:
        f = _BURSTGPT_WEEKEND_FACTOR if wf is None else wf
        w = _week(_BURSTGPT_CHAT_WEEKDAY, [x * f for x in _BURSTGPT_CHAT_WEEKDAY])
    else:
        day, end = _AZURE_CODING if prof is ProfilePreset.BUSINESS_HOURS else _AZURE_CONVERSATION
        if wf is not None:
            mean_day = sum(day) / 24.0
            end = [x * wf / mean_day for x in day]
        w = _week(day, end)
    return w / w.mean()


def hourly_request_rates(traffic: TrafficSpec, volume_factor: float = 1.0) -> FloatArray:
    """Mean requests/s in each of the 168 hours of a week, first year.

    rps[h] = daily requests / 86400 s x weight[h] (weights have mean 1), so the week
    holds 7 x daily requests.
    """
    daily = traffic.daily_requests * volume_factor
    return daily / (24.0 * SECONDS_PER_HOUR) * weekly_weights(traffic)


def monthly_demand(traffic: TrafficSpec, months: int, volume_factor: float = 1.0) -> FloatArray:
    """``rps[m, h]`` for m = 0..months; row 0 is zero, growth steps once a year."""
    base = hourly_request_rates(traffic, volume_factor)
    out = np.zeros((months + 1, HOURS_PER_WEEK))
    for m in range(1, months + 1):
        out[m] = base * (1.0 + traffic.growth_per_year) ** ((m - 1) // 12)
    return out


def requests_per_month(rps: FloatArray) -> FloatArray:
    """Requests in each month from ``rps[..., 168]``: sum_h rps x 3600 s x 730/168."""
    return np.asarray(rps.sum(axis=-1) * SECONDS_PER_HOUR * WEEKS_PER_MONTH, dtype=float)


def sizing_output_tokens_per_s(rps: FloatArray, traffic: TrafficSpec) -> FloatArray:
    """Output tokens/s to size for: rps x mean output tokens x intra-hour peak factor."""
    return rps * traffic.output_tokens_mean * traffic.peak_to_mean_within_hour


def replicas_needed(
    output_tokens_per_s: FloatArray | float,
    throughput_per_replica_tokens_per_s: float,
    target_utilisation: float,
) -> FloatArray:
    """Replicas to serve a load: ceil(tokens/s / (throughput per replica x target)).

    Pure and vectorised; the planner calls it with predicted throughput.
    ``output_tokens_per_s`` may be a scalar or an array (one value per hour).

    >>> int(replicas_needed(2500.0, 1000.0, 0.8))
    4
    """
    if throughput_per_replica_tokens_per_s <= 0:
        raise ValueError("throughput_per_replica_tokens_per_s must be > 0")
    if not 0 < target_utilisation <= 1:
        raise ValueError("target_utilisation must be in (0, 1]")
    ratio = np.asarray(output_tokens_per_s, dtype=float) / (
        throughput_per_replica_tokens_per_s * target_utilisation
    )
    # round first so 2.0000000001 from float noise does not become 3
    return np.asarray(np.ceil(np.round(ratio, 9)), dtype=float)


def units_for_replicas(
    replicas: FloatArray | float, gpus_per_replica: int, gpus_per_unit: int
) -> FloatArray:
    """Servers (or cloud nodes) that hold ``replicas``: ceil(replicas x gpus / gpus per unit)."""
    r = np.asarray(replicas, dtype=float)
    return np.asarray(np.ceil(np.round(r * gpus_per_replica / gpus_per_unit, 9)), dtype=float)


def replicas_in_units(units: float, gpus_per_replica: int, gpus_per_unit: int) -> float:
    """Whole replicas that fit in ``units`` servers or nodes."""
    return float(np.floor(units * gpus_per_unit / gpus_per_replica + 1e-9))


__all__ = [
    "HOURS_PER_WEEK",
    "WEEKS_PER_MONTH",
    "hourly_request_rates",
    "monthly_demand",
    "replicas_in_units",
    "replicas_needed",
    "requests_per_month",
    "sizing_output_tokens_per_s",
    "units_for_replicas",
    "weekly_weights",
]
