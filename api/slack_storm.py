"""Handlers for a storm digest's buttons and its bulk-action modal.

"Resolve all in this storm…" and "Mark all Invalid…" open a modal for the comment; its
submission is one signal to the storm's workflow (`StormWorkflow.bulk_change`), which applies the
change to every member through the member's own workflow. The submission's key travels along, so
a submission Slack delivers twice changes each alert once.
"""

from __future__ import annotations

from fastapi.responses import Response

from api.signals import Refusal, send_signal
from api.slack_common import (
    FORM_NOT_OURS,
    Click,
    Submission,
    close_or_refuse,
    field_error,
    modal_metadata,
    open_modal,
)
from api.slack_roles import refusal_text, short_of_analyst
from parley.domain import Status
from parley.slack.ui import ids
from parley.slack.ui.storm import bulk_modal
from workflows.storm import StormWorkflow
from workflows.storm_types import BulkChange, is_storm_workflow_id

STORM_GONE = (
    "This storm has ended, so it no longer changes its alerts together; change them from the "
    "console."
)
BULK_STATUSES = (Status.RESOLVED, Status.INVALID)


def _storm_of(click: Click) -> ids.StormRef:
    ref = ids.parse_storm_ref(click.action.get("value"))
    if ref is None or not is_storm_workflow_id(ref.workflow_id):
        raise Refusal("Parley could not tell which storm this button belongs to.")
    return ref


def _rule_of(workflow_id: str) -> str:
    # storm-<channel>-<rule id>; channel ids have no dash.
    return workflow_id.split("-", 2)[-1]


async def _open_bulk(click: Click, status: Status) -> None:
    ref = _storm_of(click).model_copy(update={"status": status.value, "channel": click.channel})
    modal = bulk_modal(ref, _rule_of(ref.workflow_id), modal_metadata(click.request))
    await open_modal(click.request, click.trigger_id, modal)


async def resolve_all(click: Click) -> None:
    await _open_bulk(click, Status.RESOLVED)


async def invalid_all(click: Click) -> None:
    await _open_bulk(click, Status.INVALID)


async def list_alerts(click: Click) -> None:
    return None  # a link button to the console: Slack opens the URL itself and only tells us


async def submit_bulk(sub: Submission) -> Response:
    block = ids.STORM_COMMENT_BLOCK
    ref = sub.ref(ids.StormRef)
    statuses = {s.value for s in BULK_STATUSES}
    if ref is None or ref.status not in statuses or not is_storm_workflow_id(ref.workflow_id):
        return field_error(block, FORM_NOT_OURS)
    role = await short_of_analyst(sub.request, ref.channel, sub.actor.id)
    if role is not None:  # the button is guarded too; a submission can be sent on its own
        return field_error(block, refusal_text(role, "alerts of a storm"))
    comment = sub.text(block, ids.STORM_COMMENT_ACTION)
    if not comment:
        return field_error(block, "Say why every alert of this storm gets this status.")
    change = BulkChange(
        status=Status(ref.status),
        comment=comment,
        actor=sub.actor,
        key=sub.key,
        storm_id=ref.storm_id,
        reply_channel=ref.channel,
    )
    return await close_or_refuse(
        block,
        send_signal(
            sub.request.app, ref.workflow_id, StormWorkflow.bulk_change, change, gone=STORM_GONE
        ),
    )
