"""Helpers shared by the store tests (a uniquely named module: `conftest` may clash)."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url

# PostgreSQL admin connection used to create/drop throw-away databases; "skip" = SQLite only.
PG_ADMIN_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create an empty PostgreSQL database; yield its URL; drop it."""
    if PG_ADMIN_URL == "skip":
        pytest.skip("PostgreSQL disabled by PARLEY_TEST_POSTGRES_URL=skip")
    name = f"parley_test_{secrets.token_hex(6)}"
    try:
        admin = await asyncpg.connect(PG_ADMIN_URL)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} unreachable ({exc}); set it or 'skip'")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@asynccontextmanager
async def write_locked(url: str) -> AsyncIterator[None]:
    """Hold the database's write lock from another connection (another process, in effect)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database or "", isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))
    try:
        async with pg.transaction():  # it only locks: ending it releases the lock
            await pg.execute("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await pg.close()
