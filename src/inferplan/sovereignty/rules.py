"""Sovereignty rules: pure checks of one deployment option against a policy.

Each rule is a function ``(policy, target, provider) -> Finding`` registered in
:data:`RULES` under its id. A rule always returns exactly one finding: ``fail``
(the option is not allowed), ``condition`` (allowed once the listed contracts are
signed or attestations checked: ``Finding.conditions``), ``warn`` (allowed, with
something to act on) or ``info`` (allowed). Unknown or unclear facts fail closed for
sensitive data (regulated_personal, health, secret) and warn otherwise.

Sub-processors: an offering served on another company's cloud inherits that cloud's
location and foreign-access exposure (``SovereigntyTarget.hosts``, filled by
:func:`~inferplan.sovereignty.evaluate.evaluate` from the providers catalog).

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

from inferplan.sovereignty.country_rules import applicable_rules
from inferplan.sovereignty.evidence import check_evidence, label
from inferplan.specs.base import FrozenSpec
from inferplan.specs.policy import (
    GDPR_COUNTRIES,
    LAW_COUNTRY,
    LAW_SOURCE,
    Certification,
    DataClass,
    DeploymentKind,
    ForeignAccessLaw,
    SovereigntyPolicy,
    expand_countries,
    normalize_country,
    spec_error_from,
)
from inferplan.specs.provider import Availability, ProviderSpec

AIR_GAP_SOURCE = "https://plugsky.com/articles/solutions/air-gapped-llm"
VPC_NOT_AIR_GAP_SOURCE = "https://discretestack.com/blog/air-gapped-ai-deployment-no-internet-guide"
POLICY_SOURCE = "inferplan sovereignty policy (user setting)"
OFFLINE_KINDS = frozenset({DeploymentKind.ON_PREM, DeploymentKind.COLOCATION})
GENERIC_COLOCATION_ID = "colocation"


class Severity(StrEnum):
    FAIL = "fail"
    CONDITION = "condition"
    WARN = "warn"
    INFO = "info"


class Finding(FrozenSpec):
    """The outcome of one rule for one deployment option.

    ``passed`` is False exactly when ``severity`` is ``fail``; ``reason`` is one line;
    ``source`` is the catalog record's source URL or the law/regulation reference.
    ``conditions`` (one line each) are the contracts to sign and attestations to check
    before the option may be used; a ``condition`` finding has at least one.
    """

    rule: str
    passed: bool
    severity: Severity
    reason: str
    source: str
    conditions: tuple[str, ...] = ()

    @field_validator("conditions")
    @classmethod
    def _lines(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(c.strip() for c in v)
        if any(not c or "\n" in c or "\r" in c for c in out):
            raise ValueError("each condition must be one non-empty line")
        return out

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
        if self.severity == Severity.CONDITION and not self.conditions:
            raise ValueError("a 'condition' finding lists its conditions")
        return self


def _ok(rule: str, reason: str, source: str, warn: bool = False) -> Finding:
    sev = Severity.WARN if warn else Severity.INFO
    return Finding(rule=rule, passed=True, severity=sev, reason=reason, source=source)


def _fail(rule: str, reason: str, source: str) -> Finding:
    return Finding(rule=rule, passed=False, severity=Severity.FAIL, reason=reason, source=source)


def _condition(rule: str, reason: str, source: str, conditions: list[str]) -> Finding:
    return Finding(
        rule=rule,
        passed=True,
        severity=Severity.CONDITION,
        reason=reason,
        source=source,
        conditions=tuple(conditions),
    )


def _unclear(policy: SovereigntyPolicy, rule: str, reason: str, source: str) -> Finding:
    """Fail closed for sensitive data, warn otherwise."""
    if policy.sensitive:
        return _fail(rule, f"{reason}; failing closed for {policy.data_class.value} data", source)
    return _ok(rule, reason, source, warn=True)


class HostFacts(FrozenSpec):
    """A sub-processor's cloud as the rules see it: where it processes (``country``,
    ``None`` when the source names no region) and which laws reach it or are contested."""

    provider_id: str
    country: str | None = None
    reaches: tuple[ForeignAccessLaw, ...] = ()
    contested: tuple[ForeignAccessLaw, ...] = ()
    source: str


class SovereigntyTarget(FrozenSpec):
    """One deployment option to check.

    kind: where it runs. provider_id: a providers-catalog id ('on-prem' and
    'colocation' are pseudo-providers). region_id: the provider's region, which gives
    the country; ``country`` (ISO alpha-2) is used when no region is given and is
    required for on_prem and colocation. air_gapped: operated with no network path,
    models and patches arriving on offline media. zdr_agreement: a zero-data-retention
    agreement with the API provider is in place. hosts: the provider's sub-processor
    clouds, resolved from the catalog by ``evaluate``. Invalid input raises ``SpecError``.
    """

    kind: DeploymentKind
    provider_id: str
    region_id: str | None = None
    country: str | None = None
    air_gapped: bool = False
    zdr_agreement: bool = False
    hosts: tuple[HostFacts, ...] = ()

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
        reason = f"{where} has no pinned processing location; allowed only {listed}"
        if policy.data_class not in (DataClass.PUBLIC, DataClass.INTERNAL):
            return _fail("residency", f"{reason}; failing closed", provider.source)
        # internal or public data: an unpublished location is a fact to obtain, not a no
        return _condition(
            "residency",
            reason,
            provider.source,
            [f"obtain {provider.id}'s written commitment to process only in {listed}"],
        )
    if not expand_countries([loc]) <= allowed:
        return _fail("residency", f"{where} runs in {loc}, outside {listed}", provider.source)
    unhosted = _unresolved_hosts(target, provider)
    if unhosted:
        return _fail(
            "residency",
            f"{where} runs on sub-processor(s) {unhosted} not resolved in the catalog",
            provider.source,
        )
    for host in target.hosts:
        if host.country is None:
            return _fail(
                "residency",
                f"{where} runs on {host.provider_id}, whose processing region is not "
                f"published; allowed only {listed}",
                host.source,
            )
        if not expand_countries([host.country]) <= allowed:
            return _fail(
                "residency",
                f"{where} runs on {host.provider_id} in {host.country}, outside {listed}",
                host.source,
            )
    by_user = target.kind == DeploymentKind.CLOUD and region_id is None
    stated = " (country as stated, no catalog region)" if by_user else ""
    hosted = "".join(f"; hosted on {h.provider_id} in {h.country}" for h in target.hosts)
    reason = f"{where} runs in {loc}, within {listed}{stated}{hosted}"
    return _ok("residency", reason, provider.source)


def _unresolved_hosts(target: SovereigntyTarget, provider: ProviderSpec) -> str:
    """Sub-processors the provider names but the target carries no facts for."""
    have = {h.provider_id for h in target.hosts}
    missing = [s.provider for s in provider.sub_processors if s.provider not in have]
    return ", ".join(missing)


def exposure_of(
    target: SovereigntyTarget, provider: ProviderSpec
) -> tuple[dict[ForeignAccessLaw, str], dict[ForeignAccessLaw, str]]:
    """Laws that reach and laws that are contested for this option, each mapped to the
    entity it comes through (the provider, or a sub-processor it runs on). A law that
    reaches through any entity is not also listed as contested."""
    reaches: dict[ForeignAccessLaw, str] = {}
    contested: dict[ForeignAccessLaw, str] = {}
    entities = [(provider.id, provider.foreign_access_laws, provider.foreign_access_unclear)]
    entities += [(h.provider_id, h.reaches, h.contested) for h in target.hosts]
    for who, hard, soft in entities:
        for law in hard:
            reaches.setdefault(law, who)
        for law in soft:
            contested.setdefault(law, who)
    for law in reaches:
        contested.pop(law, None)
    return reaches, contested


def check_jurisdiction(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """No forbidden foreign-access law reaches the operator or a sub-processor it runs
    on. One test for every provider (:meth:`ProviderSpec.foreign_access`): the law
    reaches through headquarters or controlling parent, and is contested through a
    presence (subsidiary, branch, region) or where sources disagree. An EU region of a
    foreign-controlled provider does not help, because the test is control; a
    contested reach is treated as unclear (fails closed for sensitive data)."""
    rule = "jurisdiction"
    if target.kind == DeploymentKind.ON_PREM:
        reason = "own data centre: only the organisation's own law applies"
        return _ok(rule, reason, provider.source)
    parent = provider.parent_hq_country or "unknown"
    unhosted = _unresolved_hosts(target, provider)
    if unhosted:
        return _unclear(
            policy, rule, f"sub-processor(s) {unhosted} of {provider.id} not resolved",
            provider.source,
        )
    reaches, contested = exposure_of(target, provider)
    forbidden = set(policy.forbid_foreign_access_laws)

    def via(law: ForeignAccessLaw, table: dict[ForeignAccessLaw, str]) -> str:
        who = table[law]
        return law.value if who == provider.id else f"{law.value} (via sub-processor {who})"

    exposed = [law for law in reaches if law in forbidden]
    if exposed:
        names = ", ".join(via(law, reaches) for law in exposed)
        return _fail(
            rule,
            f"{provider.id} (parent {parent}) is subject to {names}, forbidden by the policy, "
            "wherever its region is",
            LAW_SOURCE[exposed[0]],
        )
    unclear = [law for law in contested if law in forbidden]
    if unclear:
        names = ", ".join(via(law, contested) for law in unclear)
        return _unclear(
            policy,
            rule,
            f"reach of forbidden {names} over {provider.id} (parent {parent}) is contested",
            _jurisdiction_source(provider, unclear[0]),
        )
    other = [law for law in (*reaches, *contested) if _foreign(law, policy)]
    if other:
        names = ", ".join(
            via(law, reaches) + " (reaches)" if law in reaches else via(law, contested)
            + " (contested)"
            for law in other
        )
        warn = policy.data_class.value not in ("public", "internal")
        return _ok(
            rule,
            f"{provider.id} (parent {parent}) may be reached by {names}, not forbidden by policy",
            LAW_SOURCE[other[0]],
            warn=warn,
        )
    if provider.id == GENERIC_COLOCATION_ID:
        reason = "facility operator not named: check its jurisdiction (it has physical access)"
        if policy.sensitive:  # own servers in a rented cage: allowed once the operator is vetted
            return _condition(
                rule,
                reason,
                provider.source,
                ["name the colocation operator and confirm that no foreign-access law reaches "
                 "it (its staff have physical access to the servers)"],
            )
        return _ok(rule, reason, provider.source, warn=True)
    return _ok(rule, f"no known foreign access law reaches {provider.id}", provider.source)


def _jurisdiction_source(provider: ProviderSpec, law: ForeignAccessLaw) -> str:
    if law in provider.foreign_access_contested and provider.jurisdiction_sources:
        return provider.jurisdiction_sources[0]
    return LAW_SOURCE[law]


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
    """The provider holds every required certification (provider level). A required
    ``gdpr_dpa`` is a contract and is checked by :func:`check_gdpr_dpa` instead."""
    rule = "certifications"
    required = tuple(c for c in policy.required_certifications if c != Certification.GDPR_DPA)
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
    checks = [check_evidence(provider, c, target.kind) for c in required]
    missing = [e for e in checks if not e.counts]
    if not missing:
        scope = [c for e in checks for c in e.conditions]
        if scope:
            return _condition(rule, f"{provider.id} holds {names} on record", provider.source,
                              scope)
        return _ok(
            rule, f"{provider.id} holds {names} (confirm the service is in scope)", provider.source
        )
    lacking = ", ".join(e.cert.value for e in missing)
    if provider.id == GENERIC_COLOCATION_ID:
        return _unclear(
            policy, rule, f"facility not named, so {lacking} cannot be checked", provider.source
        )
    scoped = "; ".join(e.reason for e in missing if e.reason and e.attestation is not None)
    tail = f" ({scoped})" if scoped else ""
    return _fail(rule, f"{provider.id} lacks required {lacking}{tail}", provider.source)


def holds(provider: ProviderSpec, cert: Certification) -> bool:
    """The provider's record lists ``cert`` (a C5 Type 2 attestation also counts as C5)."""
    if cert == Certification.BSI_C5 and Certification.BSI_C5_TYPE2 in provider.certifications:
        return True
    return cert in provider.certifications


GDPR_ART28_SOURCE = "https://eur-lex.europa.eu/eli/reg/2016/679/oj (GDPR Art. 28(3) and 28(4))"


def check_gdpr_dpa(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """Personal data reaching a processor needs a signed Art. 28 contract.

    GDPR Art. 28(3): processing by a processor "shall be governed by a contract";
    every processor offers one and the customer signs it, so it is a condition of the
    recommendation, never a certificate a provider lacks. It applies when the data is
    personal and the controller's home is in the EEA or the UK (or the policy asks for
    ``gdpr_dpa``). A provider whose sources say it offers no DPA fails; one with no
    published DPA stays allowed with the condition to obtain one. Sub-processors must be
    bound by the same obligations (Art. 28(4)).
    """
    rule = "gdpr_dpa"
    asked = Certification.GDPR_DPA in policy.required_certifications
    home = policy.home_country
    in_scope = policy.processes_personal_data and home is not None and home in GDPR_COUNTRIES
    if not (asked or in_scope):
        why = "no personal data" if not policy.processes_personal_data else (
            "home country not in the EEA or UK" if home else "home country not set"
        )
        return _ok(rule, f"GDPR processor contract not required ({why})", POLICY_SOURCE)
    if target.kind == DeploymentKind.ON_PREM:
        return _ok(rule, "own data centre: no processor, no Art. 28 contract", GDPR_ART28_SOURCE)
    if target.kind == DeploymentKind.COLOCATION:
        reason = (
            "colocation: the facility hosts own hardware and does not process the data; "
            "a DPA is needed only if its staff get access to data (remote hands)"
        )
        return _ok(rule, reason, GDPR_ART28_SOURCE)
    dpa = provider.gdpr_dpa
    subs = [s.provider for s in provider.sub_processors]
    tail = [f"check {provider.id}'s sub-processor list binds {', '.join(subs)} (Art. 28(4))"]
    if dpa.offered == Availability.NO:
        return _fail(rule, f"{provider.id} offers no GDPR Art. 28 DPA per its terms", dpa.source)
    if dpa.offered == Availability.YES:
        conds = [f"sign {provider.name}'s data-processing agreement (GDPR Art. 28(3))"]
        reason = f"{provider.id} offers an Art. 28 DPA; sign it before personal data flows"
        return _condition(rule, reason, dpa.source, conds + (tail if subs else []))
    conds = [
        f"obtain and sign a data-processing agreement from {provider.name} "
        "(GDPR Art. 28(3)); none was found in the sources read"
    ]
    reason = f"{provider.id}'s DPA is not on record; every processor must offer one"
    return _condition(rule, reason, GDPR_ART28_SOURCE, conds + (tail if subs else []))


def check_country_rules(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> Finding:
    """Home-country rules for health and public-sector data
    (:mod:`~inferplan.sovereignty.country_rules`). Mandatory evidence missing from the
    provider's record fails closed (unknown is not a yes); the rest become conditions:
    the contracts to sign and attestations to check."""
    rule = "country_rules"
    binding = applicable_rules(policy, target.kind)
    if not binding:
        home = policy.home_country or "no home country"
        reason = f"no health or public-sector country rule for {home}, {target.kind.value}"
        return _ok(rule, reason, POLICY_SOURCE)
    if target.kind == DeploymentKind.ON_PREM:
        checks = [f"{r.check} ({r.basis}) - the organisation's own duty" for r in binding]
        return _condition(rule, "self-operated: the duties are the organisation's own",
                          binding[0].source, checks)
    evidence = {
        r.id: check_evidence(provider, r.evidence, target.kind)
        for r in binding
        if r.evidence is not None
    }
    missing = [r for r in binding if r.mandatory and r.id in evidence
               and not evidence[r.id].counts]
    if provider.id == GENERIC_COLOCATION_ID and missing:
        lacking = ", ".join(r.evidence.value for r in missing if r.evidence is not None)
        return _unclear(
            policy, rule, f"facility not named, so {lacking} cannot be checked", missing[0].source
        )
    if missing:
        why = "; ".join(
            f"{evidence[r.id].cert.value} required by {r.basis} is not on record for "
            f"{provider.id}"
            if not evidence[r.id].attestation
            else f"{evidence[r.id].cert.value} required by {r.basis}: {evidence[r.id].reason}"
            for r in missing
        )
        reason = f"{why}; failing closed (add it to the catalog once you hold the evidence)"
        return _fail(rule, reason, missing[0].source)
    conds = []
    for r in binding:
        e = evidence.get(r.id)
        note = " - not found in the sources read" if e is not None and not e.counts else ""
        conds.append(f"{r.check} ({r.basis}){note}")
        if e is not None and e.counts:
            conds.extend(e.conditions)
    held = [
        label(e.cert) for e in evidence.values() if e.counts
    ]
    shown = f"{provider.id} holds {', '.join(held)} on record; " if held else ""
    reason = f"{shown}{len(binding)} country requirement(s) to check for {policy.home_country}"
    source = next(
        (e.attestation.source for e in evidence.values() if e.counts and e.attestation),
        binding[0].source,
    )
    return _condition(rule, reason, source, conds)


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
    "gdpr_dpa": check_gdpr_dpa,
    "country_rules": check_country_rules,
    "api_retention": check_api_retention,
    "api_training_use": check_api_training_use,
}

__all__ = [
    "RULES",
    "Finding",
    "HostFacts",
    "Rule",
    "Severity",
    "SovereigntyTarget",
    "check_air_gap",
    "check_api_retention",
    "check_api_training_use",
    "check_certifications",
    "check_country_rules",
    "check_deployment_kind",
    "check_gdpr_dpa",
    "check_jurisdiction",
    "check_residency",
    "exposure_of",
    "holds",
    "target_location",
]
