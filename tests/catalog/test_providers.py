"""The shipped provider catalog: provenance on every record and internal consistency."""

from __future__ import annotations

import datetime as dt

import pytest

from inferplan.catalog.loader import parse_records
from inferplan.catalog.providers import load_providers
from inferplan.errors import CatalogError
from inferplan.specs.policy import EU_COUNTRIES, ForeignAccessLaw
from inferplan.specs.provider import ProviderKind, ProviderSpec

PROVIDERS = load_providers()

REQUIRED_IDS = [
    "aws",
    "aws-esc",
    "azure",
    "google-cloud",
    "oci",
    "coreweave",
    "lambda",
    "runpod",
    "nebius",
    "ovhcloud",
    "scaleway",
    "ionos",
    "stackit",
    "s3ns",
    "bleu",
    "openai-api",
    "anthropic-api",
    "mistral-api",
    "gemini-api",
    "aws-bedrock",
    "on-prem",
    "colocation",
]


def test_required_providers_are_present() -> None:
    missing = [i for i in REQUIRED_IDS if i not in PROVIDERS]
    assert missing == []


@pytest.mark.parametrize("alias", ["aws_esc", "on_prem", "oracle_oci", "google_cloud", "openai"])
def test_reference_spellings_resolve(alias: str) -> None:
    assert PROVIDERS.get(alias).id in REQUIRED_IDS


def test_every_record_has_source_and_as_of() -> None:
    # Catalog data was compiled on 2026-11-26; no record may claim a later date.
    for rec in PROVIDERS:
        assert rec.source.strip(), rec.id
        assert isinstance(rec.as_of, dt.date), rec.id
        assert dt.date(2018, 1, 1) <= rec.as_of <= dt.date(2026, 11, 26), rec.id


def test_sourced_regions() -> None:
    # AWS eu-central-1 is Frankfurt; Scaleway fr-par is Paris; RunPod EUR-NO-1 is Norway
    # (a YAML 1.1 parser would read a bare NO as False).
    assert PROVIDERS.get("aws").region("eu-central-1").country == "DE"
    assert PROVIDERS.get("scaleway").region("fr-par").country == "FR"
    assert PROVIDERS.get("runpod").region("eur-no-1").country == "NO"
    assert PROVIDERS.get("ovhcloud").region("gra").country == "FR"


def test_foreign_access_follows_corporate_control() -> None:
    for rec in PROVIDERS:
        laws = {*rec.foreign_access_laws, *rec.foreign_access_unclear}
        if rec.parent_hq_country == "US":
            # the CLOUD Act test is control, so a US parent is always at least 'unclear'
            assert ForeignAccessLaw.US_CLOUD_ACT in laws, rec.id
        if rec.parent_hq_country in EU_COUNTRIES:
            assert ForeignAccessLaw.US_CLOUD_ACT not in rec.foreign_access_laws, rec.id


def test_eu_sovereign_arms_of_us_groups_are_unclear() -> None:
    for pid in ("aws-esc", "oci-eu-sovereign"):
        rec = PROVIDERS.get(pid)
        assert ForeignAccessLaw.US_CLOUD_ACT in rec.foreign_access_unclear
        assert rec.foreign_access_laws == ()


def test_api_records_have_data_terms_and_pseudo_providers_can_air_gap() -> None:
    for rec in PROVIDERS:
        if rec.kind == ProviderKind.API:
            assert rec.api is not None, rec.id
        if rec.kind in (ProviderKind.ON_PREM, ProviderKind.COLOCATION):
            assert rec.air_gap_capable, rec.id
    for rec in (PROVIDERS.get("on-prem"), PROVIDERS.get("colocation")):
        assert rec.hq_country is None and rec.regions == ()


def test_sourced_api_terms() -> None:
    # OpenAI: abuse-monitoring logs up to 30 days, no training since 1 Mar 2023.
    openai = PROVIDERS.get("openai-api").api
    assert openai is not None
    assert (openai.retention_days, openai.trains_on_data_by_default) == (30, False)
    # Gemini API unpaid services are used to improve Google products.
    free = PROVIDERS.get("gemini-api-free").api
    assert free is not None and free.trains_on_data_by_default is True


def test_record_without_source_is_rejected() -> None:
    raw = {"records": [{"id": "x", "name": "X", "kind": "gpu_cloud", "as_of": "2026-01-01"}]}
    with pytest.raises(CatalogError, match="source"):
        parse_records("provider", raw, ProviderSpec, "test.yaml")


def test_api_record_without_terms_is_rejected() -> None:
    rec = {"id": "x", "name": "X", "kind": "api", "source": "https://x.org", "as_of": "2026-01-01"}
    with pytest.raises(CatalogError, match="api"):
        parse_records("provider", {"records": [rec]}, ProviderSpec, "test.yaml")
