"""Persistence of the team service: scenarios with history, plans, benchmark runs,
calibration profiles (SQLAlchemy 2; SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from inferplan.store.database import Store, open_store, resolve_database_url
from inferplan.store.errors import ConflictError, NotFoundError, StoreError

__all__ = [
    "ConflictError",
    "NotFoundError",
    "Store",
    "StoreError",
    "open_store",
    "resolve_database_url",
]
