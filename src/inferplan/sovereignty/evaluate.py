"""Evaluate a deployment option against a sovereignty policy; score it; cost compliance.

``evaluate`` runs every rule of :data:`~inferplan.sovereignty.rules.RULES` and adds two
ordinal scores in [0, 1]; ``compliance_overheads`` lists the yearly staff and cash the
policy adds for the economics layer to put into TCO.

Example:
    >>> from inferplan.catalog.providers import load_providers
    >>> policy = SovereigntyPolicy(data_class="secret", home_country="DE")
    >>> target = SovereigntyTarget(kind="on_prem", provider_id="on-prem", country="DE",
    ...                            air_gapped=True)
    >>> evaluate(policy, target, load_providers()).allowed
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from pydantic import Field

from inferplan.errors import SpecError
from inferplan.sovereignty.rules import (
    OFFLINE_KINDS,
    RULES,
    Finding,
    HostFacts,
    Rule,
    Severity,
    SovereigntyTarget,
    exposure_of,
    target_location,
)
from inferplan.specs.base import FrozenSpec
from inferplan.specs.policy import (
    CONTRACT_TERMS,
    COUNTRY_GROUPS,
    LAW_COUNTRY,
    DeploymentKind,
    ForeignAccessLaw,
    SovereigntyPolicy,
    expand_countries,
)
from inferplan.specs.provider import CLOUD_KINDS, ProviderKind, ProviderSpec

# Operational sovereignty components (inferplan assumptions, ordinal):
# (operator control, can run disconnected, customer holds keys).
_OPERATIONAL: dict[str, tuple[float, float, float]] = {
    "on_prem": (1.0, 1.0, 1.0),  # own staff, own building
    "colocation": (0.6, 1.0, 1.0),  # own staff; facility staff have physical access
    ProviderKind.SOVEREIGN_CLOUD.value: (0.6, 0.5, 0.7),  # home/EU-law staff operate it
    ProviderKind.HYPERSCALER.value: (0.2, 0.4, 0.4),
    ProviderKind.GPU_CLOUD.value: (0.2, 0.4, 0.4),
    "api": (0.0, 0.0, 0.4),  # provider runs model and keys; customer keys only at rest
}
_WEIGHTS = (0.5, 0.25, 0.25)

# Working days per full-time-equivalent year (inferplan assumption: 260 weekdays less
# about 40 days of leave and holidays).
WORKING_DAYS_PER_FTE_YEAR = 220.0


class ProviderLookup(Protocol):
    """Anything that finds a provider record by id or alias (a providers ``Catalog``)."""

    def get(self, key: str, field: str | None = None) -> ProviderSpec: ...


class SovereigntyResult(FrozenSpec):
    """Findings for one option, whether it is allowed, and its two sovereignty scores."""

    target: SovereigntyTarget
    findings: tuple[Finding, ...]
    allowed: bool
    legal_sovereignty: float = Field(ge=0.0, le=1.0)
    operational_sovereignty: float = Field(ge=0.0, le=1.0)

    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.FAIL)

    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.WARN)

    def conditions(self) -> tuple[str, ...]:
        """Every contract to sign and attestation to check, ``rule: condition``, in rule
        order (empty when the option needs none)."""
        return tuple(f"{f.rule}: {c}" for f in self.findings for c in f.conditions)


def resolve_hosts(provider: ProviderSpec, providers: ProviderLookup) -> tuple[HostFacts, ...]:
    """The provider's sub-processor clouds as :class:`HostFacts` (country and exposure
    inherited from their catalog records). Unknown ids raise ``UnknownIdError``."""
    out = []
    for sub in provider.sub_processors:
        host = providers.get(sub.provider, "sub_processors.provider")
        country = host.region(sub.region).country if sub.region is not None else sub.country
        out.append(
            HostFacts(
                provider_id=host.id,
                country=country,
                reaches=host.foreign_access_laws,
                contested=host.foreign_access_unclear,
                source=sub.source,
            )
        )
    return tuple(out)


def resolve_provider(target: SovereigntyTarget, providers: ProviderLookup) -> ProviderSpec:
    """The target's provider record, checked against the deployment kind and region.

    Raises :class:`SpecError` (field named) for an unknown provider or region, a kind the
    provider does not offer, or an on_prem/colocation/cloud target with no location.
    """
    provider = providers.get(target.provider_id, "provider_id")
    kind = target.kind
    ok = {
        DeploymentKind.ON_PREM: provider.kind == ProviderKind.ON_PREM,
        DeploymentKind.COLOCATION: provider.kind == ProviderKind.COLOCATION,
        DeploymentKind.CLOUD: provider.kind in CLOUD_KINDS,
        DeploymentKind.API: provider.api is not None,
    }[kind]
    if not ok:
        raise SpecError(
            "provider_id",
            f"'{provider.id}' ({provider.kind.value}) offers no {kind.value} deployment",
        )
    if target.region_id is not None:
        region = provider.region(target.region_id)
        if target.country is not None and target.country != region.country:
            raise SpecError(
                "country", f"{target.country} contradicts region {region.id} in {region.country}"
            )
    elif kind != DeploymentKind.API and target.country is None:
        raise SpecError("country", f"a {kind.value} target needs a country or a region_id")
    return provider


def legal_sovereignty(
    policy: SovereigntyPolicy, target: SovereigntyTarget, provider: ProviderSpec
) -> float:
    """Legal sovereignty = residency factor x jurisdiction factor, in [0, 1].

    Residency factor: 1.0 when the processing country is known and allowed (or no
    limit is set); 0.8 when known only as 'EU'/'EEA' and allowed; 0.5 when unknown and
    no limit is set; 0.0 when outside the allowed countries or unknown under a limit.
    Jurisdiction factor: 1.0 own data centre; 0.9 third-party operator reached by no
    foreign access law; 0.6 when reach is unclear (EU entity of a foreign group,
    colocation operator); 0.3 when a foreign access law reaches it. A law of the
    organisation's own home country does not count as foreign. The factors are
    inferplan's ordinal assumptions, e.g. own DC in an allowed country = 1.0, a US
    hyperscaler's Frankfurt region for a German user = 1.0 x 0.3 = 0.3.
    """
    allowed = policy.allowed_country_set()
    loc = target_location(target, provider)
    if loc is None:
        residency = 0.5 if allowed is None else 0.0
    elif allowed is None or expand_countries([loc]) <= allowed:
        residency = 0.8 if loc in COUNTRY_GROUPS else 1.0
    else:
        residency = 0.0
    reaches, contested = exposure_of(target, provider)
    if target.kind == DeploymentKind.ON_PREM:
        jurisdiction = 1.0
    elif _any_foreign(reaches, policy):
        jurisdiction = 0.3
    elif _any_foreign(contested, policy):
        jurisdiction = 0.6
    else:
        jurisdiction = 0.9
    return round(residency * jurisdiction, 4)


def _any_foreign(laws: Iterable[ForeignAccessLaw], policy: SovereigntyPolicy) -> bool:
    return any(LAW_COUNTRY[law] != policy.home_country for law in laws)


def operational_sovereignty(target: SovereigntyTarget, provider: ProviderSpec) -> float:
    """Operational sovereignty = 0.5 operator + 0.25 disconnect + 0.25 keys, in [0, 1].

    Components per option (inferplan ordinal assumptions): own data centre (1, 1, 1)
    = 1.0; colocation (0.6, 1, 1) = 0.8; sovereign cloud (0.6, 0.5, 0.7) = 0.6;
    hyperscaler or GPU cloud (0.2, 0.4, 0.4) = 0.3; hosted API (0, 0, 0.4) = 0.1.
    'operator' is who runs the stack, 'disconnect' whether it can keep running cut
    off from the vendor, 'keys' who holds the encryption keys in use.
    """
    if target.kind == DeploymentKind.ON_PREM:
        key = "on_prem"
    elif target.kind == DeploymentKind.COLOCATION:
        key = "colocation"
    elif target.kind == DeploymentKind.API:
        key = "api"
    else:
        key = provider.kind.value
    comps = _OPERATIONAL[key]
    return round(sum(w * c for w, c in zip(_WEIGHTS, comps, strict=True)), 4)


def evaluate(
    policy: SovereigntyPolicy,
    target: SovereigntyTarget,
    providers: ProviderLookup,
    rules: Mapping[str, Rule] | None = None,
) -> SovereigntyResult:
    """Run every rule on one option; ``allowed`` is True when no finding fails.

    The provider's sub-processors are resolved from ``providers`` into
    ``target.hosts`` first, so residency and jurisdiction see the clouds it runs on.
    """
    provider = resolve_provider(target, providers)
    if provider.sub_processors and not target.hosts:
        target = target.model_copy(update={"hosts": resolve_hosts(provider, providers)})
    findings = tuple(rule(policy, target, provider) for rule in (rules or RULES).values())
    return SovereigntyResult(
        target=target,
        findings=findings,
        allowed=all(f.passed for f in findings),
        legal_sovereignty=legal_sovereignty(policy, target, provider),
        operational_sovereignty=operational_sovereignty(target, provider),
    )


class CostDriver(FrozenSpec):
    """One yearly cost a compliance requirement adds; ``basis`` cites or labels it."""

    driver: str
    ops_fte: float = Field(ge=0.0, description="extra staff, full-time equivalents per year")
    usd_per_year: float = Field(ge=0.0, description="extra non-staff cost, USD per year")
    basis: str


class ComplianceCost(FrozenSpec):
    """Extra yearly cost drivers; the economics layer prices ``ops_fte`` at its own
    loaded staff cost and adds ``usd_per_year``."""

    items: tuple[CostDriver, ...] = ()
    ops_fte: float = 0.0
    usd_per_year: float = 0.0


# Air-gap operations: inferplan assumption. Public on-prem estimates put operations at
# 2+ engineers for a GPU cluster (https://tnxn.agency/resources/whitepapers/on-premise-ai-buyers-guide);
# no public source prices the air-gap premium (egress audits, media handling, local
# identity and logs) on its own, so inferplan adds half a person.
AIR_GAP_OPS_FTE = 0.5
# Offline model refresh: inferplan assumption of 4 refreshes a year x 5 person-days
# (transfer, scan, verify signatures, re-evaluate, redeploy), steps per
# https://www.gse.kz/en/blog/air-gapped-llm-reference-architecture; a vendor calls the
# real cost "roughly an order of magnitude larger than most buyers estimate"
# (https://www.allganize.ai/en/blog/air-gap-ai-model-refresh-hidden-cost).
OFFLINE_REFRESHES_PER_YEAR = 4
PERSON_DAYS_PER_REFRESH = 5.0
# Staging/scanning host, signed media and HSM upkeep: inferplan assumption, USD/year.
OFFLINE_MEDIA_USD_PER_YEAR = 5_000.0
# Keeping one self-held certificate (ISMS upkeep, internal audit, audit support):
# inferplan assumption, FTE per certificate per year.
SELF_CERT_FTE = 0.1


def compliance_overheads(policy: SovereigntyPolicy, target: SovereigntyTarget) -> ComplianceCost:
    """Yearly staff (FTE) and cash (USD) that the policy adds to this option.

    Air gap on on_prem/colocation: +0.5 FTE operations and offline model refresh of
    4 x 5 / 220 = 0.0909 FTE plus 5,000 USD/yr media and staging. Self-operated
    (on_prem) options add 0.1 FTE per required certificate the organisation must hold
    itself (contract terms such as hipaa_baa or gdpr_dpa excluded). Cloud and API
    options add nothing here: their compliance cost is in the provider's price.
    """
    items: list[CostDriver] = []
    if policy.air_gapped and target.kind in OFFLINE_KINDS:
        items.append(
            CostDriver(
                driver="air_gap_operations",
                ops_fte=AIR_GAP_OPS_FTE,
                usd_per_year=0.0,
                basis="inferplan assumption; on-prem ops need 2+ engineers (tnxn.agency guide)",
            )
        )
        refresh_days = OFFLINE_REFRESHES_PER_YEAR * PERSON_DAYS_PER_REFRESH
        refresh_fte = refresh_days / WORKING_DAYS_PER_FTE_YEAR
        items.append(
            CostDriver(
                driver="offline_model_updates",
                ops_fte=round(refresh_fte, 4),
                usd_per_year=OFFLINE_MEDIA_USD_PER_YEAR,
                basis="inferplan assumption: 4 refreshes x 5 person-days (gse.kz steps)",
            )
        )
    own = [c for c in policy.required_certifications if c not in CONTRACT_TERMS]
    if target.kind == DeploymentKind.ON_PREM and own:
        items.append(
            CostDriver(
                driver="self_held_certifications",
                ops_fte=round(SELF_CERT_FTE * len(own), 4),
                usd_per_year=0.0,
                basis=f"inferplan assumption: {SELF_CERT_FTE} FTE per certificate ("
                + ", ".join(c.value for c in own)
                + ")",
            )
        )
    return ComplianceCost(
        items=tuple(items),
        ops_fte=round(sum(i.ops_fte for i in items), 4),
        usd_per_year=sum(i.usd_per_year for i in items),
    )


__all__ = [
    "WORKING_DAYS_PER_FTE_YEAR",
    "ComplianceCost",
    "CostDriver",
    "ProviderLookup",
    "SovereigntyResult",
    "compliance_overheads",
    "evaluate",
    "legal_sovereignty",
    "operational_sovereignty",
    "resolve_hosts",
    "resolve_provider",
]
