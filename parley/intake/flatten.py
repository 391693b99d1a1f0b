"""A nested JSON object as summary attributes: dotted names, string values.

`{"src": {"ip": "198.51.100.7"}, "ips": ["a", "b"], "hits": [{"ip": "c"}]}` becomes
`{"src.ip": ["198.51.100.7"], "ips": ["a", "b"], "hits.ip": ["c"]}`: list indices are dropped so
that every value of one field lands under one name, which is what Show Alert Details and See
Threat Intel look through.
"""

from __future__ import annotations

from typing import Any

MAX_ATTRIBUTES = 100
MAX_VALUES = 50
MAX_VALUE_CHARS = 1000
MAX_NAME_CHARS = 200
MAX_DEPTH = 16


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        text = str(value)
        return text[:MAX_VALUE_CHARS] if text.strip() else None
    return None


def flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Scalars found in `data`, by dotted path; bounded in names, values and depth."""
    out: dict[str, list[str]] = {}
    stack: list[tuple[str, Any, int]] = [(prefix, data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                continue
            for key, item in reversed(list(value.items())):
                name = f"{path}.{key}" if path else str(key)
                stack.append((name[:MAX_NAME_CHARS], item, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                continue
            stack.extend((path, item, depth + 1) for item in reversed(value))
        else:
            text = _text(value)
            if text is None or not path:
                continue
            values = out.get(path)
            if values is None:
                if len(out) >= MAX_ATTRIBUTES:
                    continue
                values = out[path] = []
            if len(values) < MAX_VALUES and text not in values:
                values.append(text)
    return out
