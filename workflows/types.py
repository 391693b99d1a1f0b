"""Payloads shared by api/, workflows/ and activities/.

Pydantic models only (no ORM, no I/O): they cross the Temporal boundary through
`temporalio.contrib.pydantic`'s data converter. Workflow modules import this file inside
`workflow.unsafe.imports_passed_through()` so the sandbox does not re-import pydantic per run.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Severity(StrEnum):
    INFO = "Info"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Status(StrEnum):
    OPEN = "Open"
    TRIAGED = "Triaged"
    RESOLVED = "Resolved"
    INVALID = "Invalid"

    @property
    def is_closed(self) -> bool:
        return self in (Status.RESOLVED, Status.INVALID)


ALERT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def alert_workflow_id(alert_id: str) -> str:
    """`alert-<id>`: the alert's workflow, as intake starts it and every click addresses it."""
    return f"alert-{alert_id}"


def boomerang_workflow_id(alert_id: str, seq: int) -> str:
    """A Boomerang's child workflow: its id names the alert too."""
    return f"{alert_workflow_id(alert_id)}-boomerang-{seq}"


class AlertIn(BaseModel):
    """An alert as the detection pipeline sends it to `POST /alerts`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=ALERT_ID_PATTERN, description="unique alert id")
    title: str = Field(min_length=1, max_length=1000)
    severity: Severity
    rule_id: str = Field(min_length=1, max_length=255)
    rule_name: str = Field(default="", max_length=500)
    log_type: str = Field(default="", max_length=255)
    runbook: str = Field(default="", max_length=20_000)
    created_at: datetime
    # name → values; a scalar is accepted and becomes a one-element list.
    summary_attributes: dict[str, list[str]] = Field(default_factory=dict)
    event_count: int = Field(default=1, ge=0)
    first_event: dict[str, Any] | list[Any] | None = None
    events: list[Any] = Field(default_factory=list, max_length=100)

    @field_validator("summary_attributes", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, vals in value.items():
            if vals is None:
                out[name] = []
            elif isinstance(vals, list):
                out[name] = [v if isinstance(v, str) else _scalar(v) for v in vals]
            else:
                out[name] = [vals if isinstance(vals, str) else _scalar(vals)]
        return out

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("created_at must carry a timezone (e.g. 2026-11-30T07:00:00Z)")
        return value


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return str(value)
    return value  # dicts and the like fail validation with a clear message


def ip_values(attributes: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(attribute, value) pairs whose value parses as an IPv4 or IPv6 address, in order."""
    found: list[tuple[str, str]] = []
    for name, values in attributes.items():
        for value in values:
            try:
                ipaddress.ip_address(value.strip())
            except ValueError:
                continue
            if (name, value) not in found:
                found.append((name, value.strip()))
    return found


class DestinationIn(BaseModel):
    """A Slack Bot destination: a channel and the alerts it wants."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    channel: str = Field(pattern=r"^[CGD][A-Z0-9]{2,}$", description="Slack channel id")
    min_severity: Severity | None = None
    rule_ids: list[str] = Field(default_factory=list)
    log_types: list[str] = Field(default_factory=list)


class Destination(DestinationIn):
    id: str

    def matches(self, alert: AlertIn) -> bool:
        if self.min_severity is not None and alert.severity.rank < self.min_severity.rank:
            return False
        if self.rule_ids and alert.rule_id not in self.rule_ids:
            return False
        if self.log_types and alert.log_type not in self.log_types:
            return False
        return True


class Actor(BaseModel):
    """Who did something: a Slack user, a console user, or Parley itself."""

    source: Literal["slack", "console", "system"]
    id: str = ""
    name: str = ""

    def mention(self) -> str:
        if self.source == "slack" and self.id:
            return f"<@{self.id}>"
        return self.name or self.id or "Parley"


SYSTEM = Actor(source="system", id="parley", name="Parley")


class SlackCopy(BaseModel):
    """One posted copy of the alert message."""

    destination_id: str
    destination_name: str = ""
    channel: str
    ts: str | None = None
    failed: str | None = None  # Slack error code when delivery gave up


# ---- messages from the API to the alert workflow -------------------------------------------


class StatusChange(BaseModel):
    status: Status
    actor: Actor
    key: str = Field(description="idempotency key (action_ts, user, alert)")
    comment: str | None = None
    response_url: str | None = None
    reply_channel: str | None = None  # where to tell the clicking user about a refusal


class AssigneeChange(BaseModel):
    assignee_id: str | None  # Slack user id, or None to unassign
    assignee_name: str = ""
    actor: Actor
    key: str
    response_url: str | None = None
    reply_channel: str | None = None


class ChangeResult(BaseModel):
    applied: bool
    message: str


class DetailsRequest(BaseModel):
    """Show Alert Details, clicked on one copy: the details go in that copy's thread."""

    actor: Actor
    key: str
    channel: str | None = None
    message_ts: str | None = None


class IntelRequest(BaseModel):
    """See Threat Intel for one value of the alert, chosen by the user."""

    actor: Actor
    key: str
    ip: str = Field(max_length=64)
    channel: str | None = None
    message_ts: str | None = None
    response_url: str | None = None
    reply_channel: str | None = None


# ---- workflow input and state ----------------------------------------------------------------


class TorRefreshInput(BaseModel):
    source: str  # a file path or an http(s) URL of Tor's exit list
    cache_path: str


class BoomerangDelays(BaseModel):
    """Reminder DM, escalation in the alert's thread, expiry: seconds after the question."""

    remind_after_seconds: float = 4 * 3600
    escalate_after_seconds: float = 24 * 3600
    expire_after_seconds: float = 7 * 24 * 3600


class AlertWorkflowInput(BaseModel):
    alert: AlertIn
    destinations: list[Destination]
    console_base_url: str
    retention_seconds: float
    boomerang_delays: BoomerangDelays = Field(default_factory=BoomerangDelays)
    # Two Show Alert Details clicks on one copy within this many seconds post once.
    details_dedupe_seconds: float = 10.0
    state: AlertState | None = None  # set when continuing as new


class AlertState(BaseModel):
    alert: AlertIn
    status: Status = Status.OPEN
    assignee_id: str | None = None
    assignee_name: str = ""
    resolution_comment: str | None = None
    copies: list[SlackCopy] = Field(default_factory=list)
    revision: int = 0
    closed_at: datetime | None = None
    seen_keys: list[str] = Field(default_factory=list)
    boomerangs: list[BoomerangInfo] = Field(default_factory=list)
    boomerang_seq: int = 0
    # Someone asked by Boomerang answered "No, this wasn't me": a security signal on the alert.
    denied_by: list[str] = Field(default_factory=list)
    # When Show Alert Details last posted in each copy's thread (destination id → time).
    details_posted_at: dict[str, datetime] = Field(default_factory=dict)


# ---- Boomerang 🪃 ---------------------------------------------------------------------------

BoomerangStatus = Literal["open", "answered", "expired", "cancelled", "undeliverable"]
AnswerKind = Literal["yes", "no", "text"]


class BoomerangAsk(BaseModel):
    """API → alert workflow: someone asks someone else about the alert."""

    recipient_id: str = Field(pattern=r"^[UW][A-Z0-9]{2,}$")
    question: str = Field(min_length=1, max_length=3000)
    share_event: bool = False
    actor: Actor
    key: str
    response_url: str | None = None
    reply_channel: str | None = None


class BoomerangInfo(BaseModel):
    id: str  # the child workflow's id, which names the alert too
    recipient_id: str
    asker_id: str
    question: str
    status: BoomerangStatus = "open"
    answer_kind: AnswerKind | None = None
    answer_text: str | None = None


class BoomerangInput(BaseModel):
    """Alert workflow → Boomerang child workflow."""

    boomerang_id: str
    alert_id: str
    alert_title: str
    alert_severity: Severity
    console_url: str
    asker: Actor
    recipient_id: str
    question: str
    first_event: dict[str, Any] | list[Any] | None = None  # only when the asker chose to share
    delays: BoomerangDelays


class BoomerangAnswer(BaseModel):
    """API → Boomerang workflow: the recipient's answer (buttons or the Reply… modal)."""

    kind: AnswerKind
    text: str | None = Field(default=None, max_length=3000)
    user_id: str
    key: str
    response_url: str | None = None


BoomerangEventKind = Literal[
    "asked", "undeliverable", "reminded", "escalated", "expired", "answered", "cancelled"
]


class BoomerangEvent(BaseModel):
    """Boomerang workflow → alert workflow: something happened that the thread should show."""

    boomerang_id: str
    kind: BoomerangEventKind
    at: datetime
    detail: str | None = None
    answer_kind: AnswerKind | None = None
    answer_text: str | None = None


class DmRequest(BaseModel):
    """Post (exactly once) or re-render a Boomerang DM."""

    user_id: str
    key: str
    boomerang: BoomerangInput
    status: BoomerangStatus = "open"
    answer_kind: AnswerKind | None = None
    answer_text: str | None = None
    channel: str | None = None  # set for updates
    ts: str | None = None


class DmRef(BaseModel):
    channel: str
    ts: str


AlertWorkflowInput.model_rebuild()
AlertState.model_rebuild()


class HistoryItem(BaseModel):
    """One row of an alert's activity history, as the console shows it."""

    key: str = Field(description="unique per alert: makes retried writes idempotent")
    at: datetime
    actor: Actor
    action: str
    from_value: str | None = None
    to_value: str | None = None
    comment: str | None = None


class HistoryEntry(HistoryItem):
    """A history row on its way into the store (the workflow writes these)."""

    alert_id: str


# ---- activity inputs -----------------------------------------------------------------------


class PostAlertRequest(BaseModel):
    state: AlertState
    destination: Destination
    console_base_url: str


class UpdateCopyRequest(BaseModel):
    state: AlertState
    target: SlackCopy
    console_base_url: str


class UpdateCopyResult(BaseModel):
    target: SlackCopy
    reposted: bool = False


class ThreadReplyRequest(BaseModel):
    alert_id: str
    target: SlackCopy
    key: str = Field(description="unique per alert and copy: a retried post finds the first one")
    text: str
    blocks: list[dict[str, Any]] | None = None


class NotifyUserRequest(BaseModel):
    """An ephemeral note to one user: via response_url when we have one, else postEphemeral."""

    user_id: str
    text: str
    channel: str | None = None
    response_url: str | None = None


class Projection(BaseModel):
    alert_id: str
    status: Status
    assignee_id: str | None
    assignee_name: str
    resolution_comment: str | None


class SaveCopyRequest(BaseModel):
    alert_id: str
    target: SlackCopy
    permalink: str | None = None
