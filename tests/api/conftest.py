"""Fixtures of the API tests: a fresh store (SQLite, and PostgreSQL when
INFERPLAN_TEST_POSTGRES_URL is set), the app, a client, a live server."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from inferplan.api.settings import ServiceSettings
from inferplan.bench.results import Phase, RequestRecord, RunMetadata
from inferplan.bench.runner import build_summary
from inferplan.server import create_app
from inferplan.store.database import Store, resolve_database_url

PG_ENV = "INFERPLAN_TEST_POSTGRES_URL"
BASE = "http://127.0.0.1"
BENCH_SECRET = "sk-live-0123456789abcdef"


def reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    engine = create_engine(resolve_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend (PostgreSQL only when configured)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    reset_postgres(url)
    return url


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings()


@pytest.fixture
def app(settings: ServiceSettings, store: Store) -> FastAPI:
    return create_app(settings, store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE) as c:
        yield c
        app.state.jobs.wait_idle(30)


def _wait_job(client: TestClient, job_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish within {timeout_s} s")


@pytest.fixture
def wait_job() -> Any:
    """``wait_job(client, job_id)``: poll a job until it ends (bounded), return its state."""
    return _wait_job


GAP_S = 0.01
TOKENS = 11


def _make_run(ttfts: list[float], url: str = "http://127.0.0.1:8000") -> tuple[dict[str, Any], str]:
    """A one-stage run: request i sent at i s, first token after ttfts[i], then
    TOKENS - 1 more tokens GAP_S apart (so every TPOT and ITL is GAP_S)."""
    meta = RunMetadata(
        started_at="2026-01-01T00:00:00+00:00", url=url, endpoint="chat", model="m-8b",
        engine="vllm",
        config={"concurrency": [1], "profile": "synchronous", "api_key": BENCH_SECRET,
                "api_key_env": "SERVER_KEY",
                "extra_body": {"Authorization": f"Bearer {BENCH_SECRET}"}},
    )
    records = []
    for i, ttft in enumerate(ttfts):
        sent = float(i)
        times = [sent + ttft + k * GAP_S for k in range(TOKENS)]
        records.append(RequestRecord(
            request_id=i, stage=0, phase=Phase.MEASURE, sent_s=sent, scheduled_s=sent,
            first_token_s=times[0], first_content_s=times[0], last_token_s=times[-1],
            end_s=times[-1], token_times_s=times, output_tokens=TOKENS, input_tokens=100,
            output_tokens_source="usage", input_tokens_source="usage", finish_reason="length",
        ))
    summary = build_summary(meta, records).model_dump(mode="json")
    jsonl = "".join(r.model_dump_json() + "\n" for r in records)
    return summary, jsonl


@pytest.fixture
def make_run() -> Any:
    """``make_run(ttfts, url=...)``: a synthetic bench run (summary dict, records JSONL)
    whose config holds the API key ``sk-live-0123456789abcdef``."""
    return _make_run
