"""views.publish (issue 13): one Home tab per user, replaced whole on every publish.

As Slack's (docs.slack.dev/reference/methods/views.publish; /work/shared/notes/slack-more.md §5):
`user_id` must be a user of the workspace (`invalid_arguments`, "invalid `user_id`"), the view a
`home` view (no title, submit or close) of at most 100 blocks with Block Kit's rules
(`invalid_arguments` with the problems), at most 250 kB (`view_too_large`); a `hash` that is not
the current view's is `hash_conflict`. The answer is the stored view with a fresh `hash`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .api_common import ApiError, as_str, json_field
from .blockkit import BlockChecker, _format_errors, check_view_ids, check_view_kind, new_id
from .workspace import Workspace

MAX_HOME_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
_HOME_KEYS = {"type", "blocks", "private_metadata", "callback_id", "external_id"}


def validate_home(view: Any) -> list[str]:
    checker = BlockChecker("home")
    ptr = "/view"
    if not checker.obj(view, ptr):
        return _format_errors(checker)
    check_view_kind(checker, view, ptr, "home", _HOME_KEYS)
    check_view_ids(checker, view, ptr)
    if checker.required(view, "blocks", ptr):
        checker.blocks(view["blocks"], f"{ptr}/blocks", MAX_HOME_BLOCKS)
    return _format_errors(checker)


def views_publish(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    user_id = as_str(args.get("user_id"))
    if not user_id or user_id not in ws.users:
        raise ApiError("invalid_arguments", ["[ERROR] invalid `user_id`"])
    raw = args.get("view")
    view = json_field(raw, "invalid_arguments")
    if view is None:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
    size = len(raw) if isinstance(raw, str) else len(json.dumps(view))
    if size > MAX_VIEW_BYTES:
        raise ApiError("view_too_large")
    errors = validate_home(view)
    if errors:
        raise ApiError("invalid_arguments", errors)
    current = ws.homes.get(user_id)
    wanted = as_str(args.get("hash"))
    if wanted and (current is None or current["hash"] != wanted):
        raise ApiError("hash_conflict")
    now = ws.now()
    stored = {
        "id": current["id"] if current else "V" + new_id(10).upper(),
        "team_id": ws.team.id,
        "type": "home",
        "blocks": copy.deepcopy(view["blocks"]),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(now)}.{new_id(8)}",
        "root_view_id": current["id"] if current else None,
        "previous_view_id": None,
        "app_id": ws.bot.app_id,
        "external_id": view.get("external_id", ""),
        "bot_id": ws.bot.bot_id,
        "published": [*(current or {}).get("published", []), now],
    }
    stored["root_view_id"] = stored["id"]
    ws.homes[user_id] = stored
    out = copy.deepcopy(stored)
    out.pop("published")
    return {"ok": True, "view": out}
