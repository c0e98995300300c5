"""Loader for the finance defaults (``data/finance.yaml``): facility build cost per kW,
facility life, staff for rented GPUs, server draw at serving load, exchange rates and
corporate tax rates. Each row is a :class:`~inferplan.specs.prices.RateRecord` with its
source and date. Nothing is read at import time.
"""

from __future__ import annotations

from inferplan.catalog.loader import Catalog, cached_catalog
from inferplan.specs.prices import RateRecord, UncertaintyRecord

FINANCE_FILE = "finance.yaml"
FINANCE_UNCERTAINTY_FILE = "finance_uncertainty.yaml"


def load_finance() -> Catalog[RateRecord]:
    """The shipped finance defaults, read once per process."""
    return cached_catalog("finance", FINANCE_FILE, RateRecord)


def load_finance_uncertainty() -> Catalog[UncertaintyRecord]:
    """Monte Carlo ranges that take precedence over the price catalog's own rows."""
    return cached_catalog("finance-uncertainty", FINANCE_UNCERTAINTY_FILE, UncertaintyRecord)


__all__ = ["FINANCE_FILE", "FINANCE_UNCERTAINTY_FILE", "load_finance", "load_finance_uncertainty"]
