"""Shared base for every input spec: frozen, unknown keys rejected."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class FrozenSpec(BaseModel):
    """Immutable pydantic model that rejects unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SourcedRecord(FrozenSpec):
    """A catalog record: a stable id, its provenance and the date it was read."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="stable lowercase id")
    aliases: tuple[str, ...] = ()
    source: str = Field(min_length=3, description="URL or document the figures come from")
    as_of: dt.date = Field(description="date the source was read or published")
    notes: str = ""
