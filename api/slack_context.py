"""Handlers for the buttons that bring context into the thread: details and threat intel."""

from __future__ import annotations

from fastapi.responses import Response

from api.signals import Refusal, alert_gone, signal_alert
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
from parley.domain import ip_values
from parley.slack.ui import ids
from parley.slack.ui.modals import intel_modal
from parley.store import repo
from workflows.alert import AlertWorkflow
from workflows.alert_types import DetailsRequest, IntelRequest


async def show_details(click: Click) -> None:
    alert_id = alert_id_of(click)
    request = DetailsRequest(
        actor=click.actor,
        key=click.key(alert_id),
        channel=click.channel,
        message_ts=click.message_ts,
    )
    await signal_alert(click.request.app, alert_id, AlertWorkflow.show_details, request)


async def open_intel(click: Click) -> None:
    """Ask which value to analyse. The console store has the alert's attributes at hand."""
    alert_id = alert_id_of(click)
    detail = await repo.get_alert_detail(click.request.app.state.db, alert_id)
    if detail is None:
        raise Refusal(alert_gone(alert_id))
    values = ip_values(detail.summary_attributes)
    if not values:
        raise Refusal("This alert has no IP address to analyse.")
    modal = intel_modal(click_ref(click, alert_id), values, modal_metadata(click.request))
    await open_modal(click.request, click.trigger_id, modal)


async def submit_intel(sub: Submission) -> Response:
    block = ids.INTEL_VALUE_BLOCK
    ref = sub.ref(ids.AlertRef)
    if ref is None:
        return field_error(block, FORM_NOT_OURS)
    chosen = (sub.value(block, ids.INTEL_VALUE_ACTION).get("selected_option") or {}).get("value")
    if not chosen:
        return field_error(block, "Pick a value to analyse.")
    intel = IntelRequest(
        actor=sub.actor,
        key=sub.key,
        ip=str(chosen)[:64],
        channel=ref.channel,
        message_ts=ref.message_ts,
        reply_channel=ref.channel,
    )
    return await close_or_refuse(
        block, signal_alert(sub.request.app, ref.alert_id, AlertWorkflow.threat_intel, intel)
    )
