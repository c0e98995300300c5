"""The store's tables (SQLAlchemy 2 declarative mapping).

Scenarios keep every version: ``scenarios`` holds the current document and its
version number, ``scenario_versions`` one row per version (1, 2, ... without
gaps), written in the same transaction as the scenario row. Plans keep a copy of
the scenario document they ran on, so a stored plan can be re-run after the
scenario changed or was deleted. Benchmark runs keep their summary JSON and the
per-request JSON lines. Times are UTC.

The schema is created and changed only by the Alembic migrations in
``inferplan/store/migrations``; this module must match the newest one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC and read back timezone-aware (UTC).

    SQLite has no time zones; storing naive UTC everywhere keeps both backends equal.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        dt.datetime: UtcDateTime,
    }


class Scenario(Base):
    """A scenario's current state; ``version`` counts its saved versions."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]]
    description: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScenarioVersion(Base):
    """One saved version of a scenario (its whole document)."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("scenarios.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict[str, Any]]
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Plan(Base):
    """A plan run: its input snapshot, its state while it runs, its result."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int | None] = mapped_column(
        ForeignKey("scenarios.id", ondelete="SET NULL"), index=True, nullable=True
    )
    scenario_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scenario_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    recommended_option: Mapped[str | None] = mapped_column(String(300), nullable=True)
    npv_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    usd_per_million_tokens: Mapped[float | None] = mapped_column(Float, nullable=True)
    rerun_of: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    calibration: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payload: Mapped[PlanPayload] = relationship(lazy="raise", uselist=False,
                                                passive_deletes=True)

    @property
    def scenario_document(self) -> dict[str, Any]:
        """The scenario the plan ran on (loaded with the plan by ``get_plan`` only)."""
        return self.payload.scenario_document

    @property
    def result(self) -> dict[str, Any] | None:
        """The plan's result (loaded with the plan by ``get_plan`` only)."""
        return self.payload.result


class PlanPayload(Base):
    """A plan's large parts, apart from its row so lists never read them (SQLite
    reads through a row's overflow pages to reach the columns after a large one)."""

    __tablename__ = "plan_payloads"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                         primary_key=True)
    scenario_document: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class BenchRun(Base):
    """An uploaded ``inferplan bench`` run: summary JSON plus per-request JSON lines."""

    __tablename__ = "bench_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    url_host: Mapped[str] = mapped_column(String(255), index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    engine: Mapped[str] = mapped_column(String(64), default="unknown")
    summary: Mapped[dict[str, Any]]
    records_jsonl: Mapped[str | None] = mapped_column(Text, nullable=True)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    headline: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)

    @property
    def stages(self) -> list[dict[str, Any]]:
        """The per-stage headline figures (see :mod:`inferplan.store.summaries`)."""
        return list(self.headline or [])


class Calibration(Base):
    """A named calibration profile: engine, accelerator and fitted parameters."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    engine: Mapped[str] = mapped_column(String(64))
    accelerator: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]]
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A plan or benchmark job. Any server may read it or ask it to stop
    (``cancel_requested``); only its ``owner`` runs it and keeps ``heartbeat_at``
    fresh, so a job whose heartbeat is stale lost its server."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str] = mapped_column(String(64))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    bench_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


TABLES_IN_ORDER = ("scenarios", "scenario_versions", "plans", "plan_payloads", "bench_runs",
                   "calibrations")
"""Tables in foreign-key order (parents first): the order of backup and restore.
Jobs are not backed up: they belong to the servers running them."""

__all__ = [
    "TABLES_IN_ORDER",
    "Base",
    "BenchRun",
    "Calibration",
    "Job",
    "Plan",
    "PlanPayload",
    "Scenario",
    "ScenarioVersion",
    "UtcDateTime",
    "utcnow",
]
