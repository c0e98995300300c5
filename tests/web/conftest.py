"""Fixtures of the web UI tests: the app on a fresh SQLite store, a test client and a
live server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from inferplan.api.app import create_app
from inferplan.api.settings import ServiceSettings
from inferplan.store.database import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "inferplan" / "examples" / "default.yaml"


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


@pytest.fixture
def default_doc() -> dict[str, Any]:
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (free port) in a thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start within 20 s"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
