"""The people directory: Slack user ids and the display names users.info gave for them.

The worker fills it (activities/people.py, from the store write of each change); the console
reads it to name people the same way in every row, one query per page, without calling Slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from parley.store.db import Database, dialect_insert
from parley.store.models import PersonRow

MAX_NAME = 255


async def names(db: Database, user_ids: Iterable[str]) -> dict[str, str]:
    """The known display names of these ids (ids the directory lacks are left out)."""
    wanted = sorted({i for i in user_ids if i})
    if not wanted:
        return {}
    stmt = select(PersonRow.user_id, PersonRow.name).where(PersonRow.user_id.in_(wanted))
    async with db.session() as s:
        rows = (await s.execute(stmt)).all()
    return {user_id: name for user_id, name in rows if name}


async def fresh_since(db: Database, user_ids: Iterable[str], since: datetime) -> set[str]:
    """Those of the ids whose name was saved at or after `since` (the rest need a lookup)."""
    wanted = sorted({i for i in user_ids if i})
    if not wanted:
        return set()
    stmt = select(PersonRow.user_id).where(
        PersonRow.user_id.in_(wanted), PersonRow.updated_at >= since
    )
    async with db.session() as s:
        return set((await s.scalars(stmt)).all())


async def save(db: Database, found: dict[str, str], at: datetime) -> None:
    """Upsert names by user id; an empty name is never saved (it would hide the fallback)."""
    rows = [
        {"user_id": user_id, "name": name[:MAX_NAME], "updated_at": at}
        for user_id, name in sorted(found.items())
        if user_id and name
    ]
    if not rows:
        return
    ins = dialect_insert(db, PersonRow).values(rows)
    stmt = ins.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"name": ins.excluded.name, "updated_at": ins.excluded.updated_at},
    )
    async with db.session() as s:
        await s.execute(stmt)
