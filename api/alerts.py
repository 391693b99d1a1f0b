"""Alert intake (`POST /alerts`, Panther's webhook at `POST /alerts/panther`, named mappings at
`POST /alerts/in/<name>`) and console-side changes that flow back to Slack.

The same alert id again is a duplicate (200, nothing changes) unless it brings more events: then
the store takes the growth and the alert's workflow gets `AlertWorkflow.grow` (issue 11).

Both go through the outbox (api/outbox.py): accepted means written to the console database,
and Temporal gets it now or, in order, when it is back. A database that cannot take the item
answers 503 with Retry-After (api/app.py), quickly, and nothing is changed.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from api import errors
from api.deps import get_db, get_settings, require_token
from api.outbox import Outbox
from api.signals import Refusal, signal_alert
from parley.domain import SYSTEM, Actor, AlertIn, Destination, HistoryEntry, Status
from parley.intake import panther
from parley.intake.mapping import MappedAlertInvalid, Mapping
from parley.logs import bind_alert
from parley.settings import Settings
from parley.store import outbox as queue
from parley.store import repo
from parley.store.db import Database, StoreUnavailable
from parley.store.growth import grow_alert, undo_growth
from parley.store.models import utcnow
from workflows.alert import AlertWorkflow
from workflows.alert_types import AlertGrowth, AssigneeChange, StatusChange, alert_workflow_id

log = logging.getLogger("parley.intake")

router = APIRouter(dependencies=[Depends(require_token)])


class IntakeResult(BaseModel):
    alert_id: str
    workflow_id: str
    duplicate: bool
    # Temporal does not have the alert yet: it waits in the outbox and starts when it can.
    queued: bool = False
    destinations: list[str] = Field(default_factory=list)
    # Issue 11: this alert id was seen before and this arrival brought more events.
    updated: bool = False
    event_count: int | None = None


INTAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": IntakeResult,
        "description": "Seen before: a duplicate (nothing changes), or `updated` with more events",
    },
    202: {
        "model": IntakeResult,
        "description": "Accepted and queued: Temporal is away; it starts when Temporal is back",
    },
    **errors.responses(
        503, e503="The database cannot take it now; nothing changed, retry after Retry-After"
    ),
}


@router.post(
    "/alerts", status_code=status.HTTP_201_CREATED, response_model=IntakeResult,
    responses=INTAKE_RESPONSES,
)  # fmt: skip
async def create_alert(
    alert: AlertIn,
    request: Request,
    response: Response,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> IntakeResult:
    return await take_in(alert, request, response, db, settings)


@router.post(
    "/alerts/panther",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeResult,
    responses=INTAKE_RESPONSES,
    summary="Panther's Custom Webhook payload, unchanged",
)
async def create_panther_alert(
    payload: panther.PantherAlert,
    request: Request,
    response: Response,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> IntakeResult:
    """Point a Panther Custom Webhook destination here, with the header `Authorization: Bearer
    <token>` (an intake-scoped API token). A retry of an alert Parley has is a quick 200 and
    changes nothing."""
    raw = await request.json()  # as sent, unknown fields included (FastAPI parsed it already)
    try:
        alert = panther.to_alert(payload, raw)
    except ValidationError as exc:  # valid for Panther, not as an alert (a blank title, say)
        raise RequestValidationError(
            [
                {
                    "loc": ("body", *panther.payload_loc(e["loc"])),
                    "msg": e["msg"],
                    "type": e["type"],
                }
                for e in exc.errors(include_url=False, include_input=False)
            ]
        ) from None
    return await take_in(alert, request, response, db, settings)


@router.post(
    "/alerts/in/{name}",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeResult,
    responses={
        **INTAKE_RESPONSES,
        **errors.responses(404, e404="No mapping of that name (PARLEY_INTAKE_MAPPINGS)"),
    },
    summary="Any source's JSON, through a named mapping (PARLEY_INTAKE_MAPPINGS)",
)
async def create_mapped_alert(
    name: str,
    payload: dict[str, Any],
    request: Request,
    response: Response,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Any:
    mapping = request.app.state.mappings.get(name)
    if mapping is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no intake mapping named {name[:64]!r}")
    return await _mapped(mapping, payload, request, response, db, settings)


# Senders that cannot set a header (Splunk's stock webhook) put a per-mapping secret in the URL
# instead (`path_secret_env`); these routes check it in place of the bearer token.
secret_router = APIRouter()


@secret_router.post(
    "/alerts/in/{name}/{secret}",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeResult,
    responses={
        **INTAKE_RESPONSES,
        **errors.responses(401, 404, e404="No mapping of that name takes a secret URL"),
    },
    summary="A mapped source that cannot send headers: the mapping's secret in the URL",
)
async def create_mapped_alert_by_secret(
    name: str,
    secret: str,
    payload: dict[str, Any],
    request: Request,
    response: Response,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Any:
    mapping = request.app.state.mappings.get(name)
    if mapping is None or mapping.path_secret is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no intake mapping named {name[:64]!r} takes a secret URL"
        )
    given = secret.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, mapping.path_secret.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong secret for this mapping")
    return await _mapped(mapping, payload, request, response, db, settings)


async def _mapped(
    mapping: Mapping,
    payload: dict[str, Any],
    request: Request,
    response: Response,
    db: Database,
    settings: Settings,
) -> Any:
    name = mapping.name
    try:
        alert = mapping.to_alert(payload)
    except MappedAlertInvalid as exc:
        problems = [
            errors.InputError(
                loc=["mapping", name, field], msg=errors.clip(msg, 200), type="mapping"
            )
            for field, msg in exc.problems[: errors.MAX_PROBLEMS]
        ]
        return errors.error_response(422, str(exc), problems=problems)
    return await take_in(alert, request, response, db, settings)


async def take_in(
    alert: AlertIn, request: Request, response: Response, db: Database, settings: Settings
) -> IntakeResult:
    """Every intake route's common part: size, destinations, claim, start (or queue)."""
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
        grown = await _grown(request, db, alert, destinations)
        waiting = any(i.kind == "start" for i in await queue.queued_for_workflow(db, wf_id))
        return IntakeResult(
            alert_id=alert.id,
            workflow_id=wf_id,
            duplicate=True,
            queued=waiting or bool(grown and grown[1]),
            updated=grown is not None,
            event_count=grown[0] if grown else None,
        )
    if accepted.queued:
        response.status_code = status.HTTP_202_ACCEPTED
    return IntakeResult(
        alert_id=alert.id,
        workflow_id=wf_id,
        duplicate=False,
        queued=accepted.queued,
        destinations=[d.name for d in destinations],
    )


async def _grown(
    request: Request, db: Database, alert: AlertIn, destinations: list[Destination]
) -> tuple[int, bool] | None:
    """The same alert again: if it brings more events, the store takes the growth and the
    workflow is told (through the outbox, like a click). (event count, queued) or None."""
    growth = await grow_alert(db, alert)
    if growth is None:
        return None  # the same payload again: a no-op duplicate
    signal = AlertGrowth(
        key=f"grow/{growth.event_count}",
        event_count=growth.event_count,
        previous_count=growth.previous_count,
        new_events=growth.new_events,
        reopen=any(d.reopen_on_growth for d in destinations),
    )
    try:
        queued = await signal_alert(request.app, alert.id, AlertWorkflow.grow, signal)
    except Refusal as refusal:
        if not refusal.gone:
            # Nobody could be told: undo the growth, so that the sender's retry is one again.
            try:
                await undo_growth(db, alert.id, growth)
            except StoreUnavailable:
                log.warning("alert %s: a growth no one was told of stays recorded", alert.id)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, str(refusal), headers={"Retry-After": "5"}
            ) from refusal
        # Its workflow has ended (past retention): the console's history still records it.
        await repo.record_history(
            db,
            HistoryEntry(
                alert_id=alert.id,
                key=signal.key,
                at=utcnow(),
                actor=SYSTEM,
                action="events_added",
                from_value=str(growth.previous_count),
                to_value=str(growth.event_count),
                comment="arrived after the alert's workflow ended; not reopened",
            ),
        )
        return growth.event_count, False
    return growth.event_count, queued


# ---- changes made in the console --------------------------------------------------------------


class ConsoleStatusChange(BaseModel):
    status: Status
    comment: str | None = Field(default=None, max_length=3000)
    user: str = Field(min_length=1, max_length=100, description="console user making the change")


class ConsoleAssigneeChange(BaseModel):
    assignee_id: str | None = Field(pattern=r"^[UW][A-Z0-9]{2,}$", description="Slack user id")
    user: str = Field(min_length=1, max_length=100)


def _console_actor(user: str) -> Actor:
    """A REST caller names itself in free text: its id can never pass for a Slack user's (a
    signed-in console user's id is their Slack id, and counts as them)."""
    return Actor(source="console", id=f"api:{user}", name=user)


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
    responses=errors.responses(403, 404, e404="The alert is unknown or past retention"),
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
    responses=errors.responses(403, 404, e404="The alert is unknown or past retention"),
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
