"""`POST /slack/interactions`: verify, parse, route, and answer Slack within 3 seconds.

Every click becomes a Temporal signal (see workflows/alert.py for why signals): the server
accepts it in milliseconds, with or without a running worker, and the workflow applies it once.
Modals are the exception Slack forces: `views.open` needs the trigger_id within 3 s, so handlers
open them directly. Problems are told to the clicking user through the payload's response_url.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import SignatureVerifier

from api import slack_alert, slack_boomerang, slack_context, slack_storm
from api.signals import Refusal
from api.slack_common import Click, Submission, actor_of, not_for_us, tell_later
from parley.slack.ui import ids

log = logging.getLogger("parley.slack")
router = APIRouter()

ACTIONS: dict[str, Callable[[Click], Awaitable[None]]] = {
    ids.VIEW_IN_CONSOLE: slack_alert.view_in_console,
    ids.UPDATE_STATUS: slack_alert.update_status,
    ids.SET_ASSIGNEE: slack_alert.set_assignee,
    ids.SHOW_DETAILS: slack_context.show_details,
    ids.THREAT_INTEL: slack_context.open_intel,
    ids.BOOMERANG: slack_boomerang.open_ask,
    ids.BOOMERANG_YES: slack_boomerang.answer_yes,
    ids.BOOMERANG_NO: slack_boomerang.answer_no,
    ids.BOOMERANG_REPLY: slack_boomerang.open_reply,
    ids.STORM_LIST: slack_storm.list_alerts,
    ids.STORM_RESOLVE_ALL: slack_storm.resolve_all,
    ids.STORM_INVALID_ALL: slack_storm.invalid_all,
}
SUBMISSIONS: dict[str, Callable[[Submission], Awaitable[Response]]] = {
    ids.RESOLVE_MODAL: slack_alert.submit_resolution,
    ids.INTEL_MODAL: slack_context.submit_intel,
    ids.BOOMERANG_MODAL: slack_boomerang.submit_ask,
    ids.BOOMERANG_REPLY_MODAL: slack_boomerang.submit_reply,
    ids.STORM_BULK_MODAL: slack_storm.submit_bulk,
}


@router.post("/slack/interactions", include_in_schema=False)
async def interactions(request: Request) -> Response:
    raw = await request.body()
    settings = request.app.state.settings
    try:
        raw.decode("utf-8")  # slack-sdk's verifier decodes the body and would raise
    except UnicodeDecodeError:
        return JSONResponse({"error": "the body is not UTF-8"}, status_code=400)
    if not SignatureVerifier(settings.slack_signing_secret).is_valid_request(raw, request.headers):
        return JSONResponse({"error": "invalid request"}, status_code=401)
    try:
        payload = json.loads(parse_qs(raw.decode("utf-8"), strict_parsing=True)["payload"][0])
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
        kind = payload.get("type")
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        return JSONResponse({"error": f"malformed interaction payload: {exc}"}, status_code=400)
    refused = not_for_us(payload, settings)
    if refused:
        log.warning("refused a signed %r interaction: %s", kind, refused)
        return JSONResponse({"error": refused}, status_code=403)
    try:
        if kind == "block_actions":
            return await _block_actions(request, payload)
        if kind == "view_submission":
            handler = SUBMISSIONS.get(payload["view"].get("callback_id"))
            if handler is None:
                return JSONResponse({"error": "unknown modal"}, status_code=400)
            return await handler(Submission(request, payload))
        if kind == "view_closed":
            return Response(status_code=200)
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        log.warning("malformed %s payload: %s", kind, exc)
        return JSONResponse({"error": f"malformed {kind} payload"}, status_code=400)
    return JSONResponse({"error": f"unsupported interaction type {kind!r}"}, status_code=400)


async def _block_actions(request: Request, payload: dict[str, Any]) -> Response:
    click = Click(request, payload, payload["actions"][0], actor_of(payload))
    handler = ACTIONS.get(click.action["action_id"])
    try:
        if handler is None:
            raise Refusal("Parley does not know this button. Is the message out of date?")
        await handler(click)
    except Refusal as refusal:
        tell_later(click.response_url, str(refusal))
    return Response(status_code=200)
