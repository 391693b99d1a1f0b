"""`POST /slack/interactions`: verify, parse, route, and answer Slack within 3 seconds.

Every click becomes a Temporal signal (see workflows/alert.py for why signals): the server
accepts it in milliseconds, with or without a running worker, and the workflow applies it once.
Modals are the exception Slack forces: `views.open` needs the trigger_id within 3 s, so handlers
open them directly. Problems are told to the clicking user through the payload's response_url.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import SignatureVerifier

from api import slack_alert, slack_boomerang, slack_context, slack_events, slack_storm
from api.errors import error_response
from api.signals import Refusal
from api.slack_common import Click, Submission, actor_of, not_for_us, tell_later
from api.slack_roles import refuse_by_role
from parley.slack.ui import ids

log = logging.getLogger("parley.slack")
router = APIRouter()

ACTIONS: dict[str, Callable[[Click], Awaitable[None]]] = {
    ids.VIEW_IN_CONSOLE: slack_alert.view_in_console,
    ids.VIEW_IN_SOURCE: slack_alert.view_in_console,  # a link button too
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


# The body cap (api/app.py): far above anything Slack sends (a view is at most 250 kB of JSON,
# at most 750 kB percent-encoded), far below what would hurt, as it is read before the signature
# can be checked.
MAX_BODY_BYTES = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,15}", re.ASCII)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)


@router.post("/slack/interactions", include_in_schema=False)
async def interactions(request: Request) -> Response:
    raw = await request.body()  # capped at MAX_BODY_BYTES by api.body_limit (a 413 from here)
    try:
        raw.decode("utf-8")  # slack-sdk's verifier decodes the body and would raise
    except UnicodeDecodeError:
        return error_response(400, "the body is not UTF-8")
    if not _signed_by_slack(request, raw):
        return error_response(401, "invalid request: not signed by Slack")
    try:
        payload = json.loads(parse_qs(raw.decode("utf-8"), strict_parsing=True)["payload"][0])
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        return error_response(400, f"malformed interaction payload: {exc}")
    return await dispatch_interaction(request, payload)


async def dispatch_interaction(request: Request, payload: dict[str, Any]) -> Response:
    """One interaction payload, from either transport (HTTP above, or Socket Mode)."""
    settings = request.app.state.settings
    kind = payload.get("type")
    refused = not_for_us(payload, settings)
    if refused:
        log.warning("refused a signed %r interaction: %s", kind, refused)
        return error_response(403, refused)
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


@router.post("/slack/events", include_in_schema=False)
async def events(request: Request) -> Response:
    """The Events API's request URL: signed like interactivity, JSON bodies."""
    raw = await request.body()  # capped at MAX_BODY_BYTES by api.body_limit
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(400, "the body is not UTF-8")
    if not _signed_by_slack(request, raw):
        return error_response(401, "invalid request: not signed by Slack")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return error_response(400, f"malformed event body: {exc}")
    if not isinstance(body, dict):
        return error_response(400, "malformed event body: not an object")
    retry = request.headers.get("x-slack-retry-num")
    if retry:
        log.info(
            "event %s retried (%s, %s)",
            body.get("event_id"),
            retry,
            request.headers.get("x-slack-retry-reason"),
        )
    try:
        return await slack_events.handle_event(request, body)
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        log.warning("malformed event: %s", exc)
        return error_response(400, "malformed event")


def _signed_by_slack(request: Request, raw: bytes) -> bool:
    """slack-sdk's check, given only headers it can digest: it raises (a 500) on a non-numeric
    timestamp or a non-ASCII signature."""
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
        return False
    verifier = SignatureVerifier(request.app.state.settings.slack_signing_secret)
    return verifier.is_valid(body=raw, timestamp=timestamp, signature=signature)


async def _block_actions(request: Request, payload: dict[str, Any]) -> Response:
    click = Click(request, payload, payload["actions"][0], actor_of(payload))
    handler = ACTIONS.get(click.action["action_id"])
    try:
        if handler is None:
            raise Refusal("Parley does not know this button. Is the message out of date?")
        await refuse_by_role(click)  # off unless SLACK_ROLES_DESTINATIONS names this channel
        await handler(click)
    except Refusal as refusal:
        tell_later(click.response_url, str(refusal))
    return Response(status_code=200)
