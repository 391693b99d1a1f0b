"""Alert intake (`POST /alerts`) and console-side changes that flow back to Slack.

Both go through the outbox (api/outbox.py): accepted means written to the console database,
and Temporal gets it now or, in order, when it is back. A database that cannot take the item
answers 503 with Retry-After (api/app.py), quickly, and nothing is changed.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from api import errors
from api.deps import get_db, get_settings, require_token
from api.outbox import Outbox
from api.signals import Refusal, signal_alert
from parley.domain import Actor, AlertIn, Status
from parley.logs import bind_alert
from parley.settings import Settings
from parley.store import outbox as queue
from parley.store import repo
from parley.store.db import Database
from workflows.alert import AlertWorkflow
from workflows.alert_types import AssigneeChange, StatusChange, alert_workflow_id

router = APIRouter(dependencies=[Depends(require_token)])


class IntakeResult(BaseModel):
    alert_id: str
    workflow_id: str
    duplicate: bool
    # Temporal does not have the alert yet: it waits in the outbox and starts when it can.
    queued: bool = False
    destinations: list[str] = Field(default_factory=list)


@router.post(
    "/alerts",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeResult,
    responses={
        200: {"model": IntakeResult, "description": "A duplicate: this alert id was seen before"},
        202: {
            "model": IntakeResult,
            "description": "Accepted and queued: Temporal is away; it starts when Temporal is back",
        },
        **errors.responses(
            503, e503="The database cannot take it now; nothing changed, retry after Retry-After"
        ),
    },
)
async def create_alert(
    alert: AlertIn,
    request: Request,
    response: Response,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> IntakeResult:
    size = len(alert.model_dump_json())
    if size > settings.max_alert_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"alert is {size} bytes, more than the {settings.max_alert_bytes} allowed; "
            "send fewer or smaller events (the first event is kept in full)",
        )
    wf_id = alert_workflow_id(alert.id)
    bind_alert(alert.id)  # the request's log lines from here on name the alert
    destinations = await repo.matching_destinations(db, alert)
    outbox: Outbox = request.app.state.outbox
    # The store's unique key decides: of any number of requests for one id, one is created.
    accepted = await outbox.accept_alert(alert, wf_id, destinations)
    if accepted is None:
        response.status_code = status.HTTP_200_OK
        waiting = any(i.kind == "start" for i in await queue.queued_for_workflow(db, wf_id))
        return IntakeResult(alert_id=alert.id, workflow_id=wf_id, duplicate=True, queued=waiting)
    if accepted.queued:
        response.status_code = status.HTTP_202_ACCEPTED
    return IntakeResult(
        alert_id=alert.id,
        workflow_id=wf_id,
        duplicate=False,
        queued=accepted.queued,
        destinations=[d.name for d in destinations],
    )


# ---- changes made in the console --------------------------------------------------------------


class ConsoleStatusChange(BaseModel):
    status: Status
    comment: str | None = Field(default=None, max_length=3000)
    user: str = Field(min_length=1, max_length=100, description="console user making the change")


class ConsoleAssigneeChange(BaseModel):
    assignee_id: str | None = Field(pattern=r"^[UW][A-Z0-9]{2,}$", description="Slack user id")
    user: str = Field(min_length=1, max_length=100)


def _console_actor(user: str) -> Actor:
    return Actor(source="console", id=user, name=user)


def _console_key(idempotency_key: str | None) -> str:
    return f"console:{idempotency_key or uuid.uuid4()}"


async def _signal(request: Request, alert_id: str, signal: Any, change: Any) -> dict[str, Any]:
    """Signal the alert like a Slack click would; refusals become HTTP errors."""
    try:
        queued = await signal_alert(request.app, alert_id, signal, change)
    except Refusal as refusal:
        code = status.HTTP_404_NOT_FOUND if refusal.gone else status.HTTP_503_SERVICE_UNAVAILABLE
        headers = {"Retry-After": "5"} if refusal.unavailable else None
        raise HTTPException(code, str(refusal), headers=headers) from refusal
    # Queued: Temporal is away; the change applies, in order, when it is back.
    return {"status": "queued" if queued else "accepted", "queued": queued}


@router.post(
    "/alerts/{alert_id}/status",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors.responses(404, e404="The alert is unknown or past retention"),
)
async def console_set_status(
    alert_id: str,
    body: ConsoleStatusChange,
    request: Request,
    idempotency_key: str | None = Header(default=None),
) -> dict[str, Any]:
    if body.status is Status.RESOLVED and not (body.comment or "").strip():
        raise HTTPException(422, "a resolution comment is required to resolve an alert")
    change = StatusChange(
        status=body.status,
        comment=body.comment,
        actor=_console_actor(body.user),
        key=_console_key(idempotency_key),
    )
    return await _signal(request, alert_id, AlertWorkflow.set_status, change)


@router.post(
    "/alerts/{alert_id}/assignee",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors.responses(404, e404="The alert is unknown or past retention"),
)
async def console_set_assignee(
    alert_id: str,
    body: ConsoleAssigneeChange,
    request: Request,
    idempotency_key: str | None = Header(default=None),
) -> dict[str, Any]:
    change = AssigneeChange(
        assignee_id=body.assignee_id,
        actor=_console_actor(body.user),
        key=_console_key(idempotency_key),
    )
    return await _signal(request, alert_id, AlertWorkflow.set_assignee, change)
