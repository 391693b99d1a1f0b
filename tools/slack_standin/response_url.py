"""response_url endpoints: up to 5 uses within 30 minutes, then 404 `expired_url`."""

from __future__ import annotations

import secrets
from typing import Any

from .api_chat import message_content
from .api_common import ApiError, as_bool, as_str
from .workspace import ResponseUrl, Workspace

MAX_USES = 5
TTL_SECONDS = 30 * 60


def mint(
    ws: Workspace,
    base_url: str,
    channel: str,
    message_ts: str | None,
    user: str,
    thread_ts: str | None = None,
) -> str:
    # Shaped like hooks.slack.com/actions/T…/<digits>/<secret>.
    rid = f"{ws.team.id}/{secrets.randbelow(10**12):012d}/{secrets.token_hex(12)}"
    ws.response_urls[rid] = ResponseUrl(
        channel=channel,
        message_ts=message_ts,
        user=user,
        issued_at=ws.now(),
        thread_ts=thread_ts,
    )
    return f"{base_url}/_stub/response/{rid}"


def handle(ws: Workspace, rid: str, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Apply one POST to a response_url; returns (HTTP status, JSON body)."""
    ws.response_url_posts.append({**body, "response_url": url})
    rec = ws.response_urls.get(rid)
    if rec is None:
        return 404, {"ok": False, "error": "no_service"}
    if rec.uses >= MAX_USES or ws.now() - rec.issued_at > TTL_SECONDS:
        return 404, {"ok": False, "error": "expired_url"}
    rec.uses += 1
    if as_bool(body.get("delete_original")):
        if rec.message_ts is None or not ws.delete(rec.channel, rec.message_ts):
            return 404, {"ok": False, "error": "message_not_found"}
        return 200, {"ok": True}
    try:
        text, blocks = message_content(body)
    except ApiError as exc:
        return 400, exc.body()
    thread_ts = as_str(body.get("thread_ts")) or rec.thread_ts
    if as_bool(body.get("replace_original")):
        msg = ws.find(rec.channel, rec.message_ts) if rec.message_ts else None
        if msg is None:
            return 404, {"ok": False, "error": "message_not_found"}
        msg["text"] = text
        if blocks:
            msg["blocks"] = blocks
        else:
            msg.pop("blocks", None)
        msg["edited"] = {"user": ws.bot.user_id, "ts": ws.next_ts()}
    elif body.get("response_type") == "in_channel":
        ws.post(rec.channel, text, blocks, thread_ts=thread_ts)
    else:
        # Default response_type is ephemeral: only the clicking user sees it.
        ws.add_ephemeral(rec.channel, rec.user, text, blocks, thread_ts)
    return 200, {"ok": True}
