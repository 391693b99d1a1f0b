"""Pace Slack posts per channel before Slack has to refuse them, across every worker process.

Slack lets a channel take about one message a second, with short bursts, and a workspace a few
hundred a minute. A 429 is the late answer; this is the early one. Each rate-limit key (a
channel, the workspace) keeps one number in the store: the theoretical arrival time (TAT) of the
generic cell rate algorithm. A post may go when every key it needs has room; it then takes its
slot in all of them at once. Otherwise the caller learns how long to wait and takes nothing, so
a waiting activity never holds a slot (and never sleeps: it retries after the wait).

The store is the console database, which every worker already shares: SQLite serialises the
writers, PostgreSQL locks the rows for the length of one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from parley.store.db import Database, dialect_insert
from parley.store.models import PaceSlotRow


@dataclass(frozen=True)
class Rate:
    """`per_second` sustained, with room for `burst` posts at once."""

    key: str
    per_second: float
    burst: int = 1

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


async def reserve(db: Database, rates: list[Rate], now: float) -> float:
    """0.0 when the post may go now (its slot is taken in every key), else seconds to wait."""
    async with db.session() as s:
        # Create missing keys first: on SQLite this write also takes the database's write lock,
        # so the read below cannot interleave with another worker's reservation.
        await s.execute(
            dialect_insert(db, PaceSlotRow)
            .values([{"key": r.key, "tat": 0.0} for r in rates])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        query = select(PaceSlotRow).where(PaceSlotRow.key.in_([r.key for r in rates]))
        if db.dialect == "postgresql":
            query = query.with_for_update()
        rows = {row.key: row for row in (await s.scalars(query)).all()}
        wait = 0.0
        for rate in rates:
            tat = max(rows[rate.key].tat, now)
            # GCRA: allowed while the backlog is within the burst.
            allow_at = tat - rate.interval * (rate.burst - 1)
            wait = max(wait, allow_at - now)
        if wait > 0:
            return wait
        for rate in rates:
            rows[rate.key].tat = max(rows[rate.key].tat, now) + rate.interval
        return 0.0
