"""The in-memory price catalog (:class:`PriceCatalog`) and the scenario's overrides of
its rows (:func:`apply_price_overrides`). Pure: :func:`inferplan.catalog.prices.load_prices`
fills it from the shipped files, and the cost model receives it as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from inferplan.catalog.records import Catalog, format_validation_error
from inferplan.errors import SpecError
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

    >>> from inferplan.catalog.prices import load_prices, load_regions
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


__all__ = ["PriceCatalog", "apply_price_overrides"]
