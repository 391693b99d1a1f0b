"""Handlers for the alert message's buttons and the resolution modal."""

from __future__ import annotations

from fastapi.responses import Response

from api.signals import Refusal, signal_alert
from api.slack_common import (
    FORM_NOT_OURS,
    Click,
    Submission,
    alert_id_of,
    click_ref,
    close_or_refuse,
    field_error,
    modal_metadata,
    open_modal,
)
from parley.domain import Status
from parley.slack.ui import ids
from parley.slack.ui.modals import resolve_modal
from parley.slack.ui.text import escape
from workflows.alert import AlertWorkflow
from workflows.alert_types import AssigneeChange, StatusChange


async def update_status(click: Click) -> None:
    alert_id = alert_id_of(click)
    value = (click.action.get("selected_option") or {}).get("value")
    try:
        new_status = Status(value)
    except ValueError:
        raise Refusal(f"{escape(repr(value))} is not a status Parley knows.") from None
    if new_status is Status.RESOLVED:  # a comment is required: ask for it in a modal
        modal = resolve_modal(click_ref(click, alert_id), alert_id, modal_metadata(click.request))
        await open_modal(click.request, click.trigger_id, modal)
        return
    change = StatusChange(status=new_status, **click.origin(alert_id))
    await signal_alert(click.request.app, alert_id, AlertWorkflow.set_status, change)


async def set_assignee(click: Click) -> None:
    alert_id = alert_id_of(click)
    change = AssigneeChange(assignee_id=click.action.get("selected_user"), **click.origin(alert_id))
    await signal_alert(click.request.app, alert_id, AlertWorkflow.set_assignee, change)


async def view_in_console(click: Click) -> None:
    return None  # a link button: Slack opens the URL itself and only tells us


async def submit_resolution(sub: Submission) -> Response:
    block = ids.RESOLVE_COMMENT_BLOCK
    ref = sub.ref(ids.AlertRef)
    if ref is None:
        return field_error(block, FORM_NOT_OURS)
    comment = sub.text(block, ids.RESOLVE_COMMENT_ACTION)
    if not comment:
        return field_error(block, "Say how this alert was resolved.")
    change = StatusChange(
        status=Status.RESOLVED,
        comment=comment,
        actor=sub.actor,
        key=sub.key,
        reply_channel=ref.channel,
    )
    return await close_or_refuse(
        block, signal_alert(sub.request.app, ref.alert_id, AlertWorkflow.set_status, change)
    )
