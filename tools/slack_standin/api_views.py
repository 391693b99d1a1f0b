"""views.open / views.push / views.update."""

from __future__ import annotations

import copy
from typing import Any

from .api_common import ApiError, as_str, json_field
from .blockkit import interactive_elements, validate_view
from .workspace import Trigger, Workspace


def _ids(ws: Workspace) -> dict[str, str]:
    return {"team_id": ws.team.id, "app_id": ws.bot.app_id, "bot_id": ws.bot.bot_id}


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    view = json_field(args.get("view"), "invalid_arguments")
    if view is None:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
    errors = validate_view(view)
    if errors or not isinstance(view, dict):
        raise ApiError("invalid_arguments", errors)
    return view


def _trigger_then_view(ws: Workspace, args: dict[str, Any]) -> tuple[Trigger, dict[str, Any]]:
    trigger_id = as_str(args.get("trigger_id"))
    # Check the trigger first (an unknown one is an argument error), validate the view, and
    # only then spend the trigger, so a rejected view does not burn it.
    probe = ws.triggers.get(trigger_id or "")
    if probe is None:
        raise ApiError("invalid_arguments", ["invalid `trigger_id`"])
    if probe.used or ws.now() - probe.issued_at > ws.trigger_ttl_seconds:
        raise ApiError("expired_trigger_id")
    view = _view_arg(args)
    ws.views.check_external_id(str(view.get("external_id", "")))
    return ws.consume_trigger(trigger_id), view


def views_open(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    trig, payload = _trigger_then_view(ws, args)
    view = ws.views.build(payload, ids=_ids(ws), now=ws.now())
    ws.views.open(trig.user, view)
    return {"ok": True, "view": copy.deepcopy(view)}


def views_push(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    trig, payload = _trigger_then_view(ws, args)
    stack = ws.views.stack(trig.user)
    if not stack:
        # Stance: with no modal open, a push just opens one.
        view = ws.views.build(payload, ids=_ids(ws), now=ws.now())
        ws.views.open(trig.user, view)
    else:
        view = ws.views.build(
            payload,
            ids=_ids(ws),
            now=ws.now(),
            root_view_id=stack[0],
            previous_view_id=stack[-1],
        )
        ws.views.push(trig.user, view)
    return {"ok": True, "view": copy.deepcopy(view)}


def carry_state(old: dict[str, Any], new_blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep entered values whose block_id/action_id survive an update, as Slack does."""
    values = old.get("state", {}).get("values", {})
    kept: dict[str, Any] = {}
    for block in new_blocks:
        bid = block.get("block_id")
        for el in interactive_elements(block):
            aid = el.get("action_id")
            if bid in values and aid in values[bid]:
                kept.setdefault(bid, {})[aid] = values[bid][aid]
    return {"values": kept}


def views_update(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    view_id = as_str(args.get("view_id"))
    external_id = as_str(args.get("external_id"))
    if not view_id and not external_id:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: view_id"])
    rec = ws.views.get_open(view_id, external_id)
    expected = as_str(args.get("hash"))
    if expected and expected != rec.view["hash"]:
        raise ApiError("hash_conflict")
    payload = _view_arg(args)
    ws.views.check_external_id(str(payload.get("external_id", "")), except_id=rec.view["id"])
    old = rec.view
    view = ws.views.build(
        payload,
        ids=_ids(ws),
        now=ws.now(),
        view_id=old["id"],
        root_view_id=old["root_view_id"],
        previous_view_id=old["previous_view_id"],
    )
    view["state"] = carry_state(old, view["blocks"])
    rec.view = view
    return {"ok": True, "view": copy.deepcopy(view)}
