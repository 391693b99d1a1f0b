"""Text helpers for Block Kit: escaping and truncation within Slack's limits."""

from __future__ import annotations

import json
import re
from typing import Any

SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
OPTION_TEXT_MAX = 75
FALLBACK_TEXT_MAX = 3000  # well under the 40,000 at which Slack truncates
NAME_MAX = 100
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn.

    `<!channel>` or `<https://evil|click>` in alert data then shows as text: no ping, no link.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def person(name: str, limit: int = NAME_MAX) -> str:
    """A person-supplied name as mrkdwn: one line, escaped, so it shows and never pings or links.

    A console user named `<!channel> <http://evil|click>` is shown as exactly that text."""
    return escaped(" ".join(name.split()), limit)


def user_mention(user_id: str) -> str:
    """`<@U…>` for a Slack user id; anything else is shown as text, never as markup."""
    return f"<@{user_id}>" if SLACK_USER_ID.fullmatch(user_id) else person(user_id)


def truncate(text: str, limit: int, marker: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker


def clip(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis, never through an escape entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def escaped(text: str, limit: int) -> str:
    """Escape, then cut so that the result fits `limit` without splitting an entity."""
    return clip(escape(text), limit)


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int = BUTTON_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def pretty_json(value: Any, limit: int) -> tuple[str, bool]:
    """Indented JSON cut on a line boundary to at most `limit` characters; (text, was_cut)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    newline = cut.rfind("\n")
    if newline > limit // 2:
        cut = cut[:newline]
    return cut, True
