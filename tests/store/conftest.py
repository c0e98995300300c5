"""Fixtures of the store tests: an empty database of each backend (PostgreSQL only
when INFERPLAN_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from inferplan.store.database import resolve_database_url

PG_ENV = "INFERPLAN_TEST_POSTGRES_URL"


def pg_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    engine = create_engine(resolve_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return pg_url_or_skip()


@pytest.fixture
def pg_url() -> str:
    """An empty PostgreSQL database (skips when none is configured)."""
    return pg_url_or_skip()
