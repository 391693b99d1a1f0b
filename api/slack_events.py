"""Slack events (issue 13): typed Boomerang answers in the DM, and the App Home.

One entry, `handle_event`, serves both transports: `POST /slack/events` (api/slack.py, after the
signature check) and Socket Mode's `events_api` envelopes (api/socket_mode.py). It answers within
Slack's 3 s: a store read and a signal through the outbox, each bounded.

Slack retries an event it thinks was not received (`X-Slack-Retry-Num`, or a Socket Mode
`retry_attempt`) and a retry may be the only delivery, so retries are processed like the first:
a typed answer's idempotency key is its DM message (channel and ts), which the question's
workflow applies once however often it arrives.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from api import slack_home
from api.errors import error_response
from api.signals import Refusal, signal_boomerang
from parley.settings import Settings
from parley.store.questions import Question, open_questions
from workflows.boomerang import BoomerangWorkflow
from workflows.boomerang_types import BoomerangAnswer

log = logging.getLogger("parley.slack")
ANSWER_MAX = 3000


def event_not_for_us(body: dict[str, Any], settings: Settings) -> str | None:
    """Why a signed event is not for our app and workspace (SLACK_APP_ID, SLACK_TEAM_ID)."""
    if settings.slack_app_id and body.get("api_app_id") != settings.slack_app_id:
        return "this event is for another Slack app"
    if settings.slack_team_id and body.get("team_id") != settings.slack_team_id:
        return "this event comes from another Slack workspace"
    return None


async def handle_event(request: Request, body: dict[str, Any]) -> Response:
    """One Events API body (url_verification or event_callback), from either transport."""
    kind = body.get("type")
    if kind == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str):
            return error_response(400, "url_verification without a challenge")
        return JSONResponse({"challenge": challenge})
    if kind != "event_callback":
        return error_response(400, f"unsupported event body type {kind!r}")
    refused = event_not_for_us(body, request.app.state.settings)
    if refused:
        log.warning("refused a signed event: %s", refused)
        return error_response(403, refused)
    event = body.get("event")
    if not isinstance(event, dict):
        return error_response(400, "event_callback without an event")
    try:
        if event.get("type") == "message":
            await _dm_message(request, event)
        elif event.get("type") == "app_home_opened":
            await slack_home.opened(request, event)
    except Refusal as refusal:
        if refusal.unavailable:  # neither the database nor Temporal took it: let Slack retry
            return error_response(503, str(refusal))
        log.info("event %s not applied: %s", body.get("event_id"), refusal)
    return Response(status_code=200)


def typed_text(event: dict[str, Any]) -> str | None:
    """The text a person typed in a DM with the bot, or None for anything else.

    Ignored: other channel types, any subtype (edits, deletions, joins, bot messages, file
    shares), hidden events, and every message posted by a bot (Parley's own included)."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("hidden"):
        return None
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return None
    text = event.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    # Slack escapes &, < and > in message text; Parley's renderers escape what they show.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def question_for(
    questions: list[Question], channel: str, thread_ts: str | None
) -> tuple[Question | None, bool]:
    """(the question a DM answers, whether it was in the question's own thread)."""
    here = [q for q in questions if q.dm_channel in (None, channel)]
    if thread_ts:
        threaded = next((q for q in here if q.dm_ts == thread_ts), None)
        if threaded is not None:
            return threaded, True
    return (here[0] if here else None), False


async def _dm_message(request: Request, event: dict[str, Any]) -> None:
    text = typed_text(event)
    if text is None:
        return
    user, channel, ts = str(event["user"]), str(event.get("channel") or ""), event.get("ts")
    if not channel or not isinstance(ts, str):
        return
    thread_ts = event.get("thread_ts") if event.get("thread_ts") != ts else None
    questions = await open_questions(request.app.state.db, user)
    question, in_thread = question_for(questions, channel, thread_ts)
    if question is None:
        # Someone who was asked nothing (or whose questions are all closed): not an answer.
        log.info("DM from %s in %s matches no open Boomerang question; ignored", user, channel)
        return
    answer = BoomerangAnswer(
        kind="text",
        text=text[:ANSWER_MAX],
        user_id=user,
        key=f"dm:{channel}:{ts}",
        filed_note_channel=None if in_thread else channel,
    )
    await signal_boomerang(request.app, question.boomerang_id, BoomerangWorkflow.answer, answer)
