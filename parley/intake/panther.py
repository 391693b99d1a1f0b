"""Panther's Custom Webhook payload, taken as Panther sends it (issue 11).

Followed: Panther's "Alert Schema" for the Custom Webhook destination (panther-docs,
docs/gitbook/destinations/README.md, 2022 snapshot; the same fields on docs.panther.com's Custom
Webhook page today) plus `alertContext`, which Panther's delivery code sends with every alert
(`{}` when the detection has no `alert_context()`). Fields Panther adds later are kept (in the
alert's `raw` payload), never refused; a missing required field is a clear 422.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parley.domain import ALERT_ID_PATTERN, AlertIn, Severity
from parley.intake.flatten import flatten

SOURCE = "Panther"
SEVERITIES = {
    "INFO": Severity.INFO,
    "LOW": Severity.LOW,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}


class PantherAlert(BaseModel):
    """What Panther's Custom Webhook destination POSTs, one request per alert."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(min_length=1, max_length=255, description="detection (rule/policy) id")
    createdAt: datetime = Field(description="AWSDateTime: ISO 8601 with a mandatory offset")
    severity: str = Field(description="INFO, LOW, MEDIUM, HIGH or CRITICAL")
    type: str = Field(default="RULE", max_length=64, description="RULE, POLICY, RULE_ERROR, …")
    link: str | None = Field(default=None, description="the alert in Panther's console")
    title: str = Field(min_length=1)
    name: str | None = None
    alertId: str | None = Field(default=None, description="unique per alert; null for policies")
    alertContext: dict[str, Any] | None = None
    description: str | None = None
    runbook: str | None = None
    tags: list[str] | None = None
    version: str | None = None

    @field_validator("severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        if value.strip().upper() not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        return value.strip().upper()

    @field_validator("createdAt")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("createdAt must carry a time zone offset (AWSDateTime)")
        return value


# Where an alert field came from in Panther's payload, for error messages.
PAYLOAD_FIELDS = {
    "id": "alertId",
    "rule_id": "id",
    "rule_name": "name",
    "created_at": "createdAt",
    "summary_attributes": "alertContext",
    "source_url": "link",
}


def payload_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """An AlertIn error's location as the Panther field it came from."""
    if not loc:
        return loc
    head = loc[0]
    return (PAYLOAD_FIELDS.get(head, head) if isinstance(head, str) else head, *loc[1:])


def alert_id(payload: PantherAlert) -> str:
    """Panther's `alertId`; a payload without one (policies in older Panthers) gets a stable
    id from the detection and its time, so Panther's retries still land on one alert."""
    given = (payload.alertId or "").strip()
    if given and re.fullmatch(ALERT_ID_PATTERN, given):
        return given
    seed = given or f"{payload.id}@{payload.createdAt.isoformat()}"
    return "panther-" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def to_alert(payload: PantherAlert, raw: dict[str, Any]) -> AlertIn:
    """Parley's alert for a Panther payload; `raw` is the JSON exactly as received."""
    link = (payload.link or "").strip()
    return AlertIn(
        id=alert_id(payload),
        title=payload.title[:1000],
        severity=SEVERITIES[payload.severity],
        rule_id=payload.id,
        rule_name=(payload.name or "")[:500],
        runbook=(payload.runbook or "")[:20_000],
        created_at=payload.createdAt,
        # Flattened, so that Show Alert Details and See Threat Intel find the IPs in it.
        summary_attributes=flatten(payload.alertContext or {}),
        description=(payload.description or "")[:5000],
        tags=[t[:100] for t in (payload.tags or []) if t][:50],
        source=SOURCE,
        source_url=link if re.fullmatch(r"https?://\S{1,2990}", link) else None,
        raw=raw,
    )
