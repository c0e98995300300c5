"""Shared objects of a running app (store, jobs, settings), read from ``app.state``."""

from __future__ import annotations

from fastapi import Request

from inferplan.api.jobs import JobManager
from inferplan.api.settings import ServiceSettings
from inferplan.http_shared import MAX_ID, PathId, QueryId
from inferplan.store.database import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_jobs(request: Request) -> JobManager:
    jobs: JobManager = request.app.state.jobs
    return jobs


def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


__all__ = ["MAX_ID", "PathId", "QueryId", "get_jobs", "get_settings", "get_store"]
