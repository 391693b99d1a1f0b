"""Block Kit for Boomerang 🪃: the asking modal, the DM, the reply modal, thread notes."""

from __future__ import annotations

from typing import Any

from parley.slack.ui import ids
from parley.slack.ui.alert import SEVERITY_EMOJI, Rendered
from parley.slack.ui.event_json import event_text
from parley.slack.ui.text import (
    FALLBACK_TEXT_MAX,
    SECTION_TEXT_MAX,
    escaped,
    plain,
    truncate,
)
from workflows.boomerang_types import AnswerKind, BoomerangInput, BoomerangStatus

# rich_text_preformatted is shown literally (no mrkdwn, no mentions); keep it well under the
# ~13k characters Slack accepts for a message's blocks in total.
EVENT_JSON_MAX = 2500
ANSWER_LABEL: dict[str, str] = {
    "yes": "✅ Yes, this was me",
    "no": "🚨 No, this wasn't me",
}


def ask_modal(ref: ids.AlertRef, alert_title: str, metadata: ids.ModalMetadata) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.BOOMERANG_MODAL,
        "private_metadata": metadata.seal(ids.BOOMERANG_MODAL, ref),
        "title": plain("Boomerang 🪃", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Ask someone about *{escaped(alert_title, 2800)}*",
                },
            },
            {
                "type": "input",
                "block_id": ids.BOOMERANG_RECIPIENT_BLOCK,
                "label": plain("Who should answer?", 2000),
                "element": {
                    "type": "users_select",
                    "action_id": ids.BOOMERANG_RECIPIENT_ACTION,
                    "placeholder": plain("Pick a person", 150),
                },
            },
            {
                "type": "input",
                "block_id": ids.BOOMERANG_QUESTION_BLOCK,
                "label": plain("Question", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.BOOMERANG_QUESTION_ACTION,
                    "multiline": True,
                    "max_length": 3000,
                    "placeholder": plain("Was this login from Lagos you?", 150),
                },
            },
            {
                "type": "input",
                "block_id": ids.BOOMERANG_SHARE_BLOCK,
                "optional": True,
                "label": plain("Event details", 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.BOOMERANG_SHARE_ACTION,
                    "options": [
                        {
                            "text": plain("Share Event Details with Recipient"),
                            "value": ids.BOOMERANG_SHARE_VALUE,
                        }
                    ],
                },
            },
        ],
    }


def reply_modal(
    ref: ids.BoomerangRef, question: str, metadata: ids.ModalMetadata
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.BOOMERANG_REPLY_MODAL,
        "private_metadata": metadata.seal(ids.BOOMERANG_REPLY_MODAL, ref),
        "title": plain("Reply", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": ">" + escaped(question, 2900)},
            },
            {
                "type": "input",
                "block_id": ids.BOOMERANG_REPLY_BLOCK,
                "label": plain("Your answer", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.BOOMERANG_REPLY_ACTION,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


def _quote(text: str, limit: int = 2500) -> str:
    return ">" + escaped(text, limit).replace("\n", "\n>")


def dm(
    inp: BoomerangInput,
    status: BoomerangStatus,
    answer_kind: AnswerKind | None = None,
    answer_text: str | None = None,
    reminder: bool = False,
) -> Rendered:
    """The recipient's DM; re-rendered when answered, expired or no longer needed."""
    emoji = SEVERITY_EMOJI[inp.alert_severity]
    head = f"🪃 {inp.asker.mention()} asks you about a security alert"
    if reminder:
        head = "⏰ Reminder: " + head
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _quote(inp.question)}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{emoji} {inp.alert_severity.value} · "
                    f"<{inp.console_url}|{escaped(inp.alert_title, 1500)}>",
                }
            ],
        },
    ]
    if inp.first_event is not None:
        event = event_text(inp.first_event, EVENT_JSON_MAX)
        text = event.text
        blocks.append(
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": text}]}
                ],
            }
        )
        if not event.complete:
            how = "cut short" if event.cut else "long values clipped"
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        {
                            "type": "mrkdwn",
                            "text": f"Event {how} to fit Slack; the whole event is in the file "
                            f"below and in <{inp.console_url}|the console>.",
                        }
                    ],
                }
            )
    if status == "open":
        blocks.append(answer_actions(inp.boomerang_id, inp.recipient_id, "boomerang_actions"))
    else:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": closed_line(status, answer_kind, answer_text)},
            }
        )
    fallback = (
        f"🪃 Question about {inp.alert_severity.value} alert {inp.alert_title}: {inp.question}"
    )
    return Rendered(text=escaped(fallback, FALLBACK_TEXT_MAX), blocks=blocks)


def answer_actions(boomerang_id: str, recipient_id: str, block_id: str) -> dict[str, Any]:
    """Yes / No / Reply…: on the DM, and on the recipient's App Home."""
    ref = ids.BoomerangRef(boomerang_id=boomerang_id, recipient_id=recipient_id).dump()
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "button",
                "action_id": ids.BOOMERANG_YES,
                "text": plain("Yes, this was me"),
                "style": "primary",
                "value": ref,
            },
            {
                "type": "button",
                "action_id": ids.BOOMERANG_NO,
                "text": plain("No, this wasn't me"),
                "style": "danger",
                "value": ref,
            },
            {
                "type": "button",
                "action_id": ids.BOOMERANG_REPLY,
                "text": plain("Reply…"),
                "value": ref,
            },
        ],
    }


def closed_line(
    status: BoomerangStatus, answer_kind: AnswerKind | None, answer_text: str | None
) -> str:
    if status == "answered":
        label = ANSWER_LABEL.get(answer_kind or "", "💬 Answered")
        return truncate(
            f"*{label}*" + (f"\n{_quote(answer_text)}" if answer_text else "") + "\nThank you!",
            SECTION_TEXT_MAX,
        )
    if status == "expired":
        return "⌛ *This question expired* without an answer."
    if status == "cancelled":
        return "✔️ *No longer needed*: the alert was closed."
    return "This question can no longer be answered."


def answer_summary(kind: AnswerKind | None, text: str | None) -> str:
    if kind == "no":
        return "🚨 *No, this wasn't me*" + (f"\n{_quote(text)}" if text else "")
    if kind == "yes":
        return "✅ *Yes, this was me*" + (f"\n{_quote(text)}" if text else "")
    return _quote(text or "")
