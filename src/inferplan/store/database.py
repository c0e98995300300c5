"""Where the store lives, how to connect, and bringing its schema up to date.

By default the store is a SQLite file ``inferplan.db`` in ``$INFERPLAN_HOME`` or,
when that is not set, the user's data directory
(``platformdirs.user_data_dir("inferplan")``), in WAL mode (readers do
not block the writer; a crashed process leaves a consistent file, see
https://www.sqlite.org/wal.html). ``INFERPLAN_DATABASE_URL`` names another
database, e.g. ``postgresql://user:pass@host/db`` (driven by psycopg 3).

SQLite write transactions start with ``BEGIN IMMEDIATE`` so that two writers
queue on the busy timeout instead of failing when one upgrades its read lock
(https://www.sqlite.org/lang_transaction.html).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from inferplan.errors import SpecError

ENV_URL = "INFERPLAN_DATABASE_URL"
ENV_HOME = "INFERPLAN_HOME"
DB_FILENAME = "inferplan.db"
SQLITE_BUSY_TIMEOUT_S = 30.0
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_WRITE = "inferplan_write"


def default_database_url() -> str:
    """``sqlite:///<home>/inferplan.db``, where ``<home>`` is ``$INFERPLAN_HOME`` when
    set, else the user data folder (the folder is created on use)."""
    home = os.environ.get(ENV_HOME)
    folder = Path(home).expanduser() if home else Path(platformdirs.user_data_dir("inferplan"))
    return f"sqlite:///{folder / DB_FILENAME}"


def resolve_database_url(explicit: str | None = None) -> str:
    """The URL to use: ``explicit``, else ``$INFERPLAN_DATABASE_URL``, else the default.

    ``postgresql://`` and ``postgres://`` URLs are pointed at the psycopg 3 driver.
    """
    url = explicit or os.environ.get(ENV_URL) or default_database_url()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SpecError("database_url", f"'{redact_url(url)}' is not a database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise SpecError(
            "database_url", "allowed: sqlite:///PATH or postgresql://USER:PASS@HOST/DB"
        )
    return url


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun below, not by pysqlite
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it has no schema yet)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Apply every pending migration (idempotent; runs at server start).

    On SQLite, foreign keys are off while migrations run: a migration that
    rebuilds a table (SQLite's way to drop a column) drops the old one, and with
    foreign keys on that drop deletes (or sets to NULL) the rows referring to it
    (https://www.sqlite.org/foreignkeys.html, section 5; https://alembic.sqlalchemy.org/en/latest/batch.html).
    """
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # outside any transaction, where the pragma has effect
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


class Store:
    """The database behind the service: short read and write sessions.

    ``read()`` and ``write()`` yield a :class:`Session` whose objects stay usable
    after it closes (``expire_on_commit=False``); ``write()`` commits on success
    and rolls back on any exception.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield s

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_store(url: str | None = None, upgrade: bool = True) -> Store:
    """Connect to the store at ``url`` (see :func:`resolve_database_url`) and migrate it."""
    engine = make_engine(resolve_database_url(url))
    if upgrade:
        migrate(engine)
    return Store(engine)


__all__ = [
    "ENV_URL",
    "Store",
    "alembic_config",
    "current_revision",
    "default_database_url",
    "head_revision",
    "make_engine",
    "migrate",
    "open_store",
    "redact_url",
    "resolve_database_url",
]
