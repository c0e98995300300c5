"""Kill the server (SIGKILL) in the middle of writes; the SQLite store stays consistent
and keeps every write the server acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from inferplan.store import scenarios
from inferplan.store.database import open_store

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
ACKED_BEFORE_KILL = 60
MAX_WRITES_PER_WRITER = 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "from inferplan.cli.serve_cmd import serve; "
        f"serve('127.0.0.1', {port}, {f'sqlite:///{db}'!r}, None, None, 'warning')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("INFERPLAN_API_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start within 30 s")


def test_sigkill_during_writes_leaves_a_consistent_store(
    tmp_path: Path, default_doc: dict[str, Any]
) -> None:
    db = tmp_path / "crash.db"
    port = _free_port()
    proc = _start_server(db, port)
    base = f"http://127.0.0.1:{port}/api/v1"
    acked: dict[int, int] = {}  # scenario id -> highest version the server confirmed
    lock = threading.Lock()
    count = [0]

    def writer(n: int) -> None:
        with httpx.Client(timeout=10) as c:
            try:
                doc = {**default_doc, "name": f"crash-{n}", "description": "0"}
                r = c.post(f"{base}/scenarios", json={"document": doc})
                sid, version = r.json()["id"], 1
                with lock:
                    acked[sid] = 1
                for i in range(1, MAX_WRITES_PER_WRITER):
                    doc = {**doc, "description": str(i)}
                    r = c.put(f"{base}/scenarios/{sid}", json={"document": doc,
                                                               "version": version})
                    assert r.status_code == 200, r.text
                    version = r.json()["version"]
                    with lock:
                        acked[sid] = version
                        count[0] += 1
                    if i % 25 == 0:
                        c.post(f"{base}/plans", json={"document": {
                            **default_doc, "candidates": {"kinds": ["api"]}}})
            except httpx.HTTPError:
                return  # the server was killed

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while (count[0] < ACKED_BEFORE_KILL or len(acked) < WRITERS) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    for t in threads:
        t.join(30)
    assert count[0] >= ACKED_BEFORE_KILL, "too few writes before the kill"

    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = con.execute("SELECT id, version, document FROM scenarios").fetchall()
        assert {sid for sid, _, _ in rows} == set(acked) and len(acked) == WRITERS
        for sid, version, document in rows:
            versions = [v for (v,) in con.execute(
                "SELECT version FROM scenario_versions WHERE scenario_id = ? ORDER BY version",
                (sid,))]
            assert versions == list(range(1, version + 1)), sid
            (last,) = con.execute(
                "SELECT document FROM scenario_versions WHERE scenario_id = ? AND version = ?",
                (sid, version)).fetchone()
            assert last == document
            assert version >= acked[sid], "an acknowledged write was lost"
    finally:
        con.close()

    # the next start opens the same file, marks unfinished plans and takes new writes
    store = open_store(f"sqlite:///{db}")
    try:
        sid = next(iter(acked))
        current = scenarios.get_scenario(store, sid)
        updated = scenarios.update_scenario(store, sid, current.document, current.version)
        assert updated.version == current.version + 1
    finally:
        store.dispose()
