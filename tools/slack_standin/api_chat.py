"""chat.* methods."""

from __future__ import annotations

import copy
from typing import Any

from .api_common import ApiError, as_bool, as_str, json_field, required
from .blockkit import (
    MSG_BLOCKS_TEXT_MAX,
    blocks_text_length,
    fallback_text,
    normalize_blocks,
    validate_message_blocks,
)
from .workspace import Workspace

MAX_TEXT = 40_000


def parse_blocks(raw: Any) -> list[dict[str, Any]] | None:
    """Validate and normalise `blocks`; None when absent. Raises invalid_blocks(_format)."""
    blocks = json_field(raw, "invalid_blocks_format")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    errors = validate_message_blocks(blocks)
    if errors:
        raise ApiError(
            "invalid_blocks", errors, errors=[e.removeprefix("[ERROR] ") for e in errors]
        )
    if blocks_text_length(blocks) > MSG_BLOCKS_TEXT_MAX:
        raise ApiError("msg_blocks_too_long")
    return normalize_blocks(blocks)


def message_content(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    """`text` and `blocks` as Slack stores them, with Slack's content errors."""
    text = as_str(args.get("text")) or ""
    blocks = parse_blocks(args.get("blocks"))
    attachments = json_field(args.get("attachments"), "invalid_attachments")
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    # Stance: over-long text is refused (msg_too_long) rather than silently truncated, so the
    # renderer's own limit is what gets tested.
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    if blocks and not text:
        text = fallback_text(blocks)
    return text, blocks or None


def parse_metadata(raw: Any) -> dict[str, Any] | None:
    meta = json_field(raw, "invalid_metadata_format")
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise ApiError("invalid_metadata_format")
    if not isinstance(meta.get("event_type"), str) or not isinstance(
        meta.get("event_payload"), dict
    ):
        raise ApiError("invalid_metadata_schema")
    return {"event_type": meta["event_type"], "event_payload": meta["event_payload"]}


def post_message(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel = as_str(args.get("channel"))
    if not channel:
        raise ApiError("channel_not_found")
    ch = ws.postable_channel(channel)
    text, blocks = message_content(args)
    metadata = parse_metadata(args.get("metadata"))
    thread_ts = as_str(args.get("thread_ts")) or None
    msg = ws.post(
        ch.id,
        text,
        blocks,
        thread_ts=thread_ts,
        reply_broadcast=as_bool(args.get("reply_broadcast")) and thread_ts is not None,
        metadata=metadata,
    )
    return {"ok": True, "channel": ch.id, "ts": msg["ts"], "message": copy.deepcopy(msg)}


def _own_message(
    ws: Workspace, args: dict[str, Any], ts_key: str, denied: str
) -> tuple[str, dict[str, Any]]:
    channel = as_str(args.get("channel"))
    # chat.update/delete need a conversation id; a user id is not one (never U…).
    if not channel or channel.startswith(("U", "W")):
        raise ApiError("channel_not_found")
    ch = ws.visible_channel(channel)
    ts = as_str(args.get(ts_key))
    msg = ws.find(ch.id, ts) if ts else None
    if msg is None:
        raise ApiError("message_not_found")
    if msg.get("user") != ws.bot.user_id or msg.get("bot_id") != ws.bot.bot_id:
        raise ApiError(denied)
    if ch.is_archived:
        raise ApiError("is_archived")
    return ch.id, msg


def update(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel_id, msg = _own_message(ws, args, "ts", "cant_update_message")
    has_blocks = args.get("blocks") is not None
    text = as_str(args.get("text"))
    if not has_blocks and not text and args.get("attachments") is None:
        raise ApiError("no_text")
    if text and len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    blocks = parse_blocks(args.get("blocks")) if has_blocks else None
    if blocks:
        msg["blocks"] = blocks
        msg["text"] = text if text else fallback_text(blocks)
    else:
        # `text` without `blocks` (or with an empty list) removes the old blocks.
        msg.pop("blocks", None)
        msg["text"] = text or ""
    metadata = parse_metadata(args.get("metadata"))
    if metadata is not None:
        msg["metadata"] = metadata
    msg["edited"] = {"user": ws.bot.user_id, "ts": ws.next_ts()}
    return {
        "ok": True,
        "channel": channel_id,
        "ts": msg["ts"],
        "text": msg["text"],
        "message": copy.deepcopy(msg),
    }


def delete(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel_id, msg = _own_message(ws, args, "ts", "cant_delete_message")
    ws.delete(channel_id, msg["ts"])
    return {"ok": True, "channel": channel_id, "ts": msg["ts"]}


def post_ephemeral(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel = required(args, "channel", "channel_not_found")
    ch = ws.dm_channel(channel) if channel.startswith(("U", "W")) else ws.visible_channel(channel)
    user_id = required(args, "user", "user_not_found")
    user = ws.user(user_id)
    if user is None:
        raise ApiError("user_not_found")
    if ch.is_archived:
        raise ApiError("is_archived")
    if ws.bot.user_id not in ch.members:
        raise ApiError("not_in_channel")
    if user_id not in ch.members:
        raise ApiError("user_not_in_channel")
    text, blocks = message_content(args)
    eph = ws.add_ephemeral(ch.id, user_id, text, blocks, as_str(args.get("thread_ts")) or None)
    return {"ok": True, "message_ts": eph["ts"]}


def get_permalink(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel = required(args, "channel", "channel_not_found")
    ch = ws.visible_channel(channel)
    ts = as_str(args.get("message_ts"))
    msg = ws.find(ch.id, ts) if ts else None
    if msg is None:
        raise ApiError("message_not_found")
    link = f"{url}/archives/{ch.id}/p{msg['ts'].replace('.', '')}"
    if msg.get("thread_ts") and msg["thread_ts"] != msg["ts"]:
        link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
    return {"ok": True, "channel": ch.id, "permalink": link}
