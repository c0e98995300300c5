"""Fixtures shared by the service tests (api, store, web): the store on the selected
database, the bundled default scenario, and the app served on 127.0.0.1.

``db_url`` and ``app`` are defined by each folder's own conftest."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "inferplan" / "examples" / "default.yaml"


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    from inferplan.store.database import open_store

    s = open_store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def default_doc() -> dict[str, Any]:
    """The bundled example scenario (a fresh copy per test)."""
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return copy.deepcopy(doc)


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (a free port) in a thread; yields its URL."""
    import uvicorn

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
