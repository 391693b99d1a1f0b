"""The interaction driver: signed, Slack-shaped block_actions payloads and response_urls."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import InteractionResult, StandIn

SECRET = "parley-dev-signing-secret"
TRIGGER_RE = re.compile(r"^\d{13}\.\d{13}\.[0-9a-f]{32}$")
BLOCK_ACTIONS_KEYS = {
    "type", "user", "api_app_id", "token", "container", "trigger_id", "team", "enterprise",
    "is_enterprise_install", "channel", "message", "state", "response_url", "actions",
}  # fmt: skip


async def test_block_actions_payload(standin: StandIn, receiver: Any, post_alert: Any) -> None:
    ts = await post_alert()
    res = await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack")
    assert isinstance(res, InteractionResult) and res.status == 200 and res.problems == []
    got = receiver.last
    # Signed exactly as Slack signs: slack_sdk's verifier accepts it.
    assert SignatureVerifier(SECRET).is_valid_request(got["body"], got["headers"])
    assert got["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert got["body"].startswith(b"payload=")
    p = got["payload"]
    assert p == res.payload and set(p) == BLOCK_ACTIONS_KEYS
    assert p["type"] == "block_actions"
    assert p["user"] == {
        "id": "U0ALICE",
        "username": "alice",
        "name": "alice",
        "team_id": "T0PARLEY",
    }
    assert (p["api_app_id"], p["token"]) == ("A0PARLEY", "standin-verification-token")
    assert p["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0ALERTS",
        "is_ephemeral": False,
    }
    assert TRIGGER_RE.match(p["trigger_id"]) and p["trigger_id"] == res.trigger_id
    assert p["team"] == {"id": "T0PARLEY", "domain": "parley-dev"}
    assert p["enterprise"] is None and p["is_enterprise_install"] is False
    assert p["channel"] == {"id": "C0ALERTS", "name": "security-alerts"}
    assert p["message"] == standin.get_message("C0ALERTS", ts)
    assert p["message"]["metadata"]["event_payload"] == {"alert_id": "alert-1"}
    assert p["response_url"].startswith(f"{standin.url}/_stub/response/T0PARLEY/")
    action = p["actions"][0]
    assert set(action) == {"action_id", "block_id", "text", "value", "style", "type", "action_ts"}
    assert action["action_id"] == "ack" and action["block_id"] == "triage"
    assert action["text"] == {"type": "plain_text", "text": "Ack", "emoji": True}
    assert (action["value"], action["type"], action["style"]) == ("alert-1", "button", "primary")
    assert re.match(r"^\d+\.\d{6}$", action["action_ts"])
    # Stateful elements of the message appear in state.values, untouched.
    assert p["state"]["values"]["triage"] == {
        "assign": {"type": "users_select", "selected_user": None},
        "status": {"type": "static_select", "selected_option": None},
    }


async def test_select_overflow_and_user_actions(
    standin: StandIn, receiver: Any, post_alert: Any
) -> None:
    ts = await post_alert()
    await standin.driver.click("U0BOB", "C0ALERTS", ts, "assign", selected_user="U0CAROL")
    p = receiver.last["payload"]
    assert p["actions"][0]["selected_user"] == "U0CAROL"
    assert p["actions"][0]["type"] == "users_select"
    assert p["state"]["values"]["triage"]["assign"] == {
        "type": "users_select",
        "selected_user": "U0CAROL",
    }
    await standin.driver.click("U0BOB", "C0ALERTS", ts, "status", selected_option="resolved")
    action = receiver.last["payload"]["actions"][0]
    assert action["selected_option"] == {
        "text": {"type": "plain_text", "text": "Resolved", "emoji": True},
        "value": "resolved",
    }
    await standin.driver.click("U0BOB", "C0ALERTS", ts, "more", selected_option="invalid")
    assert receiver.last["payload"]["actions"][0]["type"] == "overflow"
    assert receiver.last["payload"]["actions"][0]["selected_option"]["value"] == "invalid"
    # Every click mints a fresh trigger_id.
    triggers = {r["payload"]["trigger_id"] for r in receiver.requests}
    assert len(triggers) == 3


async def test_click_test_bugs_raise(standin: StandIn, receiver: Any, post_alert: Any) -> None:
    ts = await post_alert()
    with pytest.raises(LookupError, match="no element with action_id 'nope'"):
        await standin.driver.click("U0ALICE", "C0ALERTS", ts, "nope")
    with pytest.raises(ValueError, match="selected_option"):
        await standin.driver.click("U0ALICE", "C0ALERTS", ts, "status")
    with pytest.raises(LookupError):
        await standin.driver.click("U0ALICE", "C0ALERTS", ts, "status", selected_option="x")
    with pytest.raises(LookupError):
        await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack", value="other-alert")
    with pytest.raises(LookupError):
        await standin.driver.click("U0ALICE", "C0ALERTS", "1.000001", "ack")
    with pytest.raises(LookupError):  # a deactivated user cannot click
        await standin.driver.click("U0DAVE", "C0ALERTS", ts, "ack")
    priv = await post_alert("C0PRIV")
    with pytest.raises(LookupError):  # bob is not in the private channel
        await standin.driver.click("U0BOB", "C0PRIV", priv, "ack")
    assert receiver.requests == []
    standin.interactivity_url = None
    with pytest.raises(RuntimeError):
        await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack")


async def test_same_action_id_picked_by_value(
    client: AsyncWebClient, standin: StandIn, receiver: Any
) -> None:
    def vote(value: str) -> dict[str, Any]:
        button = {"type": "button", "action_id": "vote", "value": value}
        button["text"] = {"type": "plain_text", "text": value}
        return {"type": "actions", "elements": [button]}

    ts = (
        await client.chat_postMessage(channel="C0ALERTS", text="v", blocks=[vote("a"), vote("b")])
    )["ts"]
    await standin.driver.click("U0ALICE", "C0ALERTS", ts, "vote", value="b")
    assert receiver.last["payload"]["actions"][0]["value"] == "b"
    with pytest.raises(LookupError, match="pass value"):
        await standin.driver.click("U0ALICE", "C0ALERTS", ts, "vote")


async def test_click_in_thread_reply_and_dm(
    client: AsyncWebClient, standin: StandIn, receiver: Any, alert_blocks: Any
) -> None:
    parent = (await client.chat_postMessage(channel="C0ALERTS", text="p"))["ts"]
    reply = await client.chat_postMessage(
        channel="C0ALERTS", text="r", blocks=alert_blocks, thread_ts=parent
    )
    await standin.driver.click("U0ALICE", "C0ALERTS", reply["ts"], "ack")
    assert receiver.last["payload"]["message"]["thread_ts"] == parent
    assert receiver.last["payload"]["container"]["thread_ts"] == parent
    dm = await client.chat_postMessage(channel="U0BOB", text="Was it you?", blocks=alert_blocks)
    await standin.driver.click("U0BOB", dm["channel"], dm["ts"], "ack")
    assert receiver.last["payload"]["channel"] == {"id": dm["channel"], "name": "directmessage"}
    with pytest.raises(LookupError):
        await standin.driver.click("U0ALICE", dm["channel"], dm["ts"], "ack")


async def test_stale_and_forged_signatures_rejected(
    standin: StandIn, receiver: Any, post_alert: Any
) -> None:
    ts = await post_alert()
    stale = await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack", timestamp_offset=-360)
    assert stale.status == 401 and receiver.last["valid"] is False
    sent_ts = int(receiver.last["headers"]["X-Slack-Request-Timestamp"])
    assert sent_ts == pytest.approx(standin.driver.clock() - 360, abs=2)
    standin.driver.timestamp_offset = -240  # still inside Slack's 5-minute window
    assert (await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack")).status == 200
    body = receiver.last["body"]
    forged = dict(standin.driver.signed_headers(body))
    forged["X-Slack-Signature"] = "v0=" + "0" * 64
    res = await standin.driver.send_raw(body, forged)
    assert res.status == 401 and res.body == {"error": "invalid request"}
    assert res.payload["type"] == "block_actions"
    genuine = await standin.driver.send_raw(body, standin.driver.signed_headers(body))
    assert genuine.status == 200


async def test_response_url(
    client: AsyncWebClient, standin: StandIn, receiver: Any, post_alert: Any
) -> None:
    ts = await post_alert()
    res = await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack")
    url = res.payload["response_url"]
    async with aiohttp.ClientSession() as http:

        async def post(body: dict[str, Any]) -> tuple[int, Any]:
            async with http.post(url, json=body) as resp:
                return resp.status, await resp.json()

        assert await post({"text": "Only you see this"}) == (200, {"ok": True})
        assert [e["text"] for e in standin.ephemerals("C0ALERTS", "U0ALICE")] == [
            "Only you see this"
        ]
        assert (await post({"text": "Everyone", "response_type": "in_channel"}))[0] == 200
        assert standin.messages("C0ALERTS")[-1]["text"] == "Everyone"
        assert (await post({"text": "Acked", "replace_original": True}))[0] == 200
        assert standin.get_message("C0ALERTS", ts)["text"] == "Acked"
        assert "blocks" not in standin.get_message("C0ALERTS", ts)
        bad = await post({"blocks": [{"type": "nope"}], "replace_original": True})
        assert bad[0] == 400 and bad[1]["error"] == "invalid_blocks"
        assert await post({"text": "fifth"}) == (200, {"ok": True})  # a refused body counts
        assert await post({"text": "sixth"}) == (404, {"ok": False, "error": "expired_url"})
        posts = standin.response_url_posts()
        assert len(posts) == 6 and all(p["response_url"] == url for p in posts)

        # The replace removed the buttons, so there is nothing left to click.
        with pytest.raises(LookupError):
            await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack")
        ts1 = await post_alert()
        res2 = await standin.driver.click("U0ALICE", "C0ALERTS", ts1, "ack")
        url = res2.payload["response_url"]
        assert await post({"delete_original": True}) == (200, {"ok": True})
        assert standin.get_message("C0ALERTS", ts1) is None

        ts2 = await post_alert()
        res3 = await standin.driver.click("U0ALICE", "C0ALERTS", ts2, "ack")
        url = res3.payload["response_url"]
        standin.advance_clock(30 * 60 + 1)
        assert await post({"text": "too late"}) == (404, {"ok": False, "error": "expired_url"})


async def test_http_click_endpoint(standin: StandIn, receiver: Any, post_alert: Any) -> None:
    ts = await post_alert()
    async with aiohttp.ClientSession() as http:
        body = {"user": "U0CAROL", "channel": "C0ALERTS", "ts": ts, "action_id": "ack"}
        async with http.post(f"{standin.url}/_stub/click", json=body) as resp:
            data = await resp.json()
        assert resp.status == 200 and data["ok"] is True and data["status"] == 200
        assert data["payload"]["user"]["id"] == "U0CAROL"
        bad = {**body, "action_id": "missing"}
        async with http.post(f"{standin.url}/_stub/click", json=bad) as resp:
            assert resp.status == 400
            assert "missing" in (await resp.json())["error"]
    assert len(receiver.requests) == 1
    assert urllib.parse.unquote(receiver.last["body"].decode()).count('"U0CAROL"') >= 1
