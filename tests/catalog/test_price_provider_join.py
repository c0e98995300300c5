"""The price catalog joins the provider, accelerator, model and region catalogs.

The planner looks up every cloud and API price row's ``provider`` in providers.yaml and
its ``region`` among that provider's regions to know the country (``'global'`` means an
unknown location); cloud rows name an accelerator, API rows a model. A row that does not
join would be silently dropped or mis-located, so every row is checked here.
"""

from __future__ import annotations

import re

import pytest

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers
from inferplan.errors import UnknownIdError
from inferplan.specs.policy import EU_COUNTRIES
from inferplan.specs.prices import ApiPriceRecord, CloudPriceRecord, PriceUnit
from inferplan.specs.provider import CLOUD_KINDS

PRICES = load_prices()
PROVIDERS = load_providers()
ACCELERATORS = load_accelerators()
MODELS = load_models()
REGIONS = load_regions()

# Names of open-weight families served by the model catalog.
OPEN_FAMILY = re.compile(r"(^|[-/])(llama|mistral|mixtral|qwen|deepseek|gemma|phi|gpt-oss)")
# Open-weight models priced by a European API but not yet in models.yaml. Each entry is
# checked to be still missing, so the list cannot outlive the catalog gap it records.
OPEN_NOT_IN_MODEL_CATALOG = frozenset({"mistral-large-3", "mistral-small-4"})

# Fed G.5 June 2024 average, the rate regions.yaml and prices.yaml convert EUR with.
USD_PER_EUR = 1.0763


def _country(provider_id: str, region_id: str) -> str | None:
    """Country of a price row's location; None for 'global' (unknown location)."""
    if region_id == "global":
        return None
    return PROVIDERS.get(provider_id).region(region_id).country


def _problems(row: CloudPriceRecord | ApiPriceRecord) -> list[str]:
    """Every way a price row fails to join the other catalogs (empty when it joins)."""
    out: list[str] = []
    if row.provider not in PROVIDERS:
        return [f"{row.id}: provider '{row.provider}' not in providers.yaml"]
    provider = PROVIDERS.get(row.provider)
    if row.region != "global":
        try:
            provider.region(row.region)
        except UnknownIdError:
            out.append(f"{row.id}: region '{row.region}' not a region of '{provider.id}'")
    if isinstance(row, CloudPriceRecord):
        if provider.kind not in CLOUD_KINDS:
            out.append(f"{row.id}: provider '{provider.id}' sells no cloud GPUs")
        if row.accelerator not in ACCELERATORS:
            out.append(f"{row.id}: accelerator '{row.accelerator}' not in accelerators.yaml")
        if row.grid_region is not None and row.grid_region not in REGIONS:
            out.append(f"{row.id}: grid_region '{row.grid_region}' not in regions.yaml")
        if row.power_reference is not None and row.power_reference not in PRICES.servers:
            out.append(f"{row.id}: power_reference '{row.power_reference}' not a server row")
    else:
        if provider.api is None:
            out.append(f"{row.id}: provider '{provider.id}' has no API data terms")
        looks_open = OPEN_FAMILY.search(row.model) is not None
        if looks_open and row.model not in MODELS and row.model not in OPEN_NOT_IN_MODEL_CATALOG:
            out.append(f"{row.id}: open model '{row.model}' not in models.yaml")
    return out


@pytest.mark.parametrize("row", list(PRICES.cloud), ids=lambda r: r.id)
def test_cloud_row_joins(row: CloudPriceRecord) -> None:
    assert _problems(row) == []


@pytest.mark.parametrize("row", list(PRICES.api), ids=lambda r: r.id)
def test_api_row_joins(row: ApiPriceRecord) -> None:
    assert _problems(row) == []


def test_broken_rows_are_reported() -> None:
    # The checker must catch each kind of mismatch the catalogs once had.
    base = PRICES.cloud.get("scaleway-h100-1-80g").model_dump()
    bad_provider = CloudPriceRecord.model_validate({**base, "provider": "hyperion"})
    bad_region = CloudPriceRecord.model_validate({**base, "region": "us"})
    bad_gpu = CloudPriceRecord.model_validate({**base, "accelerator": "h100-sxm9"})
    assert "provider 'hyperion'" in _problems(bad_provider)[0]
    assert "region 'us'" in _problems(bad_region)[0]
    assert "accelerator 'h100-sxm9'" in _problems(bad_gpu)[0]
    api = PRICES.api.get("ovhcloud-llama-3.3-70b").model_dump()
    vague = ApiPriceRecord.model_validate({**api, "model": "llama-3.x-70b"})
    assert "open model 'llama-3.x-70b'" in _problems(vague)[0]
    proprietary = ApiPriceRecord.model_validate({**api, "model": "gpt-4o"})
    assert _problems(proprietary) == []


def test_open_models_missing_from_the_model_catalog_are_still_missing() -> None:
    for model_id in OPEN_NOT_IN_MODEL_CATALOG:
        assert model_id not in MODELS, f"{model_id} is now catalogued: drop it from the list"
        assert any(r.model == model_id for r in PRICES.api), model_id


def test_llama_3x_row_names_a_real_model() -> None:
    # The Groq row's source says 'Llama-3.x-70B'; it is priced as Llama 3.3 70B.
    assert PRICES.api.get("groq-llama-3.x-70b").model == "llama-3.3-70b"


def _in_eu(country: str | None) -> bool:
    return country == "EU" or country in EU_COUNTRIES


def test_european_cloud_gpu_rows_exist() -> None:
    eu = [r for r in PRICES.cloud if _in_eu(_country(r.provider, r.region))]
    assert len(eu) >= 3
    assert len({r.provider for r in eu}) >= 3  # not one vendor repeated


def test_european_api_rows_exist() -> None:
    eu = [r for r in PRICES.api if _in_eu(_country(r.provider, r.region))]
    assert len(eu) >= 3
    assert len({PROVIDERS.get(r.provider).id for r in eu}) >= 3


def test_sourced_eu_locations() -> None:
    # OVHcloud GRA is Gravelines (FR); Scaleway fr-par is Paris; Nebius eu-north1 is
    # Finland; AWS eu-north-1 is Stockholm; Mistral's API hosts in the EU by default.
    assert _country("ovhcloud", PRICES.cloud.get("ovhcloud-h100-380").region) == "FR"
    assert _country("scaleway", PRICES.api.get("scaleway-llama-3.3-70b").region) == "FR"
    assert _country("nebius", PRICES.cloud.get("nebius-h100-eu-north1").region) == "FI"
    assert _country("aws", PRICES.cloud.get("aws-p5-48xlarge-eu-north-1").region) == "SE"
    assert _country("mistral-api", PRICES.api.get("mistral-large-3").region) == "EU"
    # A row with no sourced location stays 'global' and so has no country.
    assert _country("runpod", PRICES.cloud.get("runpod-h100-sxm-secure").region) is None


def test_eur_prices_are_converted_at_the_fed_rate() -> None:
    # Scaleway H100-1-80G: EUR 2.8665/h x 1.0763 = 3.08521 USD/h.
    assert PRICES.cloud.get("scaleway-h100-1-80g").on_demand_usd_per_hour == pytest.approx(
        2.8665 * USD_PER_EUR, abs=1e-4
    )
    # Scaleway H100-SXM-8-80G: EUR 25.3308 per node-hour x 1.0763 = 27.26354 USD.
    sxm = PRICES.cloud.get("scaleway-h100-sxm-8-80g")
    assert sxm.unit is PriceUnit.PER_NODE and sxm.gpus_per_node == 8
    assert sxm.on_demand_usd_per_hour == pytest.approx(25.3308 * USD_PER_EUR, abs=1e-4)
    # OVHcloud AI Endpoints Llama 3.3 70B: EUR 0.67 per Mtoken x 1.0763 = 0.72112 USD.
    ovh = PRICES.api.get("ovhcloud-llama-3.3-70b")
    assert ovh.input_usd_per_million == pytest.approx(0.67 * USD_PER_EUR, abs=1e-4)
    assert ovh.output_usd_per_million == pytest.approx(0.67 * USD_PER_EUR, abs=1e-4)
    # Scaleway Llama 3.3 70B: EUR 0.90 x 1.0763 = 0.96867 USD per Mtoken.
    scw = PRICES.api.get("scaleway-llama-3.3-70b")
    assert scw.input_usd_per_million == pytest.approx(0.90 * USD_PER_EUR, abs=1e-4)


def test_aws_stockholm_p5_per_gpu_price() -> None:
    # $58.8928 per node-hour / 8 H100 = $7.3616 per GPU-hour (Qovery, Sept 2026: $7.36).
    row = PRICES.cloud.get("aws-p5-48xlarge-eu-north-1")
    assert row.node_usd_per_hour(row.on_demand_usd_per_hour) / row.gpus_per_node == (
        pytest.approx(7.3616)
    )


# Closed models priced by their vendor's API; they have no open config for models.yaml.
CLOSED_API_MODELS = frozenset({
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
    "claude-sonnet-4", "claude-haiku-3.5", "claude-opus-4.5",
})
# Families served by at least two providers, one of them in the EU, in the catalog.
MULTI_PROVIDER_WITH_EU = (
    "llama-3.1-8b", "llama-3.3-70b", "gpt-oss-120b", "mistral-nemo-12b",
    "mistral-small-24b", "qwen3-32b",
)
# Families priced by only one provider so far (a second public price was not found);
# checked to be still single, so the list cannot outlive the gap it records.
SINGLE_PROVIDER = frozenset({
    "llama-3.1-405b", "deepseek-v3", "deepseek-r1",
})
# Families that gained a second public price (2026 comparison tables).
SECOND_PROVIDER_ADDED = ("qwen3-235b-a22b", "gpt-oss-20b")


def test_every_api_offer_names_a_known_or_declared_closed_model() -> None:
    for row in PRICES.api:
        known = row.model in MODELS
        assert known or row.model in CLOSED_API_MODELS | OPEN_NOT_IN_MODEL_CATALOG, row.id
    for model_id in CLOSED_API_MODELS:
        assert model_id not in MODELS, model_id


def _providers_of(model_id: str) -> set[str]:
    return {r.provider for r in PRICES.api if r.model == model_id}


@pytest.mark.parametrize("model_id", MULTI_PROVIDER_WITH_EU)
def test_families_have_two_providers_including_an_eu_one(model_id: str) -> None:
    rows = [r for r in PRICES.api if r.model == model_id]
    assert len({r.provider for r in rows}) >= 2, model_id
    assert any(_in_eu(_country(r.provider, r.region)) for r in rows), model_id


def test_single_provider_families_are_still_single() -> None:
    for model_id in SINGLE_PROVIDER:
        assert len(_providers_of(model_id)) == 1, f"{model_id} now has more providers"


@pytest.mark.parametrize("model_id", SECOND_PROVIDER_ADDED)
def test_second_providers_were_added(model_id: str) -> None:
    assert len(_providers_of(model_id)) >= 2, model_id


def test_deepseek_qwen3_and_llama_405b_have_api_offers() -> None:
    for model_id in ("deepseek-v3", "deepseek-r1", "qwen3-235b-a22b", "qwen3-32b",
                     "llama-3.1-405b", "llama-3.1-8b"):
        assert _providers_of(model_id), model_id
