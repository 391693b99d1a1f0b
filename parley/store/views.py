"""What the store hands out: pydantic views (JSON-ready for the API), never ORM rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from parley.domain import HistoryItem, Severity, Status

__all__ = [
    "AlertDetail",
    "AlertPage",
    "AlertSummary",
    "HistoryItem",
    "QueuedItem",
    "SlackCopyView",
    "StormDetail",
    "StormMemberView",
    "StormSummary",
]


class AlertSummary(BaseModel):
    """One row of the alert list."""

    alert_id: str
    title: str
    severity: Severity
    status: Status
    assignee_id: str | None = None
    assignee_name: str = ""
    rule_id: str
    rule_name: str = ""
    log_type: str = ""
    created_at: datetime
    updated_at: datetime
    queued: int = Field(
        default=0, description="changes (or the alert's start) waiting for the workflow engine"
    )


class AlertPage(BaseModel):
    items: list[AlertSummary]
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next (older) page; null at the end"
    )


class SlackCopyView(BaseModel):
    destination_id: str
    destination_name: str = ""
    channel: str
    ts: str | None = None
    permalink: str | None = None
    failed: str | None = None  # Slack error code when delivery gave up


class QueuedItem(BaseModel):
    """Something accepted for the alert that its workflow does not have yet (the outbox)."""

    kind: str  # "start" or "signal"
    summary: str
    accepted_at: datetime
    attempts: int = 0
    last_error: str | None = None


class AlertDetail(AlertSummary):
    resolution_comment: str | None = None
    workflow_id: str
    runbook: str = ""
    summary_attributes: dict[str, list[str]] = Field(default_factory=dict)
    event_count: int = 1
    first_event: dict[str, Any] | list[Any] | None = None
    # Issue 11: what the source's own webhook said.
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    source: str = ""
    source_url: str | None = None
    raw: dict[str, Any] | None = Field(
        default=None, description="the payload as the source sent it"
    )
    history: list[HistoryItem] = Field(default_factory=list, description="oldest first")
    slack_copies: list[SlackCopyView] = Field(default_factory=list)
    queued_items: list[QueuedItem] = Field(
        default_factory=list, description="in the order they will be applied"
    )


class StormSummary(BaseModel):
    """One storm: a rule flooding one channel, gathered in one digest message."""

    storm_id: str
    workflow_id: str
    channel: str
    destination_id: str
    destination_name: str = ""
    rule_id: str
    rule_name: str = ""
    started_at: datetime
    last_at: datetime
    ended_at: datetime | None = None
    member_count: int
    counts: dict[str, int] = Field(default_factory=dict, description="members by severity")
    permalink: str | None = None

    @property
    def open(self) -> bool:
        return self.ended_at is None


class StormMemberView(BaseModel):
    alert_id: str
    title: str
    severity: Severity
    status: Status
    joined_at: datetime
    posted: bool = Field(description="posted on its own before the storm began")


class StormDetail(StormSummary):
    members: list[StormMemberView] = Field(default_factory=list, description="newest first")
    members_shown: int = 0
