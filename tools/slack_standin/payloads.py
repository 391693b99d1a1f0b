"""Interaction payloads shaped as Slack sends them (block_actions, view_submission, view_closed).

Reference shapes: bolt-python tests/scenario_tests_async/test_block_actions.py and
test_view_submission.py; docs.slack.dev/reference/interaction-payloads.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from .blockkit import interactive_elements
from .workspace import Workspace

_STATELESS = {"button", "overflow"}


def new_trigger_id() -> str:
    # Real ones look like "1388105719492.1379717998065.9bc163894734c1f415a2c504e81dec91".
    return (
        f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**13):013d}.{secrets.token_hex(16)}"
    )


def user_obj(ws: Workspace, user_id: str) -> dict[str, Any]:
    u = ws.users[user_id]
    return {"id": u.id, "username": u.name, "name": u.name, "team_id": ws.team.id}


def team_obj(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.team.id, "domain": ws.team.domain}


def _options(el: dict[str, Any]) -> list[dict[str, Any]]:
    opts = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        opts.extend(group.get("options") or [])
    return opts


def option_by_value(el: dict[str, Any], value: str) -> dict[str, Any]:
    for opt in _options(el):
        if opt.get("value") == value:
            return copy.deepcopy(opt)
    raise LookupError(f"element {el.get('action_id')!r} has no option with value {value!r}")


def find_element(
    blocks: list[dict[str, Any]], action_id: str, value: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (block, element) holding `action_id`; `value` picks among same-id buttons."""
    hits = [
        (b, el)
        for b in blocks
        for el in interactive_elements(b)
        if el.get("action_id") == action_id
    ]
    if value is not None and len(hits) > 1:
        hits = [(b, el) for b, el in hits if el.get("value") == value]
    if not hits:
        raise LookupError(f"no element with action_id {action_id!r} (value={value!r})")
    if len(hits) > 1:
        raise LookupError(f"{len(hits)} elements share action_id {action_id!r}; pass value=")
    return hits[0]


def initial_state(el: dict[str, Any]) -> dict[str, Any]:
    """An element's entry in state.values before anyone touched it."""
    t = el["type"]
    entry: dict[str, Any] = {"type": t}
    if t in ("static_select", "external_select", "radio_buttons"):
        entry["selected_option"] = copy.deepcopy(el.get("initial_option"))
    elif t in ("multi_static_select", "multi_external_select", "checkboxes"):
        entry["selected_options"] = copy.deepcopy(el.get("initial_options", []))
    elif t == "users_select":
        entry["selected_user"] = el.get("initial_user")
    elif t == "multi_users_select":
        entry["selected_users"] = list(el.get("initial_users", []))
    elif t in ("conversations_select", "channels_select"):
        key = "selected_conversation" if t.startswith("conv") else "selected_channel"
        entry[key] = el.get(f"initial_{key.split('_')[1]}")
    elif t == "datepicker":
        entry["selected_date"] = el.get("initial_date")
    elif t == "timepicker":
        entry["selected_time"] = el.get("initial_time")
    else:
        entry["value"] = el.get("initial_value")
    return entry


def selection(
    ws: Workspace,
    el: dict[str, Any],
    *,
    selected_option: str | None,
    selected_user: str | None,
) -> dict[str, Any]:
    """The fields a user's choice adds to an action or a state entry."""
    t = el["type"]
    if t in ("static_select", "overflow", "radio_buttons", "external_select"):
        if selected_option is None:
            raise ValueError(f"{t} {el.get('action_id')!r} needs selected_option=")
        return {"selected_option": option_by_value(el, selected_option)}
    if t in ("checkboxes", "multi_static_select"):
        if selected_option is None:
            raise ValueError(f"{t} {el.get('action_id')!r} needs selected_option=")
        return {"selected_options": [option_by_value(el, selected_option)]}
    if t in ("users_select", "multi_users_select"):
        if selected_user is None:
            raise ValueError(f"{t} {el.get('action_id')!r} needs selected_user=")
        u = ws.users.get(selected_user)
        if u is None or u.deleted:
            raise LookupError(f"{selected_user!r} is not a selectable user")
        if t == "users_select":
            return {"selected_user": selected_user}
        return {"selected_users": [selected_user]}
    raise ValueError(f"the driver cannot operate a {t} element")


def build_action(
    ws: Workspace,
    block: dict[str, Any],
    el: dict[str, Any],
    *,
    value: str | None,
    selected_option: str | None,
    selected_user: str | None,
    action_ts: str,
) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": el["action_id"], "block_id": block["block_id"]}
    if el["type"] == "button":
        if value is not None and el.get("value") != value:
            raise LookupError(f"button {el['action_id']!r} has value {el.get('value')!r}")
        action["text"] = copy.deepcopy(el["text"])
        for key in ("value", "style", "url"):
            if key in el:
                action[key] = el[key]
    else:
        action.update(
            selection(ws, el, selected_option=selected_option, selected_user=selected_user)
        )
        for key in ("placeholder", "initial_option", "initial_user"):
            if key in el:
                action[key] = copy.deepcopy(el[key])
    action["type"] = el["type"]
    action["action_ts"] = action_ts
    return action


def state_values(
    blocks: list[dict[str, Any]], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """state.values for every stateful element, keeping what the user already entered."""
    current = current or {}
    values: dict[str, Any] = {}
    for block in blocks:
        for el in interactive_elements(block):
            if el["type"] in _STATELESS:
                continue
            bid, aid = block["block_id"], el["action_id"]
            entry = current.get(bid, {}).get(aid) or initial_state(el)
            values.setdefault(bid, {})[aid] = copy.deepcopy(entry)
    return values


def base_payload(ws: Workspace, kind: str, user: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": user_obj(ws, user),
        "api_app_id": ws.bot.app_id,
        "token": ws.verification_token,
        "team": team_obj(ws),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def record_choice(
    values: dict[str, Any], block: dict[str, Any], el: dict[str, Any], action: dict[str, Any]
) -> dict[str, Any]:
    """Reflect a select/checkbox choice in state.values (buttons and overflows hold no state)."""
    if el["type"] not in _STATELESS:
        chosen = {k: v for k, v in action.items() if k.startswith("selected_")}
        values[block["block_id"]][el["action_id"]] = {"type": el["type"], **chosen}
    return values
