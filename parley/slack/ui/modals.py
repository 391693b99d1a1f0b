"""Modals Parley opens: pure functions returning view payloads, their metadata signed."""

from __future__ import annotations

from typing import Any

from parley.slack.ui import ids
from parley.slack.ui.text import escaped, truncate


def resolve_modal(ref: ids.AlertRef, title: str, metadata: ids.ModalMetadata) -> dict[str, Any]:
    """Asks for the resolution comment before an alert becomes Resolved."""
    return {
        "type": "modal",
        "callback_id": ids.RESOLVE_MODAL,
        "private_metadata": metadata.seal(ids.RESOLVE_MODAL, ref),
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


def intel_modal(
    ref: ids.AlertRef, values: list[tuple[str, str]], metadata: ids.ModalMetadata
) -> dict[str, Any]:
    """Pick one analysable value (attribute: IP); at most 100 options, as Slack allows."""
    labels: dict[str, list[str]] = {}
    for attribute, ip in values:
        labels.setdefault(ip, []).append(attribute)
    options = [
        {
            "text": {"type": "plain_text", "text": truncate(f"{', '.join(attrs)}: {ip}", 75)},
            "value": ip,
        }
        for ip, attrs in list(labels.items())[:100]
    ]
    return {
        "type": "modal",
        "callback_id": ids.INTEL_MODAL,
        "private_metadata": metadata.seal(ids.INTEL_MODAL, ref),
        "title": {"type": "plain_text", "text": "See Threat Intel"},
        "submit": {"type": "plain_text", "text": "Analyse"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": ids.INTEL_VALUE_BLOCK,
                "label": {"type": "plain_text", "text": "Which value?"},
                "element": {
                    "type": "static_select",
                    "action_id": ids.INTEL_VALUE_ACTION,
                    "options": options,
                    **({"initial_option": options[0]} if len(options) == 1 else {}),
                },
            }
        ],
    }
