"""Jobs are shared truth: their state lives in the store, so two servers on one
database see and cancel each other's jobs, a restart does not interrupt another
server's running job, and the queue is bounded."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inferplan.api import routes_plans
from inferplan.api.settings import ServiceSettings
from inferplan.server import create_app
from inferplan.store import jobs as jobs_repo
from inferplan.store import records
from inferplan.store.database import Store

API = "/api/v1"


@contextmanager
def _server(store: Store, port: int, **kw: Any) -> Iterator[TestClient]:
    """A server on ``store``; servers differ by port (their name is host:port)."""
    app = create_app(ServiceSettings(port=port, **kw), store)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
    app.state.jobs.shutdown()


@pytest.fixture
def blocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, threading.Event]]:
    """The planner reports progress until ``release`` is set (at most 30 s)."""
    ev = {"started": threading.Event(), "release": threading.Event()}

    def slow_plan(scenario: Any, progress: Any) -> Any:
        ev["started"].set()
        end = time.monotonic() + 30
        while not ev["release"].is_set() and time.monotonic() < end:
            progress("working", 0.5)
            time.sleep(0.05)
        raise AssertionError("the plan was not cancelled")

    monkeypatch.setattr(routes_plans, "run_planner", slow_plan)
    yield ev
    ev["release"].set()


def _wait(client: TestClient, job_id: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"{API}/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end within {timeout_s} s")


def test_two_servers_see_and_cancel_each_others_jobs(
    store: Store, default_doc: dict[str, Any], blocked: dict[str, threading.Event]
) -> None:
    with _server(store, 9001) as a, _server(store, 9002) as b:
        r = a.post(f"{API}/plans", json={"document": default_doc})
        assert r.status_code == 202
        pid, jid = r.json()["plan_id"], r.json()["job"]["id"]
        assert blocked["started"].wait(10)
        seen = b.get(f"{API}/jobs/{jid}").json()
        assert seen["status"] == "running" and seen["plan_id"] == pid
        assert jid in [j["id"] for j in b.get(f"{API}/jobs").json()]
        assert b.get(f"{API}/plans/{pid}").json()["job_id"] == jid

        # a third server starting (or b restarting) leaves a's running job alone
        with _server(store, 9002):
            pass
        with _server(store, 9003) as c:
            assert c.get(f"{API}/jobs/{jid}").json()["status"] == "running"
        assert b.get(f"{API}/plans/{pid}").json()["status"] == "running"

        assert b.post(f"{API}/plans/{pid}/cancel").status_code == 200
        assert _wait(a, jid)["status"] == "cancelled"
        assert a.get(f"{API}/plans/{pid}").json()["status"] == "cancelled"


def test_jobs_of_a_vanished_server_are_interrupted(store: Store,
                                                   default_doc: dict[str, Any]) -> None:
    jobs_repo.create_job(store, "a" * 32, "plan", "gone-host:1/1-x")
    plan = records.create_plan(store, default_doc, job_id="a" * 32)
    jobs_repo.update_job(store, "a" * 32, plan_id=plan.id, status="running")
    # heartbeat younger than STALE_S: another server may still be running it
    assert jobs_repo.interrupt_orphans(store) == 0
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=jobs_repo.STALE_S + 1)
    jobs_repo.update_job(store, "a" * 32, heartbeat_at=old)
    assert jobs_repo.interrupt_orphans(store) == 1
    assert jobs_repo.get_job(store, "a" * 32).status == "interrupted"  # type: ignore[union-attr]
    assert records.get_plan(store, plan.id).status == "interrupted"


def test_the_queue_is_bounded(store: Store, default_doc: dict[str, Any],
                              blocked: dict[str, threading.Event]) -> None:
    with _server(store, 9004, plan_workers=1, max_queued_jobs=2) as c:
        first = c.post(f"{API}/plans", json={"document": default_doc})
        assert blocked["started"].wait(10)  # running: no longer queued
        waiting = [c.post(f"{API}/plans", json={"document": default_doc}) for _ in range(2)]
        assert [r.status_code for r in waiting] == [202, 202]
        full = c.post(f"{API}/plans", json={"document": default_doc})
        assert full.status_code == 429
        assert "2 jobs are waiting" in full.json()["detail"]
        assert full.headers["retry-after"]
        for r in (first, *waiting):
            c.post(f"{API}/jobs/{r.json()['job']['id']}/cancel")
        for r in (first, *waiting):
            assert _wait(c, r.json()["job"]["id"])["status"] == "cancelled"


def test_the_queue_bound_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from inferplan.errors import SpecError

    assert ServiceSettings.from_env().max_queued_jobs == 20
    monkeypatch.setenv("INFERPLAN_MAX_QUEUED_JOBS", "5")
    assert ServiceSettings.from_env().max_queued_jobs == 5
    for bad in ("0", "many"):
        monkeypatch.setenv("INFERPLAN_MAX_QUEUED_JOBS", bad)
        with pytest.raises(SpecError) as err:
            ServiceSettings.from_env()
        assert err.value.field == "INFERPLAN_MAX_QUEUED_JOBS"
