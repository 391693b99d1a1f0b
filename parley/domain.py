"""The alert domain model that intake, the store, the workflows and the Slack UI share.

Pydantic models only (no ORM, no I/O): they cross the Temporal boundary through
`temporalio.contrib.pydantic`'s data converter. Workflow modules import this file inside
`workflow.unsafe.imports_passed_through()` so the sandbox does not re-import pydantic per run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parley.enrichment.ranges import parse_ip
from parley.slack.ui.text import person, user_mention


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
    # Issue 11: what a source's own webhook carries besides Parley's fields. All optional, so
    # the native shape is unchanged and older workflow inputs still load.
    description: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    # The source's name ("Panther") and the alert's page there: a "View in <source>" button.
    source: str = Field(default="", max_length=50)
    source_url: str | None = Field(default=None, max_length=3000, pattern=r"^https?://\S+$")
    # The payload exactly as the source sent it (unknown fields included): Show Alert Details.
    raw: dict[str, Any] | None = None

    @property
    def effective_event_count(self) -> int:
        """The count a source means: its own, or at least the events it sent."""
        return max(self.event_count, len(self.events))

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
        try:
            value.astimezone(UTC)  # stores and Temporal keep UTC: 0001-01-01T00:00+14:00 is not
        except OverflowError:
            raise ValueError("created_at is outside the years 1 to 9999 in UTC") from None
        return value


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return str(value)
    return value  # dicts and the like fail validation with a clear message


def ip_values(attributes: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(attribute, value) pairs whose value is an IP address, in order: what See Threat Intel
    offers and what Show Alert Details locates. Parsing is `parse_ip`'s, the enricher's own."""
    found: list[tuple[str, str]] = []
    for name, values in attributes.items():
        for value in values:
            pair = (name, value.strip())
            if parse_ip(value) is not None and pair not in found:
                found.append(pair)
    return found


class DestinationIn(BaseModel):
    """A Slack Bot destination: a channel and the alerts it wants."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    # The store keeps 32 characters; Slack's channel ids are about 11.
    channel: str = Field(
        pattern=r"^[CGD][A-Z0-9]{2,}$", max_length=32, description="Slack channel id"
    )
    min_severity: Severity | None = None
    rule_ids: list[str] = Field(default_factory=list)
    log_types: list[str] = Field(default_factory=list)
    # Analyse the alert's IPs when it arrives: one line per IP (flag, country, ASN, origin) in
    # this destination's message, and Tor / VPN marks in its summary.
    enrich_on_arrival: bool = False
    # In a storm (one rule flooding the channel), High and Critical alerts still post on their
    # own unless this is set; then they go to the storm's digest too.
    storm_includes_high: bool = False
    # Issue 11: more events for an alert closed here (Resolved/Invalid) reopen it. Off: the
    # update is only recorded in the alert's history.
    reopen_on_growth: bool = False


class Destination(DestinationIn):
    id: str

    def matches(self, alert: AlertIn) -> bool:
        return self.accepts(alert.severity, alert.rule_id, alert.log_type)

    def accepts(self, severity: Severity, rule_id: str, log_type: str) -> bool:
        """The filters alone, for counting alerts the store holds (storms)."""
        if self.min_severity is not None and severity.rank < self.min_severity.rank:
            return False
        if self.rule_ids and rule_id not in self.rule_ids:
            return False
        if self.log_types and log_type not in self.log_types:
            return False
        return True


class Actor(BaseModel):
    """Who did something: a Slack user, a console user, or Parley itself."""

    source: Literal["slack", "console", "system"]
    id: str = ""
    name: str = ""

    def mention(self) -> str:
        """This actor in Slack mrkdwn: a mention for a Slack user, else the escaped name."""
        if self.source == "slack" and self.id:
            return user_mention(self.id)
        return person(self.name or self.id or "Parley")


SYSTEM = Actor(source="system", id="parley", name="Parley")


class SlackCopy(BaseModel):
    """One posted copy of the alert message."""

    destination_id: str
    destination_name: str = ""
    channel: str
    ts: str | None = None
    failed: str | None = None  # Slack error code when delivery gave up


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
