"""Block Kit for the alert message and its thread replies: pure functions, state in, blocks out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.domain import Severity, Status, ip_values
from parley.enrichment.ranges import parse_ip
from parley.slack.ui import ids
from parley.slack.ui.intel import ip_marks, render_ip_section, text_length
from parley.slack.ui.text import (
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    SECTION_TEXT_MAX,
    escaped,
    mrkdwn,
    plain,
    truncate,
    user_mention,
)
from workflows.alert_types import AlertState

SEVERITY_EMOJI: dict[Severity, str] = {
    Severity.INFO: ":information_source:",
    Severity.LOW: ":large_blue_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.CRITICAL: ":red_circle:",
}
STATUS_EMOJI: dict[Status, str] = {
    Status.OPEN: ":new:",
    Status.TRIAGED: ":mag:",
    Status.RESOLVED: ":white_check_mark:",
    Status.INVALID: ":no_entry_sign:",
}
MAX_ATTRIBUTES_SHOWN = 10
MAX_TAGS_SHOWN = 10
# Slack refuses a message whose blocks hold more text than about 13.2k characters in all
# (msg_blocks_too_long): the IP lines get what the rest of the message leaves under this.
MESSAGE_TEXT_BUDGET = 12_000


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict[str, Any]]


def console_url(base: str, alert_id: str) -> str:
    return f"{base.rstrip('/')}/alerts/{alert_id}"


def severity_label(severity: Severity) -> str:
    return f"{SEVERITY_EMOJI[severity]} {severity.value}"


def fallback_text(state: AlertState) -> str:
    alert = state.alert
    text = f"[{alert.severity.value}] {alert.title} ({state.status.value})"
    return escaped(text, FALLBACK_TEXT_MAX)


def _attributes_text(state: AlertState, marks: dict[str, str]) -> str | None:
    attrs = state.alert.summary_attributes
    if not attrs:
        return None

    def value(v: str) -> str:
        # Flag, and 🧅 Tor / 🕶️ VPN, when analysed on arrival (keyed by the normalised address).
        ip = parse_ip(v) if marks else None
        mark = marks.get(str(ip)) if ip is not None else None
        return f"`{escaped(v, 200)}` {mark}" if mark else f"`{escaped(v, 200)}`"

    lines: list[str] = []
    for name, values in list(attrs.items())[:MAX_ATTRIBUTES_SHOWN]:
        shown = ", ".join(value(v) for v in values[:5])
        more = f" (+{len(values) - 5})" if len(values) > 5 else ""
        lines.append(f"• *{escaped(name, 100)}*: {shown or '_none_'}{more}")
    if len(attrs) > MAX_ATTRIBUTES_SHOWN:
        lines.append(f"_…and {len(attrs) - MAX_ATTRIBUTES_SHOWN} more in the console_")
    return truncate("*Summary*\n" + "\n".join(lines), SECTION_TEXT_MAX)


def _meta_text(state: AlertState) -> str:
    alert = state.alert
    text = f"Alert `{escaped(alert.id, 300)}` · rule `{escaped(alert.rule_id, 300)}`"
    if alert.source:
        text += f" · from {escaped(alert.source, 60)}"
    if alert.tags:
        text += " · " + " ".join(f"`{escaped(t, 60)}`" for t in alert.tags[:MAX_TAGS_SHOWN])
        if len(alert.tags) > MAX_TAGS_SHOWN:
            text += f" (+{len(alert.tags) - MAX_TAGS_SHOWN})"
    return truncate(text, 2900)


def source_label(source: str) -> str:
    """The source's button: "View in Panther"."""
    return f"View in {source or 'source'}"


def _assignee(state: AlertState) -> str:
    return user_mention(state.assignee_id) if state.assignee_id else "_Unassigned_"


def _status_options() -> list[dict[str, Any]]:
    return [
        {"text": plain(f"{s.value}", 75), "value": s.value}
        for s in (Status.OPEN, Status.TRIAGED, Status.RESOLVED, Status.INVALID)
    ]


def render_alert(
    state: AlertState, console_base_url: str, destination_id: str | None = None
) -> Rendered:
    """The alert message as posted and re-rendered in every channel; a destination that asked
    for enrichment on arrival also gets the per-IP lines and the summary's marks."""
    alert = state.alert
    intel = state.ip_intel
    if intel is not None and destination_id not in intel.destination_ids:
        intel = None
    status_line = f"{STATUS_EMOJI[state.status]} *{state.status.value}*"
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "title",
            "text": mrkdwn(f"{SEVERITY_EMOJI[alert.severity]} *{escaped(alert.title, 2900)}*"),
        },
        {
            "type": "section",
            "block_id": "facts",
            "fields": [
                mrkdwn(f"*Severity*\n{severity_label(alert.severity)}"),
                mrkdwn(f"*Status*\n{status_line}"),
                mrkdwn(f"*Assignee*\n{_assignee(state)}"),
                mrkdwn("*Rule*\n" + escaped(alert.rule_name or alert.rule_id, FIELD_TEXT_MAX - 10)),
                mrkdwn(f"*Log type*\n{escaped(alert.log_type or '—', FIELD_TEXT_MAX - 12)}"),
                mrkdwn(
                    f"*Events*\n{alert.event_count} since "
                    f"<!date^{int(alert.created_at.timestamp())}^{{date_short_pretty}} "
                    f"{{time}}|{alert.created_at.isoformat()}>"
                ),
            ],
        },
    ]
    if alert.description:
        blocks.append(
            {
                "type": "section",
                "block_id": "description",
                "text": mrkdwn(escaped(alert.description, SECTION_TEXT_MAX - 20)),
            }
        )
    if state.denied_by:
        who = ", ".join(user_mention(u) for u in state.denied_by[:10])
        blocks.append(
            {
                "type": "section",
                "block_id": "denied",
                "text": mrkdwn(
                    f'🚨 *Security signal:* {who} answered a Boomerang: *"No, this wasn\'t me"*'
                ),
            }
        )
    if state.status is Status.RESOLVED and state.resolution_comment:
        blocks.append(
            {
                "type": "section",
                "block_id": "resolution",
                "text": mrkdwn(
                    "*Resolution*\n" + escaped(state.resolution_comment, SECTION_TEXT_MAX - 20)
                ),
            }
        )
    attrs = _attributes_text(state, ip_marks(intel) if intel else {})
    if attrs:
        blocks.append({"type": "section", "block_id": "summary", "text": mrkdwn(attrs)})
    ip_at = len(blocks)
    if alert.runbook:
        blocks.append(
            {
                "type": "section",
                "block_id": "runbook",
                "text": mrkdwn("*Runbook*\n" + escaped(alert.runbook, SECTION_TEXT_MAX - 20)),
            }
        )
    blocks.append(
        {
            "type": "context",
            "block_id": "meta",
            "elements": [mrkdwn(_meta_text(state))],
        }
    )
    blocks.append(_actions(state, console_base_url))
    if intel is not None:
        budget = MESSAGE_TEXT_BUDGET - text_length(blocks)
        blocks[ip_at:ip_at] = render_ip_section(intel, budget)
    return Rendered(text=fallback_text(state), blocks=blocks)


def _actions(state: AlertState, console_base_url: str) -> dict[str, Any]:
    alert = state.alert
    ref = ids.AlertRef(alert_id=alert.id).dump()
    assignee: dict[str, Any] = {
        "type": "users_select",
        "action_id": ids.SET_ASSIGNEE,
        "placeholder": plain("Set Assignee", 150),
    }
    if state.assignee_id:
        assignee["initial_user"] = state.assignee_id
    status_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.UPDATE_STATUS,
        "placeholder": plain("Update Status", 150),
        "options": _status_options(),
    }
    current = next(o for o in _status_options() if o["value"] == state.status.value)
    status_select["initial_option"] = current
    elements: list[dict[str, Any]] = [
        {
            "type": "button",
            "action_id": ids.VIEW_IN_CONSOLE,
            "text": plain("View in console", 75),
            "url": console_url(console_base_url, alert.id),
            "value": ref,
        },
    ]
    if alert.source_url:  # the alert in its source's console, as the seed product shows it
        elements.append(
            {
                "type": "button",
                "action_id": ids.VIEW_IN_SOURCE,
                "text": plain(source_label(alert.source), 75),
                "url": alert.source_url,
                "value": ref,
            }
        )
    elements += [
        assignee,
        status_select,
        _button(ids.SHOW_DETAILS, "Show Alert Details", ref),
    ]
    if ip_values(alert.summary_attributes):  # only when there is something to analyse
        elements.append(_button(ids.THREAT_INTEL, "See Threat Intel", ref))
    elements.append(_button(ids.BOOMERANG, "Boomerang 🪃", ref))
    return {
        "type": "actions",
        "block_id": ids.actions_block_id(alert.id, state.revision),
        "elements": elements,
    }


def _button(action_id: str, label: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(label, 75), "value": value}


def render_change_reply(
    actor_mention: str, what: str, old: str | None, new: str | None, comment: str | None
) -> Rendered:
    """Thread reply for one change, e.g. "<@U123> changed status Open → Triaged".

    `actor_mention` is mrkdwn already (Actor.mention(): a console name arrives escaped); the
    comment is person-supplied and escaped here."""
    line = f"{actor_mention} changed {what} {old or 'nothing'} → {new or 'nobody'}"
    text = line
    if comment:
        text += "\n>" + escaped(comment, SECTION_TEXT_MAX - len(line) - 10).replace("\n", "\n>")
    return Rendered(
        text=truncate(text, FALLBACK_TEXT_MAX),
        blocks=[{"type": "section", "text": mrkdwn(truncate(text, SECTION_TEXT_MAX))}],
    )


def render_growth_line(added: int, total: int) -> Rendered:
    """The thread line for an alert that grew, e.g. "12 more events (57 in all)"."""
    events = "event" if added == 1 else "events"
    text = f":chart_with_upwards_trend: {added} more {events} ({total} in all)"
    return Rendered(text=text, blocks=[{"type": "section", "text": mrkdwn(text)}])
