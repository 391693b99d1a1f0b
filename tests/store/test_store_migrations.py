"""Migrations, URL handling and engine settings."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Connection

from parley.store.db import Database, alembic_config, migrate, migrate_async, normalize_url
from parley.store.models import AlertRow, Base
from tests.store.store_support import BACKENDS


def test_normalize_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_url("sqlite:///data/sub/p.db") == "sqlite+aiosqlite:///data/sub/p.db"
    assert (tmp_path / "data" / "sub").is_dir()  # parent of a relative file is created
    assert normalize_url("postgresql://u:p@h:5/db") == "postgresql+asyncpg://u:p@h:5/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    for already in ("postgresql+asyncpg://u@h/db", "sqlite+aiosqlite:///x.db"):
        assert normalize_url(already) == already
    assert normalize_url("sqlite+aiosqlite:///:memory:") == "sqlite+aiosqlite:///:memory:"


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _schema_diff(conn: Connection) -> list[Any]:
    return compare_metadata(
        MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
    )


async def test_migration_matches_models(session_db: Database) -> None:
    async with session_db.engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert version == _head()
    assert set(Base.metadata.tables) <= tables


async def test_compare_metadata_detects_drift(session_db: Database) -> None:
    # Guard against a vacuous comparison: a model change must show up as a diff.
    md = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(md)
    Table("alerts", md, Column("surprise", String(5)), extend_existing=True)
    async with session_db.engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), md))
    assert any(d[0] == "add_column" and d[3].name == "surprise" for d in diff)


RACER = """
import sys
from parley.store.db import migrate
print("ready", flush=True)
sys.stdin.readline()
migrate(sys.argv[1])
"""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrent_migrations_on_empty_db(
    backend: str, fresh_url: Callable[[str], Any]
) -> None:
    """API and worker (separate processes) migrate at start-up together: all must succeed."""
    async with fresh_url(backend) as url:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                RACER,
                url,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(6)
        ]
        # Start all upgrades at once (after the slow imports) so they really race.
        for p in procs:
            assert p.stdout is not None
            assert await asyncio.wait_for(p.stdout.readline(), 30) == b"ready\n"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go\n")
        results = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
        assert [p.returncode for p in procs] == [0] * 6, [err.decode() for _, err in results]
        # Threads of one process too (alembic's globals are not thread-safe).
        errors: list[BaseException] = []

        def run() -> None:
            try:
                migrate(url)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        await migrate_async(url)  # and again: a no-op
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                assert await conn.run_sync(_schema_diff) == []
                rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            assert [r[0] for r in rows] == [_head()]
        finally:
            await db.dispose()


def test_migrate_from_plain_sync_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    migrate(url)
    migrate(url)
    import sqlite3

    with sqlite3.connect(tmp_path / "sync.db") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"alerts", "alert_history", "destinations", "slack_messages"} <= names


async def test_sqlite_connection_settings(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert (mode, fks) == ("wal", 1)
        assert busy >= 1000
    finally:
        await db.dispose()


async def test_session_commits_or_rolls_back(db: Database, make_alert: Any) -> None:
    from parley.store import repo

    alert = make_alert()
    assert await repo.claim_alert(db, alert, "wf-1")
    with pytest.raises(RuntimeError):
        async with db.session() as s:
            row = await s.get(AlertRow, alert.id)
            assert row is not None
            row.title = "changed"
            await s.flush()
            raise RuntimeError("boom")
    async with db.session() as s:
        row = await s.get(AlertRow, alert.id)
        assert row is not None and row.title == alert.title
        row.title = "committed"
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None and detail.title == "committed"
