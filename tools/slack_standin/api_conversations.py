"""conversations.*, users.* and auth.test."""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from .api_common import ApiError, as_bool, as_int, as_str, required
from .seed import User
from .workspace import Workspace

OAUTH_SCOPES = ",".join(
    [
        "chat:write",
        "im:write",
        "users:read",
        "users:read.email",
        "channels:history",
        "groups:history",
        "im:history",
        "commands",
    ]
)


def auth_test(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "ok": True,
        "url": f"{url}/",
        "team": ws.team.name,
        "user": ws.bot.name,
        "team_id": ws.team.id,
        "user_id": ws.bot.user_id,
        "bot_id": ws.bot.bot_id,
        "is_enterprise_install": False,
    }


def api_test(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": True}
    if args:
        out["args"] = {k: v for k, v in args.items() if k != "token"}
    return out


def conversations_open(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel = as_str(args.get("channel"))
    users = [u.strip() for u in (as_str(args.get("users")) or "").split(",") if u.strip()]
    if channel and not users:
        ch = ws.channels.get(channel)
        if ch is None or not ch.is_im:
            raise ApiError("channel_not_found")
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": ch.id}}
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        # Stance: the stand-in models 1:1 DMs only; Parley never opens group DMs.
        raise ApiError("method_not_supported_for_channel_type")
    user_id = users[0]
    if user_id == ws.bot.user_id:
        raise ApiError("cannot_dm_bot")
    ws.check_dm_target(user_id, "user_not_found")
    existed = user_id in ws.dm_by_user
    ch = ws.dm_channel(user_id)
    out: dict[str, Any] = {"ok": True}
    if existed:
        out.update({"no_op": True, "already_open": True})
    if as_bool(args.get("return_im")):
        out["channel"] = {
            "id": ch.id,
            "created": int(ws.now()),
            "is_im": True,
            "is_org_shared": False,
            "user": user_id,
            "last_read": "0000000000.000000",
            "latest": None,
            "unread_count": 0,
            "unread_count_display": 0,
            "is_open": True,
            "priority": 0,
        }
    else:
        out["channel"] = {"id": ch.id}
    return out


def conversations_info(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    ch = ws.visible_channel(required(args, "channel", "channel_not_found"))
    info: dict[str, Any] = {
        "id": ch.id,
        "name": ch.name,
        "is_channel": not ch.is_private and not ch.is_im,
        "is_group": ch.is_private and not ch.is_im,
        "is_im": ch.is_im,
        "is_private": ch.is_private,
        "is_archived": ch.is_archived,
        "is_member": ws.bot.user_id in ch.members,
    }
    if ch.is_im:
        info["user"] = ch.im_user
    return {"ok": True, "channel": info}


def _readable_channel(ws: Workspace, args: dict[str, Any]) -> str:
    ch = ws.visible_channel(required(args, "channel", "channel_not_found"))
    if ws.bot.user_id not in ch.members:
        raise ApiError("not_in_channel")
    return ch.id


def _cursor_ts(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError("invalid_cursor") from exc
    if not raw.startswith("next_ts:"):
        raise ApiError("invalid_cursor")
    return raw.removeprefix("next_ts:")


def _make_cursor(ts: str) -> str:
    # Same scheme as Slack's cursors: base64("next_ts:<ts>").
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _shape(msgs: list[dict[str, Any]], with_metadata: bool) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        c = copy.deepcopy(m)
        if not with_metadata:
            # Slack returns metadata only when include_all_metadata=true.
            c.pop("metadata", None)
        out.append(c)
    return out


def _window(msgs: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    oldest = float(as_str(args.get("oldest")) or 0)
    latest_s = as_str(args.get("latest"))
    latest = float(latest_s) if latest_s else float("inf")
    inclusive = as_bool(args.get("inclusive"))

    def inside(m: dict[str, Any]) -> bool:
        ts = float(m["ts"])
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in msgs if inside(m)]


def _page(msgs: list[dict[str, Any]], args: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    limit = as_int(args.get("limit"), 100) or 100
    limit = min(max(limit, 1), 999)
    start_ts = _cursor_ts(as_str(args.get("cursor")))
    if start_ts is not None:
        idx = next((i for i, m in enumerate(msgs) if m["ts"] == start_ts), None)
        if idx is None:
            raise ApiError("invalid_cursor")
        msgs = msgs[idx:]
    page, rest = msgs[:limit], msgs[limit:]
    return page, (_make_cursor(rest[0]["ts"]) if rest else "")


def history(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel_id = _readable_channel(ws, args)
    msgs = list(reversed(_window(ws.top_level(channel_id), args)))
    page, cursor = _page(msgs, args)
    return {
        "ok": True,
        "messages": _shape(page, as_bool(args.get("include_all_metadata"))),
        "has_more": bool(cursor),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


def replies(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    channel_id = _readable_channel(ws, args)
    ts = as_str(args.get("ts"))
    if not ts:
        raise ApiError("thread_not_found")
    target = ws.find(channel_id, ts)
    parent_ts = str(target.get("thread_ts") or ts) if target else ts
    parent = ws.find(channel_id, parent_ts)
    thread = ws.thread(channel_id, parent_ts)
    if parent is None:
        tomb = [m for m in ws.top_level(channel_id) if m["ts"] == parent_ts]
        if not tomb:
            raise ApiError("thread_not_found")
        parent = tomb[0]
    msgs = _window([parent, *thread], args)
    page, cursor = _page(msgs, args)
    return {
        "ok": True,
        "messages": _shape(page, as_bool(args.get("include_all_metadata"))),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def user_object(ws: Workspace, u: User) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "real_name": u.real_name,
        "real_name_normalized": u.real_name,
        "display_name": u.name,
        "display_name_normalized": u.name,
        "team": ws.team.id,
    }
    if u.email and not u.is_bot:
        profile["email"] = u.email
    if u.id == ws.bot.user_id:
        profile["bot_id"] = ws.bot.bot_id
    return {
        "id": u.id,
        "team_id": ws.team.id,
        "name": u.name,
        "deleted": u.deleted,
        "real_name": u.real_name,
        "tz": u.tz,
        "is_bot": u.is_bot,
        "is_app_user": False,
        "profile": profile,
    }


def users_info(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    user = ws.user(required(args, "user", "user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user_object(ws, user)}


def users_lookup_by_email(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    email = required(args, "email", "invalid_arguments").strip().lower()
    for u in ws.users.values():
        # Deactivated users are not found by e-mail (users.lookupByEmail docs).
        if u.email and u.email.lower() == email and not u.deleted and not u.is_bot:
            return {"ok": True, "user": user_object(ws, u)}
    raise ApiError("users_not_found")
