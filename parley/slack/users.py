"""Slack users as Parley names them: one rule for assignees and the people directory."""

from __future__ import annotations

from typing import Any


def display_name(data: dict[str, Any]) -> str:
    """The name from a users.info answer: profile.real_name, then real_name, then name ("")."""
    user = data.get("user") or {}
    profile = user.get("profile") or {}
    return str(profile.get("real_name") or user.get("real_name") or user.get("name") or "")
