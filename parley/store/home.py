"""What one person's App Home lists (issue 13), read from the console store.

- alerts assigned to them that are not closed;
- Boomerang questions waiting for their answer;
- alerts they closed (Resolved or Invalid, from Slack) in the last `CLOSED_DAYS` days, still
  closed.
Each with the alert's Slack message (the first copy's permalink) for links.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select

from parley.domain import Status
from parley.store.db import Database
from parley.store.models import AlertRow, HistoryRow, QuestionRow, SlackMessageRow

CLOSED_DAYS = 7
PER_LIST = 15
CLOSED = [Status.RESOLVED.value, Status.INVALID.value]


class HomeAlert(BaseModel):
    alert_id: str
    title: str
    severity: str
    status: str
    permalink: str | None = None
    at: datetime | None = None  # when they closed it (closed list)


class HomeQuestion(BaseModel):
    boomerang_id: str
    alert_id: str
    alert_title: str
    asker_id: str
    question: str
    permalink: str | None = None
    asked_at: datetime


class HomeData(BaseModel):
    user_id: str
    assigned: list[HomeAlert]
    questions: list[HomeQuestion]
    closed: list[HomeAlert]


def _first_permalink() -> object:
    return (
        select(SlackMessageRow.permalink)
        .where(
            SlackMessageRow.alert_id == AlertRow.alert_id, SlackMessageRow.permalink.is_not(None)
        )
        .order_by(SlackMessageRow.id)
        .limit(1)
        .scalar_subquery()
    )


async def home_data(db: Database, user_id: str, now: datetime) -> HomeData:
    link = _first_permalink()
    assigned_q = (
        select(AlertRow.alert_id, AlertRow.title, AlertRow.severity, AlertRow.status, link)
        .where(AlertRow.assignee_id == user_id, AlertRow.status.not_in(CLOSED))
        .order_by(AlertRow.created_at.desc(), AlertRow.alert_id)
        .limit(PER_LIST)
    )
    questions_q = (
        select(QuestionRow, AlertRow.title, link)
        .join(AlertRow, AlertRow.alert_id == QuestionRow.alert_id)
        .where(QuestionRow.recipient_id == user_id, QuestionRow.status == "open")
        .order_by(QuestionRow.asked_at.desc())
        .limit(PER_LIST)
    )
    closed_at = func.max(HistoryRow.at).label("closed_at")
    closed_q = (
        select(
            AlertRow.alert_id, AlertRow.title, AlertRow.severity, AlertRow.status, link, closed_at
        )
        .join(HistoryRow, HistoryRow.alert_id == AlertRow.alert_id)
        .where(
            HistoryRow.action == "status_changed",
            HistoryRow.actor_source.in_(("slack", "console")),  # console: signed in with Slack
            HistoryRow.actor_id == user_id,
            HistoryRow.to_value.in_(CLOSED),
            HistoryRow.at >= now - timedelta(days=CLOSED_DAYS),
            AlertRow.status.in_(CLOSED),
        )
        .group_by(AlertRow.alert_id, AlertRow.title, AlertRow.severity, AlertRow.status)
        .order_by(closed_at.desc())
        .limit(PER_LIST)
    )
    async with db.session() as s:
        assigned = (await s.execute(assigned_q)).all()
        questions = (await s.execute(questions_q)).all()
        closed = (await s.execute(closed_q)).all()
    return HomeData(
        user_id=user_id,
        assigned=[
            HomeAlert(alert_id=a, title=t, severity=sev, status=st, permalink=p)
            for a, t, sev, st, p in assigned
        ],
        questions=[
            HomeQuestion(
                boomerang_id=q.boomerang_id,
                alert_id=q.alert_id,
                alert_title=title,
                asker_id=q.asker_id,
                question=q.question,
                permalink=p,
                asked_at=q.asked_at,
            )
            for q, title, p in questions
        ],
        closed=[
            HomeAlert(alert_id=a, title=t, severity=sev, status=st, permalink=p, at=at)
            for a, t, sev, st, p, at in closed
        ],
    )
