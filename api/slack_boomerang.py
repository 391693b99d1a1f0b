"""Handlers for Boomerang 🪃: the button on the alert, the asking modal, the DM's answers."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from slack_sdk.errors import SlackApiError

from activities.slack_errors import error_code
from api.slack_common import (
    Click,
    Refusal,
    actor_of,
    alert_id_of,
    field_error,
    open_modal,
    signal,
    signal_alert,
    view_value,
)
from slackui import ids
from slackui.boomerang import ask_modal, reply_modal
from workflows.types import BoomerangAnswer, BoomerangAsk

CLOSED = "Thanks, but this question was already answered or has expired."


async def open_ask(click: Click) -> None:
    alert_id = alert_id_of(click)
    ref = ids.AlertRef(alert_id=alert_id, channel=click.channel, message_ts=click.message_ts)
    await open_modal(click.request, click.trigger_id, ask_modal(ref, alert_id))


async def _recipient_problem(request: Request, user_id: str) -> str | None:
    """Why this person cannot be asked, or None. Checked in the ack: Slack wants errors now."""
    try:
        resp = await asyncio.wait_for(request.app.state.slack.users_info(user=user_id), 2.0)
    except SlackApiError as exc:
        if error_code(exc) == "user_not_found":
            return "Slack does not know this person."
        return "Parley could not check this person just now; try again."
    except (TimeoutError, OSError):
        return "Slack did not answer in time; try again."
    user = resp.get("user") or {}
    if user.get("is_bot") or user_id == "USLACKBOT":
        return "A bot cannot answer a Boomerang; pick a person."
    if user.get("deleted"):
        return "This person's account is deactivated; pick someone else."
    return None


async def submit_ask(request: Request, payload: dict[str, Any]) -> Response:
    view = payload["view"]
    actor = actor_of(payload)
    recipient = view_value(view, ids.BOOMERANG_RECIPIENT_BLOCK, ids.BOOMERANG_RECIPIENT_ACTION).get(
        "selected_user"
    )
    question = (
        view_value(view, ids.BOOMERANG_QUESTION_BLOCK, ids.BOOMERANG_QUESTION_ACTION).get("value")
        or ""
    ).strip()
    shared = view_value(view, ids.BOOMERANG_SHARE_BLOCK, ids.BOOMERANG_SHARE_ACTION)
    share = any(
        o.get("value") == ids.BOOMERANG_SHARE_VALUE for o in shared.get("selected_options") or []
    )
    if not recipient:
        return field_error(ids.BOOMERANG_RECIPIENT_BLOCK, "Pick who should answer.")
    if not question:
        return field_error(ids.BOOMERANG_QUESTION_BLOCK, "Write the question to ask.")
    problem = await _recipient_problem(request, recipient)
    if problem:
        return field_error(ids.BOOMERANG_RECIPIENT_BLOCK, problem)
    ref = ids.parse_ref(view.get("private_metadata"))
    if ref is None:
        return field_error(ids.BOOMERANG_QUESTION_BLOCK, "This form lost its alert; open it again.")
    ask = BoomerangAsk(
        recipient_id=recipient,
        question=question[:3000],
        share_event=share,
        actor=actor,
        key=f"view:{view['id']}:{actor.id}",
        reply_channel=ref.channel,
    )
    try:
        await signal_alert(request, ref.alert_id, "ask_boomerang", ask)
    except Refusal as refusal:
        return field_error(ids.BOOMERANG_QUESTION_BLOCK, str(refusal))
    return Response(status_code=200)


def _ref_for_recipient(click: Click) -> ids.BoomerangRef:
    ref = ids.parse_boomerang_ref(click.action.get("value"))
    if ref is None:
        raise Refusal("Parley could not tell which question this button belongs to.")
    if ref.recipient_id != click.actor.id:
        # Only the person asked may answer; anyone else changes nothing.
        raise Refusal(f"Only <@{ref.recipient_id}> can answer this.")
    return ref


async def answer_yes(click: Click) -> None:
    await _answer(click, "yes")


async def answer_no(click: Click) -> None:
    await _answer(click, "no")


async def _answer(click: Click, kind: str) -> None:
    ref = _ref_for_recipient(click)
    answer = BoomerangAnswer(
        kind=kind,  # type: ignore[arg-type]
        user_id=click.actor.id,
        key=click.key(ref.boomerang_id),
        response_url=click.response_url,
    )
    await signal(click.request, ref.boomerang_id, "answer", answer, not_found=CLOSED)


async def open_reply(click: Click) -> None:
    ref = _ref_for_recipient(click)
    await open_modal(click.request, click.trigger_id, reply_modal(ref, ""))


async def submit_reply(request: Request, payload: dict[str, Any]) -> Response:
    view = payload["view"]
    actor = actor_of(payload)
    ref = ids.parse_boomerang_ref(view.get("private_metadata"))
    reply = view_value(view, ids.BOOMERANG_REPLY_BLOCK, ids.BOOMERANG_REPLY_ACTION)
    text = (reply.get("value") or "").strip()
    if not text:
        return field_error(ids.BOOMERANG_REPLY_BLOCK, "Write your answer.")
    if ref is None:
        return field_error(ids.BOOMERANG_REPLY_BLOCK, "This form lost its question.")
    if ref.recipient_id != actor.id:
        return field_error(ids.BOOMERANG_REPLY_BLOCK, f"Only <@{ref.recipient_id}> can answer.")
    answer = BoomerangAnswer(
        kind="text", text=text[:3000], user_id=actor.id, key=f"view:{view['id']}:{actor.id}"
    )
    try:
        await signal(request, ref.boomerang_id, "answer", answer, not_found=CLOSED)
    except Refusal as refusal:
        return field_error(ids.BOOMERANG_REPLY_BLOCK, str(refusal))
    return Response(status_code=200)
