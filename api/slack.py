"""`POST /slack/interactions`: verify, parse, route, and answer Slack within 3 seconds.

Every click becomes a Temporal signal (see workflows/alert.py for why signals): the server
accepts it in milliseconds, with or without a running worker, and the workflow applies it once.
Modals are the exception Slack forces: `views.open` needs the trigger_id within 3 s, so this module
opens them itself. Problems are told to the clicking user through the payload's response_url.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook.async_client import AsyncWebhookClient
from temporalio.service import RPCError, RPCStatusCode

from api.deps import temporal_client
from slackui import ids
from slackui.modals import resolve_modal
from workflows.alert import AlertWorkflow
from workflows.types import Actor, AssigneeChange, Status, StatusChange

log = logging.getLogger("parley.slack")
router = APIRouter()

SIGNAL_TIMEOUT = timedelta(seconds=2)  # leaves a second of the 3 s for everything else
_background: set[asyncio.Task[None]] = set()


class Refusal(Exception):
    """Something the clicking user should be told; nothing was changed."""


@router.post("/slack/interactions", include_in_schema=False)
async def interactions(request: Request) -> Response:
    raw = await request.body()
    settings = request.app.state.settings
    if not SignatureVerifier(settings.slack_signing_secret).is_valid_request(raw, request.headers):
        return JSONResponse({"error": "invalid request"}, status_code=401)
    try:
        payload = json.loads(parse_qs(raw.decode("utf-8"), strict_parsing=True)["payload"][0])
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
        kind = payload.get("type")
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        return JSONResponse({"error": f"malformed interaction payload: {exc}"}, status_code=400)
    try:
        if kind == "block_actions":
            return await _block_actions(request, payload)
        if kind == "view_submission":
            return await _view_submission(request, payload)
        if kind == "view_closed":
            return Response(status_code=200)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("malformed %s payload: %s", kind, exc)
        return JSONResponse({"error": f"malformed {kind} payload"}, status_code=400)
    return JSONResponse({"error": f"unsupported interaction type {kind!r}"}, status_code=400)


# ---- block_actions -----------------------------------------------------------------------------


async def _block_actions(request: Request, payload: dict[str, Any]) -> Response:
    action = payload["actions"][0]
    action_id = action["action_id"]
    user = payload["user"]
    actor = Actor(source="slack", id=user["id"], name=user.get("name") or user.get("username", ""))
    response_url = payload.get("response_url")
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get(
        "channel_id"
    )
    message_ts = (payload.get("container") or {}).get("message_ts")
    alert_id = _alert_id(action)
    key = f"{action.get('action_ts')}:{actor.id}:{alert_id}"
    try:
        if action_id == ids.VIEW_IN_CONSOLE:
            return Response(status_code=200)  # a link button: Slack opens the URL itself
        if alert_id is None:
            raise Refusal("Parley could not tell which alert this button belongs to.")
        if action_id == ids.UPDATE_STATUS:
            value = (action.get("selected_option") or {}).get("value")
            try:
                new_status = Status(value)
            except ValueError:
                raise Refusal(f"{value!r} is not a status Parley knows.") from None
            if new_status is Status.RESOLVED:
                ref = ids.AlertRef(alert_id=alert_id, channel=channel, message_ts=message_ts)
                await _open_modal(request, payload["trigger_id"], resolve_modal(ref, ""))
                return Response(status_code=200)
            change = StatusChange(
                status=new_status,
                actor=actor,
                key=key,
                response_url=response_url,
                reply_channel=channel,
            )
            await _signal(request, alert_id, AlertWorkflow.set_status, change)
        elif action_id == ids.SET_ASSIGNEE:
            change_a = AssigneeChange(
                assignee_id=action.get("selected_user"),
                actor=actor,
                key=key,
                response_url=response_url,
                reply_channel=channel,
            )
            await _signal(request, alert_id, AlertWorkflow.set_assignee, change_a)
        else:
            raise Refusal("Parley does not know this button. Is the message out of date?")
    except Refusal as refusal:
        _tell_later(response_url, str(refusal))
    return Response(status_code=200)


def _alert_id(action: dict[str, Any]) -> str | None:
    ref = ids.parse_ref(action.get("value"))
    if ref is not None:
        return ref.alert_id
    return ids.alert_id_from_block_id(action.get("block_id"))


# ---- view_submission -------------------------------------------------------------------------


async def _view_submission(request: Request, payload: dict[str, Any]) -> Response:
    view = payload["view"]
    user = payload["user"]
    actor = Actor(source="slack", id=user["id"], name=user.get("name") or user.get("username", ""))
    if view.get("callback_id") != ids.RESOLVE_MODAL:
        return JSONResponse({"error": "unknown modal"}, status_code=400)
    ref = ids.parse_ref(view.get("private_metadata"))
    values = view.get("state", {}).get("values", {})
    comment_state = values.get(ids.RESOLVE_COMMENT_BLOCK, {}).get(ids.RESOLVE_COMMENT_ACTION, {})
    comment = (comment_state.get("value") or "").strip()
    if not comment:
        return _field_error(ids.RESOLVE_COMMENT_BLOCK, "Say how this alert was resolved.")
    if ref is None:
        return _field_error(ids.RESOLVE_COMMENT_BLOCK, "This form lost its alert; open it again.")
    change = StatusChange(
        status=Status.RESOLVED,
        comment=comment,
        actor=actor,
        key=f"view:{view['id']}:{actor.id}",
        reply_channel=ref.channel,
    )
    try:
        await _signal(request, ref.alert_id, AlertWorkflow.set_status, change)
    except Refusal as refusal:
        return _field_error(ids.RESOLVE_COMMENT_BLOCK, str(refusal))
    return Response(status_code=200)


def _field_error(block_id: str, message: str) -> JSONResponse:
    return JSONResponse({"response_action": "errors", "errors": {block_id: message}})


# ---- plumbing ---------------------------------------------------------------------------------


async def _signal(request: Request, alert_id: str, signal: Any, change: Any) -> None:
    client = await temporal_client(request.app)
    if client is None:
        raise Refusal("Parley could not reach its workflow engine; your change was not saved.")
    handle = client.get_workflow_handle(f"alert-{alert_id}")
    try:
        await handle.signal(signal, change, rpc_timeout=SIGNAL_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refusal(
                f"Alert {alert_id} is no longer open in Parley (unknown or past retention)."
            ) from exc
        log.warning("signal to alert-%s failed: %s", alert_id, exc)
        raise Refusal("Parley could not record your change just now; please try again.") from exc


async def _open_modal(request: Request, trigger_id: str, view: dict[str, Any]) -> None:
    try:
        await request.app.state.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        raise Refusal(
            "Slack did not let Parley open the form in time; please click again."
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise Refusal("Slack did not answer in time; please click again.") from exc


def _tell_later(response_url: str | None, text: str) -> None:
    """An ephemeral note via response_url, after the ack (Slack ignores the ack's body)."""
    if not response_url:
        log.info("no response_url to tell the user: %s", text)
        return

    async def send() -> None:
        try:
            await AsyncWebhookClient(response_url, timeout=5).send(
                text=text, response_type="ephemeral", replace_original=False
            )
        except Exception as exc:  # the user simply sees nothing; the log says why
            log.warning("response_url post failed: %s", exc)

    task = asyncio.get_running_loop().create_task(send())
    _background.add(task)
    task.add_done_callback(_background.discard)
