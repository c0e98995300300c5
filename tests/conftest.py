"""Fixtures shared by the service tests (api, store, web): the store on the selected
database, the bundled default scenario, and the app served on 127.0.0.1.

``db_url`` and ``app`` are defined by each folder's own conftest."""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
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
    # proxy_headers off: forwarded headers are the app's own business (trusted proxies)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start within 20 s"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tls_proxy(live_server: str, tmp_path: Path) -> Iterator[str]:
    """A TLS-terminating reverse proxy process (``tests/web/tls_proxy.py``, a
    self-signed certificate for localhost) in front of ``live_server``; yields
    its ``https://localhost:PORT`` URL. Skips without the ``openssl`` tool."""
    import shutil

    import httpx

    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing (needed for the proxy's certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    port = free_port()
    script = Path(__file__).resolve().parent / "web" / "tls_proxy.py"
    proc = subprocess.Popen([sys.executable, str(script), live_server, str(port), str(cert),
                             str(key)])
    url = f"https://localhost:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                httpx.get(f"{url}/healthz", verify=False, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("the TLS proxy did not start within 30 s") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
