"""What Parley's exactly-once posting relies on: a post whose client gave up still lands, metadata
finds it again, and chat.delete removes a duplicate the way Slack does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn

TOKEN = "xoxb-standin-token"
KEYED = {"event_type": "parley_message", "event_payload": {"key": "alert/a1/d1"}}


async def slack_error(coro: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        await coro
    return str(info.value.response["error"])


async def test_a_post_the_client_gave_up_on_still_lands(standin: StandIn) -> None:
    standin.inject_fault("chat.postMessage", delay=0.8)
    impatient = AsyncWebClient(
        token=TOKEN, base_url=standin.base_url, timeout=0.3, retry_handlers=[]
    )
    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel="C0ALERTS", text="slow", metadata=KEYED)
    # Nothing yet: Slack is still working on it, so a search now finds nothing...
    assert standin.messages("C0ALERTS") == []
    for _ in range(50):
        await asyncio.sleep(0.1)
        if standin.messages("C0ALERTS"):
            break
    # ...and then it lands all the same, with its metadata.
    client = AsyncWebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[])
    history = await client.conversations_history(channel="C0ALERTS", include_all_metadata=True)
    assert [(m["text"], m["metadata"]) for m in history["messages"]] == [("slow", KEYED)]
    assert standin.calls("chat.postMessage")[0]["result"]["ok"] is True


async def test_chat_delete_answers_like_slack(client: AsyncWebClient, standin: StandIn) -> None:
    first = (await client.chat_postMessage(channel="C0ALERTS", text="a", metadata=KEYED))["ts"]
    second = (await client.chat_postMessage(channel="C0ALERTS", text="b", metadata=KEYED))["ts"]
    resp = await client.chat_delete(channel="C0ALERTS", ts=second)
    assert resp.data == {"ok": True, "channel": "C0ALERTS", "ts": second}
    history = await client.conversations_history(channel="C0ALERTS", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [first]
    assert await slack_error(client.chat_delete(channel="C0ALERTS", ts=second)) == (
        "message_not_found"
    )
    human = standin.add_user_message("C0ALERTS", "U0ALICE", "mine")
    assert await slack_error(client.chat_delete(channel="C0ALERTS", ts=human)) == (
        "cant_delete_message"
    )
    assert await slack_error(client.chat_delete(channel="U0ALICE", ts=first)) == (
        "channel_not_found"
    )


async def test_deleting_a_reply_updates_its_parent(
    client: AsyncWebClient, standin: StandIn
) -> None:
    parent = (await client.chat_postMessage(channel="C0ALERTS", text="alert"))["ts"]
    r1 = (await client.chat_postMessage(channel="C0ALERTS", text="r1", thread_ts=parent))["ts"]
    r2 = (
        await client.chat_postMessage(
            channel="C0ALERTS", text="r1 again", thread_ts=parent, metadata=KEYED
        )
    )["ts"]
    await client.chat_delete(channel="C0ALERTS", ts=r2)
    thread = await client.conversations_replies(
        channel="C0ALERTS", ts=parent, include_all_metadata=True
    )
    assert [m["ts"] for m in thread["messages"]] == [parent, r1]
    top = standin.messages("C0ALERTS")[0]
    assert top["reply_count"] == 1 and top["latest_reply"] == r1
    await client.chat_delete(channel="C0ALERTS", ts=r1)
    top = standin.messages("C0ALERTS")[0]
    assert "reply_count" not in top and "latest_reply" not in top
    # With no replies left, deleting the parent leaves no tombstone behind.
    await client.chat_delete(channel="C0ALERTS", ts=parent)
    assert standin.messages("C0ALERTS") == []


async def test_tombstone_goes_with_the_last_reply(client: AsyncWebClient, standin: StandIn) -> None:
    parent = (await client.chat_postMessage(channel="C0ALERTS", text="alert"))["ts"]
    reply = (await client.chat_postMessage(channel="C0ALERTS", text="r", thread_ts=parent))["ts"]
    await client.chat_delete(channel="C0ALERTS", ts=parent)
    assert standin.messages("C0ALERTS")[0]["subtype"] == "tombstone"
    await client.chat_delete(channel="C0ALERTS", ts=reply)
    assert standin.messages("C0ALERTS") == []


async def test_dm_duplicates_are_found_and_deleted(
    client: AsyncWebClient, standin: StandIn
) -> None:
    dm = standin.dm_channel_id("U0BOB")
    posted = [
        (await client.chat_postMessage(channel="U0BOB", text=t, metadata=KEYED))["ts"]
        for t in ("question", "question again")
    ]
    history = await client.conversations_history(channel=dm, include_all_metadata=True)
    assert sorted(m["ts"] for m in history["messages"] if m.get("metadata") == KEYED) == posted
    await client.chat_delete(channel=dm, ts=posted[1])
    assert [m["ts"] for m in standin.messages(dm)] == posted[:1]
