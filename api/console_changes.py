"""The console's change forms: status and assignee, made as the signed-in person.

Plain form posts (no JavaScript needed) carrying the session's CSRF token; an analyst or admin
only. They signal the alert's workflow through the outbox like a Slack click, so the change
reaches every Slack copy, recorded under the person's name. The answer is a redirect to the
alert page, which shows what happened, or the refusal, in words.
"""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse

from api.alerts import _signal as signal_change
from api.console_auth import ConsoleUser, Role, require_role
from api.deps import _bad_text
from parley.domain import Actor, Status
from workflows.alert import AlertWorkflow
from workflows.alert_types import AssigneeChange, BoomerangAsk, StatusChange

router = APIRouter(include_in_schema=False)
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


def _actor(user: ConsoleUser) -> Actor:
    return Actor(source="console", id=user.id or user.name, name=user.name)


def _back(request: Request, alert_id: str, text: str, refused: bool) -> RedirectResponse:
    request.session["flash"] = {"text": text, "refused": refused}
    path = request.url_for("get_alert", alert_id=alert_id).path
    return RedirectResponse(path, status.HTTP_303_SEE_OTHER)


def _text(value: str | None) -> str | None:
    if value is not None and (why := _bad_text(value)) is not None:
        raise HTTPException(422, f"the text {why}")
    return value


async def _send(
    request: Request, alert_id: str, signal: object, change: object
) -> RedirectResponse:
    """Signal the alert, then back to its page saying what became of the change."""
    try:
        result = await signal_change(request, alert_id, signal, change)
    except HTTPException as exc:
        return _back(request, alert_id, f"Refused: {exc.detail}", True)
    if result["queued"]:
        text = "Queued: the workflow engine is away; it applies in order as soon as it is back."
    else:
        text = "Sent. Slack and this page update in a moment."
    return _back(request, alert_id, text, False)


@router.post("/console/alerts/{alert_id}/status")
async def set_status(
    alert_id: str,
    request: Request,
    status_: str = Form(alias="status", max_length=20),
    comment: str = Form("", max_length=3000),
    csrf: str = Form("", max_length=200),
) -> RedirectResponse:
    user = await require_role(request, Role.ANALYST, csrf)
    try:
        new = Status(status_)
    except ValueError:
        return _back(request, alert_id, f"Refused: {status_!r} is not a status.", True)
    comment = (_text(comment) or "").strip()
    if new is Status.RESOLVED and not comment:
        return _back(request, alert_id, "Refused: resolving an alert needs a comment.", True)
    change = StatusChange(
        status=new, comment=comment or None, actor=_actor(user), key=f"console:{uuid.uuid4()}"
    )
    return await _send(request, alert_id, AlertWorkflow.set_status, change)


@router.post("/console/alerts/{alert_id}/assignee")
async def set_assignee(
    alert_id: str,
    request: Request,
    assignee_id: str = Form("", max_length=40),
    csrf: str = Form("", max_length=200),
) -> RedirectResponse:
    user = await require_role(request, Role.ANALYST, csrf)
    assignee_id = assignee_id.strip()
    if assignee_id and not SLACK_USER.fullmatch(assignee_id):
        return _back(request, alert_id, f"Refused: {assignee_id!r} is not a Slack user id.", True)
    change = AssigneeChange(
        assignee_id=assignee_id or None, actor=_actor(user), key=f"console:{uuid.uuid4()}"
    )
    return await _send(request, alert_id, AlertWorkflow.set_assignee, change)


@router.post("/console/alerts/{alert_id}/boomerang")
async def ask_boomerang(
    alert_id: str,
    request: Request,
    recipient_id: str = Form(max_length=40),
    question: str = Form(max_length=3000),
    share_event: str | None = Form(None, max_length=10),
    csrf: str = Form("", max_length=200),
) -> RedirectResponse:
    """Ask someone in a DM whether this was them, as the signed-in analyst; their answer lands
    in every thread and in the timeline, as when the Boomerang is asked in Slack."""
    user = await require_role(request, Role.ANALYST, csrf)
    recipient_id = recipient_id.strip()
    if not SLACK_USER.fullmatch(recipient_id):
        return _back(request, alert_id, f"Refused: {recipient_id!r} is not a Slack user id.", True)
    question = (_text(question) or "").strip()
    if not question:
        return _back(request, alert_id, "Refused: write the question to ask.", True)
    ask = BoomerangAsk(
        recipient_id=recipient_id,
        question=question,
        share_event=bool(share_event),
        actor=_actor(user),
        key=f"console:{uuid.uuid4()}",
    )
    return await _send(request, alert_id, AlertWorkflow.ask_boomerang, ask)
