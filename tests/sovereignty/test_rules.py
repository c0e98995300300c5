"""Unit tests of the policy model and each sovereignty rule, on hand-built providers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from inferplan.errors import SpecError
from inferplan.sovereignty.rules import (
    RULES,
    Finding,
    Severity,
    SovereigntyTarget,
    check_air_gap,
    check_api_retention,
    check_api_training_use,
    check_certifications,
    check_deployment_kind,
    check_jurisdiction,
    check_residency,
)
from inferplan.specs.policy import (
    EEA_COUNTRIES,
    EU_COUNTRIES,
    DataClass,
    ForeignAccessLaw,
    SovereigntyPolicy,
    expand_countries,
)
from inferplan.specs.provider import ApiDataTerms, ProviderSpec, RegionSpec


def provider(**kw: Any) -> ProviderSpec:
    base: dict[str, Any] = {
        "id": "p",
        "name": "P",
        "kind": "hyperscaler",
        "source": "https://example.org/p",
        "as_of": dt.date(2026, 1, 1),
    }
    return ProviderSpec(**{**base, **kw})


US_CLOUD = provider(
    id="us-cloud",
    parent_hq_country="US",
    regions=[RegionSpec(id="eu-1", country="DE"), RegionSpec(id="us-1", country="US")],
    certifications=["iso27001"],
)
EU_CLOUD = provider(
    id="eu-cloud",
    kind="sovereign_cloud",
    parent_hq_country="FR",
    regions=[RegionSpec(id="par", country="FR")],
    certifications=["iso27001", "hds"],
    attestations=[{"kind": "hds", "source": "https://example.org/hds",
                   "as_of": dt.date(2025, 6, 1), "gpu_cloud": "yes"}],
)
EU_ARM_OF_US = provider(
    id="eu-arm",
    kind="sovereign_cloud",
    hq_country="DE",
    parent_hq_country="US",
    foreign_access_contested=["us_cloud_act", "us_fisa_702"],
    jurisdiction_sources=["https://example.org/dispute"],
    regions=[RegionSpec(id="de", country="DE")],
)
ON_PREM = provider(id="on-prem", kind="on_prem", air_gap_capable=True)
COLO = provider(id="colocation", kind="colocation", air_gap_capable=True)


def api(**terms: Any) -> ProviderSpec:
    return provider(id="an-api", kind="api", parent_hq_country="US", api=ApiDataTerms(**terms))


def cloud(p: ProviderSpec, region: str) -> SovereigntyTarget:
    return SovereigntyTarget(kind="cloud", provider_id=p.id, region_id=region)


API_TARGET = SovereigntyTarget(kind="api", provider_id="an-api")


# --- policy --------------------------------------------------------------------------


def test_country_groups_expand_to_27_and_30_members() -> None:
    # EU has 27 member states; EEA adds Iceland, Liechtenstein and Norway: 27 + 3 = 30.
    assert len(EU_COUNTRIES) == 27
    assert len(EEA_COUNTRIES) == 30
    assert expand_countries(["EU", "ch"]) == EU_COUNTRIES | {"CH"}


def test_defaults_follow_the_data_class() -> None:
    secret = SovereigntyPolicy(data_class="secret", home_country="DE")
    assert secret.air_gapped is True
    assert secret.allowed_countries == ("DE",)
    assert set(secret.forbid_foreign_access_laws) == set(ForeignAccessLaw)
    assert secret.api_max_retention_days == 0
    public = SovereigntyPolicy(data_class="public")
    assert (public.air_gapped, public.forbid_training_on_data) == (False, False)
    assert public.api_max_retention_days is None
    conf = SovereigntyPolicy(data_class="confidential")
    assert conf.api_max_retention_days == 0 and conf.forbid_training_on_data


def test_health_defaults_keep_data_in_the_eea_and_leave_law_to_the_rules() -> None:
    # HDS, HIPAA BAA and the GDPR DPA are country rules and a contract condition,
    # not default certificates (a DPA is signed, not held)
    fr = SovereigntyPolicy(data_class="health", home_country="FR")
    us = SovereigntyPolicy(data_class="health", home_country="US")
    assert fr.required_certifications == () and us.required_certifications == ()
    assert fr.allowed_countries == ("EEA",)
    assert us.allowed_countries is None
    assert fr.processes_personal_data
    assert not SovereigntyPolicy(data_class="secret").processes_personal_data


def test_explicit_fields_override_defaults() -> None:
    p = SovereigntyPolicy(data_class="secret", air_gapped=False, allowed_countries=None)
    assert p.air_gapped is False and p.allowed_countries is None


def test_us_home_does_not_forbid_its_own_laws_by_default() -> None:
    p = SovereigntyPolicy(data_class="secret", home_country="US")
    assert p.forbid_foreign_access_laws == (ForeignAccessLaw.CN_NATIONAL_INTELLIGENCE_LAW,)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data_class": "secret", "allowed_deployment_kinds": ["api"]}, "allowed_deployment_kinds"),
        (
            {"data_class": "public", "air_gapped": True, "allowed_deployment_kinds": ["cloud"]},
            "allowed_deployment_kinds",
        ),
        ({"data_class": "public", "allowed_deployment_kinds": []}, "allowed_deployment_kinds"),
        ({"data_class": "public", "allowed_countries": []}, "allowed_countries"),
        ({"data_class": "public", "allowed_countries": ["UK"]}, "allowed_countries"),
        ({"data_class": "public", "allowed_countries": ["XX"]}, "allowed_countries"),
        ({"data_class": "public", "home_country": "EU"}, "home_country"),
        ({"data_class": "topsecret"}, "data_class"),
        ({"data_class": "public", "api_max_retention_days": -1}, "api_max_retention_days"),
        ({"data_class": "public", "colour": "red"}, "colour"),
    ],
)
def test_bad_or_conflicting_policy_raises_spec_error_naming_field(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(SpecError) as exc:
        SovereigntyPolicy(**kwargs)
    assert exc.value.field == field


def test_air_gap_with_on_prem_allowed_is_no_conflict() -> None:
    p = SovereigntyPolicy(data_class="secret", allowed_deployment_kinds=["on_prem", "api"])
    assert p.air_gapped


def test_from_mapping_reads_yaml_like_input() -> None:
    p = SovereigntyPolicy.from_mapping({"data_class": "internal", "allowed_countries": ["fr"]})
    assert p.allowed_countries == ("FR",)


# --- Finding -------------------------------------------------------------------------


def test_finding_rejects_multiline_reason_and_inconsistent_pass() -> None:
    with pytest.raises(ValidationError):
        Finding(rule="r", passed=True, severity="info", reason="a\nb", source="s")
    with pytest.raises(ValidationError):
        Finding(rule="r", passed=True, severity="fail", reason="a", source="s")
    with pytest.raises(ValidationError):
        Finding(rule="r", passed=True, severity="info", reason="  ", source="s")


# --- rules ---------------------------------------------------------------------------

EU_ONLY = SovereigntyPolicy(data_class="internal", allowed_countries=["EU"])
NO_CLOUD_ACT = SovereigntyPolicy(
    data_class="confidential", forbid_foreign_access_laws=["us_cloud_act"]
)


def test_residency_uses_the_region_country() -> None:
    assert check_residency(EU_ONLY, cloud(US_CLOUD, "eu-1"), US_CLOUD).passed
    fail = check_residency(EU_ONLY, cloud(US_CLOUD, "us-1"), US_CLOUD)
    assert not fail.passed and "US" in fail.reason and fail.source == US_CLOUD.source


def test_residency_of_an_unpinned_api_under_a_limit() -> None:
    # internal data: a condition (obtain the location in writing); confidential: fails
    p = api(retention_days=0, zero_retention_available=True, trains_on_data_by_default=False)
    f = check_residency(EU_ONLY, API_TARGET, p)
    assert f.passed and f.severity == "condition" and "EU" in f.conditions[0]
    confidential = SovereigntyPolicy(data_class="confidential", allowed_countries=["EU"])
    assert not check_residency(confidential, API_TARGET, p).passed
    no_limit = SovereigntyPolicy(data_class="internal")
    assert check_residency(no_limit, API_TARGET, p).passed


def test_residency_group_region_passes_only_a_group_limit() -> None:
    p = provider(id="g", regions=[RegionSpec(id="eu", country="EU")])
    assert check_residency(EU_ONLY, cloud(p, "eu"), p).passed
    fr_only = SovereigntyPolicy(data_class="internal", allowed_countries=["FR"])
    assert not check_residency(fr_only, cloud(p, "eu"), p).passed


def test_cloud_act_reaches_us_provider_in_its_eu_region() -> None:
    f = check_jurisdiction(NO_CLOUD_ACT, cloud(US_CLOUD, "eu-1"), US_CLOUD)
    assert (f.passed, f.severity) == (False, Severity.FAIL)
    assert "us_cloud_act" in f.reason
    assert f.source == "https://www.law.cornell.edu/uscode/text/18/2713"


def test_eu_parent_passes_jurisdiction() -> None:
    f = check_jurisdiction(NO_CLOUD_ACT, cloud(EU_CLOUD, "par"), EU_CLOUD)
    assert f.passed and f.severity == Severity.INFO


def test_unclear_exposure_warns_for_confidential_and_fails_for_secret() -> None:
    t = cloud(EU_ARM_OF_US, "de")
    confidential = check_jurisdiction(NO_CLOUD_ACT, t, EU_ARM_OF_US)
    assert confidential.passed and confidential.severity == Severity.WARN
    secret = SovereigntyPolicy(data_class="secret", allowed_deployment_kinds=None)
    f = check_jurisdiction(secret, t, EU_ARM_OF_US)
    assert not f.passed and "failing closed" in f.reason


def test_exposure_not_forbidden_is_reported_but_passes() -> None:
    f = check_jurisdiction(
        SovereigntyPolicy(data_class="confidential"), cloud(US_CLOUD, "eu-1"), US_CLOUD
    )
    assert f.passed and f.severity == Severity.WARN


def test_air_gap_only_on_prem_or_colocation_with_offline_updates() -> None:
    secret = SovereigntyPolicy(data_class="secret")
    on_prem = SovereigntyTarget(
        kind="on_prem", provider_id="on-prem", country="DE", air_gapped=True
    )
    assert check_air_gap(secret, on_prem, ON_PREM).passed
    online = on_prem.model_copy(update={"air_gapped": False})
    assert not check_air_gap(secret, online, ON_PREM).passed
    colo = SovereigntyTarget(
        kind="colocation", provider_id="colocation", country="DE", air_gapped=True
    )
    assert check_air_gap(secret, colo, COLO).passed
    assert not check_air_gap(secret, cloud(EU_CLOUD, "par"), EU_CLOUD).passed


def test_missing_certification_fails_naming_it() -> None:
    pol = SovereigntyPolicy(data_class="internal", required_certifications=["iso27001", "hds"])
    f = check_certifications(pol, cloud(US_CLOUD, "eu-1"), US_CLOUD)
    assert not f.passed and "hds" in f.reason and "iso27001" not in f.reason
    assert check_certifications(pol, cloud(EU_CLOUD, "par"), EU_CLOUD).passed


def test_unnamed_colocation_facility_cannot_prove_certifications() -> None:
    colo = SovereigntyTarget(kind="colocation", provider_id="colocation", country="DE")
    internal = SovereigntyPolicy(data_class="internal", required_certifications=["iso27001"])
    assert check_certifications(internal, colo, COLO).severity == Severity.WARN
    health = SovereigntyPolicy(data_class="health", required_certifications=["iso27001"])
    assert not check_certifications(health, colo, COLO).passed


def test_api_retention_limit_and_zdr() -> None:
    pol = SovereigntyPolicy(data_class="confidential")  # api_max_retention_days = 0
    keeps_30 = api(
        retention_days=30, zero_retention_available=False, trains_on_data_by_default=False
    )
    f = check_api_retention(pol, API_TARGET, keeps_30)
    assert not f.passed and "30" in f.reason
    with_zdr = api(
        retention_days=30, zero_retention_available=True, trains_on_data_by_default=False
    )
    assert check_api_retention(pol, API_TARGET, with_zdr).severity == Severity.WARN
    signed = API_TARGET.model_copy(update={"zdr_agreement": True})
    assert check_api_retention(pol, signed, with_zdr).severity == Severity.INFO
    assert not check_api_retention(pol, signed, keeps_30).passed
    lax = SovereigntyPolicy(data_class="internal", api_max_retention_days=30)
    assert check_api_retention(lax, API_TARGET, keeps_30).passed


def test_api_that_trains_by_default_fails_when_training_is_forbidden() -> None:
    trains = api(retention_days=0, zero_retention_available=True, trains_on_data_by_default=True)
    pol = SovereigntyPolicy(data_class="internal")
    assert pol.forbid_training_on_data
    f = check_api_training_use(pol, API_TARGET, trains)
    assert not f.passed and f.source == trains.source
    allow = SovereigntyPolicy(data_class="public")
    assert check_api_training_use(allow, API_TARGET, trains).passed


def test_unknown_training_use_fails_closed_only_for_sensitive_data() -> None:
    unknown = api()
    assert check_api_training_use(
        SovereigntyPolicy(data_class="internal"), API_TARGET, unknown
    ).passed
    health = SovereigntyPolicy(data_class="health")
    assert not check_api_training_use(health, API_TARGET, unknown).passed


def test_deployment_kind_rule() -> None:
    pol = SovereigntyPolicy(data_class="internal", allowed_deployment_kinds=["on_prem", "cloud"])
    assert check_deployment_kind(pol, cloud(EU_CLOUD, "par"), EU_CLOUD).passed
    assert not check_deployment_kind(pol, API_TARGET, api()).passed


def test_registry_maps_ids_to_rules_and_every_finding_is_one_line() -> None:
    assert set(RULES) == {
        "deployment_kind",
        "residency",
        "jurisdiction",
        "air_gap",
        "certifications",
        "gdpr_dpa",
        "country_rules",
        "api_retention",
        "api_training_use",
    }
    pol = SovereigntyPolicy(data_class=DataClass.SECRET, home_country="FR")
    for rule_id, rule in RULES.items():
        f = rule(pol, cloud(US_CLOUD, "eu-1"), US_CLOUD)
        assert f.rule == rule_id
        assert f.reason and "\n" not in f.reason and f.source
