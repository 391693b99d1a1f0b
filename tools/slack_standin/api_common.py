"""Shared pieces of the Web API handlers: the error type and argument coercion."""

from __future__ import annotations

import json
import re
from typing import Any

TS_RE = re.compile(r"^\d+\.\d+$")


class ApiError(Exception):
    """A Slack Web API error: HTTP 200 with {"ok": false, "error": code, ...}."""

    def __init__(self, code: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.code}
        out.update(self.extra)
        if self.messages:
            out["response_metadata"] = {"messages": list(self.messages)}
        return out


def as_bool(value: Any) -> bool:
    # Form and query strings carry "true"/"1"; slack_sdk also converts bools to "1"/"0".
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("1", "true", "yes")


def as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_arguments") from exc


def as_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def json_field(value: Any, error: str) -> Any:
    """Decode a field that form bodies carry as a JSON string (blocks, view, metadata)."""
    if value is None or not isinstance(value, str):
        return value
    if value.strip() == "":
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ApiError(error) from exc


def required(args: dict[str, Any], key: str, error: str = "invalid_arguments") -> str:
    value = as_str(args.get(key))
    if not value:
        raise ApiError(error)
    return value
