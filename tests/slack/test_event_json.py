"""The event's JSON for Slack (parley/slack/ui/event_json.py): order kept, values clipped one by
one with their length, within the limit whatever the event (Hypothesis draws the events)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.slack.ui.event_json import event_attachment, event_text

LIMIT = 3500
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3000),
    lambda inner: (
        st.lists(inner, max_size=30) | st.dictionaries(st.text(max_size=120), inner, max_size=30)
    ),
    max_leaves=200,
)


def test_small_events_are_shown_whole_in_their_own_order() -> None:
    event = {"zeta": 1, "alpha": {"y": "b", "x": "a"}}
    shown = event_text(event, LIMIT)
    assert shown.complete and not shown.cut
    assert json.loads(shown.text) == event
    assert list(json.loads(shown.text)) == ["zeta", "alpha"]
    assert event_attachment("a1", event, "k", LIMIT) is None


def test_one_huge_value_is_clipped_and_the_rest_stays() -> None:
    event: dict[str, Any] = {"blob": "x" * 9000, "eventType": "user.session.start"}
    event["outcome"] = {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}
    shown = event_text(event, LIMIT)
    assert not shown.complete and not shown.cut
    parsed = json.loads(shown.text)  # still valid JSON: clipping happens inside values
    assert list(parsed) == ["blob", "eventType", "outcome"]
    assert parsed["blob"].endswith("… (9,000 characters)")
    assert parsed["outcome"]["reason"] == "INVALID_CREDENTIALS"
    file = event_attachment("a/1 x", event, "details/k", LIMIT)
    assert file is not None and json.loads(file.content) == event
    assert file.filename.startswith("event-a_1_x-") and file.filename.endswith(".json")
    assert file.filename != event_attachment("a/1 x", event, "details/k2", LIMIT).filename  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_always_within_the_limit_and_whole_when_it_fits(event: Any) -> None:
    shown = event_text(event, LIMIT)
    assert len(shown.text) <= LIMIT
    whole = json.dumps(event, indent=2, ensure_ascii=False)
    assert shown.complete == (len(whole) <= LIMIT)
    if shown.complete:
        assert shown.text == whole
    elif not shown.cut:
        parsed = json.loads(shown.text)
        if isinstance(event, dict):  # every top-level key is there, in order (keys may clip)
            assert len(parsed) == len(event)
