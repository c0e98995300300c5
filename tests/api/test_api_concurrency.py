"""Concurrent writers to one scenario through a real server: no update is lost."""

from __future__ import annotations

import threading
from typing import Any

import httpx

WRITERS = 6
ROUNDS = 4
INCREMENTS_PER_WRITER = 3


def _counter(doc: dict[str, Any]) -> int:
    return int(str(doc["description"]).split("=")[1])


def test_same_base_version_only_one_write_wins(live_server: str, default_doc: dict[str, Any]
                                               ) -> None:
    """Each round every writer reads the same version, then all write at once:
    exactly one succeeds, the others get 409 naming the new version."""
    doc = {**default_doc, "description": "counter=0"}
    with httpx.Client(base_url=live_server, timeout=30) as c:
        sid = c.post("/api/v1/scenarios", json={"document": doc}).json()["id"]
    barrier = threading.Barrier(WRITERS)
    results: list[list[tuple[int, Any]]] = [[] for _ in range(ROUNDS)]
    lock = threading.Lock()

    def writer() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as c:
            for rnd in range(ROUNDS):
                cur = c.get(f"/api/v1/scenarios/{sid}").json()
                barrier.wait(timeout=30)
                new = {**cur["document"], "description": f"counter={_counter(cur['document']) + 1}"}
                r = c.put(f"/api/v1/scenarios/{sid}",
                          json={"document": new, "version": cur["version"]})
                with lock:
                    results[rnd].append((r.status_code, r.json()))
                barrier.wait(timeout=30)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for rnd, res in enumerate(results):
        codes = sorted(code for code, _ in res)
        assert codes == [200] + [409] * (WRITERS - 1), (rnd, codes)
        conflicts = [body for code, body in res if code == 409]
        assert all(b["current_version"] == rnd + 2 for b in conflicts)
    with httpx.Client(base_url=live_server, timeout=30) as c:
        final = c.get(f"/api/v1/scenarios/{sid}").json()
        history = c.get(f"/api/v1/scenarios/{sid}/versions").json()
    assert final["version"] == 1 + ROUNDS
    assert _counter(final["document"]) == ROUNDS
    assert [h["version"] for h in history] == list(range(1, ROUNDS + 2))


def test_retrying_writers_lose_no_increment(live_server: str, default_doc: dict[str, Any]
                                            ) -> None:
    """Writers that re-read and retry on 409 (bounded) end with every increment kept."""
    doc = {**default_doc, "description": "counter=0"}
    with httpx.Client(base_url=live_server, timeout=30) as c:
        sid = c.post("/api/v1/scenarios", json={"document": doc}).json()["id"]
    conflicts = []

    def writer() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as c:
            for _ in range(INCREMENTS_PER_WRITER):
                for _attempt in range(200):
                    cur = c.get(f"/api/v1/scenarios/{sid}").json()
                    n = _counter(cur["document"])
                    new = {**cur["document"], "description": f"counter={n + 1}"}
                    r = c.put(f"/api/v1/scenarios/{sid}",
                              json={"document": new, "version": cur["version"]})
                    if r.status_code == 200:
                        break
                    assert r.status_code == 409, r.text
                    conflicts.append(1)
                else:
                    raise AssertionError("no write succeeded in 200 attempts")

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    total = WRITERS * INCREMENTS_PER_WRITER
    with httpx.Client(base_url=live_server, timeout=30) as c:
        final = c.get(f"/api/v1/scenarios/{sid}").json()
        history = c.get(f"/api/v1/scenarios/{sid}/versions?documents=true").json()
    assert _counter(final["document"]) == total
    assert final["version"] == 1 + total
    assert [_counter(h["document"]) for h in history] == list(range(total + 1))
