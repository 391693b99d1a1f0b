"""What a source's own webhook adds to the message (issue 11): View in <source>, description and
tags, the payload as sent in Show Alert Details, and the "more events" line. Checked with the
stand-in's Block Kit validator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from parley.domain import AlertIn, Severity
from parley.slack.ui import ids
from parley.slack.ui.alert import render_alert, render_growth_line
from parley.slack.ui.details import render_details
from tools.slack_standin.blockkit import validate_message_blocks
from workflows.alert_types import AlertState

LINK = "https://acme.runpanther.net/alerts/7d0c5e4b9a2f4e61b3c8d1f0a6e2b947"


def _state(**alert: Any) -> AlertState:
    fields: dict[str, Any] = {
        "id": "a-1",
        "title": "Okta sign-in from BR",
        "severity": Severity.HIGH,
        "rule_id": "Okta.SignIn.NewCountry",
        "created_at": datetime(2026, 11, 30, 7, tzinfo=UTC),
        "summary_attributes": {"client.ip": ["198.51.100.23"]},
    }
    fields.update(alert)
    return AlertState(alert=AlertIn.model_validate(fields))


def _actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return next(b for b in blocks if b["type"] == "actions")["elements"]


def test_view_in_source_sits_beside_view_in_console() -> None:
    out = render_alert(_state(source="Panther", source_url=LINK), "http://console.test")
    assert validate_message_blocks(out.blocks) == []
    elements = _actions(out.blocks)
    assert [e["action_id"] for e in elements[:2]] == [ids.VIEW_IN_CONSOLE, ids.VIEW_IN_SOURCE]
    assert elements[1]["text"]["text"] == "View in Panther" and elements[1]["url"] == LINK
    assert ids.THREAT_INTEL in [e["action_id"] for e in elements]


def test_no_source_link_no_button() -> None:
    out = render_alert(_state(source="Panther"), "http://console.test")
    assert ids.VIEW_IN_SOURCE not in [e["action_id"] for e in _actions(out.blocks)]


def test_description_and_tags_are_shown_escaped() -> None:
    state = _state(description="First sign-in <!channel> from BR", tags=["Okta", "T*1078"])
    out = render_alert(state, "http://console.test")
    assert validate_message_blocks(out.blocks) == []
    description = next(b for b in out.blocks if b.get("block_id") == "description")
    assert description["text"]["text"] == "First sign-in &lt;!channel&gt; from BR"
    meta = next(b for b in out.blocks if b.get("block_id") == "meta")
    assert "`Okta` `T*1078`" in meta["elements"][0]["text"]


def test_details_show_the_payload_as_the_source_sent_it() -> None:
    raw = {"id": "Okta.SignIn.NewCountry", "futureField": {"added": "later"}}
    out = render_details(_state(source="Panther", raw=raw), {}, "http://console.test")
    assert validate_message_blocks(out.blocks) == []
    text = json.dumps(out.blocks)
    assert "*As Panther sent it*" in text and "futureField" in text


def test_growth_line() -> None:
    assert render_growth_line(54, 57).text.endswith("54 more events (57 in all)")
    assert render_growth_line(1, 2).text.endswith("1 more event (2 in all)")
    assert validate_message_blocks(render_growth_line(3, 4).blocks) == []
