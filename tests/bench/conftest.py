"""Shared fixtures: the stub server (in-process and threaded) and an isolated output folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from .stub_server import StubConfig, StubServer, ThreadedStub


@pytest.fixture
async def stub() -> AsyncIterator[StubServer]:
    """A stub on the test's own event loop (normal mode, vLLM-like)."""
    server = StubServer(StubConfig())
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def threaded_stub() -> Iterator[Callable[..., AbstractContextManager[StubServer]]]:
    """Factory: ``with threaded_stub(mode=..., cycle=[...]) as server:`` for sync callers."""

    def make(**kwargs: object) -> AbstractContextManager[StubServer]:
        return ThreadedStub(StubConfig(**kwargs))  # type: ignore[arg-type]

    yield make


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"
