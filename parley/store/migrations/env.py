"""Alembic environment: async engine driven through `run_sync`.

`store.db.migrate(url)` passes the URL in `config.attributes["url"]`; the Alembic CLI falls back
to DATABASE_URL from the environment/settings. Two processes may migrate at once (API and worker
start together), so the whole upgrade runs under a lock: a PostgreSQL advisory lock, or an
immediate (write-locking) transaction on SQLite.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from sqlalchemy import event, pool, text
from sqlalchemy.engine import Connection

from parley.store.db import create_engine, is_sqlite
from parley.store.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata

# Arbitrary constant shared by every Parley process: key of the migration advisory lock.
PG_MIGRATION_LOCK = 0x7061726C6579  # "parley"


def _url() -> str:
    url = config.attributes.get("url")
    if url:
        return str(url)
    # CLI use: configure logging from the ini (never when embedded: it would reset app logging).
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from parley.settings import get_settings

    return get_settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Autogenerate would otherwise import store.models into migrations; freeze a plain type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(sqlite: bool, connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=sqlite,
        # SQLite does roll back DDL once sqlite3 stops managing transactions (see below);
        # one transaction makes the lock cover the version check and the whole upgrade.
        transactional_ddl=True if sqlite else None,
    )


def run_migrations_offline() -> None:
    url = _url()
    _configure(is_sqlite(url), url=url)
    with context.begin_transaction():
        context.run_migrations()


def _do_run(connection: Connection) -> None:
    _configure(connection.dialect.name == "sqlite", connection=connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held until the transaction ends; PostgreSQL DDL is transactional.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        context.run_migrations()


async def run_migrations_online() -> None:
    url = _url()
    engine = create_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        # Take over transaction control from sqlite3 so the upgrade is one BEGIN IMMEDIATE
        # transaction: a second migrator waits (busy timeout), then finds the schema current.
        @event.listens_for(engine.sync_engine, "connect")
        def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        async with engine.connect() as connection:
            await connection.run_sync(_do_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
