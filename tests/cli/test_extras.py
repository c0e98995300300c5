"""Commands of the team service say which extra to install when it is missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inferplan.cli.main import app

runner = CliRunner()


@pytest.fixture
def without_fastapi(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name in ("fastapi", "sqlalchemy") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    "argv", [["serve"], ["db", "backup", "x.json"], ["db", "restore", "x.json"]]
)
def test_service_commands_name_the_extra(without_fastapi: None, argv: list[str],
                                         tmp_path: Path) -> None:
    res = runner.invoke(app, argv)
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err and "pip install 'inferplan[service]'" in err
    assert "fastapi, sqlalchemy not installed" in err
    assert not (tmp_path / "x.json").exists()


def test_core_dependencies_leave_out_the_service_stack() -> None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    for name in ("fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "python-multipart"):
        assert name not in core
        assert name in " ".join(project["optional-dependencies"]["service"]).lower()
