"""The stand-in keeps its workspace across restarts (`--state-file`, used by `make run`):
messages, threads, a broadcast reply that is one message in two places, DMs, open views, and
a ts clock that keeps new messages after old ones."""

from __future__ import annotations

from pathlib import Path

from slack_sdk import WebClient

from tools.slack_standin import StandIn
from tools.slack_standin.persist import Persistence

TOKEN = "xoxb-standin-token"


def test_workspace_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "standin.json"
    first = StandIn(bot_token=TOKEN, rate_limits=False).start()
    try:
        keep = Persistence(first.workspace, state)
        assert keep.load() is False  # nothing saved yet
        web = WebClient(token=TOKEN, base_url=first.base_url)
        parent = web.chat_postMessage(
            channel="C0ALERTS",
            text="alert",
            metadata={"event_type": "parley_message", "event_payload": {"key": "k1"}},
        )["ts"]
        web.chat_postMessage(channel="C0ALERTS", text="a reply", thread_ts=parent)
        shout = web.chat_postMessage(
            channel="C0ALERTS", text="broadcast", thread_ts=parent, reply_broadcast=True
        )["ts"]
        dm = web.conversations_open(users="U0BOB")["channel"]["id"]
        web.chat_postMessage(channel=dm, text="a question")
        assert keep.save() is True
        assert keep.save() is False  # unchanged: not written again
    finally:
        first.stop()

    second = StandIn(bot_token=TOKEN, rate_limits=False).start()
    try:
        assert Persistence(second.workspace, state).load() is True
        top = second.messages("C0ALERTS")
        assert [m["text"] for m in top] == ["alert", "broadcast"]
        assert top[0]["reply_count"] == 2
        assert top[0]["metadata"]["event_payload"] == {"key": "k1"}
        assert [m["text"] for m in second.replies("C0ALERTS", parent)] == ["a reply", "broadcast"]
        assert second.dm_channel_id("U0BOB") == dm
        assert [m["text"] for m in second.messages(dm)] == ["a question"]
        web = WebClient(token=TOKEN, base_url=second.base_url)
        # The broadcast is one message: an edit shows in the channel and in the thread.
        web.chat_update(channel="C0ALERTS", ts=shout, text="edited")
        assert second.messages("C0ALERTS")[1]["text"] == "edited"
        assert second.replies("C0ALERTS", parent)[1]["text"] == "edited"
        # History through the Web API, and new messages sort after the old ones.
        history = web.conversations_history(channel="C0ALERTS")["messages"]
        assert parent in [m["ts"] for m in history]
        newer = web.chat_postMessage(channel="C0ALERTS", text="after")["ts"]
        assert float(newer) > float(shout)
    finally:
        second.stop()


def test_an_unreadable_state_file_is_set_aside(tmp_path: Path) -> None:
    state = tmp_path / "standin.json"
    state.write_text("{not json")
    standin = StandIn(bot_token=TOKEN, rate_limits=False)
    assert Persistence(standin.workspace, state).load() is False
    assert not state.exists() and state.with_suffix(".unreadable").exists()
    assert standin.messages("C0ALERTS") == []
