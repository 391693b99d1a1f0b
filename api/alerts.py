"""Alert intake (`POST /alerts`) and console-side changes that flow back to Slack."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import errors, storms
from api.deps import get_db, get_settings, get_temporal, require_token
from api.signals import Refusal, signal_alert
from parley.domain import Actor, AlertIn, Status
from parley.settings import Settings
from parley.store import repo
from parley.store.db import Database
from workflows import search_attributes as sa
from workflows.alert import AlertWorkflow
from workflows.alert_types import (
    AlertWorkflowInput,
    AssigneeChange,
    StatusChange,
    alert_workflow_id,
)
from workflows.boomerang_types import BoomerangDelays

router = APIRouter(dependencies=[Depends(require_token)])


class IntakeResult(BaseModel):
    alert_id: str
    workflow_id: str
    duplicate: bool
    destinations: list[str] = Field(default_factory=list)


@router.post(
    "/alerts",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeResult,
    responses={
        200: {"model": IntakeResult, "description": "A duplicate: this alert id was seen before"}
    },
)
async def create_alert(
    alert: AlertIn,
    response: Response,
    db: Database = Depends(get_db),
    client: Client = Depends(get_temporal),
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
    duplicate = IntakeResult(alert_id=alert.id, workflow_id=wf_id, duplicate=True)
    # The store's unique key remembers alerts after Temporal's retention has forgotten them.
    if not await repo.claim_alert(db, alert, wf_id) and await _already_started(client, db, alert):
        response.status_code = status.HTTP_200_OK
        return duplicate
    destinations = await repo.matching_destinations(db, alert)
    try:
        await client.start_workflow(
            AlertWorkflow.run,
            AlertWorkflowInput(
                alert=alert,
                destinations=destinations,
                console_base_url=settings.console_base_url,
                retention_seconds=settings.alert_retention_seconds,
                details_dedupe_seconds=settings.details_dedupe_seconds,
                storm=await storms.plan(db, settings, alert, destinations),
                boomerang_delays=BoomerangDelays(
                    remind_after_seconds=settings.boomerang_remind_after_seconds,
                    escalate_after_seconds=settings.boomerang_escalate_after_seconds,
                    expire_after_seconds=settings.boomerang_expire_after_seconds,
                ),
            ),
            id=wf_id,
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sa.at_start(Status.OPEN.value, alert.severity.value, alert.rule_id),
            static_summary=alert.title[:200],  # the UI's summary is the alert's title
            rpc_timeout=timedelta(seconds=5),
        )
    except WorkflowAlreadyStartedError:
        response.status_code = status.HTTP_200_OK
        return duplicate
    except RPCError as exc:
        # The claim stays; the pipeline's retry finds no workflow and starts it then.
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"Temporal did not accept the alert: {exc}"
        ) from exc
    return IntakeResult(
        alert_id=alert.id,
        workflow_id=wf_id,
        duplicate=False,
        destinations=[d.name for d in destinations],
    )


async def _already_started(client: Client, db: Database, alert: AlertIn) -> bool:
    """A claimed alert whose workflow never started (Temporal was down) is started now."""
    try:
        await client.get_workflow_handle(alert_workflow_id(alert.id)).describe(
            rpc_timeout=timedelta(seconds=3)
        )
        return True
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    detail = await repo.get_alert_detail(db, alert.id)
    # History exists only once the workflow ran: then Temporal has merely forgotten it.
    return bool(detail and detail.history)


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


async def _signal(request: Request, alert_id: str, signal: Any, change: Any) -> dict[str, str]:
    """Signal the alert like a Slack click would; refusals become HTTP errors."""
    try:
        await signal_alert(request.app, alert_id, signal, change)
    except Refusal as refusal:
        code = status.HTTP_404_NOT_FOUND if refusal.gone else status.HTTP_503_SERVICE_UNAVAILABLE
        raise HTTPException(code, str(refusal)) from refusal
    return {"status": "accepted"}


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
) -> dict[str, str]:
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
) -> dict[str, str]:
    change = AssigneeChange(
        assignee_id=body.assignee_id,
        actor=_console_actor(body.user),
        key=_console_key(idempotency_key),
    )
    return await _signal(request, alert_id, AlertWorkflow.set_assignee, change)
