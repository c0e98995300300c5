"""How far a provider's recorded evidence reaches one deployment option.

Certifications and attestations are held for named services, not for a whole company:
a BSI C5 report lists the services and regions it tested, a SecNumCloud qualification
names the offers ANSSI qualified, an HDS certificate the hosting activities. GPU
instances and hosted model APIs are often newer than the report and may be outside it.
The provider record keeps that scope per attestation
(:class:`~inferplan.specs.provider.Attestation`: ``gpu_cloud`` and ``ai_api``), and one
rule reads it for every provider:

- not listed: **missing** (a mandatory country rule fails closed);
- listed, and the source bounds the scope so that this kind of offer is outside it
  (``no``): **out of scope**, treated as missing, and the reason names the scope;
- listed, scope for this kind of offer not stated (``unknown``): **held with a
  condition** to confirm the offer is in the scope. This is the conservative choice
  when the provider holds the attestation for its cloud platform: the buyer obtains the
  report anyway (Section 393 SGB V asks for the report of the processing entity), and
  the report answers the question; rejecting would hide the provider that qualifies;
- listed, offer named in scope (``yes``): **held**;
- evidence read only from a third party (``secondary``) adds a condition to obtain the
  report from the provider.

Own data centres and colocation are not a provider's service; for them a listed
certification counts as held.

References: BSI C5:2020 section 3.4 (the report describes the system and the period
tested); ANSSI SecNumCloud qualifications are per offer
(https://cyber.gouv.fr/produits-services-qualifies); Section 393(3) SGB V (the current
C5 attestation of the processing entity for the cloud systems used).
"""

from __future__ import annotations

from enum import StrEnum

from inferplan.specs.base import FrozenSpec
from inferplan.specs.policy import Certification, DeploymentKind
from inferplan.specs.provider import (
    Attestation,
    Availability,
    EvidenceLevel,
    ProviderSpec,
)

#: Readable names used in findings.
EVIDENCE_LABEL: dict[Certification, str] = {
    Certification.BSI_C5: "BSI C5 attestation",
    Certification.BSI_C5_TYPE2: "BSI C5 Type 2 attestation",
    Certification.SECNUMCLOUD: "SecNumCloud qualification",
    Certification.HDS: "HDS certificate",
    Certification.NEN7510: "NEN 7510 certificate",
    Certification.NHS_DSPT: "NHS DSPT assessment",
    Certification.HIPAA_BAA: "HIPAA BAA",
    Certification.ISO27001: "ISO/IEC 27001 certificate",
}

_OFFER = {DeploymentKind.CLOUD: "GPU instances", DeploymentKind.API: "model API"}


class Coverage(StrEnum):
    """How the recorded evidence reaches an option (module rule)."""

    HELD = "held"
    SCOPE_UNKNOWN = "scope_unknown"
    OUT_OF_SCOPE = "out_of_scope"
    MISSING = "missing"


class EvidenceCheck(FrozenSpec):
    """The coverage of one certification for one option, with the attestation read and
    the conditions it adds (one line each)."""

    cert: Certification
    coverage: Coverage
    attestation: Attestation | None = None
    conditions: tuple[str, ...] = ()
    reason: str = ""

    @property
    def counts(self) -> bool:
        """The evidence counts for this option (held, possibly with conditions)."""
        return self.coverage in (Coverage.HELD, Coverage.SCOPE_UNKNOWN)


def label(cert: Certification) -> str:
    """Readable name of a certification for findings."""
    return EVIDENCE_LABEL.get(cert, cert.value)


def _listed(provider: ProviderSpec, cert: Certification) -> Certification | None:
    """The listed certification that satisfies ``cert`` (C5 Type 2 also satisfies C5)."""
    if cert in provider.certifications:
        return cert
    if cert == Certification.BSI_C5 and Certification.BSI_C5_TYPE2 in provider.certifications:
        return Certification.BSI_C5_TYPE2
    return None


def check_evidence(
    provider: ProviderSpec, cert: Certification, kind: DeploymentKind
) -> EvidenceCheck:
    """Apply the module rule to one certification and one option kind.

    >>> import datetime as dt
    >>> a = Attestation(kind="bsi_c5_type2", source="s://c5", as_of=dt.date(2025, 6, 1))
    >>> p = ProviderSpec(id="x", name="X", kind="gpu_cloud", certifications=["bsi_c5_type2"],
    ...     attestations=[a], source="s://x", as_of=dt.date(2026, 1, 1))
    >>> check_evidence(p, Certification.BSI_C5_TYPE2, DeploymentKind.CLOUD).coverage.value
    'scope_unknown'
    """
    listed = _listed(provider, cert)
    if listed is None:
        return EvidenceCheck(cert=cert, coverage=Coverage.MISSING,
                             reason=f"{label(cert)} not on record for {provider.id}")
    att = provider.attestation(listed)
    offer = _OFFER.get(kind)
    if att is None or offer is None:
        return EvidenceCheck(cert=cert, coverage=Coverage.HELD, attestation=att)
    scope = att.gpu_cloud if kind == DeploymentKind.CLOUD else att.ai_api
    named = f" (named in scope: {', '.join(att.services)})" if att.services else ""
    where = f"{att.source}, recorded as of {att.as_of.isoformat()}"
    if scope == Availability.NO:
        reason = (
            f"{provider.id}'s {label(listed)} does not cover its {offer}{named}"
        )
        return EvidenceCheck(cert=cert, coverage=Coverage.OUT_OF_SCOPE, attestation=att,
                             reason=reason)
    conds: list[str] = []
    if scope == Availability.UNKNOWN:
        conds.append(
            f"confirm {provider.name}'s {offer} are in the scope of its {label(listed)}"
            f"{named}; scope not stated in {where}"
        )
    if att.evidence == EvidenceLevel.SECONDARY:
        conds.append(
            f"{label(listed)} of {provider.name} was read from a third-party source "
            f"({where}): obtain the report from {provider.name}"
        )
    coverage = Coverage.SCOPE_UNKNOWN if scope == Availability.UNKNOWN else Coverage.HELD
    return EvidenceCheck(cert=cert, coverage=coverage, attestation=att,
                         conditions=tuple(conds))


__all__ = ["EVIDENCE_LABEL", "Coverage", "EvidenceCheck", "check_evidence", "label"]
