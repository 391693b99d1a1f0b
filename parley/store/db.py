"""Engine, sessions and schema migrations for the console store.

The worker and the API are separate processes that share one database; with SQLite that means
one file, so every connection turns on WAL (readers don't block the writer), foreign keys and a
busy timeout (writers wait instead of failing with "database is locked").

A database that is down, locked or out of connections surfaces as one error, `StoreUnavailable`,
so that the API can answer 503 with Retry-After. The API gives its engine a short `timeout` for
that answer to come quickly; the worker keeps the long default, since an activity may wait.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
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


def create_engine(url: str, timeout: float | None = None, **kwargs: Any) -> AsyncEngine:
    """An async engine with Parley's per-connection SQLite settings (used by migrations too).

    `timeout` (seconds) bounds every wait for the database: a lock, a connection, the pool.
    None keeps the defaults (15 s for a SQLite lock; the drivers' own for the rest).
    """
    url = normalize_url(url)
    sqlite = is_sqlite(url)
    busy_ms = SQLITE_BUSY_TIMEOUT_MS if timeout is None else max(1, int(timeout * 1000))
    connect_args = kwargs.setdefault("connect_args", {})
    if sqlite:
        # sqlite3's own lock wait, in seconds; the PRAGMA below covers the same ground.
        connect_args.setdefault("timeout", busy_ms / 1000)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        if timeout is not None:
            kwargs.setdefault("pool_timeout", timeout)
            connect_args.setdefault("timeout", timeout)  # asyncpg: connection set-up
            # A lock held elsewhere (LOCK TABLE, a long migration) fails the statement.
            connect_args.setdefault("server_settings", {}).setdefault("lock_timeout", str(busy_ms))
    engine = create_async_engine(url, **kwargs)
    if sqlite:

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, busy_ms)

        event.listen(engine.sync_engine, "connect", pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # NORMAL is durable in WAL mode except for the last commits on power loss.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


class StoreUnavailable(RuntimeError):
    """The database did not serve the request (down, locked, out of connections): retry later.

    Nothing was written: the transaction that met it was rolled back.
    """


# SQLSTATE classes and codes that mean "not now" rather than "never": connection exceptions,
# insufficient resources, operator intervention (shutdown, cancelled), lock not available.
_TRANSIENT_SQLSTATES = ("08", "53", "57", "55P03")


def describe_unavailable(error: BaseException) -> str:
    """One line, without the statement and its parameters (they may hold alert data)."""
    cause = getattr(error, "orig", None) or error
    first = (str(cause).splitlines() or [""])[0]
    return f"database unavailable: {type(cause).__name__}: {first}"[:300]


def unavailable(error: BaseException) -> bool:
    """True if `error` says the database is unavailable, rather than that the request is wrong."""
    if isinstance(error, StoreUnavailable):
        return True
    if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)):
        return True
    if isinstance(error, exc.DBAPIError):
        orig = error.orig
        code = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
        return code.startswith(_TRANSIENT_SQLSTATES)
    # asyncpg raises these itself when it cannot connect (refused, unreachable, timed out).
    return isinstance(error, OSError)


class Database:
    """One engine plus a session factory; create one per process and share it."""

    def __init__(self, url: str, timeout: float | None = None) -> None:
        self.url = normalize_url(url)
        self.engine: AsyncEngine = create_engine(self.url, timeout)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block succeeds, rolled back if not.

        Keep only database work in the block: an OSError raised in it reads as the database
        being unavailable (`StoreUnavailable`), which is what asyncpg's connection errors are.
        """
        try:
            async with self._sessions() as session:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    try:
                        await session.rollback()
                    except Exception as rollback_error:  # a dead connection cannot roll back
                        if not unavailable(rollback_error):
                            raise
                    raise
        except Exception as error:
            if unavailable(error) and not isinstance(error, StoreUnavailable):
                raise StoreUnavailable(describe_unavailable(error)) from error
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


class SchemaNotReady(RuntimeError):
    """The store's schema did not reach the code's head revision in time."""


def head_revision() -> str:
    """The newest migration this code ships (what `migrate` brings a database to)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


async def current_revision(db: Database) -> str | None:
    """The database's Alembic revision; None before the first migration has committed."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


async def wait_for_schema(db: Database, timeout: float, poll: float = 0.5) -> None:
    """Return once the schema is at head; SchemaNotReady after `timeout` seconds."""
    head = head_revision()
    deadline = asyncio.get_running_loop().time() + timeout
    found: str | Exception | None = None
    while True:
        try:
            found = await current_revision(db)
            if found == head:
                return
        except Exception as error:  # a database still starting up is worth waiting for
            if not unavailable(error):
                raise
            found = error
        if asyncio.get_running_loop().time() >= deadline:
            raise SchemaNotReady(
                f"the store's schema is at {found!r}, not {head!r}, after {timeout:.0f}s: "
                "run `python -m parley.store migrate` (or set PARLEY_MIGRATE_ON_START=true)"
            )
        await asyncio.sleep(poll)


async def prepare_schema(db: Database, migrate_on_start: bool, wait_seconds: float) -> None:
    """What the API and the worker do at start-up, whichever starts first: migrate under the
    database lock (a second migrator waits, then finds nothing to do), or wait for a migration
    job. Either way neither process ever needs the other to have run."""
    if migrate_on_start:
        await migrate_async(db.url)
    await wait_for_schema(db, wait_seconds)


def dialect_insert(db: Database, model: type[Any]) -> Any:
    """The dialect's own INSERT, which knows ON CONFLICT (the generic `insert` does not)."""
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    return dialect.insert(model)
