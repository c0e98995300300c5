"""Shared objects of a running app (store, jobs, settings), read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from inferplan.api.jobs import JobManager
from inferplan.api.settings import ServiceSettings
from inferplan.store.database import Store

MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]
"""A record id in a path (bounded to the 32-bit integer range of both databases)."""
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_jobs(request: Request) -> JobManager:
    jobs: JobManager = request.app.state.jobs
    return jobs


def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


__all__ = [
    "MAX_ID",
    "PathId",
    "QueryId","get_jobs", "get_settings", "get_store"]
