"""Storms in the store: intake's count of a rule's recent alerts, the storms StormWorkflow
records, and what the console lists.

Callers import this module directly (`from parley.store import storms`): it stands beside repo.py
so that intake and storms change apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from parley.domain import AlertIn, Destination, Severity, Status
from parley.store.db import Database, dialect_insert
from parley.store.models import AlertRow, StormMemberRow, StormRow, utcnow
from parley.store.views import StormDetail, StormMemberView, StormSummary

# Intake looks at no more of a rule's recent alerts than this: past it, a storm is certain.
MAX_SCAN = 5000
MAX_STORMS_LISTED = 200
MAX_MEMBERS_SHOWN = 1000
MAX_LEAD_IN = 500


def _is_high(severity: Severity) -> bool:
    return severity.rank >= Severity.HIGH.rank


async def storm_destinations(
    db: Database,
    alert: AlertIn,
    destinations: Sequence[Destination],
    *,
    threshold: int,
    since: datetime,
) -> list[str]:
    """Ids of the destinations that take `alert` in a storm digest rather than on its own.

    A destination storms when more than `threshold` alerts of this rule that it accepts came in
    since `since` (this alert, already claimed, included), or while a storm of this rule is still
    open in its channel (so a storm does not flicker at the threshold). High and Critical alerts
    only storm where the destination says so. One bounded, indexed query per table.
    """
    candidates = [d for d in destinations if d.storm_includes_high or not _is_high(alert.severity)]
    if threshold <= 0 or not candidates:
        return []
    recent = (
        select(AlertRow.severity, AlertRow.log_type)
        .where(AlertRow.rule_id == alert.rule_id, AlertRow.received_at >= since)
        .limit(MAX_SCAN)
        .subquery()
    )
    async with db.session() as s:
        groups = (
            await s.execute(
                select(recent.c.severity, recent.c.log_type, func.count()).group_by(
                    recent.c.severity, recent.c.log_type
                )
            )
        ).all()
        open_channels = set(
            (
                await s.scalars(
                    select(StormRow.channel).where(
                        StormRow.rule_id == alert.rule_id,
                        StormRow.ended_at.is_(None),
                        StormRow.last_at >= since,  # a storm whose workflow died is not open
                    )
                )
            ).all()
        )
    chosen = []
    for dest in candidates:
        if dest.channel in open_channels:
            chosen.append(dest.id)
            continue
        # The destination's own filters decide which of the rule's alerts count.
        count = sum(
            n
            for severity, log_type, n in groups
            if dest.accepts(Severity(severity), alert.rule_id, log_type)
        )
        if count > threshold:
            chosen.append(dest.id)
    return chosen


async def lead_in(
    db: Database,
    destination: Destination,
    rule_id: str,
    *,
    storm_id: str,
    since: datetime,
    until: datetime,
) -> list[tuple[str, str, Severity, datetime]]:
    """The alerts of this rule that the destination took on their own in the window before a
    storm began: (alert id, title, severity, received at), oldest first. They belong to the
    storm too, so that one bulk action clears the whole flood. Alerts of another storm of this
    channel are not taken."""
    elsewhere = (
        select(StormMemberRow.alert_id)
        .join(StormRow, StormRow.storm_id == StormMemberRow.storm_id)
        .where(
            StormMemberRow.alert_id == AlertRow.alert_id,
            StormRow.channel == destination.channel,
            StormRow.storm_id != storm_id,
        )
    )
    query = (
        select(AlertRow.alert_id, AlertRow.title, AlertRow.severity, AlertRow.log_type)
        .add_columns(AlertRow.received_at)
        .where(
            AlertRow.rule_id == rule_id,
            AlertRow.received_at >= since,
            AlertRow.received_at <= until,
            ~elsewhere.exists(),
        )
        .order_by(AlertRow.received_at, AlertRow.alert_id)
        .limit(MAX_SCAN)
    )
    async with db.session() as s:
        rows = (await s.execute(query)).all()
    found: list[tuple[str, str, Severity, datetime]] = []
    for alert_id, title, severity, log_type, received_at in rows:
        sev = Severity(severity)
        if _is_high(sev) and not destination.storm_includes_high:
            continue
        if not destination.accepts(sev, rule_id, log_type):
            continue
        found.append((alert_id, title, sev, received_at))
    return found[-MAX_LEAD_IN:]


async def record_storm(
    db: Database,
    *,
    storm_id: str,
    workflow_id: str,
    destination: Destination,
    rule_id: str,
    rule_name: str,
    started_at: datetime,
    last_at: datetime,
    ended_at: datetime | None,
    member_count: int,
    counts: dict[str, int],
    members: Sequence[tuple[str, datetime, bool]],
    digest_ts: str | None = None,
    permalink: str | None = None,
) -> None:
    """Upsert the storm's row and add members (alert id, joined at, posted on its own).

    Idempotent: the workflow's state is the truth, so a retried write overwrites the row, and a
    member already recorded is updated (a lead-in that turns out to be digested, say). Members
    whose alert the store does not know are skipped rather than failing the storm."""
    values: dict[str, Any] = {
        "storm_id": storm_id,
        "workflow_id": workflow_id,
        "channel": destination.channel,
        "destination_id": destination.id,
        "destination_name": destination.name,
        "rule_id": rule_id,
        "rule_name": rule_name,
        "started_at": started_at,
        "last_at": last_at,
        "ended_at": ended_at,
        "member_count": member_count,
        "counts": counts,
        "digest_ts": digest_ts,
        "permalink": permalink,
        "updated_at": utcnow(),
    }
    ins = dialect_insert(db, StormRow).values(**values)
    keep = {"storm_id", "digest_ts", "permalink"}
    update = {k: ins.excluded[k] for k in values if k not in keep}
    # A write without the digest's ts or link keeps the ones recorded before.
    update["digest_ts"] = func.coalesce(ins.excluded.digest_ts, StormRow.digest_ts)
    update["permalink"] = func.coalesce(ins.excluded.permalink, StormRow.permalink)
    stmt = ins.on_conflict_do_update(index_elements=["storm_id"], set_=update)
    async with db.session() as s:
        await s.execute(stmt)
        if not members:
            return
        wanted = {alert_id for alert_id, _, _ in members}
        known = set(
            (await s.scalars(select(AlertRow.alert_id).where(AlertRow.alert_id.in_(wanted)))).all()
        )
        rows = [
            {"storm_id": storm_id, "alert_id": a, "joined_at": at, "posted": posted}
            for a, at, posted in members
            if a in known
        ]
        if rows:
            mins = dialect_insert(db, StormMemberRow).values(rows)
            await s.execute(
                mins.on_conflict_do_update(
                    index_elements=["storm_id", "alert_id"],
                    set_={"posted": mins.excluded.posted},
                )
            )


def _summary(row: StormRow) -> StormSummary:
    return StormSummary(
        storm_id=row.storm_id,
        workflow_id=row.workflow_id,
        channel=row.channel,
        destination_id=row.destination_id,
        destination_name=row.destination_name,
        rule_id=row.rule_id,
        rule_name=row.rule_name,
        started_at=row.started_at,
        last_at=row.last_at,
        ended_at=row.ended_at,
        member_count=row.member_count,
        counts=dict(row.counts or {}),
        permalink=row.permalink,
    )


async def list_storms(db: Database, limit: int = 50) -> list[StormSummary]:
    """The newest storms first (storms are rare: no paging beyond MAX_STORMS_LISTED)."""
    if not 1 <= limit <= MAX_STORMS_LISTED:
        raise ValueError(f"limit must be between 1 and {MAX_STORMS_LISTED}")
    query = (
        select(StormRow).order_by(StormRow.started_at.desc(), StormRow.storm_id.desc()).limit(limit)
    )
    async with db.session() as s:
        return [_summary(r) for r in (await s.scalars(query)).all()]


async def get_storm(db: Database, storm_id: str) -> StormDetail | None:
    """The storm with its newest MAX_MEMBERS_SHOWN members (their current status); None if
    unknown."""
    async with db.session() as s:
        row = await s.get(StormRow, storm_id)
        if row is None:
            return None
        members = (
            await s.execute(
                select(
                    StormMemberRow.alert_id,
                    AlertRow.title,
                    AlertRow.severity,
                    AlertRow.status,
                    StormMemberRow.joined_at,
                    StormMemberRow.posted,
                )
                .join(AlertRow, AlertRow.alert_id == StormMemberRow.alert_id)
                .where(StormMemberRow.storm_id == storm_id)
                .order_by(StormMemberRow.joined_at.desc(), StormMemberRow.alert_id.desc())
                .limit(MAX_MEMBERS_SHOWN)
            )
        ).all()
    views = [
        StormMemberView(
            alert_id=m.alert_id,
            title=m.title,
            severity=Severity(m.severity),
            status=Status(m.status),
            joined_at=m.joined_at,
            posted=m.posted,
        )
        for m in members
    ]
    return StormDetail(**_summary(row).model_dump(), members=views, members_shown=len(views))


async def storms_of_alert(db: Database, alert_id: str) -> list[StormSummary]:
    """The storms an alert belongs to (one per channel at most), newest first."""
    query = (
        select(StormRow)
        .join(StormMemberRow, StormMemberRow.storm_id == StormRow.storm_id)
        .where(StormMemberRow.alert_id == alert_id)
        .order_by(StormRow.started_at.desc())
    )
    async with db.session() as s:
        return [_summary(r) for r in (await s.scalars(query)).all()]
