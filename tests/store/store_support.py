"""Helpers shared by the store tests (a uniquely named module: `conftest` may clash)."""

from __future__ import annotations

import os
import secrets
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
