"""AlertWorkflow's input, its one serialisable state, and the payloads of its signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from parley.domain import Actor, AlertIn, Destination, SlackCopy, Status
from parley.enrichment.models import IpIntel
from workflows.boomerang_types import AnswerKind, BoomerangDelays, BoomerangStatus
from workflows.storm_types import StormPlan


def alert_workflow_id(alert_id: str) -> str:
    """`alert-<id>`: the alert's workflow, as intake starts it and every click addresses it."""
    return f"alert-{alert_id}"


def boomerang_workflow_id(alert_id: str, seq: int) -> str:
    """A Boomerang's child workflow: its id names the alert too."""
    return f"{alert_workflow_id(alert_id)}-boomerang-{seq}"


# ---- signal payloads: what people ask of the alert --------------------------------------------


class Request(BaseModel):
    """What every request from a person carries: who, an idempotency key, where to answer."""

    actor: Actor
    key: str = Field(description="idempotency key (action_ts, user, alert)")
    response_url: str | None = None
    reply_channel: str | None = None  # where to tell the clicking user about a refusal


class StatusChange(Request):
    status: Status
    comment: str | None = None


class AssigneeChange(Request):
    assignee_id: str | None  # Slack user id, or None to unassign
    assignee_name: str = ""


class DetailsRequest(Request):
    """Show Alert Details, clicked on one copy: the details go in that copy's thread."""

    channel: str | None = None
    message_ts: str | None = None


class IntelRequest(Request):
    """See Threat Intel for one value of the alert, chosen by the user."""

    ip: str = Field(max_length=64)
    channel: str | None = None
    message_ts: str | None = None


class BoomerangAsk(Request):
    """Someone asks someone else about the alert (Boomerang 🪃)."""

    recipient_id: str = Field(pattern=r"^[UW][A-Z0-9]{2,}$")
    question: str = Field(min_length=1, max_length=3000)
    share_event: bool = False


class AlertGrowth(BaseModel):
    """The same alert arrived again with more events (issue 11): intake claimed the growth in
    the store (counts only go up), so each growth reaches the workflow once under its key."""

    key: str = Field(description="grow/<event count>: unique per growth of one alert")
    event_count: int = Field(ge=0)
    previous_count: int = Field(ge=0)
    new_events: list[Any] = Field(default_factory=list, max_length=100)
    # A destination of the alert says more events reopen it when it is closed.
    reopen: bool = False


# ---- input and state --------------------------------------------------------------------------


class BoomerangInfo(BaseModel):
    """What the alert remembers of one of its questions."""

    id: str  # the child workflow's id, which names the alert too
    recipient_id: str
    asker_id: str
    question: str
    status: BoomerangStatus = "open"
    answer_kind: AnswerKind | None = None
    answer_text: str | None = None


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
    # The alert's IPs analysed on arrival, for the destinations that asked (None: none did).
    ip_intel: IpIntel | None = None
    # Alerts that grow (issue 11): the count the thread was last told about (None: the count
    # the alert arrived with), and when the pending "N more events" line is due.
    lined_event_count: int | None = None
    growth_line_due: datetime | None = None
    # The Slack user who closed the alert (their App Home lists it; issue 13), if one did.
    closed_by: str | None = None


class AlertWorkflowInput(BaseModel):
    alert: AlertIn
    destinations: list[Destination]
    console_base_url: str
    retention_seconds: float
    boomerang_delays: BoomerangDelays = Field(default_factory=BoomerangDelays)
    # Two Show Alert Details clicks on one copy within this many seconds post once.
    details_dedupe_seconds: float = 10.0
    # Destinations whose storm digest takes this alert instead of a post (intake's decision).
    storm: StormPlan | None = None
    state: AlertState | None = None  # set when continuing as new
    # At most one "N more events (M in all)" thread line per this many seconds (issue 11).
    growth_line_seconds: float = 60.0
