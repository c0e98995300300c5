"""``/api/v1/catalog``: list, search and show the sourced catalog records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from inferplan.api.schemas import CatalogItem, CatalogKind, CatalogKindOut, CatalogList
from inferplan.service.catalog_views import (
    CatalogEntry,
    catalog_entry,
    catalog_kinds,
    search_catalog,
)

router = APIRouter(prefix="/catalog", tags=["catalog"])

def item(entry: CatalogEntry) -> CatalogItem:
    return CatalogItem(id=entry.id, name=entry.name, section=entry.section,
                       source=entry.source, as_of=entry.as_of, record=entry.record)


@router.get("", response_model=list[CatalogKindOut], summary="The catalogs")
def kinds() -> list[CatalogKindOut]:
    return [CatalogKindOut(kind=k, count=n, description=d)
            for k, n, d in catalog_kinds()]


@router.get("/{kind}", response_model=CatalogList, summary="List or search one catalog")
def list_catalog(
    kind: CatalogKind,
    q: Annotated[str | None, Query(max_length=100, description="search text")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> CatalogList:
    items = [item(e) for e in search_catalog(kind, q)]
    return CatalogList(kind=kind, total=len(items), items=items[offset : offset + limit])


@router.get("/{kind}/{record_id}", response_model=CatalogItem,
            responses={404: {"description": "no such record"}}, summary="One catalog record")
def show(kind: CatalogKind, record_id: Annotated[str, Path(max_length=200)]) -> CatalogItem:
    entry = catalog_entry(kind, record_id)
    if entry is None:
        what = "price record" if kind == "prices" else kind.rstrip("s")
        raise HTTPException(404, f"no {what} '{record_id}'")
    return item(entry)
