"""Modals Parley opens: pure functions returning view payloads."""

from __future__ import annotations

from typing import Any

from slackui import ids
from slackui.text import escaped


def resolve_modal(ref: ids.AlertRef, title: str) -> dict[str, Any]:
    """Asks for the resolution comment before an alert becomes Resolved."""
    return {
        "type": "modal",
        "callback_id": ids.RESOLVE_MODAL,
        "private_metadata": ref.dump(),
        "title": {"type": "plain_text", "text": "Resolve alert"},
        "submit": {"type": "plain_text", "text": "Resolve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{escaped(title, 2900)}*"},
            },
            {
                "type": "input",
                "block_id": ids.RESOLVE_COMMENT_BLOCK,
                "label": {"type": "plain_text", "text": "Resolution comment"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.RESOLVE_COMMENT_ACTION,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }
