"""Provider catalog records: who runs the hardware or API, under which law, where.

One :class:`ProviderSpec` per legal offering (an EU sovereign offering of a US group
is its own record, because its legal entity and exposure differ from its parent's).
Facts come from ``inferplan/catalog/data/providers.yaml``; each record names its
``source`` and ``as_of`` date. An empty list or ``None`` means *not found in the
sources read*, never "no".

Jurisdiction test (one rule for every provider, :meth:`ProviderSpec.foreign_access`):
a foreign-access law *reaches* a provider whose headquarters or controlling parent is
in that law's country; it is *contested* when the provider or a company it controls
only has a presence there (a subsidiary, branch or region: a court there has
jurisdiction over that entity, but whether data held abroad is in its "possession,
custody, or control", 18 U.S.C. 2713, is disputed), or when sources disagree about a
reach (``foreign_access_contested`` with ``jurisdiction_sources``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from inferplan.errors import UnknownIdError
from inferplan.specs.base import FrozenSpec, SourcedRecord
from inferplan.specs.policy import (
    LAW_COUNTRY,
    Certification,
    ForeignAccessLaw,
    normalize_country,
)


class ProviderKind(StrEnum):
    """What a provider sells. ``on_prem`` and ``colocation`` also name pseudo-providers."""

    HYPERSCALER = "hyperscaler"
    GPU_CLOUD = "gpu_cloud"
    SOVEREIGN_CLOUD = "sovereign_cloud"
    API = "api"
    COLOCATION = "colocation"
    ON_PREM = "on_prem"


CLOUD_KINDS: frozenset[ProviderKind] = frozenset(
    {ProviderKind.HYPERSCALER, ProviderKind.GPU_CLOUD, ProviderKind.SOVEREIGN_CLOUD}
)


class RegionSpec(FrozenSpec):
    """A region or site. ``country`` is ISO 3166-1 alpha-2, or 'EU'/'EEA' when the
    sources say only that processing stays in that group of countries."""

    id: str = Field(min_length=1)
    country: str
    name: str = ""

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return normalize_country(v, "regions.country")


class Availability(StrEnum):
    """Whether a provider offers something, per the sources read."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Exposure(StrEnum):
    """How a foreign-access law bears on a provider (see the module's test)."""

    REACHES = "reaches"
    CONTESTED = "contested"


class DpaTerms(FrozenSpec):
    """The provider's GDPR Art. 28 data-processing agreement (a contract the customer
    signs, not a certificate). ``offered`` yes/no needs the ``source`` that says so."""

    offered: Availability = Availability.UNKNOWN
    source: str = ""

    @field_validator("offered", mode="before")
    @classmethod
    def _yaml_bool(cls, v: object) -> object:
        # YAML 1.1 reads a bare yes/no as a boolean
        return {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v

    @model_validator(mode="after")
    def _sourced(self) -> DpaTerms:
        if self.offered != Availability.UNKNOWN and len(self.source.strip()) < 3:
            raise ValueError("gdpr_dpa.offered yes/no needs its source")
        return self


class EvidenceLevel(StrEnum):
    """Who says an attestation is held: the provider or issuer itself, or a third party
    quoting it (a customer's compliance file, a comparison site)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


#: Evidence that decides whether an option exists at all (mandatory country rules):
#: a provider that lists one of these must record the attestation behind it.
EVIDENCED_CERTIFICATIONS: frozenset[Certification] = frozenset(
    {
        Certification.BSI_C5_TYPE2,
        Certification.SECNUMCLOUD,
        Certification.HDS,
        Certification.NEN7510,
        Certification.NHS_DSPT,
    }
)


class Attestation(FrozenSpec):
    """The evidence behind one certification, attestation or contract term.

    kind: the certification it evidences (also listed in ``certifications``).
    source / as_of: where it was read and the date of the report, certificate or
        announcement (the date read when the source is undated; notes say so).
    evidence: ``primary`` (the provider's or issuer's own page) or ``secondary`` (a third
        party quoting it).
    services: the services the source names in scope (empty = not stated).
    gpu_cloud / ai_api: whether the scope covers the provider's GPU instances / its
        hosted model API: ``yes`` (named in scope), ``no`` (the source bounds the scope and
        they are outside it: the evidence does not count for them) or ``unknown``
        (inferplan's rule: a condition to confirm the scope, not a rejection).
    """

    kind: Certification
    source: str = Field(min_length=3)
    as_of: dt.date
    evidence: EvidenceLevel = EvidenceLevel.PRIMARY
    services: tuple[str, ...] = ()
    gpu_cloud: Availability = Availability.UNKNOWN
    ai_api: Availability = Availability.UNKNOWN
    notes: str = ""

    @field_validator("gpu_cloud", "ai_api", mode="before")
    @classmethod
    def _yaml_bool(cls, v: object) -> object:
        return {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v


class SubProcessor(FrozenSpec):
    """Another company's infrastructure that serves this offering (GDPR Art. 28(2)/(4)
    sub-processor). ``provider`` is a providers-catalog id; ``region`` one of its region
    ids; ``country`` (alpha-2 or 'EU'/'EEA') where the source places the processing when
    it names no region; neither = location unknown."""

    provider: str = Field(min_length=1)
    region: str | None = None
    country: str | None = None
    role: str = "hosting"
    source: str = Field(min_length=3)

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return None if v is None else normalize_country(v, "sub_processors.country")


class ApiDataTerms(FrozenSpec):
    """How a hosted model API treats prompts and outputs, by default.

    retention_days: longest default storage of prompts/outputs, abuse-monitoring and
        diagnostic logs that may hold content and batch staging included; 0 = nothing
        stored; ``None`` = not published, open-ended or contradictory.
    zero_retention_available: a zero-data-retention agreement or setting exists.
    trains_on_data_by_default: prompts/outputs are used to train or improve models
        unless the customer opts out; ``None`` = not published.
    """

    retention_days: int | None = Field(default=None, ge=0)
    zero_retention_available: bool | None = None
    trains_on_data_by_default: bool | None = None


class ProviderSpec(SourcedRecord):
    """One provider offering and the facts the sovereignty rules need.

    hq_country / parent_hq_country: the offering's legal entity and its ultimate
        controlling parent (ISO alpha-2).
    presence_countries: countries where the provider or a company it controls operates
        (subsidiary, branch) beyond its listed regions, per the sources read.
    foreign_access_contested: laws whose reach sources dispute even though the parent
        is in that law's country (EU-operated entity of a foreign group; colocation
        operator without control of customer data); ``jurisdiction_sources`` cite them.
    gdpr_dpa: the Art. 28 contract offered (yes/no/unknown, with source).
    sub_processors: other companies' clouds the offering runs on (location and
        jurisdiction inherited by the sovereignty rules).
    certifications: held at provider level per the source; service scope may be narrower.
    attestations: the evidence behind certifications (source, date, scope); required for
        the ones that decide an option (:data:`EVIDENCED_CERTIFICATIONS`).
    default_region: region used when a target names none (e.g. an API's default hosting).
    air_gap_capable: the option can run with no network path (own or colocated hardware).
    extra_sources: further sources behind individual fields.
    """

    name: str
    kind: ProviderKind
    hq_country: str | None = None
    parent_hq_country: str | None = None
    presence_countries: tuple[str, ...] = ()
    foreign_access_contested: tuple[ForeignAccessLaw, ...] = ()
    jurisdiction_sources: tuple[str, ...] = ()
    gdpr_dpa: DpaTerms = DpaTerms()
    sub_processors: tuple[SubProcessor, ...] = ()
    certifications: tuple[Certification, ...] = ()
    attestations: tuple[Attestation, ...] = ()
    regions: tuple[RegionSpec, ...] = ()
    default_region: str | None = None
    api: ApiDataTerms | None = None
    air_gap_capable: bool = False
    sovereign_offering: str = ""
    extra_sources: tuple[str, ...] = ()

    @field_validator("hq_country", "parent_hq_country")
    @classmethod
    def _hq(cls, v: str | None) -> str | None:
        return None if v is None else normalize_country(v, "hq_country", groups=False)

    @field_validator("presence_countries")
    @classmethod
    def _presence(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalize_country(c, "presence_countries", groups=False) for c in v)

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSpec:
        if Certification.GDPR_DPA in self.certifications:
            raise ValueError(
                "gdpr_dpa is a contract, not a certification: record it as "
                "gdpr_dpa: {offered: yes, source: ...}"
            )
        for a in self.attestations:
            if a.kind not in self.certifications:
                raise ValueError(
                    f"attestation '{a.kind.value}' is not listed in certifications"
                )
        bare = sorted(
            c.value
            for c in self.certifications
            if c in EVIDENCED_CERTIFICATIONS and self.attestation(c) is None
        )
        if bare:
            raise ValueError(
                f"certifications {', '.join(bare)} need an attestations entry "
                "(kind, source, as_of, scope)"
            )
        if self.foreign_access_contested and not self.jurisdiction_sources:
            raise ValueError("foreign_access_contested needs jurisdiction_sources")
        ids = [r.id for r in self.regions]
        if len(ids) != len(set(ids)):
            raise ValueError("region ids must be unique")
        if self.default_region is not None and self.default_region not in ids:
            raise ValueError(f"default_region '{self.default_region}' is not in regions")
        if self.kind == ProviderKind.API and self.api is None:
            raise ValueError("an api provider needs 'api' data terms")
        own_hardware = self.kind in (ProviderKind.ON_PREM, ProviderKind.COLOCATION)
        if own_hardware and not self.air_gap_capable:
            raise ValueError("on_prem and colocation providers are air_gap_capable")
        return self

    def attestation(self, cert: Certification) -> Attestation | None:
        """The recorded evidence for ``cert``, or ``None``."""
        return next((a for a in self.attestations if a.kind == cert), None)

    def foreign_access(self) -> dict[ForeignAccessLaw, Exposure]:
        """Each foreign-access law that bears on this provider and how (module test).

        >>> p = ProviderSpec(id="x", name="X", kind="gpu_cloud", hq_country="NL",
        ...     parent_hq_country="NL", presence_countries=["US"], source="s://x",
        ...     as_of="2026-01-01")
        >>> {law.value: e.value for law, e in p.foreign_access().items()}
        {'us_cloud_act': 'contested', 'us_fisa_702': 'contested'}
        """
        control = {c for c in (self.hq_country, self.parent_hq_country) if c}
        presence = set(self.presence_countries) | {r.country for r in self.regions}
        out: dict[ForeignAccessLaw, Exposure] = {}
        for law, country in LAW_COUNTRY.items():
            if country in control:
                disputed = law in self.foreign_access_contested
                out[law] = Exposure.CONTESTED if disputed else Exposure.REACHES
            elif country in presence or law in self.foreign_access_contested:
                out[law] = Exposure.CONTESTED
        return out

    @property
    def foreign_access_laws(self) -> tuple[ForeignAccessLaw, ...]:
        """Laws that reach the provider (headquarters or parent in the law's country)."""
        return tuple(k for k, v in self.foreign_access().items() if v == Exposure.REACHES)

    @property
    def foreign_access_unclear(self) -> tuple[ForeignAccessLaw, ...]:
        """Laws whose reach is contested (presence only, or sources disagree)."""
        return tuple(k for k, v in self.foreign_access().items() if v == Exposure.CONTESTED)

    def region(self, region_id: str) -> RegionSpec:
        """The region with this id (case-insensitive); unknown ids list the close ones."""
        key = region_id.strip().lower()
        for r in self.regions:
            if r.id.lower() == key:
                return r
        close = difflib.get_close_matches(key, [r.id for r in self.regions], n=3, cutoff=0.5)
        raise UnknownIdError("region_id", region_id, close)


__all__ = [
    "CLOUD_KINDS",
    "EVIDENCED_CERTIFICATIONS",
    "ApiDataTerms",
    "Attestation",
    "Availability",
    "DpaTerms",
    "EvidenceLevel",
    "Exposure",
    "ProviderKind",
    "ProviderSpec",
    "RegionSpec",
    "SubProcessor",
]
