"""view_submission: shaping view.state.values and acting on the app's response_action."""

from __future__ import annotations

from typing import Any

from .blockkit import interactive_elements, validate_view
from .payloads import option_by_value, state_values
from .views_state import MAX_STACK, ViewRecord
from .workspace import Workspace

ACK_DEADLINE_SECONDS = 3.0
_OPTION_ONE = {"static_select", "radio_buttons", "external_select"}
_OPTION_MANY = {"multi_static_select", "checkboxes", "multi_external_select"}
_PLAIN_VALUE = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}


def _entry(ws: Workspace, el: dict[str, Any], v: Any) -> dict[str, Any]:
    t = el["type"]
    aid = el.get("action_id")
    if t in _PLAIN_VALUE:
        if v is not None and not isinstance(v, str):
            raise ValueError(f"{t} {aid!r} takes a str")
        if t == "plain_text_input" and v:
            # Slack's client enforces these before it sends anything.
            if len(v) > int(el.get("max_length", 3000)):
                raise ValueError(f"{aid!r} is longer than max_length")
            if len(v) < int(el.get("min_length", 0)):
                raise ValueError(f"{aid!r} is shorter than min_length")
        return {"type": t, "value": v}
    if t in _OPTION_ONE:
        return {"type": t, "selected_option": None if v is None else option_by_value(el, v)}
    if t in _OPTION_MANY:
        return {"type": t, "selected_options": [option_by_value(el, o) for o in (v or [])]}
    if t in ("users_select", "multi_users_select"):
        chosen = [v] if isinstance(v, str) else list(v or [])
        for u in chosen:
            if u not in ws.users or ws.users[u].deleted:
                raise LookupError(f"{u!r} is not a selectable user")
        if t == "users_select":
            return {"type": t, "selected_user": chosen[0] if chosen else None}
        return {"type": t, "selected_users": chosen}
    keys = {
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
    }
    if t in keys:
        return {"type": t, keys[t]: v}
    raise ValueError(f"the driver cannot fill a {t} element")


def _empty(entry: dict[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in entry.items() if k != "type")


def submission_state(
    ws: Workspace, view: dict[str, Any], values: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    blocks = view["blocks"]
    state = state_values(blocks, view.get("state", {}).get("values", {}))
    known = {(b["block_id"], el["action_id"]): el for b in blocks for el in interactive_elements(b)}
    for bid, per_action in values.items():
        for aid, v in per_action.items():
            el = known.get((bid, aid))
            if el is None:
                raise LookupError(f"view {view['id']} has no element {bid}/{aid}")
            state.setdefault(bid, {})[aid] = _entry(ws, el, v)
    for b in blocks:
        if b.get("type") == "input" and not b.get("optional", False):
            el = b["element"]
            entry = state.get(b["block_id"], {}).get(el["action_id"])
            if entry is None or _empty(entry):
                raise ValueError(
                    f"required input {b['block_id']!r} is empty; Slack's client would not submit"
                )
    return state


def apply_response(
    ws: Workspace, rec: ViewRecord, status: int, body: Any, elapsed: float
) -> list[str]:
    """Do what Slack does with the app's answer to a view_submission; returns problems."""
    if status != 200:
        return [f"app answered HTTP {status}: Slack keeps the modal open and shows an error"]
    if elapsed > ACK_DEADLINE_SECONDS:
        return ["Slack ignores a view_submission answer after 3 s; the modal stays open"]
    if not isinstance(body, dict) or not body.get("response_action"):
        ws.views.close(rec.view["id"])
        return []
    action = body["response_action"]
    if action == "errors":
        errors = body.get("errors") or {}
        rec.errors = errors
        inputs = {b["block_id"] for b in rec.view["blocks"] if b.get("type") == "input"}
        unknown = sorted(set(errors) - inputs)
        return [f"errors name non-input blocks {unknown}"] if unknown else []
    if action == "clear":
        ws.views.clear(rec.user)
        return []
    if action in ("update", "push"):
        new = body.get("view")
        problems = validate_view(new, "/view")
        if problems:
            return problems
        ids = {"team_id": ws.team.id, "app_id": ws.bot.app_id, "bot_id": ws.bot.bot_id}
        if action == "update":
            old = rec.view
            rec.view = ws.views.build(
                new,
                ids=ids,
                now=ws.now(),
                view_id=old["id"],
                root_view_id=old["root_view_id"],
                previous_view_id=old["previous_view_id"],
            )
            rec.errors = None
            return []
        stack = ws.views.stack(rec.user)
        if len(stack) >= MAX_STACK:
            return ["push_limit_reached: at most 3 views in a stack"]
        view = ws.views.build(
            new, ids=ids, now=ws.now(), root_view_id=stack[0], previous_view_id=stack[-1]
        )
        ws.views.push(rec.user, view)
        return []
    return [f"unknown response_action {action!r}"]
