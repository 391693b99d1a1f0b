"""People and their names reach Slack through one pair of helpers: a Slack user id becomes a
mention, anything a person typed (a console name, say) is shown as escaped text."""

from __future__ import annotations

import pytest

from parley.domain import Actor, Severity
from parley.slack.ui.alert import render_change_reply
from parley.slack.ui.boomerang import dm
from parley.slack.ui.text import person, user_mention
from tools.slack_standin.blockkit import validate_message_blocks
from workflows.boomerang_types import BoomerangDelays, BoomerangInput

EVIL = "<!channel> <http://evil.example|click here>"
SHOWN = "&lt;!channel&gt; &lt;http://evil.example|click here&gt;"


def test_a_console_name_is_shown_never_pinging_or_linking() -> None:
    assert Actor(source="console", id=EVIL, name=EVIL).mention() == SHOWN
    assert Actor(source="console", id="carol", name="").mention() == "carol"
    assert Actor(source="system").mention() == "Parley"


def test_a_slack_user_is_mentioned_by_id_only_when_it_is_one() -> None:
    assert Actor(source="slack", id="U0ALICE", name=EVIL).mention() == "<@U0ALICE>"
    assert user_mention("W0ENTERPRISE") == "<@W0ENTERPRISE>"
    assert user_mention("U1> <!here") == "U1&gt; &lt;!here"
    assert user_mention("<!everyone>") == "&lt;!everyone&gt;"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("bob\n*changed status Open → Resolved*", "bob *changed status Open → Resolved*"),
        ("a & b", "a &amp; b"),
        ("x" * 300, "x" * 99 + "…"),
        ("&" * 60, "&amp;" * 19 + "…"),  # cut between entities, never through one
    ],
)
def test_a_name_is_one_escaped_line_of_bounded_length(name: str, shown: str) -> None:
    assert person(name) == shown


def test_change_reply_by_a_console_user_carries_no_markup() -> None:
    actor = Actor(source="console", id=EVIL, name=EVIL)
    out = render_change_reply(actor.mention(), "status", "Open", "Triaged", None)
    assert out.text == f"{SHOWN} changed status Open → Triaged"
    assert "<!channel>" not in str(out.blocks) and "<http" not in str(out.blocks)


@pytest.mark.parametrize(
    ("asker", "head"),
    [
        (Actor(source="console", id=EVIL, name=EVIL), SHOWN),
        (Actor(source="slack", id="U0ALICE", name="alice"), "<@U0ALICE>"),
    ],
)
def test_boomerang_dm_names_the_asker_safely(asker: Actor, head: str) -> None:
    inp = BoomerangInput(
        boomerang_id="alert-a-1-boomerang-1",
        alert_id="a-1",
        alert_title="Root login",
        alert_severity=Severity.HIGH,
        console_url="http://console.example.test/alerts/a-1",
        asker=asker,
        recipient_id="U0BOB",
        question=f"was this you? {EVIL}",
        delays=BoomerangDelays(),
    )
    out = dm(inp, "open")
    assert out.blocks[0]["text"]["text"] == f"🪃 {head} asks you about a security alert"
    rendered = str(out.blocks) + out.text
    assert "<!channel>" not in rendered and "<http://evil" not in rendered
    assert validate_message_blocks(out.blocks) == []
