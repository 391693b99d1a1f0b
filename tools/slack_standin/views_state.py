"""Modal views: records, per-user stacks (max 3), hashes and state."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .api_common import ApiError
from .blockkit import new_id, normalize_blocks

MAX_STACK = 3


@dataclass
class ViewRecord:
    view: dict[str, Any]
    user: str
    open: bool = True
    # The last `response_action: errors` map the app answered, for tests to inspect.
    errors: dict[str, Any] | None = None


def _text_copy(t: Any) -> Any:
    if isinstance(t, dict):
        out = copy.deepcopy(t)
        if out.get("type") == "plain_text":
            out.setdefault("emoji", True)
        return out
    return t


class ViewStore:
    def __init__(self) -> None:
        self.records: dict[str, ViewRecord] = {}
        self.stacks: dict[str, list[str]] = {}

    def build(
        self,
        payload: dict[str, Any],
        *,
        ids: dict[str, str],
        now: float,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Shape a view as Slack returns it (views.open response, payload `view`)."""
        vid = view_id or "V" + new_id(10).upper()
        return {
            "id": vid,
            "team_id": ids["team_id"],
            "type": payload.get("type", "modal"),
            "blocks": normalize_blocks(payload.get("blocks", [])),
            "private_metadata": payload.get("private_metadata", ""),
            "callback_id": payload.get("callback_id", ""),
            "state": state if state is not None else {"values": {}},
            "hash": f"{int(now)}.{new_id(8)}",
            "title": _text_copy(payload.get("title")),
            "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)),
            "close": _text_copy(payload.get("close")),
            "submit": _text_copy(payload.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or vid,
            "app_id": ids["app_id"],
            "external_id": payload.get("external_id", ""),
            "app_installed_team_id": ids["team_id"],
            "bot_id": ids["bot_id"],
        }

    def check_external_id(self, external_id: str, except_id: str | None = None) -> None:
        if not external_id:
            return
        for rec in self.records.values():
            if rec.open and rec.view["external_id"] == external_id and rec.view["id"] != except_id:
                raise ApiError("duplicate_external_id")

    def open(self, user: str, view: dict[str, Any]) -> ViewRecord:
        # A new views.open replaces whatever stack the user had open.
        for vid in self.stacks.get(user, []):
            self.records[vid].open = False
        rec = ViewRecord(view=view, user=user)
        self.records[view["id"]] = rec
        self.stacks[user] = [view["id"]]
        return rec

    def stack(self, user: str) -> list[str]:
        return [v for v in self.stacks.get(user, []) if self.records[v].open]

    def push(self, user: str, view: dict[str, Any]) -> ViewRecord:
        stack = self.stack(user)
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        rec = ViewRecord(view=view, user=user)
        self.records[view["id"]] = rec
        self.stacks[user] = [*stack, view["id"]]
        return rec

    def get_open(self, view_id: str | None, external_id: str | None) -> ViewRecord:
        for rec in self.records.values():
            if not rec.open:
                continue
            if view_id and rec.view["id"] == view_id:
                return rec
            if external_id and not view_id and rec.view["external_id"] == external_id:
                return rec
        raise ApiError("not_found")

    def close(self, view_id: str) -> None:
        """Close a view and every view pushed above it."""
        rec = self.records.get(view_id)
        if rec is None:
            return
        stack = self.stack(rec.user)
        if view_id in stack:
            for vid in stack[stack.index(view_id) :]:
                self.records[vid].open = False
            self.stacks[rec.user] = stack[: stack.index(view_id)]
        rec.open = False

    def clear(self, user: str) -> None:
        for vid in self.stacks.get(user, []):
            self.records[vid].open = False
        self.stacks[user] = []

    def open_views(self, user: str | None = None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(rec.view)
            for rec in self.records.values()
            if rec.open and (user is None or rec.user == user)
        ]
