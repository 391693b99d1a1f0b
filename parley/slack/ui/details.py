"""Block Kit for Show Alert Details: summary fields, event details, first event (pure)."""

from __future__ import annotations

from typing import Any

from parley.slack.ui.alert import Rendered, console_url, severity_label
from parley.slack.ui.event_json import event_text
from parley.slack.ui.text import FIELD_TEXT_MAX, escaped, mrkdwn, truncate
from workflows.alert_types import AlertState

# The first event's share of a message (Slack takes ~13k characters of block text in all); when
# the alert also shows what its source sent (issue 11), each of the two gets the smaller share.
EVENT_JSON_MAX = 3500
EVENT_JSON_SHARED_MAX = 2500
FIELDS_PER_SECTION = 10
MAX_ATTRIBUTE_SECTIONS = 4  # 40 attributes; the console has the rest
VALUES_PER_ATTRIBUTE = 10


def _value_line(value: str, locations: dict[str, str]) -> str:
    line = f"`{escaped(value, 300)}`"
    place = locations.get(value)
    return f"{line} {escaped(place, 200)}" if place else line


def first_event_limit(state: AlertState) -> int:
    """How many characters the first event may take (Show Alert Details uploads the whole event
    as a file when it does not fit in them)."""
    return EVENT_JSON_SHARED_MAX if state.alert.raw is not None else EVENT_JSON_MAX


def render_details(state: AlertState, locations: dict[str, str], console_base_url: str) -> Rendered:
    """`locations` maps an IP value to its one-line place ("🇺🇸 California, USA")."""
    alert = state.alert
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(f"*Alert details* · {escaped(alert.title, 2800)}")}
    ]
    fields: list[dict[str, str]] = []
    for name, values in alert.summary_attributes.items():
        shown = [_value_line(v, locations) for v in values[:VALUES_PER_ATTRIBUTE]]
        if len(values) > VALUES_PER_ATTRIBUTE:
            shown.append(f"_+{len(values) - VALUES_PER_ATTRIBUTE} more_")
        body = "\n".join(shown) or "_none_"
        fields.append(mrkdwn(truncate(f"*{escaped(name, 200)}*\n{body}", FIELD_TEXT_MAX)))
    if fields:
        blocks.append({"type": "section", "text": mrkdwn("*Summary fields*")})
        limit = FIELDS_PER_SECTION * MAX_ATTRIBUTE_SECTIONS
        for i in range(0, min(len(fields), limit), FIELDS_PER_SECTION):
            blocks.append({"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]})
        if len(fields) > limit:
            blocks.append(
                {
                    "type": "context",
                    "elements": [mrkdwn(f"{len(fields) - limit} more fields in the console")],
                }
            )
    created = int(alert.created_at.timestamp())
    blocks += [
        {"type": "section", "text": mrkdwn("*Event details*")},
        {
            "type": "section",
            "fields": [
                mrkdwn(
                    f"*Rule*\n{escaped(alert.rule_name or alert.rule_id, 900)}\n"
                    f"`{escaped(alert.rule_id, 900)}`"
                ),
                mrkdwn(f"*Log type*\n{escaped(alert.log_type or '—', 1000)}"),
                mrkdwn(f"*Severity*\n{severity_label(alert.severity)}"),
                mrkdwn(
                    f"*Created*\n<!date^{created}^{{date_short_pretty}} {{time}}|"
                    f"{alert.created_at.isoformat()}>"
                ),
                mrkdwn(f"*Events*\n{alert.event_count}"),
                mrkdwn(f"*Alert id*\n`{escaped(alert.id, 300)}`"),
            ],
        },
    ]
    link = console_url(console_base_url, alert.id)
    limit = first_event_limit(state)
    shown: list[tuple[str, Any, str]] = []
    if alert.first_event is not None:
        shown.append(("*First event*", alert.first_event, "the file below and "))
    if alert.raw is not None:  # what the source sent, unknown fields included (issue 11)
        label = f"*As {escaped(alert.source, 60)} sent it*" if alert.source else "*As sent*"
        shown.append((label, alert.raw, ""))
    for label, value, file_note in shown:
        event = event_text(value, limit)
        blocks.append({"type": "section", "text": mrkdwn(label)})
        # rich_text_preformatted shows the JSON literally: no mrkdwn, no mentions, no links.
        blocks.append(
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_preformatted",
                        "elements": [{"type": "text", "text": event.text}],
                    }
                ],
            }
        )
        if not event.complete:
            how = "Cut short" if event.cut else "Long values clipped"
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        mrkdwn(
                            f"{how} to fit Slack: all of it is in {file_note}<{link}|the console>."
                        )
                    ],
                }
            )
    fallback = f"Alert details for {alert.title}"
    return Rendered(text=escaped(fallback, 3000), blocks=blocks)
