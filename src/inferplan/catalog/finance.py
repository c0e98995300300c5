"""Loader for the finance defaults (``data/finance.yaml``): facility build cost per kW,
facility life, staff for rented GPUs, server draw at serving load, exchange rates and
corporate tax rates. Each row is a :class:`~inferplan.specs.prices.RateRecord` with its
source and date. Nothing is read at import time.
"""

from __future__ import annotations

from inferplan.catalog.loader import Catalog, cached_catalog
from inferplan.specs.prices import RateRecord

FINANCE_FILE = "finance.yaml"


def load_finance() -> Catalog[RateRecord]:
    """The shipped finance defaults, read once per process."""
    return cached_catalog("finance", FINANCE_FILE, RateRecord)


__all__ = ["FINANCE_FILE", "load_finance"]
