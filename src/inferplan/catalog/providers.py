"""Loader for the provider and region catalog (``data/providers.yaml``)."""

from __future__ import annotations

from inferplan.catalog.loader import Catalog, cached_catalog
from inferplan.specs.provider import ProviderSpec


def load_providers() -> Catalog[ProviderSpec]:
    """Every provider offering in ``data/providers.yaml`` (read once, then cached).

    >>> load_providers().get("aws").regions[0].country
    'DE'
    """
    return cached_catalog("provider", "providers.yaml", ProviderSpec)


__all__ = ["load_providers"]
