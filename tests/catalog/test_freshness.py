"""The staleness rule: a figure is flagged when its as_of is more than 12 months old."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from inferplan.catalog.freshness import months_before, stale_figures
from inferplan.catalog.prices import load_prices


def rec(rid: str, as_of: dt.date) -> SimpleNamespace:
    return SimpleNamespace(id=rid, source=f"https://example.org/{rid}", as_of=as_of)


def test_twelve_calendar_months_is_the_boundary() -> None:
    on = dt.date(2026, 12, 4)
    recs = [rec("edge", dt.date(2025, 12, 4)), rec("older", dt.date(2025, 12, 3)),
            rec("new", dt.date(2026, 11, 1))]
    out = stale_figures(recs, on)
    assert [f.id for f in out] == ["older"]
    # 2025-12-03 to 2026-12-04: 366 days (no 29 February in between)
    assert out[0].age_days == 366 and out[0].source.endswith("older")


def test_month_arithmetic_clamps_to_month_end() -> None:
    assert months_before(dt.date(2024, 2, 29), 12) == dt.date(2023, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)
    with pytest.raises(ValueError):
        months_before(dt.date(2026, 1, 1), -1)


def test_oldest_first_and_custom_window() -> None:
    on = dt.date(2026, 6, 30)
    recs = [rec("b", dt.date(2024, 1, 1)), rec("a", dt.date(2023, 1, 1)),
            rec("c", dt.date(2026, 1, 1))]
    assert [f.id for f in stale_figures(recs, on)] == ["a", "b"]
    assert [f.id for f in stale_figures(recs, on, max_age_months=3)] == ["a", "b", "c"]


def test_shipped_launch_prices_are_flagged() -> None:
    # the May 2023 DGX H100 sale price is more than a year old on 1 Dec 2026
    ids = {f.id for f in stale_figures(load_prices().servers, dt.date(2026, 12, 1))}
    assert "dgx-h100" in ids
