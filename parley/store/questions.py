"""Boomerang questions in the console store (issue 13).

The alert's workflow writes a row when a question is asked and again when it closes (through its
one store write per change, activities/history.py). The API reads them to match a typed DM
answer to its question, and the App Home lists the open ones.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select

from parley.store.db import Database, dialect_insert
from parley.store.models import QuestionRow, utcnow


class Question(BaseModel):
    boomerang_id: str
    alert_id: str
    recipient_id: str
    asker_id: str = ""
    question: str
    status: str = "open"
    dm_channel: str | None = None
    dm_ts: str | None = None
    asked_at: datetime


async def save_question(db: Database, q: Question) -> None:
    """Upsert by boomerang id; a known DM is kept when a later write does not carry it."""
    ins = dialect_insert(db, QuestionRow).values(**q.model_dump(), updated_at=utcnow())
    new = ins.excluded
    stmt = ins.on_conflict_do_update(
        index_elements=["boomerang_id"],
        set_={
            "status": new.status,
            "dm_channel": func.coalesce(new.dm_channel, QuestionRow.dm_channel),
            "dm_ts": func.coalesce(new.dm_ts, QuestionRow.dm_ts),
            "updated_at": new.updated_at,
        },
    )
    async with db.session() as s:
        await s.execute(stmt)


async def open_questions(db: Database, recipient_id: str) -> list[Question]:
    """The recipient's open questions, the latest first."""
    stmt = (
        select(QuestionRow)
        .where(QuestionRow.recipient_id == recipient_id, QuestionRow.status == "open")
        .order_by(QuestionRow.asked_at.desc(), QuestionRow.boomerang_id.desc())
        .limit(50)
    )
    async with db.session() as s:
        rows = (await s.execute(stmt)).scalars().all()
    return [_view(r) for r in rows]


def _view(row: QuestionRow) -> Question:
    return Question(
        boomerang_id=row.boomerang_id,
        alert_id=row.alert_id,
        recipient_id=row.recipient_id,
        asker_id=row.asker_id,
        question=row.question,
        status=row.status,
        dm_channel=row.dm_channel,
        dm_ts=row.dm_ts,
        asked_at=row.asked_at,
    )
