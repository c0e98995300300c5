"""Price rows join the hardware, model and provider catalogs through canonical ids."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.prices import canonicalize, load_prices, parse_prices
from inferplan.catalog.providers import load_providers
from inferplan.errors import CatalogError

ACC, MODELS, PROVIDERS = load_accelerators(), load_models(), load_providers()
PRICES = load_prices(include_end_of_life=True)


def test_every_hardware_row_names_a_canonical_accelerator_id() -> None:
    ids = set(ACC.ids())
    for section in (PRICES.servers, PRICES.gpus, PRICES.cloud):
        for row in section:
            assert row.accelerator in ids, (row.id, row.accelerator)


def test_every_priced_provider_is_a_canonical_provider_id() -> None:
    ids = set(PROVIDERS.ids())
    for row in (*PRICES.cloud, *PRICES.api):
        assert row.provider in ids, (row.id, row.provider)


def test_api_rows_name_catalog_ids_when_the_catalog_knows_the_model() -> None:
    for row in PRICES.api:
        if row.model in MODELS:
            assert row.model == MODELS.get(row.model).id, row.id


@pytest.mark.parametrize(
    ("row_id", "accelerator"),
    [
        ("lambda-8x-b200", "b200-180gb"),  # written b200-sxm-180gb, an alias
        ("coreweave-hgx-b200", "b200-180gb"),
        ("oci-mi300x", "mi300x-192gb"),  # written mi300x
        ("tensorwave-mi300x", "mi300x-192gb"),
        ("aws-g6e-xlarge", "l40s-48gb"),  # written l40s
    ],
)
def test_cloud_offers_written_with_aliases_resolve(row_id: str, accelerator: str) -> None:
    assert PRICES.cloud.get(row_id).accelerator == accelerator


def test_b200_and_gb200_servers_resolve() -> None:
    # naming B200 in a plan used to fail with "no server purchase price"
    assert any(s.accelerator == "b200-180gb" for s in load_prices().servers)
    assert any(s.accelerator == "gb200-192gb" for s in load_prices().servers)


def _row(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "x", "provider": "lambda", "instance": "i", "region": "us",
        "accelerator": "h100", "gpus_per_node": 1, "unit": "per_gpu",
        "on_demand_usd_per_hour": 1.0, "source": "https://example.org", "as_of": "2026-01-01",
    }
    return {**base, **kw}


def test_unknown_ids_are_errors_naming_the_row() -> None:
    bad_gpu = parse_prices({"cloud": [_row(accelerator="h100-sxm9")]})
    with pytest.raises(CatalogError, match="cloud 'x': accelerator 'h100-sxm9'"):
        canonicalize(bad_gpu, ACC, MODELS, PROVIDERS)
    bad_provider = parse_prices({"cloud": [_row(provider="hyperion")]})
    with pytest.raises(CatalogError, match="provider 'hyperion'"):
        canonicalize(bad_provider, ACC, MODELS, PROVIDERS)
    ok = canonicalize(parse_prices({"cloud": [_row(provider="lambda-labs")]}), ACC, MODELS,
                      PROVIDERS)
    row = ok.cloud.get("x")
    assert row.provider == "lambda" and row.accelerator == "h100-sxm-80gb"


def test_end_of_life_rows_are_marked_and_not_offered_by_default() -> None:
    eol = [r for r in PRICES.servers if r.end_of_life]
    assert eol, "at least one end-of-life server is recorded"
    offered = {r.id for r in load_prices().servers}
    for r in eol:
        assert r.id not in offered
        assert r.notes, r.id  # the notes cite the end-of-life notice
