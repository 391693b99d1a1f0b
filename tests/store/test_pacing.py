"""Pacing slots in the shared store (GCRA), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from parley.store.db import Database
from parley.store.pacing import Rate, reserve

CHANNEL = Rate("channel:C1", per_second=1.0, burst=2)
WORKSPACE = Rate("workspace", per_second=4.0, burst=3)


async def test_a_burst_then_one_a_second(db: Database) -> None:
    t = 1_000_000.0
    assert await reserve(db, [CHANNEL], t) == 0.0
    assert await reserve(db, [CHANNEL], t) == 0.0  # the burst of two
    assert await reserve(db, [CHANNEL], t) == 1.0  # the third waits a second
    assert await reserve(db, [CHANNEL], t + 0.5) == 0.5  # and nothing was taken by asking
    assert await reserve(db, [CHANNEL], t + 1.0) == 0.0
    assert await reserve(db, [CHANNEL], t + 1.0) == 1.0
    # After a quiet spell the burst is back, never more.
    assert await reserve(db, [CHANNEL], t + 60) == 0.0
    assert await reserve(db, [CHANNEL], t + 60) == 0.0
    assert await reserve(db, [CHANNEL], t + 60) > 0


async def test_every_key_must_have_room_and_a_wait_takes_nothing(db: Database) -> None:
    t = 2_000_000.0
    other = Rate("channel:C2", per_second=1.0, burst=2)
    assert await reserve(db, [CHANNEL, WORKSPACE], t) == 0.0
    assert await reserve(db, [CHANNEL, WORKSPACE], t) == 0.0
    assert await reserve(db, [other, WORKSPACE], t) == 0.0  # the workspace's third
    assert await reserve(db, [other, WORKSPACE], t) == 0.25  # held by the workspace, not C2
    assert await reserve(db, [other], t) == 0.0  # so C2's second slot was not taken
    assert await reserve(db, [other], t) == 1.0


async def test_concurrent_reservations_never_overbook(db: Database) -> None:
    t = 3_000_000.0
    rate = Rate("channel:C3", per_second=1.0, burst=3)
    waits = await asyncio.gather(*(reserve(db, [rate], t) for _ in range(12)))
    assert sum(1 for w in waits if w == 0.0) == 3
