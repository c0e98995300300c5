"""Loader for the dataset length catalog (``data/datasets.yaml``): public datasets' published
request-length statistics, each with its source and date. Nothing is read at import time.
"""

from __future__ import annotations

from inferplan.catalog.loader import Catalog, cached_catalog
from inferplan.errors import SpecError, UnknownIdError
from inferplan.specs.dataset import DatasetSpec

DATASETS_FILE = "datasets.yaml"


def load_datasets() -> Catalog[DatasetSpec]:
    """Every dataset in ``data/datasets.yaml`` (read once, then cached).

    >>> load_datasets().get("ShareGPT").input.mean
    161.31
    """
    return cached_catalog("dataset", DATASETS_FILE, DatasetSpec)


def get_dataset(name: str, field: str = "dataset") -> DatasetSpec:
    """The dataset called ``name`` (id, display name or alias; case, ``_`` and spaces ignored).

    An unknown name raises one :class:`SpecError` on ``field`` listing the allowed ids.
    """
    cat = load_datasets()
    try:
        return cat.get(name, field)
    except UnknownIdError:
        pass
    for rec in cat:  # the display name also works ("LongBench GovReport")
        if rec.name.strip().lower() == name.strip().lower():
            return rec
    raise SpecError(field, f"unknown dataset {name!r}; allowed: {', '.join(cat.ids())}")


__all__ = ["DATASETS_FILE", "get_dataset", "load_datasets"]
