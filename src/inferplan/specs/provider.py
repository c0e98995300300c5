"""Provider catalog records: who runs the hardware or API, under which law, where.

One :class:`ProviderSpec` per legal offering (an EU sovereign offering of a US group
is its own record, because its legal entity and exposure differ from its parent's).
Facts come from ``inferplan/catalog/data/providers.yaml``; each record names its
``source`` and ``as_of`` date. An empty list or ``None`` means *not found in the
sources read*, never "no".
"""

from __future__ import annotations

import difflib
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from inferplan.errors import UnknownIdError
from inferplan.specs.base import FrozenSpec, SourcedRecord
from inferplan.specs.policy import Certification, ForeignAccessLaw, normalize_country


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


class ApiDataTerms(FrozenSpec):
    """How a hosted model API treats prompts and outputs, by default.

    retention_days: longest default storage of prompts/outputs (abuse monitoring
        included); 0 = nothing stored; ``None`` = not published or contradictory.
    zero_retention_available: a zero-data-retention agreement or setting exists.
    trains_on_data_by_default: prompts/outputs are used to train or improve models
        unless the customer opts out; ``None`` = not published.
    """

    retention_days: int | None = Field(default=None, ge=0)
    zero_retention_available: bool | None = None
    trains_on_data_by_default: bool | None = None


class ProviderSpec(SourcedRecord):
    """One provider offering and the facts the sovereignty rules need.

    foreign_access_laws: laws that definitely reach the provider (its controlling
        parent is in that law's country).
    foreign_access_unclear: laws whose reach is disputed (EU subsidiary of a foreign
        group, colocation operator whose control over customer data depends on service).
    certifications: held at provider level per the source; service scope may be narrower.
    default_region: region used when a target names none (e.g. an API's default hosting).
    air_gap_capable: the option can run with no network path (own or colocated hardware).
    extra_sources: further sources behind individual fields.
    """

    name: str
    kind: ProviderKind
    hq_country: str | None = None
    parent_hq_country: str | None = None
    foreign_access_laws: tuple[ForeignAccessLaw, ...] = ()
    foreign_access_unclear: tuple[ForeignAccessLaw, ...] = ()
    certifications: tuple[Certification, ...] = ()
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

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSpec:
        both = set(self.foreign_access_laws) & set(self.foreign_access_unclear)
        if both:
            raise ValueError(f"law listed as both certain and unclear: {sorted(both)}")
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

    def region(self, region_id: str) -> RegionSpec:
        """The region with this id (case-insensitive); unknown ids list the close ones."""
        key = region_id.strip().lower()
        for r in self.regions:
            if r.id.lower() == key:
                return r
        close = difflib.get_close_matches(key, [r.id for r in self.regions], n=3, cutoff=0.5)
        raise UnknownIdError("region_id", region_id, close)


__all__ = ["CLOUD_KINDS", "ApiDataTerms", "ProviderKind", "ProviderSpec", "RegionSpec"]
