"""Scenarios with their history, under optimistic concurrency.

Every write names the version it was based on. The update is one statement,
``UPDATE scenarios SET version = v + 1, ... WHERE id = :id AND version = :v``,
and the new history row is inserted in the same transaction: two writers that
both read version ``v`` cannot both succeed, the loser gets a
:class:`~inferplan.store.errors.ConflictError` naming the current version, and a
crash leaves either both rows or neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, defer

from inferplan.store.database import Store
from inferplan.store.errors import ConflictError, NotFoundError
from inferplan.store.summaries import scenario_description
from inferplan.store.tables import Scenario, ScenarioVersion, utcnow

MAX_LIST = 500


def _name(document: dict[str, Any]) -> str:
    return str(document.get("name") or "unnamed")[:200]


def _get(s: Session, scenario_id: int) -> Scenario:
    row = s.get(Scenario, scenario_id)
    if row is None:
        raise NotFoundError("scenario", scenario_id)
    return row


def _conflict(current: int, based_on: int) -> ConflictError:
    return ConflictError(
        f"version: the scenario is at version {current}, this edit is based on version "
        f"{based_on}; reload it, reapply your change and save again",
        current_version=current,
    )


def create_scenario(store: Store, document: dict[str, Any], comment: str = "") -> Scenario:
    """Store a new scenario at version 1 (its document must already be validated)."""
    now = utcnow()
    with store.write() as s:
        row = Scenario(
            name=_name(document), version=1, document=document,
            description=scenario_description(document), created_at=now, updated_at=now
        )
        s.add(row)
        s.flush()
        s.add(
            ScenarioVersion(
                scenario_id=row.id,
                version=1,
                name=row.name,
                document=document,
                comment=comment[:500],
                created_at=now,
            )
        )
    return row


def get_scenario(store: Store, scenario_id: int) -> Scenario:
    """The scenario's current state."""
    with store.read() as s:
        return _get(s, scenario_id)


def list_scenarios(
    store: Store, query: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Scenario], int]:
    """Scenarios whose name contains ``query`` (case-insensitive), newest edit first,
    and how many match in all; without their documents (``document`` is not loaded)."""
    stmt = select(Scenario).options(defer(Scenario.document))
    count = select(func.count()).select_from(Scenario)
    if query:
        cond = func.lower(Scenario.name).contains(query.lower(), autoescape=True)
        stmt, count = stmt.where(cond), count.where(cond)
    stmt = stmt.order_by(Scenario.updated_at.desc(), Scenario.id.desc())
    with store.read() as s:
        rows = list(s.scalars(stmt.limit(min(limit, MAX_LIST)).offset(offset)))
        total = int(s.scalar(count) or 0)
    return rows, total


def update_scenario(
    store: Store, scenario_id: int, document: dict[str, Any], based_on: int, comment: str = ""
) -> Scenario:
    """Save ``document`` as the next version if the scenario is still at ``based_on``."""
    now = utcnow()
    with store.write() as s:
        res = s.execute(
            update(Scenario)
            .where(Scenario.id == scenario_id, Scenario.version == based_on)
            .values(version=based_on + 1, document=document, name=_name(document),
                    description=scenario_description(document), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            current = _get(s, scenario_id).version
            raise _conflict(current, based_on)
        s.add(
            ScenarioVersion(
                scenario_id=scenario_id,
                version=based_on + 1,
                name=_name(document),
                document=document,
                comment=comment[:500],
                created_at=now,
            )
        )
        row = s.get(Scenario, scenario_id, populate_existing=True)
        assert row is not None
    return row


def delete_scenario(store: Store, scenario_id: int, based_on: int | None = None) -> None:
    """Delete the scenario and its history (stored plans keep their copy).

    With ``based_on``, only if the scenario is still at that version.
    """
    with store.write() as s:
        stmt = delete(Scenario).where(Scenario.id == scenario_id)
        if based_on is not None:
            stmt = stmt.where(Scenario.version == based_on)
        res = s.execute(stmt.execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            current = _get(s, scenario_id).version
            raise _conflict(current, based_on or 0)


def duplicate_scenario(store: Store, scenario_id: int, name: str | None = None) -> Scenario:
    """A new scenario (version 1) with the current document of another, renamed."""
    src = get_scenario(store, scenario_id)
    doc = dict(src.document)
    doc["name"] = (name or f"{src.name} (copy)")[:200]
    return create_scenario(store, doc, comment=f"duplicated from scenario {scenario_id} "
                           f"version {src.version}")


def list_versions(store: Store, scenario_id: int) -> list[ScenarioVersion]:
    """Every saved version, oldest first."""
    with store.read() as s:
        _get(s, scenario_id)
        stmt = (
            select(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == scenario_id)
            .order_by(ScenarioVersion.version)
        )
        return list(s.scalars(stmt))


def get_version(store: Store, scenario_id: int, version: int) -> ScenarioVersion:
    """One saved version of a scenario."""
    with store.read() as s:
        _get(s, scenario_id)
        row = s.scalar(
            select(ScenarioVersion).where(
                ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.version == version
            )
        )
        if row is None:
            raise NotFoundError(f"scenario {scenario_id} version", version)
        return row


__all__ = [
    "create_scenario",
    "delete_scenario",
    "duplicate_scenario",
    "get_scenario",
    "get_version",
    "list_scenarios",
    "list_versions",
    "update_scenario",
]
