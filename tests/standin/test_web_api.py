"""Web API methods driven through slack_sdk's real AsyncWebClient: shapes and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn

TS_RE = re.compile(r"^\d{10}\.\d{6}$")
TOKEN = "xoxb-standin-token"
# slack_sdk warns when `text` is missing; these tests omit it on purpose.
NO_TEXT_WARNING = pytest.mark.filterwarnings("ignore:The top-level `text`:UserWarning")


async def slack_error(coro: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        await coro
    return dict(info.value.response.data)


async def test_auth_test_shape_and_scopes_header(client: AsyncWebClient, standin: StandIn) -> None:
    resp = await client.auth_test()
    assert resp.data == {
        "ok": True,
        "url": f"{standin.url}/",
        "team": "Parley Dev",
        "user": "parley",
        "team_id": "T0PARLEY",
        "user_id": "U0PARLEY",
        "bot_id": "B0PARLEY",
        "is_enterprise_install": False,
    }
    assert "chat:write" in resp.headers["x-oauth-scopes"]
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_post_message_shape(
    client: AsyncWebClient, standin: StandIn, post_alert: Any
) -> None:
    resp = await client.chat_postMessage(
        channel="C0ALERTS",
        text="hello",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}],
        metadata={"event_type": "alert_posted", "event_payload": {"id": "a1"}},
    )
    data = resp.data
    assert data["ok"] is True and data["channel"] == "C0ALERTS"
    assert TS_RE.match(data["ts"])
    msg = data["message"]
    assert msg["type"] == "message" and msg["ts"] == data["ts"]
    assert (msg["user"], msg["bot_id"], msg["app_id"], msg["team"]) == (
        "U0PARLEY",
        "B0PARLEY",
        "A0PARLEY",
        "T0PARLEY",
    )
    assert msg["text"] == "hello"
    # Slack fills in block_id and mrkdwn's verbatim flag.
    block = msg["blocks"][0]
    assert block["block_id"] and block["text"] == {
        "type": "mrkdwn",
        "text": "*hello*",
        "verbatim": False,
    }
    assert msg["metadata"] == {"event_type": "alert_posted", "event_payload": {"id": "a1"}}
    stored = standin.messages("C0ALERTS")
    assert [m["ts"] for m in stored] == [data["ts"]]
    assert standin.get_message("C0ALERTS", data["ts"])["blocks"] == msg["blocks"]


async def test_ts_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [
        (await client.chat_postMessage(channel="C0CRIT", text=f"m{i}"))["ts"] for i in range(6)
    ]
    assert len(set(stamps)) == 6
    assert [float(s) for s in stamps] == sorted(float(s) for s in stamps)


@NO_TEXT_WARNING
async def test_text_fallback_built_from_blocks(client: AsyncWebClient) -> None:
    resp = await client.chat_postMessage(
        channel="C0ALERTS", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "only"}}]
    )
    assert resp["message"]["text"] == "only"


async def test_post_to_user_id_uses_stable_dm(client: AsyncWebClient, standin: StandIn) -> None:
    first = await client.chat_postMessage(channel="U0ALICE", text="hi")
    second = await client.chat_postMessage(channel="U0ALICE", text="again")
    opened = await client.conversations_open(users="U0ALICE")
    dm = standin.dm_channel_id("U0ALICE")
    assert first["channel"] == second["channel"] == opened["channel"]["id"] == dm
    assert dm.startswith("D") and "ALICE" not in dm
    assert [m["text"] for m in standin.messages(dm)] == ["hi", "again"]
    assert dm != standin.dm_channel_id("U0BOB")


async def test_conversations_open(client: AsyncWebClient) -> None:
    first = await client.conversations_open(users="U0BOB")
    assert first.data == {"ok": True, "channel": {"id": first["channel"]["id"]}}
    again = await client.conversations_open(users="U0BOB", return_im=True)
    assert again["already_open"] is True and again["channel"]["is_im"] is True
    assert again["channel"]["user"] == "U0BOB"
    assert (await slack_error(client.conversations_open(users="U0NOPE")))["error"] == (
        "user_not_found"
    )
    assert (await slack_error(client.conversations_open(users="U0HELPER")))["error"] == (
        "cannot_dm_bot"
    )
    assert (await slack_error(client.conversations_open(users="U0DAVE")))["error"] == (
        "user_disabled"
    )
    dm_to_bot = await slack_error(client.chat_postMessage(channel="U0HELPER", text="x"))
    assert dm_to_bot["error"] == "cannot_dm_bot"


async def test_threads_replies_and_broadcast(client: AsyncWebClient, standin: StandIn) -> None:
    parent = (await client.chat_postMessage(channel="C0ALERTS", text="alert"))["ts"]
    r1 = await client.chat_postMessage(channel="C0ALERTS", text="r1", thread_ts=parent)
    r2 = await client.chat_postMessage(
        channel="C0ALERTS", text="r2", thread_ts=parent, reply_broadcast=True
    )
    assert r1["message"]["thread_ts"] == parent
    assert [m["text"] for m in standin.replies("C0ALERTS", parent)] == ["r1", "r2"]
    top = standin.messages("C0ALERTS")
    assert [m["text"] for m in top] == ["alert", "r2"]
    assert top[0]["reply_count"] == 2 and top[0]["latest_reply"] == r2["ts"]
    assert top[1]["subtype"] == "thread_broadcast"
    thread = await client.conversations_replies(channel="C0ALERTS", ts=parent)
    assert [m["text"] for m in thread["messages"]] == ["alert", "r1", "r2"]
    # Replying to a reply lands in the parent's thread.
    r3 = await client.chat_postMessage(channel="C0ALERTS", text="r3", thread_ts=r1["ts"])
    assert r3["message"]["thread_ts"] == parent
    assert len(standin.replies("C0ALERTS", parent)) == 3


async def test_reply_to_missing_parent_is_accepted_but_orphaned(
    client: AsyncWebClient, standin: StandIn
) -> None:
    # Faithful to Slack (python-slack-sdk#840): ok, but the reply shows up nowhere.
    resp = await client.chat_postMessage(
        channel="C0ALERTS", text="lost", thread_ts="1500000000.000100"
    )
    assert resp["ok"] is True
    assert standin.messages("C0ALERTS") == []
    history = await client.conversations_history(channel="C0ALERTS")
    assert history["messages"] == []
    bad = await slack_error(client.chat_postMessage(channel="C0ALERTS", text="x", thread_ts="0"))
    assert bad["error"] == "invalid_thread_ts"
    assert bad["response_metadata"]["messages"] == ["[ERROR] 0 is not a valid thread_ts"]


async def test_metadata_only_with_include_all_metadata(
    client: AsyncWebClient, post_alert: Any
) -> None:
    ts = await post_alert()
    await client.chat_postMessage(channel="C0ALERTS", text="reply", thread_ts=ts)
    plain = await client.conversations_history(channel="C0ALERTS")
    assert "metadata" not in plain["messages"][0]
    full = await client.conversations_history(channel="C0ALERTS", include_all_metadata=True)
    assert full["messages"][0]["metadata"]["event_payload"] == {"alert_id": "alert-1"}
    replies = await client.conversations_replies(channel="C0ALERTS", ts=ts)
    assert "metadata" not in replies["messages"][0]


async def test_form_and_query_encodings(client: AsyncWebClient, standin: StandIn) -> None:
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "form"}}]
    form = await client.api_call(
        "chat.postMessage",
        params={"channel": "C0ALERTS", "text": "form", "blocks": json.dumps(blocks)},
    )
    assert form["message"]["blocks"][0]["text"]["text"] == "form"
    via_get = await client.api_call("users.info", http_verb="GET", params={"user": "U0BOB"})
    assert via_get["user"]["name"] == "bob"
    # Token as a form field instead of the Authorization header.
    anon = AsyncWebClient(token=None, base_url=standin.base_url, retry_handlers=[])
    resp = await anon.api_call("auth.test", params={"token": TOKEN})
    assert resp["user_id"] == "U0PARLEY"
    last = standin.calls("chat.postMessage")[-1]
    assert "application/x-www-form-urlencoded" in last["headers"]["content-type"]


async def test_auth_errors_and_unknown_method(standin: StandIn) -> None:
    anon = AsyncWebClient(token=None, base_url=standin.base_url, retry_handlers=[])
    assert (await slack_error(anon.chat_postMessage(channel="C0ALERTS", text="x")))["error"] == (
        "not_authed"
    )
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=standin.base_url, retry_handlers=[])
    assert (await slack_error(wrong.auth_test()))["error"] == "invalid_auth"
    good = AsyncWebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[])
    unknown = await slack_error(good.api_call("chat.teleport"))
    assert unknown["error"] == "unknown_method"
    assert standin.messages("C0ALERTS") == []


@NO_TEXT_WARNING
async def test_post_message_errors(client: AsyncWebClient, standin: StandIn) -> None:
    async def err(**kwargs: Any) -> str:
        return str((await slack_error(client.chat_postMessage(**kwargs)))["error"])

    assert await err(channel="C0NOPE", text="x") == "channel_not_found"
    assert await err(channel="#ir-privat", text="x") == "channel_not_found"
    by_name = await client.chat_postMessage(channel="#critical-alerts", text="by name")
    assert by_name["channel"] == "C0CRIT"
    assert await err(channel="C0NOBOT", text="x") == "not_in_channel"
    assert await err(channel="C0ARCH", text="x") == "is_archived"
    assert await err(channel="C0ALERTS") == "no_text"
    assert await err(channel="C0ALERTS", text="") == "no_text"
    assert await err(channel="C0ALERTS", text="x" * 40_001) == "msg_too_long"
    ok = await client.chat_postMessage(channel="C0ALERTS", text="x" * 40_000)
    assert ok["ok"] is True
    standin.archive_channel("C0CRIT")
    assert await err(channel="C0CRIT", text="x") == "is_archived"
    assert await err(channel="C0ALERTS", text="x", metadata={"event_type": "x"}) == (
        "invalid_metadata_schema"
    )


async def test_private_channel_without_bot_is_invisible(tmp_path: Path) -> None:
    seed = {
        "team": {"id": "T1", "domain": "t1", "name": "T1"},
        "bot": {"user_id": "U1BOT", "bot_id": "B1", "name": "b"},
        "users": [{"id": "U1A", "name": "a"}],
        "channels": [
            {"id": "C1PUB", "name": "pub", "members": ["U1A"]},
            {"id": "C1SEC", "name": "sec", "is_private": True, "members": ["U1A"]},
        ],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    with StandIn(workspace_path=path, bot_token="xoxb-t1") as other:
        c = AsyncWebClient(token="xoxb-t1", base_url=other.base_url, retry_handlers=[])
        assert (await c.auth_test())["team_id"] == "T1"
        pub = await slack_error(c.chat_postMessage(channel="C1PUB", text="x"))
        sec = await slack_error(c.chat_postMessage(channel="C1SEC", text="x"))
        assert (pub["error"], sec["error"]) == ("not_in_channel", "channel_not_found")


async def test_update_semantics(client: AsyncWebClient, standin: StandIn, post_alert: Any) -> None:
    ts = await post_alert()
    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Acked by alice"}}]
    resp = await client.chat_update(channel="C0ALERTS", ts=ts, text="Acked", blocks=new_blocks)
    assert (resp["ok"], resp["channel"], resp["ts"], resp["text"]) == (
        True,
        "C0ALERTS",
        ts,
        "Acked",
    )
    assert resp["message"]["blocks"][0]["text"]["text"] == "Acked by alice"
    stored = standin.get_message("C0ALERTS", ts)
    assert stored["edited"]["user"] == "U0PARLEY"
    assert stored["metadata"]["event_type"] == "parley_alert"  # kept when not sent
    # text without blocks drops the blocks
    await client.chat_update(channel="C0ALERTS", ts=ts, text="plain now")
    stored = standin.get_message("C0ALERTS", ts)
    assert "blocks" not in stored and stored["text"] == "plain now"
    # thread replies can be edited too
    reply = await client.chat_postMessage(channel="C0ALERTS", text="r", thread_ts=ts)
    await client.chat_update(channel="C0ALERTS", ts=reply["ts"], text="r edited")
    assert standin.replies("C0ALERTS", ts)[0]["text"] == "r edited"


@NO_TEXT_WARNING
async def test_update_errors(client: AsyncWebClient, standin: StandIn) -> None:
    ts = (await client.chat_postMessage(channel="C0ALERTS", text="mine"))["ts"]

    async def err(**kwargs: Any) -> str:
        return str((await slack_error(client.chat_update(**kwargs)))["error"])

    assert await err(channel="C0ALERTS", ts="1500000000.000001", text="x") == "message_not_found"
    human_ts = standin.add_user_message("C0ALERTS", "U0ALICE", "my own words")
    assert await err(channel="C0ALERTS", ts=human_ts, text="x") == "cant_update_message"
    dm_ts = (await client.chat_postMessage(channel="U0ALICE", text="dm"))["ts"]
    assert await err(channel="U0ALICE", ts=dm_ts, text="x") == "channel_not_found"
    ok = await client.chat_update(channel=standin.dm_channel_id("U0ALICE"), ts=dm_ts, text="y")
    assert ok["ok"] is True
    standin.delete_message("C0ALERTS", ts)
    assert await err(channel="C0ALERTS", ts=ts, text="x") == "message_not_found"
    bad_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    ts2 = (await client.chat_postMessage(channel="C0ALERTS", text="m"))["ts"]
    assert await err(channel="C0ALERTS", ts=ts2, blocks=bad_blocks) == "invalid_blocks"


async def test_delete_with_replies_leaves_tombstone(
    client: AsyncWebClient, standin: StandIn
) -> None:
    ts = (await client.chat_postMessage(channel="C0ALERTS", text="p"))["ts"]
    await client.chat_postMessage(channel="C0ALERTS", text="r", thread_ts=ts)
    standin.delete_message("C0ALERTS", ts)
    top = standin.messages("C0ALERTS")
    assert top[0]["subtype"] == "tombstone"
    assert standin.get_message("C0ALERTS", ts) is None
    thread = await client.conversations_replies(channel="C0ALERTS", ts=ts)
    assert [m.get("subtype") for m in thread["messages"]] == ["tombstone", None]


async def test_post_ephemeral(client: AsyncWebClient, standin: StandIn) -> None:
    resp = await client.chat_postEphemeral(channel="C0ALERTS", user="U0BOB", text="only you")
    assert set(resp.data) == {"ok", "message_ts"} and TS_RE.match(resp["message_ts"])
    eph = standin.ephemerals(channel="C0ALERTS", user="U0BOB")
    assert [e["text"] for e in eph] == ["only you"]
    assert standin.messages("C0ALERTS") == []
    not_member = await slack_error(
        client.chat_postEphemeral(channel="C0CRIT", user="U0CAROL", text="x")
    )
    assert not_member["error"] == "user_not_in_channel"
    nobody = await slack_error(
        client.chat_postEphemeral(channel="C0ALERTS", user="U0NOPE", text="x")
    )
    assert nobody["error"] == "user_not_found"


async def test_get_permalink(client: AsyncWebClient, standin: StandIn) -> None:
    ts = (await client.chat_postMessage(channel="C0ALERTS", text="p"))["ts"]
    reply = (await client.chat_postMessage(channel="C0ALERTS", text="r", thread_ts=ts))["ts"]
    top = await client.chat_getPermalink(channel="C0ALERTS", message_ts=ts)
    assert top.data == {
        "ok": True,
        "channel": "C0ALERTS",
        "permalink": f"{standin.url}/archives/C0ALERTS/p{ts.replace('.', '')}",
    }
    link = (await client.chat_getPermalink(channel="C0ALERTS", message_ts=reply))["permalink"]
    assert link.endswith(f"/p{reply.replace('.', '')}?thread_ts={ts}&cid=C0ALERTS")
    missing = await slack_error(client.chat_getPermalink(channel="C0ALERTS", message_ts="1.000001"))
    assert missing["error"] == "message_not_found"


async def test_history_window_and_pagination(client: AsyncWebClient) -> None:
    stamps = [
        (await client.chat_postMessage(channel="C0CRIT", text=f"m{i}"))["ts"] for i in range(5)
    ]
    page1 = await client.conversations_history(channel="C0CRIT", limit=2)
    assert [m["text"] for m in page1["messages"]] == ["m4", "m3"]
    assert page1["has_more"] is True and page1["pin_count"] == 0
    cursor = page1["response_metadata"]["next_cursor"]
    page2 = await client.conversations_history(channel="C0CRIT", limit=2, cursor=cursor)
    assert [m["text"] for m in page2["messages"]] == ["m2", "m1"]
    window = await client.conversations_history(
        channel="C0CRIT", oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in window["messages"]] == ["m3", "m2", "m1"]
    exclusive = await client.conversations_history(
        channel="C0CRIT", oldest=stamps[1], latest=stamps[3]
    )
    assert [m["text"] for m in exclusive["messages"]] == ["m2"]
    last = await client.conversations_history(channel="C0CRIT", limit=10)
    assert last["has_more"] is False and last["response_metadata"]["next_cursor"] == ""
    nobot = await slack_error(client.conversations_history(channel="C0NOBOT"))
    assert nobot["error"] == "not_in_channel"
    nothread = await slack_error(client.conversations_replies(channel="C0CRIT", ts="1.000001"))
    assert nothread["error"] == "thread_not_found"


async def test_users_info_and_lookup(client: AsyncWebClient) -> None:
    info = await client.users_info(user="U0ALICE")
    user = info["user"]
    assert {
        k: user[k] for k in ("id", "team_id", "name", "deleted", "real_name", "is_bot", "tz")
    } == {
        "id": "U0ALICE",
        "team_id": "T0PARLEY",
        "name": "alice",
        "deleted": False,
        "real_name": "Alice Anders",
        "is_bot": False,
        "tz": "Europe/Berlin",
    }
    assert user["profile"]["email"] == "alice@example.com"
    assert user["profile"]["display_name"] == "alice"
    dave = await client.users_info(user="U0DAVE")
    assert dave["user"]["deleted"] is True
    found = await client.users_lookupByEmail(email="BOB@example.com")
    assert found["user"]["id"] == "U0BOB"
    assert (await slack_error(client.users_info(user="U0NOPE")))["error"] == "user_not_found"
    for email in ("nobody@example.com", "dave@example.com"):
        missing = await slack_error(client.users_lookupByEmail(email=email))
        assert missing["error"] == "users_not_found"


async def test_journal_records_calls(client: AsyncWebClient, standin: StandIn) -> None:
    await client.chat_postMessage(channel="C0ALERTS", text="x")
    await slack_error(client.chat_postMessage(channel="C0NOBOT", text="x"))
    calls = standin.calls("chat.postMessage")
    assert [c["status"] for c in calls] == [200, 200]
    assert calls[0]["args"] == {"channel": "C0ALERTS", "text": "x"}
    assert calls[0]["result"]["ok"] is True and calls[1]["result"]["error"] == "not_in_channel"
    assert calls[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert calls[0]["http_method"] == "POST" and calls[0]["time"] > 0
    assert [c["method"] for c in standin.journal()] == ["chat.postMessage", "chat.postMessage"]
