"""The cost model reads no catalog itself: the finance defaults travel in the price
catalog it is given (``PriceCatalog.finance`` / ``finance_uncertainty``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tco_fixtures import CLOUD

from inferplan.catalog.loader import Catalog
from inferplan.catalog.prices import PriceCatalog
from inferplan.errors import SpecError
from inferplan.specs.prices import RegionRecord, UncertaintyRecord
from inferplan.tco import compare_tco, factor_ranges


def _cloud_with_default_staff() -> dict[str, Any]:
    opt = dict(CLOUD)
    opt.pop("staff_fte")  # staff FTE then comes from the finance row mlops-fte-rented
    return opt


def test_load_prices_carries_the_shipped_finance_rows(prices: PriceCatalog) -> None:
    assert "mlops-fte-rented" in prices.finance
    assert "fx-eur" in prices.finance
    assert any(r.factor == "cloud_price" for r in prices.finance_uncertainty)


def test_the_finance_rows_of_the_given_catalog_are_the_ones_priced(
    build: Any, prices: PriceCatalog, regions: Catalog[RegionRecord]
) -> None:
    s = build([_cloud_with_default_staff()])
    row = prices.finance.get("mlops-fte-rented")
    salary = prices.rate("staff-loaded-cost")
    doubled = Catalog(
        "finance",
        [replace_rate(r, 2 * row.value) if r.id == row.id else r for r in prices.finance],
    )
    base = compare_tco(s, prices, regions).options[0]
    more = compare_tco(s, replace(prices, finance=doubled), regions).options[0]
    # staff cost = FTE x salary x months / 12 (rented.py); twice the FTE, twice the cost
    months = s.finance.horizon_months
    assert base.breakdown_usd["staff"] > 0
    assert more.breakdown_usd["staff"] == pytest.approx(2 * base.breakdown_usd["staff"])
    # escalation is zero in the fixture, so the base is FTE x salary x years exactly
    assert base.breakdown_usd["staff"] == pytest.approx(row.value * salary * months / 12)


def test_a_catalog_without_the_finance_row_names_the_field(
    build: Any, prices: PriceCatalog, regions: Catalog[RegionRecord]
) -> None:
    s = build([_cloud_with_default_staff()])
    with pytest.raises(SpecError) as err:
        compare_tco(s, replace(prices, finance=Catalog("finance", [])), regions)
    assert err.value.field == "options[0].staff_fte"
    assert "mlops-fte-rented" in str(err.value)


def test_factor_ranges_take_the_finance_uncertainty_of_the_given_catalog(
    build: Any, prices: PriceCatalog, regions: Catalog[RegionRecord]
) -> None:
    s = build([dict(CLOUD)])
    row = UncertaintyRecord.model_validate(
        {**prices.finance_uncertainty.get("cloud-price-both-ways").model_dump(),
         "low": 0.5, "high": 1.5}
    )
    ranges = factor_ranges(
        s, replace(prices, finance_uncertainty=Catalog("finance-uncertainty", [row])),
        regions, with_step=True,
    )
    assert ranges["cloud_price"] == (0.5, 1.5, "catalog:cloud-price-both-ways")


def replace_rate(rec: Any, value: float) -> Any:
    return type(rec).model_validate({**rec.model_dump(), "value": value})
