"""The storm digest renderer: pure, escaped, and within Block Kit's limits however big the storm.

Blocks are checked with the stand-in's validator, the same code that refuses them over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from parley.domain import Actor, Severity, Status
from parley.slack.ui import ids
from parley.slack.ui.storm import (
    bulk_modal,
    render_bulk_reply,
    render_digest,
    render_end_reply,
    span_text,
)
from tools.slack_standin.blockkit import (
    MSG_BLOCKS_TEXT_MAX,
    blocks_text_length,
    validate_message_blocks,
    validate_view,
)
from workflows.storm_types import (
    BulkRecord,
    DigestView,
    StormMember,
    bulk_member_key,
    storm_workflow_id,
)

T0 = datetime(2026, 11, 30, 7, tzinfo=UTC)
HOSTILE = "<!channel> <https://evil.example|click> & <@U0BOB> | "
ALICE = Actor(source="slack", id="U0ALICE", name="alice")


def _members(n: int, title: str = "Login from a new country") -> list[StormMember]:
    severities = [Severity.LOW, Severity.MEDIUM, Severity.INFO]
    return [
        StormMember(
            alert_id=f"alert-{i:05d}-" + "x" * 100,
            title=f"{title} {i}",
            severity=severities[i % 3],
            at=T0 + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def _view(members: list[StormMember], **changes: object) -> DigestView:
    counts: dict[Severity, int] = {}
    for m in members:
        counts[m.severity] = counts.get(m.severity, 0) + 1
    fields: dict[str, object] = {
        "storm_id": "0123456789abcdef",
        "workflow_id": storm_workflow_id("C0ALERTS", "Okta.Login"),
        "channel": "C0ALERTS",
        "rule_id": "Okta.Login",
        "rule_name": "Okta login",
        "started_at": members[0].at if members else T0,
        "last_at": members[-1].at if members else T0,
        "total": len(members),
        "counts": counts,
        "newest": list(reversed(members[-10:])),
        "window_seconds": 600,
    }
    fields.update(changes)
    return DigestView.model_validate(fields)


def _bulk(n: int, comment: str = "misfire after a deploy") -> list[BulkRecord]:
    return [
        BulkRecord(
            key=f"view:V{i}:U0ALICE",
            status=Status.RESOLVED if i % 2 else Status.INVALID,
            comment=comment,
            actor=ALICE,
            at=T0,
            total=500,
            next_index=500 if i else 120,
            done=bool(i),
            gone=3,
        )
        for i in range(n)
    ]


def _within_limits(blocks: list[dict]) -> None:
    assert validate_message_blocks(blocks) == []
    assert blocks_text_length(blocks) <= MSG_BLOCKS_TEXT_MAX


def test_same_view_gives_same_blocks() -> None:
    view = _view(_members(30))
    assert render_digest(view, "http://c") == render_digest(view, "http://c")


def test_hundreds_of_members_with_the_longest_texts_stay_within_limits() -> None:
    members = _members(800, title="é&<>" * 250)  # 1,000-character titles, all escaped
    view = _view(
        members,
        rule_id="R" * 255,
        rule_name=HOSTILE * 10,
        bulk=_bulk(12, comment="&" * 3000),
        posted=20,
    )
    out = render_digest(view, "http://console.test/" + "p" * 200)
    _within_limits(out.blocks)
    assert len(out.text) <= 3000
    newest = next(b for b in out.blocks if b.get("block_id") == "storm.newest")
    assert "more in the console" in newest["text"]["text"]
    # Whole lines only: a cut link would show raw markup.
    lines = newest["text"]["text"].split("\n")[1:]
    assert lines and all(line.count("<") == line.count(">") == 2 for line in lines)
    for reply in (render_end_reply(view), render_bulk_reply(view.bulk[-1])):
        _within_limits(reply.blocks)
        assert len(reply.text) <= 3000


def test_counts_newest_titles_and_span_are_shown() -> None:
    members = _members(42)
    out = render_digest(_view(members), "http://console.test")
    text = json.dumps(out.blocks)
    assert "*42 alerts*" in text and "41 s so far" in text
    counts = next(b for b in out.blocks if b.get("block_id") == "storm.counts")
    assert [f["text"].split("*")[1].split()[-1] for f in counts["fields"]] == [
        "Medium",
        "Low",
        "Info",
    ]
    assert "Login from a new country 41" in text and "Login from a new country 31" not in text
    assert "http://console.test/alerts/alert-00041-" in text
    actions = next(b for b in out.blocks if b["type"] == "actions")
    by_id = {e["action_id"]: e for e in actions["elements"]}
    assert list(by_id) == [ids.STORM_LIST, ids.STORM_RESOLVE_ALL, ids.STORM_INVALID_ALL]
    assert by_id[ids.STORM_LIST]["url"] == "http://console.test/storms/0123456789abcdef"
    ref = ids.parse_storm_ref(by_id[ids.STORM_RESOLVE_ALL]["value"])
    assert ref is not None and ref.workflow_id == "storm-C0ALERTS-Okta.Login"


def test_alert_text_is_escaped() -> None:
    members = _members(3, title=HOSTILE)
    out = render_digest(_view(members, rule_name=HOSTILE), "http://c")
    raw = json.dumps(out.blocks) + out.text
    assert "<!channel>" not in raw and "<https://evil" not in raw and "<@U0BOB>" not in raw
    end = render_end_reply(_view(members, rule_name=HOSTILE, ended_at=T0))
    assert "<!channel>" not in end.text


def test_an_ended_storm_says_so_and_keeps_only_the_list() -> None:
    members = _members(25)
    view = _view(members, ended_at=members[-1].at + timedelta(minutes=10), bulk=_bulk(2))
    out = render_digest(view, "http://c")
    text = json.dumps(out.blocks, ensure_ascii=False)
    assert "Storm over" in text and "Alert storm ended" in text
    actions = next(b for b in out.blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [ids.STORM_LIST]
    end = render_end_reply(view)
    assert "25 alerts" in end.text and "(8 Medium, 9 Low, 8 Info)" in end.text
    assert "none in the last 10 min" in end.text
    assert "resolved all 500 alerts of the storm" in end.text


def test_bulk_lines_say_who_what_and_progress() -> None:
    running, done = _bulk(2)
    assert "<@U0ALICE> marked 120 of 500 Invalid (in progress)" in render_bulk_reply(running).text
    assert "<@U0ALICE> resolved all 500 alerts of the storm" in render_bulk_reply(done).text
    assert "3 had already closed for good" in render_bulk_reply(done).text


def test_bulk_modal_is_a_valid_view_with_signed_metadata() -> None:
    metadata = ids.ModalMetadata("k" * 40)
    ref = ids.StormRef(storm_id="s1", workflow_id="storm-C0ALERTS-" + "R" * 255, status="Invalid")
    view = bulk_modal(ref, HOSTILE * 20, metadata)
    assert validate_view(view) == []
    assert view["callback_id"] == ids.STORM_BULK_MODAL
    assert metadata.unseal(ids.STORM_BULK_MODAL, view["private_metadata"], ids.StormRef) == ref
    assert metadata.unseal(ids.RESOLVE_MODAL, view["private_metadata"], ids.StormRef) is None
    assert "<!channel>" not in json.dumps(view)


def test_span_text() -> None:
    assert [span_text(s) for s in (0, 59, 60, 3599, 3600, 3660, 86400, 90000)] == [
        "0 s", "59 s", "1 min", "59 min", "1 h", "1 h 1 min", "1 d", "1 d 1 h",
    ]  # fmt: skip


def test_bulk_member_keys_are_stable_distinct_and_short() -> None:
    key = bulk_member_key("view:V0ABC:U0ALICE", "a" * 128)
    assert key == bulk_member_key("view:V0ABC:U0ALICE", "a" * 128)
    assert key != bulk_member_key("view:V0ABD:U0ALICE", "a" * 128)
    assert key != bulk_member_key("view:V0ABC:U0ALICE", "b" * 128)
    # status/<key> is the member's history key: it must fit the store's 255 characters.
    assert len("status/" + key) <= 255
