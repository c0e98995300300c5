"""Loaders for the price catalog (``data/prices.yaml``) and electricity regions
(``data/regions.yaml``), and the application of a scenario's ``price_overrides``.

``prices.yaml`` holds one list per record kind (``servers``, ``gpus``, ``cloud``,
``api``, ``rates``, ``uncertainty``); each list is validated like any other
catalog (every row needs ``source`` and ``as_of``). Nothing is read at import time.

Rows are joined to the other catalogs through canonical ids (:func:`canonicalize`):
a row may name an accelerator, model or provider by id or alias, and is rewritten to
the id, so that ``row.accelerator == accelerator.id`` holds for every consumer. An
accelerator or provider no catalog knows is an error naming the row; a model the model
catalog does not hold (a closed API model) keeps its name. End-of-life hardware rows
(``end_of_life: true``) are left out unless asked for.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.finance import load_finance, load_finance_uncertainty
from inferplan.catalog.loader import (
    Catalog,
    cached_catalog,
    cached_parsed,
    parse_records,
)
from inferplan.catalog.price_catalog import PriceCatalog, apply_price_overrides
from inferplan.catalog.providers import load_providers
from inferplan.errors import CatalogError
from inferplan.specs.hardware import AcceleratorSpec
from inferplan.specs.model import ModelSpec
from inferplan.specs.prices import (
    ApiPriceRecord,
    CloudPriceRecord,
    GpuPriceRecord,
    RateRecord,
    RegionRecord,
    ServerPriceRecord,
    UncertaintyRecord,
)

T = TypeVar("T", bound=BaseModel)

PRICES_FILE = "prices.yaml"
REGIONS_FILE = "regions.yaml"


_SECTIONS: dict[str, type[BaseModel]] = {
    "servers": ServerPriceRecord,
    "gpus": GpuPriceRecord,
    "cloud": CloudPriceRecord,
    "api": ApiPriceRecord,
    "rates": RateRecord,
    "uncertainty": UncertaintyRecord,
}


def parse_prices(raw: Any, origin: str = PRICES_FILE) -> PriceCatalog:
    """Validate the raw content of a prices file into a :class:`PriceCatalog`."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{origin}: expected a mapping of sections")
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise CatalogError(f"{origin}: unknown section(s) {', '.join(unknown)}")
    cats: dict[str, Catalog[Any]] = {}
    for name, model in _SECTIONS.items():
        rows = raw.get(name) or []
        recs = parse_records(name, {"records": rows}, model, origin)
        cats[name] = Catalog(name, recs)
    ids = {r.id for r in cats["servers"]}
    for r in cats["servers"]:
        if r.superseded_by is not None and r.superseded_by not in ids:
            raise CatalogError(
                f"{origin}: servers '{r.id}': superseded_by '{r.superseded_by}' is not a "
                "server row"
            )
    return PriceCatalog(**cats)


class _Lookup(Protocol):
    def __contains__(self, key: object) -> bool: ...

    def get(self, key: str, field: str | None = None) -> Any: ...


def _canonical(cat: _Lookup, key: str, what: str, row: str, origin: str) -> str:
    if key not in cat:
        raise CatalogError(f"{origin}: {row}: {what} '{key}' is not in the {what} catalog")
    return str(cat.get(key).id)


def canonicalize(
    prices: PriceCatalog,
    accelerators: Catalog[AcceleratorSpec],
    models: Catalog[ModelSpec],
    providers: _Lookup,
    origin: str = PRICES_FILE,
) -> PriceCatalog:
    """Rewrite every row's ``accelerator``, ``model`` and ``provider`` to catalog ids.

    Aliases resolve to ids (``b200`` -> ``b200-180gb``, ``mistral`` -> ``mistral-api``);
    an unknown accelerator or provider raises :class:`CatalogError` naming the row; a
    model not in ``models`` (a closed API model such as ``gpt-4o``) keeps its name.

    >>> p = canonicalize(load_prices(), load_accelerators(), load_models(), load_providers())
    >>> p.cloud.get("lambda-8x-b200").accelerator
    'b200-180gb'
    """

    def acc(kind: str, rows: Catalog[T]) -> Catalog[T]:
        out = []
        for r in rows:
            name = f"{kind} '{getattr(r, 'id')}'"  # noqa: B009
            changes: dict[str, str] = {
                "accelerator": _canonical(
                    accelerators, getattr(r, "accelerator"), "accelerator", name, origin  # noqa: B009
                )
            }
            if hasattr(r, "provider"):
                changes["provider"] = _canonical(
                    providers, getattr(r, "provider"), "provider", name, origin  # noqa: B009
                )
            out.append(r.model_copy(update=changes))
        return Catalog(rows.kind, out)

    api = []
    for r in prices.api:
        name = f"api '{r.id}'"
        model = models.get(r.model).id if r.model in models else r.model
        provider = _canonical(providers, r.provider, "provider", name, origin)
        api.append(r.model_copy(update={"model": model, "provider": provider}))
    return replace(
        prices,
        servers=acc("servers", prices.servers),
        gpus=acc("gpus", prices.gpus),
        cloud=acc("cloud", prices.cloud),
        api=Catalog(prices.api.kind, api),
    )


def _parse_canonical(raw: Any, origin: str) -> PriceCatalog:
    return canonicalize(
        parse_prices(raw, origin), load_accelerators(), load_models(), load_providers(), origin
    )


def load_prices(include_end_of_life: bool = False) -> PriceCatalog:
    """The shipped price catalog merged with the user's ``prices.yaml`` (read once per
    content), rows joined to catalog ids; end-of-life server and GPU purchase rows only
    when ``include_end_of_life``; with the finance defaults and their uncertainty rows
    (:mod:`inferplan.catalog.finance`) in ``finance`` and ``finance_uncertainty``."""
    prices = cached_parsed(PRICES_FILE, _parse_canonical)
    prices = replace(
        prices, finance=load_finance(), finance_uncertainty=load_finance_uncertainty()
    )
    return prices if include_end_of_life else prices.without_end_of_life()


def load_regions() -> Catalog[RegionRecord]:
    """Every electricity region in ``data/regions.yaml``."""
    return cached_catalog("region", REGIONS_FILE, RegionRecord)


__all__ = [
    "PriceCatalog",
    "apply_price_overrides",
    "canonicalize",
    "load_prices",
    "load_regions",
    "parse_prices",
]
