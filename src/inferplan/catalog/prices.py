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

from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.finance import load_finance, load_finance_uncertainty
from inferplan.catalog.loader import (
    Catalog,
    cached_catalog,
    cached_parsed,
    format_validation_error,
    parse_records,
)
from inferplan.catalog.providers import load_providers
from inferplan.errors import CatalogError, SpecError
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


@dataclass(frozen=True)
class PriceCatalog:
    """Every price-catalog section, each an id-indexed :class:`Catalog`, and the finance
    defaults the cost model reads beside them.

    ``finance`` (``data/finance.yaml``: facility cost per kW, staff, exchange and tax
    rates) and ``finance_uncertainty`` (``data/finance_uncertainty.yaml``: Monte Carlo
    ranges that take precedence over ``uncertainty``) are filled by :func:`load_prices`;
    :func:`parse_prices` leaves them empty. They are not price sections: scenario
    ``price_overrides`` do not reach them.
    """

    servers: Catalog[ServerPriceRecord]
    gpus: Catalog[GpuPriceRecord]
    cloud: Catalog[CloudPriceRecord]
    api: Catalog[ApiPriceRecord]
    rates: Catalog[RateRecord]
    uncertainty: Catalog[UncertaintyRecord]
    finance: Catalog[RateRecord] = field(default_factory=lambda: Catalog("finance", []))
    finance_uncertainty: Catalog[UncertaintyRecord] = field(
        default_factory=lambda: Catalog("finance-uncertainty", [])
    )

    def sections(self) -> dict[str, Catalog[Any]]:
        """Section name -> catalog, in file order."""
        return {
            "servers": self.servers,
            "gpus": self.gpus,
            "cloud": self.cloud,
            "api": self.api,
            "rates": self.rates,
            "uncertainty": self.uncertainty,
        }

    def find(self, record_id: str) -> tuple[str, Any] | None:
        """``(section, record)`` for an id or alias in any section, else None."""
        for name, cat in self.sections().items():
            if record_id in cat:
                return name, cat.get(record_id)
        return None

    def rate(self, record_id: str) -> float:
        """The ``value`` of a rates row (raises if the shipped row is missing)."""
        return self.rates.get(record_id).value

    def without_end_of_life(self) -> PriceCatalog:
        """The catalog with end-of-life server and GPU purchase rows left out."""
        return replace(
            self,
            servers=Catalog(self.servers.kind, [r for r in self.servers if not r.end_of_life]),
            gpus=Catalog(self.gpus.kind, [r for r in self.gpus if not r.end_of_life]),
        )


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


def _updated(rec: T, changes: dict[str, Any], field: str) -> T:
    if not isinstance(changes, dict):
        raise SpecError(field, "expected a mapping of field: value")
    data = rec.model_dump()
    for key in changes:
        if key not in data and key != "electricity_usd_per_kwh":
            allowed = ", ".join(k for k in data if k not in ("id", "aliases"))
            raise SpecError(f"{field}.{key}", f"unknown field; allowed: {allowed}")
        if key in ("id", "aliases"):
            raise SpecError(f"{field}.{key}", "the id of a record cannot be overridden")
    merged = {**data, **changes}
    if "electricity_usd_per_kwh" in changes:
        merged.pop("electricity_usd_per_kwh")
        merged.update(
            electricity_price_local_per_kwh=changes["electricity_usd_per_kwh"],
            currency="USD",
            usd_per_local_unit=1.0,
        )
    merged["notes"] = (str(data.get("notes", "")) + " [overridden by the scenario]").strip()
    try:
        return type(rec).model_validate(merged)
    except ValidationError as exc:
        raise SpecError(field, format_validation_error(exc)) from None


def _replace_in(cat: Catalog[T], rid: str, new: T) -> Catalog[T]:
    target = cat.get(rid)
    return Catalog(cat.kind, [new if r is target else r for r in cat])


def apply_price_overrides(
    prices: PriceCatalog,
    regions: Catalog[RegionRecord],
    overrides: dict[str, dict[str, Any]] | None,
) -> tuple[PriceCatalog, Catalog[RegionRecord]]:
    """Return catalogs with ``overrides`` (record id -> {field: value}) applied.

    An id is looked up in every price section, then in the regions. Unknown ids
    and unknown fields raise :class:`SpecError` naming ``price_overrides.<id>``.
    Overridden rows keep their source; their notes say they were overridden.

    >>> p, r = apply_price_overrides(load_prices(), load_regions(),
    ...     {"us-va": {"electricity_usd_per_kwh": 0.1}})
    >>> r.get("us-va").electricity_usd_per_kwh
    0.1
    """
    if not overrides:
        return prices, regions
    for rid, changes in overrides.items():
        field = f"price_overrides.{rid}"
        hit = prices.find(rid)
        if hit is not None:
            section, rec = hit
            new = _updated(rec, changes, field)
            cats = prices.sections()
            prices = replace(prices, **{section: _replace_in(cats[section], rec.id, new)})
        elif rid in regions:
            rec_r = regions.get(rid)
            regions = _replace_in(regions, rec_r.id, _updated(rec_r, changes, field))
        else:
            raise SpecError(field, "no price-catalog or region record has this id")
    return prices, regions


__all__ = [
    "PriceCatalog",
    "apply_price_overrides",
    "canonicalize",
    "load_prices",
    "load_regions",
    "parse_prices",
]
