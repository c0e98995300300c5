"""Check API options against the SLO with published latency measurements.

``catalog/data/api_latency.yaml`` holds dated public measurements per API offer
(:class:`~inferplan.specs.api_latency.ApiLatencyRecord`). An offer is *verified*
when the source gives the SLO's percentile (p95: TTFT and the slow-tail output
speed, TPOT = 1 / tokens per second) or when even its median misses the target;
an offer with medians only, or with no measurement, is "latency not verified": it
is never presented as meeting the target.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferplan.catalog.loader import Catalog, cached_catalog
from inferplan.specs.api_latency import ApiLatencyRecord
from inferplan.specs.plan import SloSpec

API_LATENCY_FILE = "api_latency.yaml"
TAIL_PERCENTILE = 90.0
"""SLO percentiles at or above this need the source's p95 figures to be verified."""


def load_api_latency() -> Catalog[ApiLatencyRecord]:
    """Every published API latency record (read once per process)."""
    return cached_catalog("api latency", API_LATENCY_FILE, ApiLatencyRecord)


@dataclass(frozen=True, slots=True)
class ApiLatencyVerdict:
    """verified: the SLO check rests on published figures; meets: their verdict."""

    verified: bool
    meets: bool | None
    note: str


def _below_every_published_median(slo: SloSpec) -> str | None:
    """Why no API can meet ``slo``: a target below the fastest median TTFT or TPOT on
    record (a median is a lower bound of the p95 an SLO asks for), else None."""
    records = list(load_api_latency())
    if not records:
        return None
    fast_ttft = min(records, key=lambda r: r.ttft_p50_s)
    fast_tpot = max(records, key=lambda r: r.output_tokens_per_s_p50)
    if slo.ttft_ms < fast_ttft.ttft_p50_s * 1e3:
        return (
            f"the TTFT target of {slo.ttft_ms:g} ms is below the fastest median TTFT "
            f"published for any API ({fast_ttft.ttft_p50_s * 1e3:,.0f} ms, {fast_ttft.api}, "
            f"{fast_ttft.as_of})"
        )
    if slo.tpot_ms < 1e3 / fast_tpot.output_tokens_per_s_p50:
        return (
            f"the TPOT target of {slo.tpot_ms:g} ms is below the fastest median TPOT "
            f"published for any API ({1e3 / fast_tpot.output_tokens_per_s_p50:.1f} ms, "
            f"{fast_tpot.api}, {fast_tpot.as_of})"
        )
    return None


def check_api_latency(api_id: str, slo: SloSpec) -> ApiLatencyVerdict:
    """Verdict for one API offer (price-catalog id) against the SLO.

    An offer without p95 figures is rejected all the same when the target is faster
    than any API's published median: no measurement on record makes it plausible.
    """
    rec = next((r for r in load_api_latency() if r.api == api_id), None)
    floor = _below_every_published_median(slo)
    if floor is not None and (
        rec is None or rec.ttft_p95_s is None or rec.output_tokens_per_s_p95_slow is None
    ):
        return ApiLatencyVerdict(True, False, floor)
    if rec is None:
        return ApiLatencyVerdict(
            False,
            None,
            f"latency not verified: no published measurement of {api_id}'s time to first "
            "token and output speed",
        )
    cite = f"{rec.source.split(' ')[0]}, {rec.as_of}"
    med_ttft_ms = rec.ttft_p50_s * 1e3
    med_tpot_ms = 1e3 / rec.output_tokens_per_s_p50
    if med_ttft_ms > slo.ttft_ms or med_tpot_ms > slo.tpot_ms:
        return ApiLatencyVerdict(
            True,
            False,
            f"its published median TTFT is {med_ttft_ms:,.0f} ms and TPOT {med_tpot_ms:.1f} ms; "
            f"the targets are {slo.ttft_ms:g} and {slo.tpot_ms:g} ms at p{slo.percentile:g} "
            f"({cite})",
        )
    if slo.percentile >= TAIL_PERCENTILE:
        if rec.ttft_p95_s is None or rec.output_tokens_per_s_p95_slow is None:
            return ApiLatencyVerdict(
                False,
                None,
                f"latency not verified: only medians are published (TTFT {med_ttft_ms:,.0f} ms, "
                f"TPOT {med_tpot_ms:.1f} ms; {cite}), not the p{slo.percentile:g} of the target",
            )
        ttft_ms = rec.ttft_p95_s * 1e3
        tpot_ms = 1e3 / rec.output_tokens_per_s_p95_slow
        label = "p95"
    else:
        ttft_ms, tpot_ms, label = med_ttft_ms, med_tpot_ms, "median"
    meets = ttft_ms <= slo.ttft_ms and tpot_ms <= slo.tpot_ms
    return ApiLatencyVerdict(
        True,
        meets,
        f"published {label} TTFT {ttft_ms:,.0f} ms, TPOT {tpot_ms:.1f} ms "
        f"(targets {slo.ttft_ms:g} / {slo.tpot_ms:g} ms; {cite})",
    )


__all__ = ["ApiLatencyVerdict", "check_api_latency", "load_api_latency"]
