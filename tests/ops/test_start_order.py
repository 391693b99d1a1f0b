"""Issue 12: the API never needs the worker to have run. API and worker started as two processes
on a fresh database, in either order, ten rounds on each backend: every start-up succeeds, the
schema is at head, and the destinations are seeded.

Before the fix the API crashed with `no such table: destinations` when it won the race."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from parley.store.db import (
    Database,
    SchemaNotReady,
    current_revision,
    head_revision,
    prepare_schema,
)
from tests.store.store_support import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 10


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_api_and_worker_start_in_either_order(
    backend: str, tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if backend == "sqlite":
            urls = [f"sqlite:///{tmp_path / f'round{n}.db'}" for n in range(ROUNDS)]
        else:
            urls = [await stack.enter_async_context(fresh_pg_database()) for _ in range(ROUNDS)]
        env = dict(os.environ)
        env["RACE_TEMPORAL_ADDRESS"] = temporal_env.client.service_client.config.target_host
        env["PARLEY_LOG_LEVEL"] = "WARNING"
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "tests.ops.start_race", *urls],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    rounds = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(rounds) == ROUNDS, done.stdout + done.stderr[-3000:]
    failed = [r for r in rounds if set(r["exit"].values()) != {0} or not r["at_head"]]
    assert not failed, (failed, done.stderr[-3000:])
    assert all(r["destinations"] > 0 for r in rounds)
    # Both orders were tried.
    assert {tuple(r["order"]) for r in rounds} == {("api", "worker"), ("worker", "api")}


async def test_without_migrate_on_start_the_api_waits_for_the_migration_job(
    tmp_path: Path,
) -> None:
    """PARLEY_MIGRATE_ON_START=false: start-up waits for `python -m parley.store migrate`."""
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    db = Database(url)
    try:
        with pytest.raises(SchemaNotReady, match=r"python -m parley\.store migrate"):
            await prepare_schema(db, migrate_on_start=False, wait_seconds=0.5)
        waiting = asyncio.create_task(prepare_schema(db, migrate_on_start=False, wait_seconds=60))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        job = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "parley.store", "migrate"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert job.returncode == 0, job.stderr
        await asyncio.wait_for(waiting, 30)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()
