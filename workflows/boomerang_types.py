"""BoomerangWorkflow's input, its signal payloads, and the events it reports to the alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from parley.domain import Actor, Severity

BoomerangStatus = Literal["open", "answered", "expired", "cancelled", "undeliverable"]
AnswerKind = Literal["yes", "no", "text"]
BoomerangEventKind = Literal[
    "asked", "undeliverable", "reminded", "escalated", "expired", "answered", "cancelled"
]


class BoomerangDelays(BaseModel):
    """Reminder DM, escalation in the alert's thread, expiry: seconds after the question."""

    remind_after_seconds: float = 4 * 3600
    escalate_after_seconds: float = 24 * 3600
    expire_after_seconds: float = 7 * 24 * 3600


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
    # Typed as a top-level DM (not in the question's thread): the bot says which alert it filed
    # the answer under, in this DM channel (issue 13).
    filed_note_channel: str | None = None


class BoomerangEvent(BaseModel):
    """Boomerang workflow → alert workflow: something happened that the thread should show."""

    boomerang_id: str
    kind: BoomerangEventKind
    at: datetime
    detail: str | None = None
    answer_kind: AnswerKind | None = None
    answer_text: str | None = None
    # "asked": where the DM is, so that a typed answer in it can be matched (issue 13).
    dm_channel: str | None = None
    dm_ts: str | None = None
