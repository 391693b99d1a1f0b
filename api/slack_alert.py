"""Handlers for the alert message's buttons and the resolution modal."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.slack_common import (
    Click,
    Refusal,
    actor_of,
    alert_id_of,
    field_error,
    open_modal,
    signal_alert,
    view_value,
)
from slackui import ids
from slackui.modals import resolve_modal
from workflows.types import AssigneeChange, Status, StatusChange


async def update_status(click: Click) -> None:
    alert_id = alert_id_of(click)
    value = (click.action.get("selected_option") or {}).get("value")
    try:
        new_status = Status(value)
    except ValueError:
        raise Refusal(f"{value!r} is not a status Parley knows.") from None
    if new_status is Status.RESOLVED:
        ref = ids.AlertRef(alert_id=alert_id, channel=click.channel, message_ts=click.message_ts)
        await open_modal(click.request, click.trigger_id, resolve_modal(ref, alert_id))
        return
    change = StatusChange(
        status=new_status,
        actor=click.actor,
        key=click.key(alert_id),
        response_url=click.response_url,
        reply_channel=click.channel,
    )
    await signal_alert(click.request, alert_id, "set_status", change)


async def set_assignee(click: Click) -> None:
    alert_id = alert_id_of(click)
    change = AssigneeChange(
        assignee_id=click.action.get("selected_user"),
        actor=click.actor,
        key=click.key(alert_id),
        response_url=click.response_url,
        reply_channel=click.channel,
    )
    await signal_alert(click.request, alert_id, "set_assignee", change)


async def view_in_console(click: Click) -> None:
    return None  # a link button: Slack opens the URL itself and only tells us


async def submit_resolution(request: Request, payload: dict[str, Any]) -> Response:
    view = payload["view"]
    actor = actor_of(payload)
    ref = ids.parse_ref(view.get("private_metadata"))
    comment_state = view_value(view, ids.RESOLVE_COMMENT_BLOCK, ids.RESOLVE_COMMENT_ACTION)
    comment = (comment_state.get("value") or "").strip()
    if not comment:
        return field_error(ids.RESOLVE_COMMENT_BLOCK, "Say how this alert was resolved.")
    if ref is None:
        return field_error(ids.RESOLVE_COMMENT_BLOCK, "This form lost its alert; open it again.")
    change = StatusChange(
        status=Status.RESOLVED,
        comment=comment,
        actor=actor,
        key=f"view:{view['id']}:{actor.id}",
        reply_channel=ref.channel,
    )
    try:
        await signal_alert(request, ref.alert_id, "set_status", change)
    except Refusal as refusal:
        return field_error(ids.RESOLVE_COMMENT_BLOCK, str(refusal))
    return Response(status_code=200)
