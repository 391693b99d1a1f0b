"""StormWorkflow's input, state and signal payloads, and the storm plan intake gives an alert.

A storm is a misfiring rule flooding one channel: past a threshold, its alerts are no longer posted
one by one but gathered in one digest message per (channel, rule), kept by a `StormWorkflow`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field

from parley.domain import Actor, Destination, Severity, Status

# How often at most the digest is re-rendered, however fast alerts join.
DIGEST_REFRESH_SECONDS = 3.0
# The digest shows this many of the newest titles; older members keep no title in the workflow
# (the console has them all), so a storm of thousands stays a small payload.
TITLES_KEPT = 10


def storm_workflow_id(channel: str, rule_id: str) -> str:
    """`storm-<channel>-<rule id>`: one storm at a time per channel and rule."""
    return f"storm-{channel}-{rule_id}"


def is_storm_workflow_id(workflow_id: str) -> bool:
    return workflow_id.startswith("storm-")


def bulk_member_key(bulk_key: str, alert_id: str) -> str:
    """The status change key one bulk action gives one member: the same bulk action, retried or
    re-sent, gives the same key, so the alert applies it once. Short, to fit history keys."""
    digest = hashlib.sha256(bulk_key.encode()).hexdigest()[:20]
    return f"storm-bulk:{digest}:{alert_id}"


class StormPlan(BaseModel):
    """What intake decided for one alert: the destinations that take it in a storm digest."""

    digest_destination_ids: list[str] = Field(default_factory=list)
    window_seconds: float = 600.0
    refresh_seconds: float = DIGEST_REFRESH_SECONDS


class StormMember(BaseModel):
    alert_id: str
    title: str = ""  # kept for the newest members only (TITLES_KEPT)
    severity: Severity
    at: datetime
    # Posted on its own before the storm began (a lead-in), rather than digested.
    posted: bool = False


class BulkChange(BaseModel):
    """A bulk action (Resolve all in this storm…, Mark all Invalid…) for the storm to apply."""

    status: Status
    comment: str = Field(min_length=1, max_length=3000)
    actor: Actor
    key: str = Field(description="idempotency key of the submission")
    # The storm whose digest it came from: a later storm under the same workflow id refuses it.
    storm_id: str | None = None
    reply_channel: str | None = None


class BulkRecord(BaseModel):
    """One bulk action as the storm applies it, member by member (it survives continue-as-new)."""

    key: str
    status: Status
    comment: str
    actor: Actor
    at: datetime
    # Members when the storm began applying it; alerts joining later are not swept in.
    total: int | None = None
    next_index: int = 0
    gone: int = 0  # members whose workflow had already finished
    done: bool = False


class StormState(BaseModel):
    storm_id: str  # the store's key of this storm; a new one per storm, not per run
    started_at: datetime
    last_join_at: datetime
    members: list[StormMember] = Field(default_factory=list)
    lead_in_done: bool = False
    revision: int = 0  # bumped on every change the digest shows
    rendered_revision: int = -1
    rendered_at: datetime | None = None
    recorded_members: int = 0  # members[:recorded_members] are in the store
    changed: list[str] = Field(default_factory=list)  # recorded members to record again
    digest_ts: str | None = None
    bulk: list[BulkRecord] = Field(default_factory=list)
    seen_keys: list[str] = Field(default_factory=list)
    ended_at: datetime | None = None


class StormInput(BaseModel):
    destination: Destination
    rule_id: str
    rule_name: str = ""
    window_seconds: float
    refresh_seconds: float = DIGEST_REFRESH_SECONDS
    console_base_url: str
    members: list[StormMember] = Field(default_factory=list)  # the alerts that start the storm
    state: StormState | None = None  # set when continuing as new


class DigestView(BaseModel):
    """What the digest message shows; built by the workflow, drawn by parley/slack/ui/storm.py."""

    storm_id: str
    workflow_id: str
    channel: str
    rule_id: str
    rule_name: str = ""
    started_at: datetime
    last_at: datetime
    ended_at: datetime | None = None
    total: int
    posted: int = 0  # of which posted on their own before the storm began
    counts: dict[Severity, int] = Field(default_factory=dict)
    newest: list[StormMember] = Field(default_factory=list)  # newest first
    bulk: list[BulkRecord] = Field(default_factory=list)
    window_seconds: float
    revision: int = 0
