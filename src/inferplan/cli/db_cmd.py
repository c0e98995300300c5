"""``inferplan db backup|restore``: copy the service's store to a file and back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from inferplan.cli.common import SERVICE_MODULES, console, fail, handle_errors, require_extra

DB_URL_HELP = ("sqlite:///PATH or postgresql://USER:PASS@HOST/DB (default: "
               "$INFERPLAN_DATABASE_URL, else inferplan.db in the user data folder)")


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot be reached or refuses a statement: one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(f"database: {reason[0][:300] if reason else type(exc).__name__}")


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items())


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group to ``app``."""
    db_app = typer.Typer(help="Back up and restore the team service's store.",
                         no_args_is_help=True)

    @db_app.command("backup")
    @handle_errors
    def backup_cmd(
        path: Path = typer.Argument(..., help="Backup file to write (.json, or .json.gz)."),
        database_url: str = typer.Option(None, "--database-url", help=DB_URL_HELP),
    ) -> None:
        """Write every scenario, version, plan, benchmark run and profile to PATH."""
        require_extra("service", SERVICE_MODULES, "inferplan db")
        from inferplan.store.backup import backup
        from inferplan.store.database import open_store

        with database_errors():
            store = open_store(database_url)
            try:
                counts = backup(store, path)
            finally:
                store.dispose()
        console.print(f"wrote {path}: {_summary(counts)}", highlight=False, soft_wrap=True)

    @db_app.command("restore")
    @handle_errors
    def restore_cmd(
        path: Path = typer.Argument(..., help="Backup file written by `inferplan db backup`."),
        database_url: str = typer.Option(None, "--database-url", help=DB_URL_HELP),
        force: bool = typer.Option(
            False, "--force", help="Replace the content of a store that holds data."
        ),
    ) -> None:
        """Replace the store's content by a backup (one transaction: all or nothing)."""
        require_extra("service", SERVICE_MODULES, "inferplan db")
        from inferplan.store.backup import read_backup, restore
        from inferplan.store.database import open_store

        read_backup(path)  # fail on a bad file before touching the database
        with database_errors():
            store = open_store(database_url)
            try:
                counts = restore(store, path, replace=force)
            finally:
                store.dispose()
        console.print(f"restored {path}: {_summary(counts)}", highlight=False, soft_wrap=True)

    app.add_typer(db_app, name="db")


__all__ = ["database_errors", "register"]
