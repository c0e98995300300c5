"""``/api/v1/catalog``: list, search and show the sourced catalog records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel

from inferplan.api.schemas import CatalogItem, CatalogKind, CatalogKindOut, CatalogList
from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers

router = APIRouter(prefix="/catalog", tags=["catalog"])

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


def records(kind: str) -> list[tuple[str | None, BaseModel]]:
    """``(section, record)`` pairs of a catalog (the section only for prices)."""
    if kind == "prices":
        return [(name, r) for name, cat in load_prices().sections().items() for r in cat]
    return [(None, r) for r in LOADERS[kind]()]


def item(section: str | None, rec: BaseModel) -> CatalogItem:
    d = rec.model_dump(mode="json")
    return CatalogItem(
        id=str(d.get("id")),
        name=str(d["name"]) if d.get("name") else None,
        section=section,
        source=str(d["source"]) if d.get("source") else None,
        as_of=str(d["as_of"]) if d.get("as_of") else None,
        record=d,
    )


def matches(rec: CatalogItem, q: str) -> bool:
    """Case-insensitive substring match of ``q`` in the record's identifying fields."""
    needle = q.lower()
    for key in SEARCH_FIELDS:
        v = rec.record.get(key)
        values = v if isinstance(v, list) else [v]
        if any(needle in str(x).lower() for x in values if x is not None):
            return True
    return rec.section is not None and needle in rec.section


@router.get("", response_model=list[CatalogKindOut], summary="The catalogs")
def kinds() -> list[CatalogKindOut]:
    return [
        CatalogKindOut(kind=k, count=len(records(k)), description=d)
        for k, d in DESCRIPTIONS.items()
    ]


@router.get("/{kind}", response_model=CatalogList, summary="List or search one catalog")
def list_catalog(
    kind: CatalogKind,
    q: Annotated[str | None, Query(max_length=100, description="search text")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> CatalogList:
    items = [item(s, r) for s, r in records(kind)]
    if q:
        items = [i for i in items if matches(i, q)]
    return CatalogList(kind=kind, total=len(items), items=items[offset : offset + limit])


@router.get("/{kind}/{record_id}", response_model=CatalogItem,
            responses={404: {"description": "no such record"}}, summary="One catalog record")
def show(kind: CatalogKind, record_id: Annotated[str, Path(max_length=200)]) -> CatalogItem:
    if kind == "prices":
        found = load_prices().find(record_id)
        if found is None:
            raise HTTPException(404, f"no price record '{record_id}'")
        return item(found[0], found[1])
    cat = LOADERS[kind]()
    if record_id not in cat:
        raise HTTPException(404, f"no {kind.rstrip('s')} '{record_id}'")
    return item(None, cat.get(record_id))
