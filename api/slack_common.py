"""What every Slack interaction handler shares: the parsed click, refusals, signals, modals."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from slack_sdk.errors import SlackApiError
from temporalio.service import RPCError, RPCStatusCode

from activities.slack import send_ephemeral
from activities.slack_errors import error_code
from api.deps import temporal_client
from slackui import ids
from workflows.types import Actor, alert_workflow_id

log = logging.getLogger("parley.slack")

SIGNAL_TIMEOUT = timedelta(seconds=2)  # leaves a second of Slack's 3 s for everything else
_background: set[asyncio.Task[None]] = set()


class Refusal(Exception):
    """Something the clicking user should be told; nothing was changed."""


def actor_of(payload: dict[str, Any]) -> Actor:
    user = payload["user"]
    return Actor(source="slack", id=user["id"], name=user.get("name") or user.get("username") or "")


@dataclass
class Click:
    """One block_actions payload, reduced to what handlers use."""

    request: Request
    payload: dict[str, Any]
    action: dict[str, Any]
    actor: Actor

    @property
    def response_url(self) -> str | None:
        return self.payload.get("response_url")

    @property
    def channel(self) -> str | None:
        channel = (self.payload.get("channel") or {}).get("id")
        return channel or (self.payload.get("container") or {}).get("channel_id")

    @property
    def message_ts(self) -> str | None:
        return (self.payload.get("container") or {}).get("message_ts")

    @property
    def trigger_id(self) -> str:
        return str(self.payload["trigger_id"])

    def key(self, scope: str) -> str:
        """Idempotency key: the same click delivered twice has the same action_ts."""
        return f"{self.action.get('action_ts')}:{self.actor.id}:{scope}"


async def signal(
    request: Request, workflow_id: str, name: str, arg: Any, *, not_found: str
) -> None:
    """Signal a workflow: durable once the server accepts it, worker or no worker."""
    client = await temporal_client(request.app)
    if client is None:
        raise Refusal("Parley could not reach its workflow engine; nothing was changed.")
    try:
        await client.get_workflow_handle(workflow_id).signal(name, arg, rpc_timeout=SIGNAL_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refusal(not_found) from exc
        log.warning("signal %s to %s failed: %s", name, workflow_id, exc)
        raise Refusal("Parley could not record that just now; please try again.") from exc


def alert_id_of(click: Click) -> str:
    ref = ids.parse_ref(click.action.get("value"))
    alert_id = ref.alert_id if ref else ids.alert_id_from_block_id(click.action.get("block_id"))
    if not alert_id:
        raise Refusal("Parley could not tell which alert this button belongs to.")
    return alert_id


def gone(alert_id: str) -> str:
    return f"Alert {alert_id} is no longer open in Parley (unknown or past retention)."


async def signal_alert(request: Request, alert_id: str, name: str, arg: Any) -> None:
    """Signal the alert's workflow; an alert Temporal no longer has is told as gone."""
    await signal(request, alert_workflow_id(alert_id), name, arg, not_found=gone(alert_id))


def view_value(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    """One input's state in a view_submission: {"type": ..., "value" | "selected_…": ...}."""
    return view.get("state", {}).get("values", {}).get(block_id, {}).get(action_id, {})


async def open_modal(request: Request, trigger_id: str, view: dict[str, Any]) -> None:
    """views.open at once: the trigger_id is good for 3 s and one use."""
    try:
        await request.app.state.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", error_code(exc))
        raise Refusal(
            "Slack did not let Parley open the form in time; please click again."
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise Refusal("Slack did not answer in time; please click again.") from exc


def field_error(block_id: str, message: str) -> JSONResponse:
    """The view_submission answer that keeps the modal open with a message on one field."""
    return JSONResponse({"response_action": "errors", "errors": {block_id: message}})


def tell_later(response_url: str | None, text: str) -> None:
    """An ephemeral note via response_url, after the ack (Slack ignores the ack's body)."""
    if not response_url:
        log.info("no response_url to tell the user: %s", text)
        return

    async def send() -> None:
        try:
            await send_ephemeral(response_url, text, timeout=5)
        except Exception as exc:  # the user simply sees nothing; the log says why
            log.warning("response_url post failed: %s", exc)

    task = asyncio.get_running_loop().create_task(send())
    _background.add(task)
    task.add_done_callback(_background.discard)
