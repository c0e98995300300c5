"""The catalog as the service shows it: the kinds, search, one record with its source.

Used by the REST API (``/api/v1/catalog``) and the web UI alike. Records come
from :mod:`inferplan.catalog` as plain JSON mappings, each with its ``source`` and
``as_of`` date; prices carry the section (``servers``, ``cloud``, ``api``, ...)
they are listed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers

CatalogKind = Literal["accelerators", "models", "engines", "providers", "prices", "regions"]
"""The catalogs the service shows (a path parameter of the API and the web pages)."""

DESCRIPTIONS: dict[str, str] = {
    "accelerators": "GPUs and other accelerators: memory, bandwidth, peak FLOP/s, power",
    "models": "model architectures: layers, heads, experts, context",
    "engines": "serving engine profiles: memory overheads, scheduler limits, efficiencies",
    "providers": "cloud and API providers with their regions and certifications",
    "prices": "server, GPU, cloud, API prices and rates",
    "regions": "electricity price and grid carbon intensity per region",
}
SEARCH_FIELDS = ("id", "name", "aliases", "family", "vendor", "provider", "kind", "accelerator",
                 "country", "model")
LOADERS: dict[str, Any] = {
    "accelerators": load_accelerators,
    "models": load_models,
    "engines": load_engines,
    "providers": load_providers,
    "regions": load_regions,
}


@dataclass(frozen=True)
class CatalogEntry:
    """One record: id, display name, price section, source and date, the record."""

    id: str
    name: str | None
    section: str | None
    source: str | None
    as_of: str | None
    record: dict[str, Any]


def _records(kind: str) -> list[tuple[str | None, BaseModel]]:
    if kind == "prices":
        return [(name, r) for name, cat in load_prices().sections().items() for r in cat]
    return [(None, r) for r in LOADERS[kind]()]


def _entry(section: str | None, rec: BaseModel) -> CatalogEntry:
    d = rec.model_dump(mode="json")
    return CatalogEntry(
        id=str(d.get("id")),
        name=str(d["name"]) if d.get("name") else None,
        section=section,
        source=str(d["source"]) if d.get("source") else None,
        as_of=str(d["as_of"]) if d.get("as_of") else None,
        record=d,
    )


def _matches(entry: CatalogEntry, q: str) -> bool:
    needle = q.lower()
    for key in SEARCH_FIELDS:
        v = entry.record.get(key)
        values = v if isinstance(v, list) else [v]
        if any(needle in str(x).lower() for x in values if x is not None):
            return True
    return entry.section is not None and needle in entry.section


def catalog_kinds() -> list[tuple[str, int, str]]:
    """``(kind, record count, description)`` of every catalog."""
    return [(k, len(_records(k)), d) for k, d in DESCRIPTIONS.items()]


def search_catalog(kind: str, q: str | None = None) -> list[CatalogEntry]:
    """The records of ``kind`` whose identifying fields contain ``q`` (any case)."""
    entries = [_entry(s, r) for s, r in _records(kind)]
    return [e for e in entries if _matches(e, q)] if q else entries


def catalog_entry(kind: str, record_id: str) -> CatalogEntry | None:
    """One record by id or alias (None when there is none)."""
    if kind == "prices":
        found = load_prices().find(record_id)
        return None if found is None else _entry(found[0], found[1])
    cat = LOADERS[kind]()
    return _entry(None, cat.get(record_id)) if record_id in cat else None


__all__ = ["DESCRIPTIONS", "CatalogEntry", "catalog_entry", "catalog_kinds", "search_catalog"]
