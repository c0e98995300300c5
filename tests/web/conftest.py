"""Fixtures of the web UI tests: the app on a fresh SQLite store, a test client and a
live server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from inferplan.api.settings import ServiceSettings
from inferplan.server import create_app
from inferplan.store.database import open_store


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    store = open_store(f"sqlite:///{tmp_path / 'ui.db'}")
    app = create_app(ServiceSettings(), store)
    yield app
    app.state.jobs.shutdown()
    store.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
        app.state.jobs.wait_idle(30)
