"""``inferplan db backup|restore`` and ``inferplan serve`` start-up checks (CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from inferplan.cli import db_cmd, serve_cmd
from inferplan.store import scenarios
from inferplan.store.database import open_store


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    db_cmd.register(app)
    serve_cmd.register(app)
    return app


def test_backup_then_restore(cli: typer.Typer, tmp_path: Path) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    store = open_store(src)
    scenarios.create_scenario(store, {"name": "kept"})
    store.dispose()
    runner = CliRunner()
    out = runner.invoke(cli, ["db", "backup", str(tmp_path / "b.json.gz"),
                              "--database-url", src])
    assert out.exit_code == 0, out.output
    assert "1 scenarios" in out.output and "1 scenario versions" in out.output
    dst = f"sqlite:///{tmp_path / 'dst.db'}"
    out = runner.invoke(cli, ["db", "restore", str(tmp_path / "b.json.gz"),
                              "--database-url", dst])
    assert out.exit_code == 0, out.output
    again = runner.invoke(cli, ["db", "restore", str(tmp_path / "b.json.gz"),
                                "--database-url", dst])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(cli, ["db", "restore", str(tmp_path / "b.json.gz"),
                                 "--database-url", dst, "--force"])
    assert forced.exit_code == 0
    restored = open_store(dst)
    assert scenarios.get_scenario(restored, 1).name == "kept"
    restored.dispose()


def test_restore_of_a_bad_file_is_one_line(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text("[1, 2")
    out = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "junk.json"),
                                   "--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
    assert out.exit_code == 2
    assert "backup" in out.output and "Traceback" not in out.output
    assert not (tmp_path / "x.db").exists()


def test_restore_errors_of_the_database_are_one_line(cli: typer.Typer, tmp_path: Path) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    store = open_store(src)
    scenarios.create_scenario(store, {"name": "kept"})
    store.dispose()
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "backup", str(tmp_path / "b.json"),
                               "--database-url", src]).exit_code == 0
    doc = json.loads((tmp_path / "b.json").read_text())
    doc["tables"]["scenarios"].append(dict(doc["tables"]["scenarios"][0]))  # a duplicate id
    (tmp_path / "dup.json").write_text(json.dumps(doc))
    out = runner.invoke(cli, ["db", "restore", str(tmp_path / "dup.json"),
                              "--database-url", f"sqlite:///{tmp_path / 'dst.db'}"])
    assert out.exit_code == 2
    assert "Traceback" not in out.output
    assert out.output.strip().count("\n") == 0 and "table scenarios" in out.output


def test_an_unreachable_database_is_one_line(cli: typer.Typer, tmp_path: Path) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "backup", str(tmp_path / "b.json"),
                               "--database-url", src]).exit_code == 0
    out = runner.invoke(cli, ["db", "restore", str(tmp_path / "b.json"), "--database-url",
                              "postgresql://nobody:secret@127.0.0.1:1/none"])
    assert out.exit_code == 2
    assert "Traceback" not in out.output and out.output.startswith("error: database:")
    assert out.output.strip().count("\n") == 0 and "secret" not in out.output


def test_serve_refuses_a_public_address_without_token(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFERPLAN_API_TOKEN", raising=False)
    monkeypatch.delenv("INFERPLAN_API_READ_TOKEN", raising=False)
    out = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--database-url",
                                   f"sqlite:///{tmp_path / 'x.db'}"])
    assert out.exit_code == 2
    assert "INFERPLAN_API_TOKEN" in out.output
    assert not (tmp_path / "x.db").exists()  # refused before touching the store


def test_serve_rejects_a_bad_database_url(cli: typer.Typer) -> None:
    out = CliRunner().invoke(cli, ["serve", "--database-url", "mysql://u:secret@h/db"])
    assert out.exit_code == 2
    assert "database_url" in out.output and "secret" not in out.output
