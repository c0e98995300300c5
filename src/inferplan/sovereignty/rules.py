"""Sovereignty rules: pure checks of one deployment option against a policy.

Each rule is a function ``(policy, target, provider) -> Finding`` registered in
:data:`RULES` under its id. A rule always returns exactly one finding: ``fail``
(the option is not allowed), ``warn`` (allowed, with something to act on) or
``info`` (allowed). Unknown or unclear facts fail closed for sensitive data
(regulated_personal, health, secret) and warn otherwise.

References: US CLOUD Act, 18 U.S.C. 2713 (data in a provider's "possession,
custody, or control ... regardless of whether ... located within or outside of
the United States"); FISA 702, 50 U.S.C. 1881a; an air gap means no network
path at runtime and updates on physical media
(https://plugsky.com/articles/solutions/air-gapped-llm), a VPC is logical
isolation, not an air gap
(https://discretestack.com/blog/air-gapped-ai-deployment-no-internet-guide).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import ValidationError, field_validator, model_validator

from inferplan.specs.base import FrozenSpec
from inferplan.specs.policy import (
    LAW_COUNTRY,
    LAW_SOURCE,
    DeploymentKind,
    ForeignAccessLaw,
    SovereigntyPolicy,
    expand_countries,
    normalize_country,
    spec_error_from,
)
from inferplan.specs.provider import ProviderSpec

AIR_GAP_SOURCE = "https://plugsky.com/articles/solutions/air-gapped-llm"
VPC_NOT_AIR_GAP_SOURCE = "https://discretestack.com/blog/air-gapped-ai-deployment-no-internet-guide"
POLICY_SOURCE = "inferplan sovereignty policy (user setting)"
OFFLINE_KINDS = frozenset({DeploymentKind.ON_PREM, DeploymentKind.COLOCATION})
GENERIC_COLOCATION_ID = "colocation"


class Severity(StrEnum):
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"


class Finding(FrozenSpec):
    """The outcome of one rule for one deployment option.

    ``passed`` is False exactly when ``severity`` is ``fail``; ``reason`` is one line;
    ``source`` is the catalog record's source URL or the law/regulation reference.
    """

    rule: str
    passed: bool
    severity: Severity
    reason: str
    source: str

    @field_validator("reason", "source")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = v.strip()
        if not v or "\n" in v or "\r" in v:
            raise ValueError("must be one non-empty line")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Finding:
        if self.passed == (self.severity == Severity.FAIL):
            raise ValueError("passed must be False exactly when severity is 'fail'")
        return self


def _ok(rule: str, reason: str, source: str, warn: bool = False) -> Finding:
    sev = Severity.WARN if warn else Severity.INFO
    return Finding(rule=rule, passed=True, severity=sev, reason=reason, source=source)


def _fail(rule: str, reason: str, source: str) -> Finding:
    return Finding(rule=rule, passed=False, severity=Severity.FAIL, reason=reason, source=source)


def _unclear(policy: SovereigntyPolicy, rule: str, reason: str, source: str) -> Finding:
    """Fail closed for sensitive data, warn otherwise."""
    if policy.sensitive:
        return _fail(rule, f"{reason}; failing closed for {policy.data_class.value} data", source)
    return _ok(rule, reason, source, warn=True)


class SovereigntyTarget(FrozenSpec):
    """One deployment option to check.

    kind: where it runs. provider_id: a providers-catalog id ('on-prem' and
    'colocation' are pseudo-providers). region_id: the provider's region, which gives
    the country; ``country`` (ISO alpha-2) is used when no region is given and is
    required for on_prem and colocation. air_gapped: operated with no network path,
    models and patches arriving on offline media. zdr_agreement: a zero-data-retention
    agreement with the API provider is in place. Invalid input raises ``SpecError``.
    """

    kind: DeploymentKind
    provider_id: str
    region_id: str | None = None
    country: str | None = None
    air_gapped: bool = False
    zdr_agreement: bool = False

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise spec_error_from(exc) from None

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return None if v is None else normalize_country(v, "country")


def target_location(target: SovereigntyTarget, provider: ProviderSpec) -> str | None:
    """Where the option processes data: the region's country (or 'EU'), else the
    target's country, else the provider's default region; ``None`` when unknown."""
    if target.region_id is not None:
        return provider.region(target.region_id).country
    if target.country is None and provider.default_region is not None:
        return provider.region(provider.default_region).country
    return target.country


def _foreign(law: ForeignAccessLaw, policy: SovereigntyPolicy) -> bool:
    return LAW_COUNTRY[law] != policy.home_country


def check_deployment_kind(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """The deployment kind is one the policy allows."""
    kinds = policy.allowed_deployment_kinds
    if kinds is None or target.kind in kinds:
        return _ok("deployment_kind", f"{target.kind.value} deployments are allowed", POLICY_SOURCE)
    listed = ", ".join(k.value for k in kinds)
    return _fail(
        "deployment_kind", f"{target.kind.value} is not allowed (allowed: {listed})", POLICY_SOURCE
    )


def check_residency(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """Data is processed only in allowed countries."""
    allowed = policy.allowed_country_set()
    loc = target_location(target, provider)
    region_id = target.region_id or (provider.default_region if target.country is None else None)
    where = f"{provider.id} {region_id}" if region_id else provider.id
    if allowed is None:
        shown = loc or "an unpinned location"
        return _ok("residency", f"no residency limit; {where} runs in {shown}", provider.source)
    listed = ", ".join(policy.allowed_countries or ())
    if loc is None:
        return _fail(
            "residency",
            f"{where} has no pinned processing location; allowed only {listed}",
            provider.source,
        )
    if expand_countries([loc]) <= allowed:
        by_user = target.kind == DeploymentKind.CLOUD and region_id is None
        stated = " (country as stated, no catalog region)" if by_user else ""
        return _ok("residency", f"{where} runs in {loc}, within {listed}{stated}", provider.source)
    return _fail("residency", f"{where} runs in {loc}, outside {listed}", provider.source)


def check_jurisdiction(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """No forbidden foreign access law reaches the operator; an EU region of a
    foreign-controlled provider does not help, because the test is control."""
    rule = "jurisdiction"
    if target.kind == DeploymentKind.ON_PREM:
        reason = "own data centre: only the organisation's own law applies"
        return _ok(rule, reason, provider.source)
    parent = provider.parent_hq_country or "unknown"
    forbidden = set(policy.forbid_foreign_access_laws)
    exposed = [law for law in provider.foreign_access_laws if law in forbidden]
    if exposed:
        names = ", ".join(law.value for law in exposed)
        return _fail(
            rule,
            f"{provider.id} (parent {parent}) is subject to {names}, forbidden by the policy, "
            "wherever its region is",
            LAW_SOURCE[exposed[0]],
        )
    unclear = [law for law in provider.foreign_access_unclear if law in forbidden]
    if unclear:
        names = ", ".join(law.value for law in unclear)
        return _unclear(
            policy,
            rule,
            f"exposure of {provider.id} (parent {parent}) to forbidden {names} is unclear",
            LAW_SOURCE[unclear[0]],
        )
    other = [
        law
        for law in (*provider.foreign_access_laws, *provider.foreign_access_unclear)
        if _foreign(law, policy)
    ]
    if other:
        names = ", ".join(law.value for law in other)
        warn = policy.data_class.value not in ("public", "internal")
        return _ok(
            rule,
            f"{provider.id} (parent {parent}) may be reached by {names}, not forbidden by policy",
            LAW_SOURCE[other[0]],
            warn=warn,
        )
    if provider.id == GENERIC_COLOCATION_ID:
        reason = "facility operator not named: check its jurisdiction (it has physical access)"
        return _ok(rule, reason, provider.source, warn=True)
    return _ok(rule, f"no known foreign access law reaches {provider.id}", provider.source)


def check_air_gap(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """When required, the option runs disconnected with offline model updates."""
    rule = "air_gap"
    if not policy.air_gapped:
        return _ok(rule, "air gap not required", POLICY_SOURCE)
    if target.kind not in OFFLINE_KINDS:
        return _fail(
            rule,
            f"{target.kind.value} keeps a network path to {provider.id}; only on_prem or "
            "colocation can be air-gapped",
            VPC_NOT_AIR_GAP_SOURCE,
        )
    if not provider.air_gap_capable:
        return _fail(rule, f"{provider.id} cannot run disconnected", provider.source)
    if not target.air_gapped:
        return _fail(
            rule,
            f"this {target.kind.value} option is not planned air-gapped with offline model updates",
            AIR_GAP_SOURCE,
        )
    return _ok(
        rule, f"{target.kind.value} with no network path; updates on offline media", AIR_GAP_SOURCE
    )


def check_certifications(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """The provider holds every required certification (provider level)."""
    rule = "certifications"
    required = policy.required_certifications
    if not required:
        return _ok(rule, "no certification required", POLICY_SOURCE)
    names = ", ".join(c.value for c in required)
    if target.kind == DeploymentKind.ON_PREM:
        return _ok(
            rule,
            f"self-operated: {names} are the organisation's own to hold, no host involved",
            provider.source,
            warn=True,
        )
    missing = [c for c in required if c not in provider.certifications]
    if not missing:
        return _ok(
            rule, f"{provider.id} holds {names} (confirm the service is in scope)", provider.source
        )
    lacking = ", ".join(c.value for c in missing)
    if provider.id == GENERIC_COLOCATION_ID:
        return _unclear(
            policy, rule, f"facility not named, so {lacking} cannot be checked", provider.source
        )
    return _fail(rule, f"{provider.id} lacks required {lacking}", provider.source)


def check_api_retention(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """An API keeps prompts/outputs no longer than allowed; ZDR can make it pass."""
    rule = "api_retention"
    limit = policy.api_max_retention_days
    if target.kind != DeploymentKind.API or provider.api is None:
        return _ok(rule, "not an API deployment: retention is the organisation's", POLICY_SOURCE)
    if limit is None:
        return _ok(rule, "no API retention limit", POLICY_SOURCE)
    terms = provider.api
    days = terms.retention_days
    if days is not None and days <= limit:
        reason = f"{provider.id} keeps data for {days} d by default, limit {limit} d"
        return _ok(rule, reason, provider.source)
    shown = "for an unpublished period" if days is None else f"for up to {days} d"
    if terms.zero_retention_available:
        if target.zdr_agreement:
            return _ok(
                rule, f"{provider.id} under a ZDR agreement instead of {shown}", provider.source
            )
        return _ok(
            rule,
            f"{provider.id} keeps data {shown}; passes only with a ZDR agreement (limit {limit} d)",
            provider.source,
            warn=True,
        )
    if target.zdr_agreement:
        return _fail(rule, f"{provider.id} offers no ZDR agreement per its terms", provider.source)
    reason = f"{provider.id} keeps data {shown}, over the {limit} d limit"
    return _fail(rule, reason, provider.source)


def check_api_training_use(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """An API that trains on customer data by default fails when training is forbidden."""
    rule = "api_training_use"
    if target.kind != DeploymentKind.API or provider.api is None:
        return _ok(rule, "not an API deployment: no provider training use", POLICY_SOURCE)
    trains = provider.api.trains_on_data_by_default
    if not policy.forbid_training_on_data:
        reason = "training use not forbidden by the policy"
        return _ok(rule, reason, POLICY_SOURCE, warn=bool(trains))
    if trains is True:
        reason = f"{provider.id} trains on API data by default, which the policy forbids"
        return _fail(rule, reason, provider.source)
    if trains is None:
        return _unclear(
            policy, rule, f"{provider.id} publishes no statement on training use", provider.source
        )
    return _ok(rule, f"{provider.id} does not train on API data by default", provider.source)


Rule = Callable[[SovereigntyPolicy, SovereigntyTarget, ProviderSpec], Finding]

#: Rule registry, in evaluation order. Extend by passing a mapping to ``evaluate``.
RULES: dict[str, Rule] = {
    "deployment_kind": check_deployment_kind,
    "residency": check_residency,
    "jurisdiction": check_jurisdiction,
    "air_gap": check_air_gap,
    "certifications": check_certifications,
    "api_retention": check_api_retention,
    "api_training_use": check_api_training_use,
}

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "Severity",
    "SovereigntyTarget",
    "check_air_gap",
    "check_api_retention",
    "check_api_training_use",
    "check_certifications",
    "check_deployment_kind",
    "check_jurisdiction",
    "check_residency",
    "target_location",
]
