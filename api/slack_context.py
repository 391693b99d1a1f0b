"""Handlers for the buttons that bring context into the thread: details and threat intel."""

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
    gone,
    open_modal,
    signal_alert,
    view_value,
)
from slackui import ids
from slackui.modals import intel_modal
from store import repo
from workflows.types import DetailsRequest, IntelRequest, ip_values


async def show_details(click: Click) -> None:
    alert_id = alert_id_of(click)
    request = DetailsRequest(
        actor=click.actor,
        key=click.key(alert_id),
        channel=click.channel,
        message_ts=click.message_ts,
    )
    await signal_alert(click.request, alert_id, "show_details", request)


async def open_intel(click: Click) -> None:
    """Ask which value to analyse. The console store has the alert's attributes at hand."""
    alert_id = alert_id_of(click)
    detail = await repo.get_alert_detail(click.request.app.state.db, alert_id)
    if detail is None:
        raise Refusal(gone(alert_id))
    values = ip_values(detail.summary_attributes)
    if not values:
        raise Refusal("This alert has no IP address to analyse.")
    ref = ids.AlertRef(alert_id=alert_id, channel=click.channel, message_ts=click.message_ts)
    await open_modal(click.request, click.trigger_id, intel_modal(ref, values))


async def submit_intel(request: Request, payload: dict[str, Any]) -> Response:
    view = payload["view"]
    ref = ids.parse_ref(view.get("private_metadata"))
    chosen = (
        view_value(view, ids.INTEL_VALUE_BLOCK, ids.INTEL_VALUE_ACTION).get("selected_option") or {}
    ).get("value")
    if not chosen:
        return field_error(ids.INTEL_VALUE_BLOCK, "Pick a value to analyse.")
    if ref is None:
        return field_error(ids.INTEL_VALUE_BLOCK, "This form lost its alert; open it again.")
    actor = actor_of(payload)
    intel = IntelRequest(
        actor=actor,
        key=f"view:{view['id']}:{actor.id}",
        ip=str(chosen)[:64],
        channel=ref.channel,
        message_ts=ref.message_ts,
        reply_channel=ref.channel,
    )
    try:
        await signal_alert(request, ref.alert_id, "threat_intel", intel)
    except Refusal as refusal:
        return field_error(ids.INTEL_VALUE_BLOCK, str(refusal))
    return Response(status_code=200)
