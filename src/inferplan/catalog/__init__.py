"""Shipped catalog data (YAML) and its lazy loaders (layer 2)."""

from __future__ import annotations

from inferplan.catalog.loader import Catalog, cached_catalog, parse_records, read_yaml
from inferplan.specs.engine import EngineSpec
from inferplan.specs.hardware import AcceleratorSpec
from inferplan.specs.model import ModelSpec


def load_accelerators() -> Catalog[AcceleratorSpec]:
    """Every accelerator in ``data/accelerators.yaml``."""
    return cached_catalog("accelerator", "accelerators.yaml", AcceleratorSpec)


def load_models() -> Catalog[ModelSpec]:
    """Every model in ``data/models.yaml``."""
    return cached_catalog("model", "models.yaml", ModelSpec)


def load_engines() -> Catalog[EngineSpec]:
    """Every engine profile in ``data/engines.yaml``."""
    return cached_catalog("engine", "engines.yaml", EngineSpec)


__all__ = [
    "Catalog",
    "cached_catalog",
    "load_accelerators",
    "load_engines",
    "load_models",
    "parse_records",
    "read_yaml",
]
