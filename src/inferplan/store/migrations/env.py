"""Alembic environment of the inferplan store.

The service passes its open connection in ``config.attributes["connection"]``;
the ``alembic`` command line (run from a checkout) uses ``sqlalchemy.url`` or
``INFERPLAN_DATABASE_URL`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from inferplan.store.database import make_engine, resolve_database_url
from inferplan.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = resolve_database_url(config.get_main_option("sqlalchemy.url"))
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        _run(conn)
        return
    engine = make_engine(resolve_database_url(config.get_main_option("sqlalchemy.url")))
    with engine.begin() as new_conn:
        _run(new_conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
