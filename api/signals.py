"""The one way the API reaches a workflow: a typed signal, through the outbox (api/outbox.py).

Slack clicks and console changes both come through here (see workflows/alert.py for why signals
and not updates). The signal is written to the console database first, then sent at once when
Temporal answers, or queued and sent, in order, when it is back; the person is told it is
queued. A failure is a `Refusal`: Slack handlers tell the user, REST routes answer 4xx/5xx.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from api.outbox import CLICK_BUDGET, SIGNALS, Gone, Outbox, Rejected, signal_name, spawn
from parley.logs import bind_alert
from parley.slack.client import send_ephemeral
from parley.store.db import StoreUnavailable
from workflows.alert_types import (
    AlertGrowth,
    AssigneeChange,
    BoomerangAsk,
    DetailsRequest,
    IntelRequest,
    StatusChange,
    alert_workflow_id,
)
from workflows.boomerang_types import BoomerangAnswer

log = logging.getLogger("parley.api")

BOOMERANG_CLOSED = "Thanks, but this question was already answered or has expired."
QUEUED_NOTE = (
    "Parley's workflow engine is unavailable right now, so your change is queued. "
    "It will be applied, in the order it was made, as soon as the engine is back."
)


class Refusal(Exception):
    """Something the person should be told; nothing was changed."""

    def __init__(self, message: str, *, gone: bool = False, unavailable: bool = False) -> None:
        super().__init__(message)
        self.gone = gone  # the workflow is unknown or finished
        self.unavailable = unavailable  # neither the database nor Temporal took it: retry


def alert_gone(alert_id: str) -> str:
    return f"Alert {alert_id} is no longer open in Parley (unknown or past retention)."


def describe(arg: Any) -> str:
    """One line for the console's list of queued changes."""
    if isinstance(arg, StatusChange):
        what = f"status → {arg.status.value}"
    elif isinstance(arg, AssigneeChange):
        what = f"assignee → {arg.assignee_id or 'nobody'}"
    elif isinstance(arg, BoomerangAsk):
        what = f"Boomerang question to {arg.recipient_id}"
    elif isinstance(arg, DetailsRequest):
        what = "show alert details"
    elif isinstance(arg, IntelRequest):
        what = f"threat intel for {arg.ip}"
    elif isinstance(arg, AlertGrowth):
        what = f"more events: {arg.previous_count} → {arg.event_count}"
    elif isinstance(arg, BoomerangAnswer):
        what = f"Boomerang answer ({arg.kind})"
    else:
        what = type(arg).__name__
    actor = getattr(arg, "actor", None)
    if actor is not None:
        what += f" by {actor.name or actor.id} ({actor.source})"
    return what


async def send_signal(
    app: Any,
    workflow_id: str,
    signal: Callable[..., Any],
    arg: BaseModel,
    *,
    gone: str,
    alert_id: str | None = None,
) -> bool:
    """Signal `workflow_id` with a typed reference (`AlertWorkflow.set_status`, …).

    True if the signal is queued for later, False if Temporal has it now. `alert_id`: the alert
    the signal is about must be in the console store, else it is refused as gone.
    """
    outbox: Outbox = app.state.outbox
    if signal_name(signal) not in SIGNALS:  # not queueable yet: the old, direct way
        log.warning("%s is not in api.outbox._SIGNALS; sending it directly", signal_name(signal))
        await _send_directly(app, workflow_id, signal, arg, gone=gone)
        return False
    try:
        accepted = await outbox.submit_signal(
            workflow_id=workflow_id,
            alert_id=alert_id,
            signal=signal,
            arg=arg,
            summary=describe(arg),
        )
    except StoreUnavailable as exc:
        # The outbox cannot help when its database is away; Temporal alone may still take it.
        log.warning("outbox unavailable (%s); signalling %s directly", exc, workflow_id)
        await _send_directly(app, workflow_id, signal, arg, gone=gone)
        return False
    except Gone as exc:
        raise Refusal(gone, gone=True) from exc
    except Rejected as exc:
        log.error("signal to %s rejected: %s", workflow_id, exc)
        raise Refusal("Parley could not process that change; nothing was changed.") from exc
    if accepted is None:
        raise Refusal(gone, gone=True)
    if accepted.queued and not outbox.temporal_up:
        # Queued only behind another change in flight, it goes in a moment: no note then.
        _tell_queued(app, arg)
    return accepted.queued


async def _send_directly(
    app: Any, workflow_id: str, signal: Callable[..., Any], arg: Any, *, gone: str
) -> None:
    client = app.state.temporal
    if client is None:
        raise Refusal(
            "Parley could not reach its database or workflow engine; nothing was changed.",
            unavailable=True,
        )
    try:
        async with asyncio.timeout(CLICK_BUDGET):
            await client.get_workflow_handle(workflow_id).signal(signal, arg)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refusal(gone, gone=True) from exc
        log.warning("signal to %s failed: %s", workflow_id, exc)
        raise Refusal(
            "Parley could not record that just now; please try again.", unavailable=True
        ) from exc
    except TimeoutError as exc:
        raise Refusal(
            "Parley could not record that just now; please try again.", unavailable=True
        ) from exc


def _tell_queued(app: Any, arg: Any) -> None:
    """The ephemeral "queued" note: via response_url (clicks), else in the channel (modals)."""
    response_url = getattr(arg, "response_url", None)
    if response_url:
        spawn(_note_via_url(response_url))
        return
    actor, channel = getattr(arg, "actor", None), getattr(arg, "reply_channel", None)
    if actor is not None and actor.source == "slack" and channel:
        spawn(_note_in_channel(app, channel, actor.id))


async def _note_via_url(response_url: str) -> None:
    try:
        await send_ephemeral(response_url, QUEUED_NOTE, timeout=5)
    except Exception as exc:  # the person simply sees nothing; the log says why
        log.warning("response_url post failed: %s", exc)


async def _note_in_channel(app: Any, channel: str, user: str) -> None:
    try:
        await app.state.slack.chat_postEphemeral(channel=channel, user=user, text=QUEUED_NOTE)
    except Exception as exc:
        log.warning("queued note to %s in %s failed: %s", user, channel, exc)


async def signal_alert(app: Any, alert_id: str, signal: Callable[..., Any], arg: Any) -> bool:
    """Signal the alert's workflow; an alert Parley does not know, or Temporal no longer has,
    is refused as gone. True if queued."""
    bind_alert(alert_id)  # the request's log lines from here on name the alert
    return await send_signal(
        app,
        alert_workflow_id(alert_id),
        signal,
        arg,
        gone=alert_gone(alert_id),
        alert_id=alert_id,
    )


async def signal_boomerang(
    app: Any, boomerang_id: str, signal: Callable[..., Any], arg: Any
) -> bool:
    return await send_signal(app, boomerang_id, signal, arg, gone=BOOMERANG_CLOSED)
