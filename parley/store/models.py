"""ORM tables of the console store. Only store/ touches these; everyone else gets pydantic views.

Enums (severity, status) are stored as their string values rather than database enum types so
that adding a value never needs an ALTER TYPE migration; pydantic validates them on the way in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so that later migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones: store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class AlertRow(Base):
    __tablename__ = "alerts"

    # The alert's own id is the key: a second insert fails even after Temporal has forgotten
    # the workflow (its id-reuse policy only covers the retention period).
    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[str | None] = mapped_column(String(255))
    assignee_name: Mapped[str] = mapped_column(String(255), default="")
    rule_id: Mapped[str] = mapped_column(String(255))
    rule_name: Mapped[str] = mapped_column(String(500), default="")
    log_type: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolution_comment: Mapped[str | None] = mapped_column(Text)
    workflow_id: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]  # AlertIn.model_dump(mode="json")
    # When Parley took the alert in (created_at is the pipeline's own, possibly old, time): a
    # storm is counted on it. Set by the column default, so the claim needs no change; NULL for
    # alerts stored before storms existed.
    received_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # The alert's event count as intake last took it (issue 11: alerts that grow). A growth is
    # claimed by a conditional UPDATE on it, so of concurrent growths each is applied once.
    # NULL for alerts stored before it existed (their payload has the count).
    event_count: Mapped[int | None] = mapped_column(BigInteger)

    # Keyset pagination walks (created_at, alert_id) newest first, optionally per filter.
    __table_args__ = (
        Index(None, "created_at", "alert_id"),
        Index(None, "status", "created_at"),
        Index(None, "severity", "created_at"),
        Index(None, "assignee_id", "created_at"),
        Index(None, "rule_id", "received_at"),  # intake's storm count
    )


class HistoryRow(Base):
    __tablename__ = "alert_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("alerts.alert_id", ondelete="CASCADE")
    )
    # Unique per alert: an activity retried after a lost ack writes the same key again.
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]
    actor_source: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(255), default="")
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(64))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("alert_id", "key"),
        Index(None, "alert_id", "at"),
    )


class DestinationRow(Base):
    __tablename__ = "destinations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    min_severity: Mapped[str | None] = mapped_column(String(16))
    rule_ids: Mapped[list[str]]
    log_types: Mapped[list[str]]
    created_at: Mapped[datetime]
    enrich_on_arrival: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # In a storm, High and Critical alerts post on their own unless this is set.
    storm_includes_high: Mapped[bool] = mapped_column(Boolean, default=False)
    # More events for an alert closed here reopen it (issue 11); off by default.
    reopen_on_growth: Mapped[bool] = mapped_column(Boolean, default=False)


class SlackMessageRow(Base):
    __tablename__ = "slack_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("alerts.alert_id", ondelete="CASCADE")
    )
    # No foreign key: the message stays in Slack after its destination is deleted.
    destination_id: Mapped[str] = mapped_column(String(32))
    destination_name: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(64))
    permalink: Mapped[str | None] = mapped_column(Text)
    failed: Mapped[str | None] = mapped_column(String(255))  # Slack error code
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("alert_id", "destination_id"),)


class PaceSlotRow(Base):
    """Per-channel pacing of Slack posts, shared by every worker process (parley/store/pacing.py):
    the theoretical arrival time of the next post for one rate-limit key (GCRA)."""

    __tablename__ = "pace_slots"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)  # seconds since the epoch


class StormRow(Base):
    """One storm: a rule flooding one channel, gathered in one digest message (StormWorkflow)."""

    __tablename__ = "storms"

    storm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(400))
    channel: Mapped[str] = mapped_column(String(32))
    destination_id: Mapped[str] = mapped_column(String(32))
    destination_name: Mapped[str] = mapped_column(String(100), default="")
    rule_id: Mapped[str] = mapped_column(String(255))
    rule_name: Mapped[str] = mapped_column(String(500), default="")
    started_at: Mapped[datetime]
    last_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]]  # severity -> members
    digest_ts: Mapped[str | None] = mapped_column(String(64))
    permalink: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index(None, "rule_id", "ended_at"),  # intake: is a storm of this rule open?
        Index(None, "started_at", "storm_id"),  # the console's list, newest first
    )


class StormMemberRow(Base):
    __tablename__ = "storm_members"

    storm_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("storms.storm_id", ondelete="CASCADE"), primary_key=True
    )
    alert_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("alerts.alert_id", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime]
    posted: Mapped[bool] = mapped_column(Boolean, default=False)  # posted on its own first

    __table_args__ = (Index(None, "alert_id"),)  # an alert's page links its storms


class OutboxRow(Base):
    """A workflow start or signal the API accepted and Temporal does not have yet.

    A row is deleted once Temporal has it, so the table holds exactly what is queued. Rows of one
    workflow are delivered in `id` order (see api/outbox.py).
    """

    __tablename__ = "outbox"

    # Never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL): the order of acceptance,
    # and a stale delete by id can never hit a newer row.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    workflow_id: Mapped[str] = mapped_column(String(255))
    # The alert the item belongs to, shown as queued in its console page; None for Boomerang
    # answers (their workflow is the question's, not the alert's).
    alert_id: Mapped[str | None] = mapped_column(
        String(128), ForeignKey("alerts.alert_id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))  # "start" or "signal"
    signal: Mapped[str | None] = mapped_column(String(128))  # "AlertWorkflow.set_status", …
    key: Mapped[str] = mapped_column(String(255))  # the signal's idempotency key; "start"
    payload: Mapped[dict[str, Any]]  # the signal's argument, model_dump(mode="json")
    summary: Mapped[str] = mapped_column(String(255), default="")  # for people, in the console
    response_url: Mapped[str | None] = mapped_column(Text)  # to tell the person if it fails
    created_at: Mapped[datetime]
    # Not before this time: a request delivering the row itself holds it for a while, and a row
    # that failed for its own reasons waits out a backoff.
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # A click or console change sent again while it is still queued is queued once.
        UniqueConstraint("workflow_id", "key"),
        Index(None, "workflow_id", "id"),
        Index(None, "alert_id", "id"),
        {"sqlite_autoincrement": True},
    )


class QuestionRow(Base):
    """A Boomerang question, as the alert's workflow saw it (issue 13).

    What a typed DM answer is matched against (the recipient and the DM's ts) and what the
    recipient's App Home lists. The question's workflow stays the truth; this is its projection.
    """

    __tablename__ = "boomerang_questions"

    boomerang_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    alert_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("alerts.alert_id", ondelete="CASCADE")
    )
    recipient_id: Mapped[str] = mapped_column(String(32))
    asker_id: Mapped[str] = mapped_column(String(255), default="")
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # BoomerangStatus
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "recipient_id", "status"), Index(None, "alert_id"))


class ApiTokenRow(Base):
    """A machine API token (issue 14): only its SHA-256 is kept; the token is shown once.

    A token has 256 random bits, so a fast hash is enough: nothing to brute-force."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))  # "intake" or "full"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255), default="")
    revoked_at: Mapped[datetime | None]


class PersonRow(Base):
    """A Slack user's display name, as users.info last gave it to the worker (the people
    directory: the console names people from it without calling Slack itself)."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]
