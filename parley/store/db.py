"""Engine, sessions and schema migrations for the console store.

The worker and the API are separate processes that share one database; with SQLite that means
one file, so every connection turns on WAL (readers don't block the writer), foreign keys and a
busy timeout (writers wait instead of failing with "database is locked").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 15_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """Map sync URLs to their async drivers; create the directory of a relative SQLite file."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    elif url.startswith("sqlite://"):
        url = "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            path.parent.mkdir(parents=True, exist_ok=True)
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with Parley's per-connection SQLite settings (used by migrations too)."""
    url = normalize_url(url)
    sqlite = is_sqlite(url)
    if sqlite:
        # sqlite3's own lock wait, in seconds; the PRAGMA below covers the same ground.
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # NORMAL is durable in WAL mode except for the last commits on power loss.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


class Database:
    """One engine plus a session factory; create one per process and share it."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine: AsyncEngine = create_engine(self.url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block succeeds, rolled back if not."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def alembic_config(url: str) -> Any:
    """An Alembic Config for our migrations; the URL travels in `attributes`, not the ini,
    because configparser would choke on '%' in passwords."""
    from alembic.config import Config

    config = Config(str(Path(__file__).resolve().parent / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = normalize_url(url)
    return config


_MIGRATE_LOCK = threading.Lock()


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (`alembic upgrade head`). Blocking.

    Alembic's env.py drives the async engine with `asyncio.run`, which cannot nest in a running
    loop, so the upgrade always runs in a fresh thread; this makes the call safe from plain
    scripts and from inside async code alike (it blocks that loop until done: call it at start-up,
    or use `migrate_async`). Concurrent callers are serialized: within a process by a lock, across
    processes (API and worker starting together) by a database lock taken in env.py.
    """
    from alembic import command

    errors: list[BaseException] = []

    def run() -> None:
        try:
            # Alembic keeps its context in module globals: one upgrade per process at a time.
            with _MIGRATE_LOCK:
                command.upgrade(alembic_config(url), "head")
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="parley-migrate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def migrate_async(url: str) -> None:
    """`migrate` without blocking the running event loop."""
    await asyncio.to_thread(migrate, url)


def dialect_insert(db: Database, model: type[Any]) -> Any:
    """The dialect's own INSERT, which knows ON CONFLICT (the generic `insert` does not)."""
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    return dialect.insert(model)
