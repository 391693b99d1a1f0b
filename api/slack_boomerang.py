"""Handlers for Boomerang 🪃: the button on the alert, the asking modal, the DM's answers."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import Response
from slack_sdk.errors import SlackApiError

from api.signals import Refusal, signal_alert, signal_boomerang
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
from parley.slack.errors import error_code
from parley.slack.ui import ids
from parley.slack.ui.boomerang import ask_modal, reply_modal
from parley.slack.ui.text import user_mention
from workflows.alert import AlertWorkflow
from workflows.alert_types import BoomerangAsk
from workflows.boomerang import BoomerangWorkflow
from workflows.boomerang_types import AnswerKind, BoomerangAnswer


async def open_ask(click: Click) -> None:
    alert_id = alert_id_of(click)
    modal = ask_modal(click_ref(click, alert_id), alert_id, modal_metadata(click.request))
    await open_modal(click.request, click.trigger_id, modal)


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


async def submit_ask(sub: Submission) -> Response:
    recipient_block, question_block = ids.BOOMERANG_RECIPIENT_BLOCK, ids.BOOMERANG_QUESTION_BLOCK
    ref = sub.ref(ids.AlertRef)
    if ref is None:  # before asking Slack anything about the recipient
        return field_error(question_block, FORM_NOT_OURS)
    recipient = sub.value(recipient_block, ids.BOOMERANG_RECIPIENT_ACTION).get("selected_user")
    question = sub.text(question_block, ids.BOOMERANG_QUESTION_ACTION)
    shared = sub.value(ids.BOOMERANG_SHARE_BLOCK, ids.BOOMERANG_SHARE_ACTION)
    share = any(
        o.get("value") == ids.BOOMERANG_SHARE_VALUE for o in shared.get("selected_options") or []
    )
    if not recipient:
        return field_error(recipient_block, "Pick who should answer.")
    if not question:
        return field_error(question_block, "Write the question to ask.")
    problem = await _recipient_problem(sub.request, recipient)
    if problem:
        return field_error(recipient_block, problem)
    ask = BoomerangAsk(
        recipient_id=recipient,
        question=question[:3000],
        share_event=share,
        actor=sub.actor,
        key=sub.key,
        reply_channel=ref.channel,
    )
    return await close_or_refuse(
        question_block,
        signal_alert(sub.request.app, ref.alert_id, AlertWorkflow.ask_boomerang, ask),
    )


def _ref_for_recipient(click: Click) -> ids.BoomerangRef:
    ref = ids.parse_boomerang_ref(click.action.get("value"))
    if ref is None:
        raise Refusal("Parley could not tell which question this button belongs to.")
    if ref.recipient_id != click.actor.id:
        # Only the person asked may answer; anyone else changes nothing.
        raise Refusal(f"Only {user_mention(ref.recipient_id)} can answer this.")
    return ref


async def answer_yes(click: Click) -> None:
    await _answer(click, "yes")


async def answer_no(click: Click) -> None:
    await _answer(click, "no")


async def _answer(click: Click, kind: AnswerKind) -> None:
    ref = _ref_for_recipient(click)
    answer = BoomerangAnswer(
        kind=kind,
        user_id=click.actor.id,
        key=click.key(ref.boomerang_id),
        response_url=click.response_url,
    )
    await signal_boomerang(click.request.app, ref.boomerang_id, BoomerangWorkflow.answer, answer)


async def open_reply(click: Click) -> None:
    ref = _ref_for_recipient(click)
    await open_modal(
        click.request, click.trigger_id, reply_modal(ref, "", modal_metadata(click.request))
    )


async def submit_reply(sub: Submission) -> Response:
    block = ids.BOOMERANG_REPLY_BLOCK
    ref = sub.ref(ids.BoomerangRef)
    if ref is None:
        return field_error(block, FORM_NOT_OURS)
    text = sub.text(block, ids.BOOMERANG_REPLY_ACTION)
    if not text:
        return field_error(block, "Write your answer.")
    if ref.recipient_id != sub.actor.id:
        return field_error(block, f"Only {user_mention(ref.recipient_id)} can answer.")
    answer = BoomerangAnswer(kind="text", text=text[:3000], user_id=sub.actor.id, key=sub.key)
    return await close_or_refuse(
        block,
        signal_boomerang(sub.request.app, ref.boomerang_id, BoomerangWorkflow.answer, answer),
    )
