"""The outbox table: one start per claimed alert, order per workflow, holds, locks, migration,
and a database that is locked or down answering quickly with `StoreUnavailable`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, text

from parley.domain import AlertIn
from parley.store import outbox, repo
from parley.store.db import Database, StoreUnavailable, alembic_config, migrate
from parley.store.models import OutboxRow
from tests.store.store_support import BACKENDS, write_locked

MakeAlert = Callable[..., AlertIn]


@pytest.fixture
async def qdb(db: Database) -> Database:
    """`db` with an empty outbox too (Boomerang rows have no alert to cascade from)."""
    async with db.session() as s:
        await s.execute(delete(OutboxRow))
    return db


async def _signal(db: Database, wf: str, key: str, **kw: Any) -> outbox.Queued | None:
    kw.setdefault("alert_id", None)
    return await outbox.queue_signal(
        db,
        workflow_id=wf,
        signal="AlertWorkflow.set_status",
        key=key,
        payload={"n": key},
        summary=f"change {key}",
        **kw,
    )


async def test_concurrent_accepts_of_one_alert_queue_exactly_one_start(
    qdb: Database, backend_url: str, make_alert: MakeAlert
) -> None:
    alert = make_alert()
    other = Database(backend_url)  # another API replica, with its own pool
    try:
        results = await asyncio.gather(
            *(outbox.accept_alert(d, alert, "alert-wf", hold=5) for d in [qdb, other] * 10)
        )
    finally:
        await other.dispose()
    accepted = [r for r in results if r is not None]
    assert len(accepted) == 1 and accepted[0].direct
    queued = await outbox.queued_for_alert(qdb, alert.id)
    assert [(q.kind, q.key, q.workflow_id) for q in queued] == [("start", "start", "alert-wf")]


async def test_items_of_a_workflow_queue_behind_each_other(
    qdb: Database, make_alert: MakeAlert
) -> None:
    alert = make_alert()
    start = await outbox.accept_alert(qdb, alert, "wf-1", hold=30)
    assert start is not None and start.direct  # nothing ahead: the request may deliver it
    first = await _signal(qdb, "wf-1", "k1", alert_id=alert.id, hold=30)
    second = await _signal(qdb, "wf-1", "k2", alert_id=alert.id, hold=30)
    assert first is not None and second is not None
    assert not first.direct and not second.direct  # the start is ahead of them
    assert start.item.id < first.item.id < second.item.id
    # The held start keeps its whole workflow from the relay.
    assert "wf-1" not in await outbox.ready_workflows(qdb)
    await outbox.retry_later(qdb, start.item.id, "Temporal unavailable")
    assert await outbox.ready_workflows(qdb) == ["wf-1"]
    items = await outbox.queued_for_workflow(qdb, "wf-1")
    assert [i.key for i in items] == ["start", "k1", "k2"]
    assert (items[0].attempts, items[0].last_error) == (1, "Temporal unavailable")
    await outbox.finish(qdb, start.item.id)
    assert [i.key for i in await outbox.queued_for_alert(qdb, alert.id)] == ["k1", "k2"]
    # The console sees them, in order.
    detail = await repo.get_alert_detail(qdb, alert.id)
    assert detail is not None and detail.queued == 2
    assert [q.summary for q in detail.queued_items] == ["change k1", "change k2"]
    page = await repo.list_alerts(qdb)
    assert [(a.alert_id, a.queued) for a in page.items] == [(alert.id, 2)]


async def test_same_key_while_queued_is_queued_once(qdb: Database) -> None:
    first = await _signal(qdb, "wf-dup", "click-1")
    again = await _signal(qdb, "wf-dup", "click-1", hold=5)
    assert first is not None and again is not None
    assert again.duplicate and not again.direct and again.item.id == first.item.id
    assert len(await outbox.queued_for_workflow(qdb, "wf-dup")) == 1


async def test_signal_for_an_alert_not_in_the_store_is_not_queued(qdb: Database) -> None:
    assert await _signal(qdb, "alert-ghost", "k", alert_id="ghost") is None
    assert await outbox.queued_for_workflow(qdb, "alert-ghost") == []


async def test_ready_workflows_oldest_head_first(qdb: Database) -> None:
    await _signal(qdb, "wf-b", "1")
    await _signal(qdb, "wf-a", "1")
    await _signal(qdb, "wf-b", "2")
    backing_off = await _signal(qdb, "wf-c", "1")
    assert backing_off is not None
    await outbox.retry_later(qdb, backing_off.item.id, "boom", after=60)
    assert await outbox.ready_workflows(qdb) == ["wf-b", "wf-a"]


async def test_ids_are_never_reused(qdb: Database) -> None:
    """A delete by id from a stale caller must never hit a newer row."""
    first = await _signal(qdb, "wf-ids", "1")
    assert first is not None
    await outbox.finish(qdb, first.item.id)
    second = await _signal(qdb, "wf-ids", "2")
    assert second is not None and second.item.id > first.item.id


async def test_workflow_lock_is_exclusive_across_replicas(qdb: Database, backend_url: str) -> None:
    other = Database(backend_url)
    try:
        async with outbox.workflow_lock(qdb, "wf-lock") as mine:
            assert mine
            async with outbox.workflow_lock(other, "wf-lock") as theirs:
                # SQLite serves one process (one relay); PostgreSQL replicas must exclude.
                assert theirs is (qdb.dialect != "postgresql")
            async with outbox.workflow_lock(other, "wf-other") as unrelated:
                assert unrelated
        async with outbox.workflow_lock(other, "wf-lock") as after:
            assert after
    finally:
        await other.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_queues_a_start_for_claims_that_never_ran(
    backend: str, fresh_url: Callable[[str], Any]
) -> None:
    async with fresh_url(backend) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
        db = Database(url)
        try:
            async with db.session() as s:
                for alert_id in ("ran", "never-ran"):
                    await s.execute(
                        text(
                            "INSERT INTO alerts (alert_id, title, severity, status, assignee_name,"
                            " rule_id, rule_name, log_type, created_at, updated_at, workflow_id,"
                            " payload) VALUES (:id, 't', 'High', 'Open', '', 'r', '', '',"
                            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :wf, '{}')"
                        ),
                        {"id": alert_id, "wf": f"alert-{alert_id}"},
                    )
                await s.execute(
                    text(
                        "INSERT INTO alert_history (alert_id, key, at, actor_source, actor_id,"
                        " actor_name, action)"
                        " VALUES ('ran', 'created', CURRENT_TIMESTAMP, 'system', '', '', 'created')"
                    )
                )
            await asyncio.to_thread(migrate, url)
            queued = await outbox.queued_for_workflow(db, "alert-never-ran")
            assert [(q.kind, q.alert_id, q.payload) for q in queued] == [("start", "never-ran", {})]
            assert await outbox.queued_for_workflow(db, "alert-ran") == []
            assert await outbox.ready_workflows(db) == ["alert-never-ran"]
        finally:
            await db.dispose()


async def test_locked_database_is_unavailable_quickly(
    qdb: Database, backend_url: str, make_alert: MakeAlert
) -> None:
    """The API's short timeout turns a held lock into StoreUnavailable, not a 15 s wait."""
    api_db = Database(backend_url, timeout=0.5)
    alert = make_alert()
    try:
        async with write_locked(backend_url):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await outbox.accept_alert(api_db, alert, "wf-locked")
            assert time.monotonic() - started < 5  # a functional bound: 15 s is the worker's
        assert await outbox.accept_alert(api_db, alert, "wf-locked") is not None  # nothing stuck
    finally:
        await api_db.dispose()


async def test_database_down_is_unavailable(tmp_path: Any) -> None:
    for url in (
        f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'p.db'}",
        "postgresql://postgres@127.0.0.1:1/parley",  # nothing listens on port 1
    ):
        db = Database(url, timeout=0.5)
        try:
            with pytest.raises(StoreUnavailable):
                await outbox.ready_workflows(db)
        finally:
            await db.dispose()
