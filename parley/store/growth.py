"""Alerts that grow (issue 11): the same alert id again with more events.

The store decides, as it decides duplicates: a growth is claimed by a conditional UPDATE on the
alert's event count, which only ever goes up. Of concurrent arrivals of one alert each growth is
applied once, and the same payload again (no higher count, no new events) changes nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select, update

from parley.domain import AlertIn
from parley.store.db import Database
from parley.store.models import AlertRow

EVENTS_KEPT = 100  # AlertIn.events' own cap
# Counts are compared in a BIGINT column: a larger one (AlertIn takes any int) counts as this.
MAX_COUNT = 2**62


def stored_count(alert: AlertIn) -> int:
    return min(alert.effective_event_count, MAX_COUNT)


CLAIM_TRIES = 8


class Growth(BaseModel):
    """One growth, as the store took it."""

    previous_count: int
    event_count: int
    new_events: list[Any] = Field(default_factory=list)
    # The stored payload before this growth, so that a growth nobody could be told of is undone.
    previous_payload: dict[str, Any] | None = Field(default=None, exclude=True)


def _grown(stored: AlertIn, known: int, incoming: AlertIn) -> Growth | None:
    """What `incoming` adds to the stored alert; None when it adds nothing."""
    new_events = [e for e in incoming.events if e not in stored.events]
    count = min(max(stored_count(incoming), known + len(new_events)), MAX_COUNT)
    if count <= known:
        return None
    return Growth(previous_count=known, event_count=count, new_events=new_events)


async def grow_alert(db: Database, incoming: AlertIn) -> Growth | None:
    """Record that `incoming` (an alert id seen before) brings more events, or None if it does
    not (a plain duplicate) or the alert is unknown. Raises StoreUnavailable like every write."""
    for _ in range(CLAIM_TRIES):
        async with db.session() as s:
            row = (
                await s.execute(
                    select(AlertRow.payload, AlertRow.event_count).where(
                        AlertRow.alert_id == incoming.id
                    )
                )
            ).first()
        if row is None:
            return None
        stored = AlertIn.model_validate(row.payload)
        known = row.event_count if row.event_count is not None else stored_count(stored)
        growth = _grown(stored, known, incoming)
        if growth is None:
            return None
        events = (list(stored.events) + growth.new_events)[-EVENTS_KEPT:]
        payload = stored.model_copy(update={"event_count": growth.event_count, "events": events})
        same = (
            AlertRow.event_count.is_(None)
            if row.event_count is None
            else AlertRow.event_count == row.event_count
        )
        stmt = (
            update(AlertRow)
            .where(AlertRow.alert_id == incoming.id, same)
            .values(payload=payload.model_dump(mode="json"), event_count=growth.event_count)
            .returning(AlertRow.alert_id)
        )
        async with db.session() as s:
            if (await s.execute(stmt)).scalar_one_or_none() is not None:
                return growth.model_copy(update={"previous_payload": row.payload})
        # Another arrival grew it first: look again at what it left.
    return None


async def undo_growth(db: Database, alert_id: str, growth: Growth) -> bool:
    """Put the alert back as it was before `growth`, unless another growth came after it.

    For a growth the workflow could not be told of: the sender is answered 503 and retries,
    and its retry must then be a growth again, not a duplicate. True if undone."""
    stmt = (
        update(AlertRow)
        .where(AlertRow.alert_id == alert_id, AlertRow.event_count == growth.event_count)
        .values(payload=growth.previous_payload, event_count=growth.previous_count)
        .returning(AlertRow.alert_id)
    )
    async with db.session() as s:
        return (await s.execute(stmt)).scalar_one_or_none() is not None
