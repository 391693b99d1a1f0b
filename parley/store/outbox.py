"""The outbox table's operations: queue, read in order, finish, retry later, lock a workflow.

What is queued and in which order is decided here; talking to Temporal is api/outbox.py's job.
Every row still in the table is undelivered. Rows of one workflow go out in `id` order, and a
workflow is ready when its oldest row (its head) is available.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import delete, func, select, text, update

from parley.domain import AlertIn
from parley.store.db import (
    Database,
    StoreUnavailable,
    describe_unavailable,
    dialect_insert,
    unavailable,
)
from parley.store.models import AlertRow, OutboxRow, utcnow
from parley.store.repo import claim_statement

START_KEY = "start"
START_SUMMARY = "post the alert to its Slack channels"


class OutboxItem(BaseModel):
    id: int
    workflow_id: str
    alert_id: str | None
    kind: Literal["start", "signal"]
    signal: str | None
    key: str
    payload: dict[str, Any]
    summary: str
    response_url: str | None
    created_at: datetime
    available_at: datetime
    attempts: int
    last_error: str | None


class Queued(BaseModel):
    """The outcome of queueing one item."""

    item: OutboxItem
    # True when nothing of this workflow is queued ahead of the item and the caller asked to
    # deliver it itself: the row is held (unavailable to the relay) for `hold` seconds.
    direct: bool
    # The same (workflow, key) was already queued and still is: nothing new was written.
    duplicate: bool = False


def _item(row: OutboxRow) -> OutboxItem:
    return OutboxItem.model_validate(row, from_attributes=True)


async def _queue(
    db: Database,
    s: Any,
    *,
    workflow_id: str,
    alert_id: str | None,
    kind: str,
    key: str,
    payload: dict[str, Any],
    summary: str,
    signal: str | None = None,
    response_url: str | None = None,
    hold: float | None = None,
) -> Queued:
    """Insert one row in the session's transaction (see `queue_signal` for `hold`)."""
    now = utcnow()
    ahead = (
        await s.execute(select(OutboxRow.id).where(OutboxRow.workflow_id == workflow_id).limit(1))
    ).first() is not None
    direct = hold is not None and not ahead
    stmt = (
        dialect_insert(db, OutboxRow)
        .values(
            workflow_id=workflow_id,
            alert_id=alert_id,
            kind=kind,
            signal=signal,
            key=key[:255],
            payload=payload,
            summary=summary[:255],
            response_url=response_url,
            created_at=now,
            available_at=now + timedelta(seconds=hold if direct and hold else 0),
            attempts=0,
            last_error=None,
        )
        .on_conflict_do_nothing(index_elements=["workflow_id", "key"])
        .returning(OutboxRow.id)
    )
    new_id = (await s.execute(stmt)).scalar_one_or_none()
    if new_id is None:
        row = (
            await s.execute(
                select(OutboxRow).where(
                    OutboxRow.workflow_id == workflow_id, OutboxRow.key == key[:255]
                )
            )
        ).scalar_one()
        return Queued(item=_item(row), direct=False, duplicate=True)
    row = await s.get(OutboxRow, new_id)
    return Queued(item=_item(row), direct=direct)


async def accept_alert(
    db: Database, alert: AlertIn, workflow_id: str, *, hold: float | None = None
) -> Queued | None:
    """Claim a new alert and queue its workflow's start, in one transaction.

    None if the alert id was claimed before (a duplicate): of concurrent calls with one id,
    exactly one gets a result, because the alerts table's primary key decides.
    """
    async with db.session() as s:
        claimed = (await s.execute(claim_statement(db, alert, workflow_id))).scalar_one_or_none()
        if claimed is None:
            return None
        return await _queue(
            db,
            s,
            workflow_id=workflow_id,
            alert_id=alert.id,
            kind="start",
            key=START_KEY,
            payload={},
            summary=START_SUMMARY,
            hold=hold,
        )


async def queue_signal(
    db: Database,
    *,
    workflow_id: str,
    alert_id: str | None,
    signal: str,
    key: str,
    payload: dict[str, Any],
    summary: str,
    response_url: str | None = None,
    hold: float | None = None,
) -> Queued | None:
    """Queue one signal behind whatever its workflow already has queued.

    `hold`: the caller means to deliver the item itself right away if nothing is queued ahead
    of it; the relay leaves the row alone for that many seconds (a crash mid-way is covered).
    None if `alert_id` is given and the alert is not in the store: nothing is queued.
    """
    async with db.session() as s:
        if alert_id is not None and await s.get(AlertRow, alert_id) is None:
            return None
        return await _queue(
            db,
            s,
            workflow_id=workflow_id,
            alert_id=alert_id,
            kind="signal",
            signal=signal,
            key=key,
            payload=payload,
            summary=summary,
            response_url=response_url,
            hold=hold,
        )


async def finish(db: Database, item_id: int) -> None:
    """Temporal has the item (or it can never be delivered): it leaves the queue."""
    async with db.session() as s:
        await s.execute(delete(OutboxRow).where(OutboxRow.id == item_id))


async def retry_later(db: Database, item_id: int, error: str, after: float = 0.0) -> None:
    """Record a failed attempt; the row becomes available again `after` seconds from now."""
    async with db.session() as s:
        await s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                attempts=OutboxRow.attempts + 1,
                last_error=error[:2000],
                available_at=utcnow() + timedelta(seconds=after),
            )
        )


async def ready_workflows(db: Database, limit: int = 100) -> list[str]:
    """Workflows whose oldest queued item is available now, oldest first."""
    heads = select(func.min(OutboxRow.id).label("id")).group_by(OutboxRow.workflow_id).subquery()
    query = (
        select(OutboxRow.workflow_id)
        .join(heads, OutboxRow.id == heads.c.id)
        .where(OutboxRow.available_at <= utcnow())
        .order_by(OutboxRow.id)
        .limit(limit)
    )
    async with db.session() as s:
        return list((await s.scalars(query)).all())


async def queued_for_workflow(db: Database, workflow_id: str) -> list[OutboxItem]:
    async with db.session() as s:
        rows = await s.scalars(
            select(OutboxRow).where(OutboxRow.workflow_id == workflow_id).order_by(OutboxRow.id)
        )
        return [_item(r) for r in rows]


async def queued_for_alert(db: Database, alert_id: str) -> list[OutboxItem]:
    """What is queued for one alert (its start, its changes), in order."""
    async with db.session() as s:
        rows = await s.scalars(
            select(OutboxRow).where(OutboxRow.alert_id == alert_id).order_by(OutboxRow.id)
        )
        return [_item(r) for r in rows]


async def alert_payload(db: Database, alert_id: str) -> AlertIn | None:
    """The alert as intake accepted it (what a queued start starts)."""
    async with db.session() as s:
        payload = (
            await s.execute(select(AlertRow.payload).where(AlertRow.alert_id == alert_id))
        ).scalar_one_or_none()
    return None if payload is None else AlertIn.model_validate(payload)


def lock_key(workflow_id: str) -> int:
    """A stable signed 64-bit key per workflow for PostgreSQL's advisory locks."""
    digest = hashlib.blake2b(f"parley-outbox:{workflow_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def workflow_lock(db: Database, workflow_id: str) -> AsyncIterator[bool]:
    """Yield True if this process may deliver `workflow_id`'s queue now, False if another does.

    PostgreSQL: a transaction-level advisory lock, held until the block ends, so relays in
    several API replicas never deliver one workflow's rows at the same time (which could
    reorder them). SQLite serves one process, whose single relay needs no lock.
    """
    if db.dialect != "postgresql":
        yield True
        return
    try:
        conn = await db.engine.connect()
    except Exception as error:
        if unavailable(error):
            raise StoreUnavailable(describe_unavailable(error)) from error
        raise
    try:
        async with conn.begin():
            got = await conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(workflow_id)}
            )
            yield bool(got)
    finally:
        await conn.close()
