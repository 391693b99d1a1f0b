"""Block Kit for a storm's digest message, its thread replies and its bulk-action modal.

Pure functions: a `DigestView` in, blocks out. However many alerts a storm has, the digest stays
within Slack's limits: counts by severity, the newest few titles, the time span, and the bulk
actions taken; the console lists every member.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.domain import Severity, Status
from parley.slack.ui import ids
from parley.slack.ui.alert import SEVERITY_EMOJI, Rendered, console_url
from parley.slack.ui.text import (
    FALLBACK_TEXT_MAX,
    SECTION_TEXT_MAX,
    clip,
    escaped,
    mrkdwn,
    plain,
    truncate,
)
from workflows.storm_types import BulkRecord, DigestView

NEWEST_SHOWN = 10
TITLE_MAX = 150
BULK_SHOWN = 5
HEADER_MAX = 150


def storm_url(base: str, storm_id: str) -> str:
    return f"{base.rstrip('/')}/storms/{storm_id}"


def span_text(seconds: float) -> str:
    """A duration as people say it: "45 s", "14 min", "2 h 5 min", "3 d 4 h"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _when(at: datetime) -> str:
    """A time every Slack client shows in its reader's own time zone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at.isoformat()}>"


def _rule(view: DigestView, limit: int) -> str:
    return escaped(view.rule_name or view.rule_id, limit)


def counts_text(counts: dict[Severity, int]) -> str:
    """Counts like "12 Low, 3 Medium", most severe first."""
    parts = [f"{counts[s]} {s.value}" for s in reversed(Severity) if counts.get(s)]
    return ", ".join(parts) or "no alerts"


def _did(status: Status, what: str) -> str:
    return f"resolved {what}" if status is Status.RESOLVED else f"marked {what} {status.value}"


def bulk_line(record: BulkRecord) -> str:
    who = record.actor.mention()
    total = record.total or 0
    if record.done:
        line = f"{who} {_did(record.status, f'all {total} alerts of the storm')}"
    else:
        progress = f"{record.next_index} of {total or '…'}"
        line = f"{who} {_did(record.status, progress)} (in progress)"
    if record.gone:
        line += f"; {record.gone} had already closed for good"
    return line + f': "{escaped(record.comment, 300)}"'


def fallback_text(view: DigestView) -> str:
    state = "ended" if view.ended_at else "ongoing"
    text = (
        f"Alert storm ({state}): {view.total} alerts of {view.rule_name or view.rule_id} "
        f"({counts_text(view.counts)})"
    )
    return escaped(text, FALLBACK_TEXT_MAX)


def _summary(view: DigestView) -> str:
    span = span_text((view.last_at - view.started_at).total_seconds())
    rule = f"`{escaped(view.rule_id, 300)}`"
    if view.rule_name:
        rule = f"*{escaped(view.rule_name, 500)}* ({rule})"
    if view.ended_at:
        quiet = span_text(view.window_seconds)
        return (
            f"*Storm over* {_when(view.ended_at)}: *{view.total} alerts* of {rule} "
            f"between {_when(view.started_at)} and {_when(view.last_at)} ({span}), "
            f"then none for {quiet}."
        )
    return (
        f"*{view.total} alerts* of {rule} since {_when(view.started_at)} ({span} so far). "
        "They are gathered here instead of posted one by one; High and Critical alerts still "
        "post on their own."
    )


def _newest(view: DigestView, base: str) -> str:
    """Whole lines only (a cut link would show as markup), within the section's limit."""
    lines: list[str] = []
    room = SECTION_TEXT_MAX - 80  # for the heading
    for m in view.newest[:NEWEST_SHOWN]:
        title = escaped(m.title or m.alert_id, TITLE_MAX).replace("|", "¦")
        line = (
            f"• {SEVERITY_EMOJI[m.severity]} <{console_url(base, m.alert_id)}|{title}> "
            f"{_when(m.at)}"
        )
        room -= len(line) + 1
        if room < 0:
            break
        lines.append(line)
    more = view.total - len(lines)
    head = "*Newest*" + (f" (and {more} more in the console)" if more > 0 else "")
    return "\n".join([head, *lines])


def render_digest(view: DigestView, console_base_url: str) -> Rendered:
    """The digest message: posted once per storm, re-rendered as alerts join and when it ends."""
    # The header is plain text, where Slack escapes nothing: no alert data goes in it.
    label = "✅ Alert storm ended" if view.ended_at else "🌩️ Alert storm"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": "storm.header", "text": plain(label, HEADER_MAX)},
        {"type": "section", "block_id": "storm.summary", "text": mrkdwn(_summary(view))},
    ]
    counts = [
        mrkdwn(f"*{SEVERITY_EMOJI[s]} {s.value}*\n{view.counts[s]}")
        for s in reversed(Severity)
        if view.counts.get(s)
    ]
    if counts:
        blocks.append({"type": "section", "block_id": "storm.counts", "fields": counts})
    if view.newest:
        blocks.append(
            {
                "type": "section",
                "block_id": "storm.newest",
                "text": mrkdwn(_newest(view, console_base_url)),
            }
        )
    notes = []
    if view.posted:
        notes.append(f"{view.posted} posted on their own before the storm began")
    notes.append(f"channel <#{view.channel}>")
    notes.append(f"storm `{escaped(view.storm_id, 100)}`")
    blocks.append(
        {"type": "context", "block_id": "storm.meta", "elements": [mrkdwn(" · ".join(notes))]}
    )
    if view.bulk:
        shown = view.bulk[-BULK_SHOWN:]
        text = "\n".join(bulk_line(b) for b in shown)
        if len(view.bulk) > BULK_SHOWN:
            text = f"_{len(view.bulk) - BULK_SHOWN} earlier bulk actions in the thread_\n" + text
        blocks.append(
            {
                "type": "section",
                "block_id": "storm.bulk",
                "text": mrkdwn(clip(text, SECTION_TEXT_MAX)),
            }
        )
    blocks.append(_actions(view, console_base_url))
    return Rendered(text=fallback_text(view), blocks=blocks)


def _actions(view: DigestView, console_base_url: str) -> dict[str, Any]:
    ref = ids.StormRef(storm_id=view.storm_id, workflow_id=view.workflow_id).dump()
    elements: list[dict[str, Any]] = [
        {
            "type": "button",
            "action_id": ids.STORM_LIST,
            "text": plain(f"List all {view.total}", 75),
            "url": storm_url(console_base_url, view.storm_id),
            "value": ref,
        }
    ]
    if not view.ended_at:  # the storm's workflow is gone once it ended
        elements += [
            {
                "type": "button",
                "action_id": ids.STORM_RESOLVE_ALL,
                "text": plain("Resolve all in this storm…", 75),
                "value": ref,
            },
            {
                "type": "button",
                "action_id": ids.STORM_INVALID_ALL,
                "text": plain("Mark all Invalid…", 75),
                "style": "danger",
                "value": ref,
            },
        ]
    return {"type": "actions", "block_id": "storm.actions", "elements": elements}


def render_end_reply(view: DigestView) -> Rendered:
    """The thread reply when the storm is over: what it was, in one message."""
    span = span_text((view.last_at - view.started_at).total_seconds())
    text = (
        f"✅ Storm over after {span}: {view.total} alerts of {_rule(view, 300)} "
        f"({counts_text(view.counts)}), none in the last {span_text(view.window_seconds)}. "
        "New alerts of this rule post on their own again."
    )
    for record in view.bulk[-BULK_SHOWN:]:
        text += "\n• " + bulk_line(record)
    text = clip(text, SECTION_TEXT_MAX)
    return Rendered(
        text=truncate(text, FALLBACK_TEXT_MAX),
        blocks=[{"type": "section", "text": mrkdwn(text)}],
    )


def render_bulk_reply(record: BulkRecord) -> Rendered:
    text = clip("🧹 " + bulk_line(record), SECTION_TEXT_MAX)
    return Rendered(
        text=truncate(text, FALLBACK_TEXT_MAX),
        blocks=[{"type": "section", "text": mrkdwn(text)}],
    )


def bulk_modal(ref: ids.StormRef, rule: str, metadata: ids.ModalMetadata) -> dict[str, Any]:
    """Asks for the comment that every alert of the storm gets with its new status."""
    status = Status(ref.status or Status.RESOLVED.value)
    resolve = status is Status.RESOLVED
    what = "resolves" if resolve else "marks Invalid"
    return {
        "type": "modal",
        "callback_id": ids.STORM_BULK_MODAL,
        "private_metadata": metadata.seal(ids.STORM_BULK_MODAL, ref),
        "title": plain("Resolve storm" if resolve else "Mark storm Invalid", 24),
        "submit": plain("Resolve all" if resolve else "Mark all Invalid", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    f"This {what} every alert in the storm of *{escaped(rule, 500)}* that is "
                    "in it now, each through its own workflow: each alert's history, its "
                    "Slack copies and their threads show the change."
                ),
            },
            {
                "type": "input",
                "block_id": ids.STORM_COMMENT_BLOCK,
                "label": plain("Comment for every alert", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.STORM_COMMENT_ACTION,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }
