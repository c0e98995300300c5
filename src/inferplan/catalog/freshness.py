"""Which catalog figures are stale: older than a number of months on a given date.

Every catalog record carries ``as_of`` (the date its source was read or published).
A figure behind a recommendation that is more than 12 months old should be flagged to
the reader: GPU cloud prices fell by up to 45% in one 2025 cut (prices.yaml notes on
AWS p5), so a year-old price can mislead. :func:`stale_figures` is pure: the caller
passes the records and the reference date (the report's date), nothing is read here.

Example:
    >>> import datetime as dt
    >>> from inferplan.catalog.prices import load_prices
    >>> old = stale_figures(load_prices().servers, dt.date(2026, 12, 1))
    >>> [f.id for f in old][:1]
    ['dgx-h100']
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

#: Age beyond which a figure is flagged (the report's rule: older than 12 months).
MAX_AGE_MONTHS = 12


class Dated(Protocol):
    """Any catalog record: an id, a source and the date it was read."""

    @property
    def id(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def as_of(self) -> dt.date: ...


@dataclass(frozen=True)
class StaleFigure:
    """One record older than the limit: its id, source, date and age in days."""

    id: str
    source: str
    as_of: dt.date
    age_days: int


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped to the month's end).

    >>> months_before(dt.date(2026, 3, 31), 1)
    datetime.date(2026, 2, 28)
    """
    if months < 0:
        raise ValueError("months must be >= 0")
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def stale_figures(
    records: Iterable[Dated], on: dt.date, max_age_months: int = MAX_AGE_MONTHS
) -> list[StaleFigure]:
    """Records whose ``as_of`` is before ``on`` minus ``max_age_months`` months, oldest
    first. A record dated exactly 12 months before ``on`` is not yet stale.

    >>> from types import SimpleNamespace as R
    >>> recs = [R(id="a", source="s", as_of=dt.date(2025, 6, 1)),
    ...         R(id="b", source="s", as_of=dt.date(2025, 6, 2))]
    >>> [f.id for f in stale_figures(recs, dt.date(2026, 6, 2))]
    ['a']
    """
    cutoff = months_before(on, max_age_months)
    out = [
        StaleFigure(id=r.id, source=r.source, as_of=r.as_of, age_days=(on - r.as_of).days)
        for r in records
        if r.as_of < cutoff
    ]
    return sorted(out, key=lambda f: (f.as_of, f.id))


__all__ = ["MAX_AGE_MONTHS", "StaleFigure", "months_before", "stale_figures"]
