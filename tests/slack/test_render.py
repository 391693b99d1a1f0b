"""The alert renderer: pure, escaped, and always within Block Kit's limits.

Blocks are checked with the stand-in's validator, the same code that refuses them over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from parley.domain import AlertIn, Severity, Status
from parley.slack.ui import ids
from parley.slack.ui.alert import render_alert, render_change_reply
from parley.slack.ui.modals import resolve_modal
from parley.slack.ui.text import escape, escaped, pretty_json
from tools.slack_standin.blockkit import validate_message_blocks, validate_view
from workflows.alert_types import AlertState


def _state(**alert: Any) -> AlertState:
    fields: dict[str, Any] = {
        "id": "a-1",
        "title": "Root login",
        "severity": Severity.CRITICAL,
        "rule_id": "AWS.Root.Login",
        "created_at": datetime(2026, 11, 30, 7, tzinfo=UTC),
    }
    fields.update(alert)
    return AlertState(alert=AlertIn.model_validate(fields))


def _all_text(blocks: list[dict[str, Any]]) -> str:
    import json

    return json.dumps(blocks)


def test_same_state_gives_same_blocks() -> None:
    state = _state(summary_attributes={"ip": ["203.0.113.9"]})
    assert render_alert(state, "http://c") == render_alert(state, "http://c")


def test_message_has_the_triage_buttons_and_facts() -> None:
    state = _state(runbook="Call the owner")
    state.status = Status.TRIAGED
    state.assignee_id = "U0BOB"
    out = render_alert(state, "http://console.test/")
    assert validate_message_blocks(out.blocks) == []
    actions = next(b for b in out.blocks if b["type"] == "actions")
    by_id = {e["action_id"]: e for e in actions["elements"]}
    assert by_id[ids.VIEW_IN_CONSOLE]["url"] == "http://console.test/alerts/a-1"
    assert by_id[ids.SET_ASSIGNEE]["initial_user"] == "U0BOB"
    assert by_id[ids.UPDATE_STATUS]["initial_option"]["value"] == "Triaged"
    assert [o["value"] for o in by_id[ids.UPDATE_STATUS]["options"]] == [
        "Open", "Triaged", "Resolved", "Invalid",
    ]  # fmt: skip
    assert ids.alert_id_from_block_id(actions["block_id"]) == "a-1"
    text = _all_text(out.blocks)
    assert ":red_circle:" in text and "Call the owner" in text and "<@U0BOB>" in text
    assert "Triaged" in out.text


def test_huge_alert_stays_within_block_kit_limits() -> None:
    state = _state(
        title="T" * 1000,
        runbook="R&<>" * 5000,
        rule_name="N" * 500,
        summary_attributes={f"attr{i}": [f"v{j}" * 100 for j in range(20)] for i in range(40)},
    )
    state.status = Status.RESOLVED
    state.resolution_comment = "C" * 3000
    out = render_alert(state, "http://c")
    assert validate_message_blocks(out.blocks) == []
    assert len(out.text) <= 3000


@pytest.mark.parametrize(
    "hostile", ["<!channel>", "<!here|here>", "<https://evil.example|click>", "<@U0BOB>", "a & b"]
)
def test_alert_text_is_escaped_everywhere(hostile: str) -> None:
    state = _state(
        title=hostile, runbook=hostile, rule_id="r", summary_attributes={hostile: [hostile]}
    )
    out = render_alert(state, "http://c")
    raw = _all_text(out.blocks) + out.text
    assert hostile not in raw
    assert escape(hostile) in raw


def test_escaped_never_cuts_an_entity_in_half() -> None:
    out = escaped("<" * 100, 50)
    assert len(out) <= 50
    assert out.endswith("…") and not out[:-1].endswith(("&", "&l", "&lt"))


def test_threat_intel_button_only_with_an_ip() -> None:
    with_ip = render_alert(_state(summary_attributes={"src": ["2001:db8::1"]}), "c")
    without = render_alert(_state(summary_attributes={"user": ["alice"]}), "c")
    assert ids.THREAT_INTEL in _all_text(with_ip.blocks)
    assert ids.THREAT_INTEL not in _all_text(without.blocks)


def test_change_reply_quotes_the_comment_escaped() -> None:
    out = render_change_reply("<@U1>", "status", "Open", "Resolved", "fixed <!channel>")
    assert out.text.startswith("<@U1> changed status Open → Resolved")
    assert "&lt;!channel&gt;" in out.text and "<!channel>" not in out.text
    assert validate_message_blocks(out.blocks) == []


def test_resolve_modal_is_valid_and_carries_the_alert_signed() -> None:
    ref = ids.AlertRef(alert_id="a-1", channel="C1", message_ts="1.2")
    metadata = ids.ModalMetadata("k" * 32)
    view = resolve_modal(ref, "<b>title</b>", metadata)
    assert validate_view(view) == []
    assert metadata.unseal(ids.RESOLVE_MODAL, view["private_metadata"], ids.AlertRef) == ref


def test_pretty_json_cuts_on_a_line_boundary() -> None:
    text, cut = pretty_json({"k": ["x" * 50] * 200}, 500)
    assert cut and len(text) <= 500 and text.endswith(",")
    small, cut_small = pretty_json({"a": 1}, 500)
    assert not cut_small and small == '{\n  "a": 1\n}'
