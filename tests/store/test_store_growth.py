"""Alerts that grow (issue 11), in the store: counts only go up, each growth is claimed once
however many arrivals race, and the same payload again is no growth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from parley.domain import AlertIn
from parley.store import repo
from parley.store.db import Database
from parley.store.growth import MAX_COUNT, grow_alert

MakeAlert = Callable[..., AlertIn]


async def test_growth_is_claimed_once_and_counts_only_go_up(
    db: Database, make_alert: MakeAlert
) -> None:
    alert = make_alert(event_count=3)
    assert await repo.claim_alert(db, alert, "wf")
    assert await grow_alert(db, alert) is None  # the same payload again
    twelve = alert.model_copy(update={"event_count": 12})
    results = await asyncio.gather(*(grow_alert(db, twelve) for _ in range(8)))
    won = [r for r in results if r is not None]
    assert [(g.previous_count, g.event_count) for g in won] == [(3, 12)]
    assert await grow_alert(db, alert.model_copy(update={"event_count": 5})) is None
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None and detail.event_count == 12


async def test_new_events_grow_the_alert_without_a_higher_count(
    db: Database, make_alert: MakeAlert
) -> None:
    alert = make_alert(event_count=2, events=[{"n": 1}, {"n": 2}])
    assert await repo.claim_alert(db, alert, "wf")
    more = alert.model_copy(update={"events": [{"n": 2}, {"n": 3}]})
    growth = await grow_alert(db, more)
    assert growth is not None
    assert (growth.previous_count, growth.event_count, growth.new_events) == (2, 3, [{"n": 3}])
    assert await grow_alert(db, more) is None  # those events are known now


async def test_huge_counts_are_capped_not_refused(db: Database, make_alert: MakeAlert) -> None:
    alert = make_alert(event_count=2**65)
    assert await repo.claim_alert(db, alert, "wf")
    assert await grow_alert(db, alert) is None
    assert await grow_alert(db, alert.model_copy(update={"event_count": 2**66})) is None
    small = make_alert(event_count=1)
    assert await repo.claim_alert(db, small, "wf2")
    growth = await grow_alert(db, small.model_copy(update={"event_count": 2**64}))
    assert growth is not None and growth.event_count == MAX_COUNT
