"""Console store operations. Activities write through these; the API reads through them.

Every function opens its own short transaction and returns pydantic models. Writes that
activities may retry are idempotent: `INSERT .. ON CONFLICT DO NOTHING` (atomic on both
PostgreSQL and SQLite) instead of read-then-write, which would race.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from parley.domain import Actor, AlertIn, HistoryEntry, Severity, SlackCopy, Status
from parley.store.db import Database, dialect_insert
from parley.store.destinations import (
    DestinationExists,
    create_destination,
    delete_destination,
    list_destinations,
    matching_destinations,
    parse_destinations_file,
    seed_destinations,
)
from parley.store.models import AlertRow, HistoryRow, OutboxRow, SlackMessageRow, utcnow
from parley.store.views import (
    AlertDetail,
    AlertPage,
    AlertSummary,
    HistoryItem,
    QueuedItem,
    SlackCopyView,
)

__all__ = [
    "AlertDetail",
    "AlertNotFound",
    "AlertPage",
    "AlertSummary",
    "DestinationExists",
    "HistoryItem",
    "SlackCopyView",
    "alert_workflow_id",
    "claim_alert",
    "create_destination",
    "delete_destination",
    "get_alert_detail",
    "list_alerts",
    "list_destinations",
    "matching_destinations",
    "parse_destinations_file",
    "record_history",
    "save_slack_copy",
    "seed_destinations",
    "update_alert_projection",
]

MAX_PAGE = 200


class AlertNotFound(LookupError):
    """The alert was never claimed, so there is nothing to attach this write to."""

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"alert {alert_id} not found")
        self.alert_id = alert_id


# ---- alerts ------------------------------------------------------------------------------------


async def claim_alert(db: Database, alert: AlertIn, workflow_id: str) -> bool:
    """Record a new alert. True if it is new, False if this alert id was claimed before.

    Race-safe: of concurrent claims of one id exactly one inserts (the unique key decides).
    Note a retried claim by the same caller also gets False; `alert_workflow_id` tells whose.
    Intake claims through `outbox.accept_alert`, which also queues the workflow's start.
    """
    try:
        async with db.session() as s:
            claimed = await s.execute(claim_statement(db, alert, workflow_id))
            inserted = claimed.scalar_one_or_none()
    except IntegrityError:  # belt and braces: a conflict the ON CONFLICT clause did not cover
        return False
    return inserted is not None


def claim_statement(db: Database, alert: AlertIn, workflow_id: str) -> Any:
    """INSERT the alert as Open unless its id is known; RETURNING the id only if inserted."""
    return (
        dialect_insert(db, AlertRow)
        .values(
            alert_id=alert.id,
            title=alert.title,
            severity=alert.severity.value,
            status=Status.OPEN.value,
            assignee_id=None,
            assignee_name="",
            rule_id=alert.rule_id,
            rule_name=alert.rule_name,
            log_type=alert.log_type,
            created_at=alert.created_at,
            updated_at=utcnow(),
            resolution_comment=None,
            workflow_id=workflow_id,
            payload=alert.model_dump(mode="json"),
            event_count=min(alert.effective_event_count, 2**62),  # store.growth.MAX_COUNT
        )
        .on_conflict_do_nothing(index_elements=["alert_id"])
        .returning(AlertRow.alert_id)
    )


async def alert_workflow_id(db: Database, alert_id: str) -> str | None:
    """The workflow id recorded by the claim of `alert_id`, or None if it was never claimed."""
    async with db.session() as s:
        return (
            await s.execute(select(AlertRow.workflow_id).where(AlertRow.alert_id == alert_id))
        ).scalar_one_or_none()


async def record_history(db: Database, entry: HistoryEntry) -> bool:
    """Append one history row; False if (alert_id, key) is already there (a retried write).

    Raises AlertNotFound if the alert was never claimed.
    """
    stmt = (
        dialect_insert(db, HistoryRow)
        .values(
            alert_id=entry.alert_id,
            key=entry.key,
            at=entry.at,
            actor_source=entry.actor.source,
            actor_id=entry.actor.id,
            actor_name=entry.actor.name,
            action=entry.action,
            from_value=entry.from_value,
            to_value=entry.to_value,
            comment=entry.comment,
        )
        .on_conflict_do_nothing(index_elements=["alert_id", "key"])
        .returning(HistoryRow.id)
    )
    try:
        async with db.session() as s:
            inserted = (await s.execute(stmt)).scalar_one_or_none()
    except IntegrityError as exc:  # only the foreign key can fail here
        raise AlertNotFound(entry.alert_id) from exc
    return inserted is not None


async def update_alert_projection(
    db: Database,
    alert_id: str,
    *,
    status: Status,
    assignee_id: str | None,
    assignee_name: str,
    resolution_comment: str | None,
) -> None:
    """Overwrite the alert's current state with the workflow's (the workflow is the truth).

    Raises AlertNotFound if the alert was never claimed.
    """
    stmt = (
        update(AlertRow)
        .where(AlertRow.alert_id == alert_id)
        .values(
            status=Status(status).value,
            assignee_id=assignee_id,
            assignee_name=assignee_name,
            resolution_comment=resolution_comment,
            updated_at=utcnow(),
        )
        .returning(AlertRow.alert_id)
    )
    async with db.session() as s:
        if (await s.execute(stmt)).scalar_one_or_none() is None:
            raise AlertNotFound(alert_id)


async def save_slack_copy(
    db: Database, alert_id: str, copy: SlackCopy, permalink: str | None
) -> None:
    """Upsert the posted copy for (alert, destination). Raises AlertNotFound for an unknown alert.

    A None permalink keeps a known one for the same message (a lookup may fail on a retry).
    """
    ins = dialect_insert(db, SlackMessageRow).values(
        alert_id=alert_id,
        destination_id=copy.destination_id,
        destination_name=copy.destination_name,
        channel=copy.channel,
        ts=copy.ts,
        permalink=permalink,
        failed=copy.failed,
        updated_at=utcnow(),
    )
    new = ins.excluded
    same_message = SlackMessageRow.ts == new.ts
    stmt = ins.on_conflict_do_update(
        index_elements=["alert_id", "destination_id"],
        set_={
            "destination_name": new.destination_name,
            "channel": new.channel,
            "ts": new.ts,
            "permalink": func.coalesce(
                new.permalink, case((same_message, SlackMessageRow.permalink), else_=None)
            ),
            "failed": new.failed,
            "updated_at": new.updated_at,
        },
    )
    try:
        async with db.session() as s:
            await s.execute(stmt)
    except IntegrityError as exc:
        raise AlertNotFound(alert_id) from exc


def _encode_cursor(created_at: datetime, alert_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), alert_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, alert_id = json.loads(raw)
        created_at = datetime.fromisoformat(at)
        if created_at.tzinfo is None or not isinstance(alert_id, str):
            raise ValueError
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise ValueError("invalid cursor: pass back a next_cursor from a previous page") from exc
    return created_at, alert_id


def _summary(row: AlertRow, queued: int = 0) -> AlertSummary:
    return AlertSummary(
        alert_id=row.alert_id,
        title=row.title,
        severity=Severity(row.severity),
        status=Status(row.status),
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        rule_id=row.rule_id,
        rule_name=row.rule_name,
        log_type=row.log_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
        queued=queued,
    )


def alert_filters(
    query: Select[Any],
    *,
    severity: Severity | None = None,
    assignee: str | None = None,
    rule: str | None = None,
    text: str | None = None,
) -> Select[Any]:
    """The list's filters other than status (the console counts alerts per status with them)."""
    if severity is not None:
        query = query.where(AlertRow.severity == Severity(severity).value)
    if assignee:
        query = query.where(
            or_(
                AlertRow.assignee_id == assignee,
                func.lower(AlertRow.assignee_name) == assignee.lower(),
            )
        )
    if rule:
        query = query.where(
            or_(AlertRow.rule_id == rule, func.lower(AlertRow.rule_name) == rule.lower())
        )
    if text:
        # A literal substring: LIKE's wildcards in the text are escaped, not interpreted.
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(AlertRow.title).like(pattern, escape="\\"),
                AlertRow.alert_id == text,
            )
        )
    return query


async def list_alerts(
    db: Database,
    *,
    status: Status | None = None,
    severity: Severity | None = None,
    assignee: str | None = None,
    rule: str | None = None,
    text: str | None = None,
    oldest_first: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> AlertPage:
    """Alerts newest first (by the alert's created_at), `limit` per page, keyset-paginated.

    `assignee` matches the assignee's Slack user id, or their display name (case-insensitive);
    `rule` the rule id or name (case-insensitive); `text` a part of the title or the alert id.
    Raises ValueError for a limit outside 1..200 or a cursor this function did not produce.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    query = alert_filters(
        select(AlertRow), severity=severity, assignee=assignee, rule=rule, text=text
    )
    if status is not None:
        query = query.where(AlertRow.status == Status(status).value)
    if cursor:
        at, alert_id = _decode_cursor(cursor)
        if oldest_first:
            after = or_(
                AlertRow.created_at > at,
                and_(AlertRow.created_at == at, AlertRow.alert_id > alert_id),
            )
        else:
            after = or_(
                AlertRow.created_at < at,
                and_(AlertRow.created_at == at, AlertRow.alert_id < alert_id),
            )
        query = query.where(after)
    order = (
        (AlertRow.created_at.asc(), AlertRow.alert_id.asc())
        if oldest_first
        else (AlertRow.created_at.desc(), AlertRow.alert_id.desc())
    )
    query = query.order_by(*order).limit(limit + 1)
    async with db.session() as s:
        rows = list((await s.scalars(query)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        counts = await s.execute(
            select(OutboxRow.alert_id, func.count())
            .where(OutboxRow.alert_id.in_([r.alert_id for r in rows]))
            .group_by(OutboxRow.alert_id)
        )
        queued: dict[str | None, int] = {alert_id: n for alert_id, n in counts}
    next_cursor = _encode_cursor(rows[-1].created_at, rows[-1].alert_id) if more else None
    items = [_summary(r, queued.get(r.alert_id, 0)) for r in rows]
    return AlertPage(items=items, next_cursor=next_cursor)


async def get_alert_detail(db: Database, alert_id: str) -> AlertDetail | None:
    """The alert with its history (oldest first) and Slack copies; None if unknown."""
    async with db.session() as s:
        row = await s.get(AlertRow, alert_id)
        if row is None:
            return None
        history = (
            await s.scalars(
                select(HistoryRow)
                .where(HistoryRow.alert_id == alert_id)
                .order_by(HistoryRow.at, HistoryRow.id)
            )
        ).all()
        copies = (
            await s.scalars(
                select(SlackMessageRow)
                .where(SlackMessageRow.alert_id == alert_id)
                .order_by(SlackMessageRow.id)
            )
        ).all()
        queued = (
            await s.scalars(
                select(OutboxRow).where(OutboxRow.alert_id == alert_id).order_by(OutboxRow.id)
            )
        ).all()
    payload: dict[str, Any] = row.payload or {}
    return AlertDetail(
        **_summary(row, len(queued)).model_dump(),
        resolution_comment=row.resolution_comment,
        workflow_id=row.workflow_id,
        runbook=payload.get("runbook", ""),
        summary_attributes=payload.get("summary_attributes", {}),
        event_count=payload.get("event_count", 1),
        first_event=payload.get("first_event"),
        description=payload.get("description") or "",
        tags=payload.get("tags") or [],
        source=payload.get("source") or "",
        source_url=payload.get("source_url"),
        raw=payload.get("raw"),
        history=[
            HistoryItem(
                key=h.key,
                at=h.at,
                actor=Actor.model_validate(
                    {"source": h.actor_source, "id": h.actor_id, "name": h.actor_name}
                ),
                action=h.action,
                from_value=h.from_value,
                to_value=h.to_value,
                comment=h.comment,
            )
            for h in history
        ],
        slack_copies=[
            SlackCopyView(
                destination_id=c.destination_id,
                destination_name=c.destination_name,
                channel=c.channel,
                ts=c.ts,
                permalink=c.permalink,
                failed=c.failed,
            )
            for c in copies
        ],
        queued_items=[
            QueuedItem(
                kind=q.kind,
                summary=q.summary,
                accepted_at=q.created_at,
                attempts=q.attempts,
                last_error=q.last_error,
            )
            for q in queued
        ],
    )
