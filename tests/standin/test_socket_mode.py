"""The stand-in's Socket Mode and views.publish (issue 13), driven by slack_sdk and a raw
WebSocket: tokens, hello, envelopes and acks, redelivery, disconnect; Home views' checks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn


@pytest.fixture
async def sm(standin: StandIn) -> AsyncIterator[Any]:
    sock_mode = standin.socket_mode
    sock_mode.enabled, sock_mode.ack_timeout = True, 0.5
    sock_mode.retry_delays = (0.0, 0.1, 0.1)
    sock_mode.wait_for_socket = 5.0
    yield sock_mode
    sock_mode.enabled, sock_mode.ack_timeout = False, 3.0
    sock_mode.retry_delays = (0.0, 60.0, 300.0)


async def _open(standin: StandIn, token: str | None) -> dict[str, Any]:
    app = AsyncWebClient(base_url=standin.base_url, retry_handlers=[])
    try:
        return dict((await app.apps_connections_open(app_token=token or "")).data)
    except SlackApiError as exc:
        return dict(exc.response.data)


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    return json.loads((await asyncio.wait_for(ws.receive(), 5)).data)


async def test_connections_open_takes_only_the_app_token(standin: StandIn, sm: Any) -> None:
    assert (await _open(standin, None))["error"] == "not_authed"
    assert (await _open(standin, "xoxb-standin-token"))["error"] == "not_allowed_token_type"
    assert (await _open(standin, "xapp-1-other"))["error"] == "invalid_auth"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{standin.base_url}apps.connections.open") as resp:
            assert (await resp.json())["error"] == "insecure_request"
    ok = await _open(standin, sm.app_token)
    assert ok["ok"] and ok["url"].startswith("ws://") and "ticket=" in ok["url"]


async def test_hello_envelopes_acks_redelivery_and_disconnect(standin: StandIn, sm: Any) -> None:
    url = (await _open(standin, sm.app_token))["url"]
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url)
        hello = await _frame(ws)
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"]["app_id"] == standin.workspace.bot.app_id
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(url)  # a ticket opens one socket

        # An interactive envelope: acked with a payload, which the stand-in hands back.
        task = asyncio.ensure_future(sm.interact({"type": "block_actions", "x": 1}))
        env = await _frame(ws)
        assert env["type"] == "interactive" and env["accepts_response_payload"] is True
        assert env["payload"] == {"type": "block_actions", "x": 1}
        await ws.send_str(json.dumps({"envelope_id": env["envelope_id"], "payload": {"a": 1}}))
        result = await task
        assert result["acked"] and result["payload"] == {"a": 1}

        # An event not acked is redelivered: a new envelope id, retry_attempt 1, same event.
        body = standin.events.type_dm("U0BOB", "hello")
        sent = asyncio.ensure_future(standin.events.send(body))
        first = await _frame(ws)
        assert first["type"] == "events_api" and first["retry_attempt"] == 0
        again = await _frame(ws)
        assert again["retry_attempt"] == 1 and again["retry_reason"] == "timeout"
        assert again["envelope_id"] != first["envelope_id"]
        assert again["payload"]["event_id"] == first["payload"]["event_id"]
        await ws.send_str(json.dumps({"envelope_id": first["envelope_id"]}))  # too late
        await ws.send_str(json.dumps({"envelope_id": again["envelope_id"]}))
        delivery = await sent
        assert [a["acked"] for a in delivery.attempts] == [False, True]
        assert any(e["kind"] == "ack_unknown" for e in sm.log)

        # disconnect: that socket gets no more envelopes; the next one waits for a new socket.
        assert await sm.disconnect("refresh_requested") == 1
        bye = await _frame(ws)
        assert bye == {
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-standin"},
        }
        task = asyncio.ensure_future(sm.interact({"type": "block_actions", "y": 2}))
        ws2 = await http.ws_connect((await _open(standin, sm.app_token))["url"])
        assert (await _frame(ws2))["type"] == "hello"
        env = await _frame(ws2)
        assert env["payload"] == {"type": "block_actions", "y": 2}
        await ws2.send_str(json.dumps({"envelope_id": env["envelope_id"]}))
        assert (await task)["acked"]
        await ws.close()
        await ws2.close()


async def test_views_publish(client: AsyncWebClient, standin: StandIn) -> None:
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = await client.views_publish(user_id="U0BOB", view=view)
    assert first["view"]["type"] == "home" and first["view"]["hash"]
    assert standin.home("U0BOB")["blocks"][0]["text"]["text"] == "hi"
    second = await client.views_publish(user_id="U0BOB", view=view, hash=first["view"]["hash"])
    assert second["view"]["id"] == first["view"]["id"]

    async def error(**kwargs: Any) -> str:
        with pytest.raises(SlackApiError) as info:
            await client.views_publish(**kwargs)
        return str(info.value.response["error"])

    assert await error(user_id="U0BOB", view=view, hash=first["view"]["hash"]) == "hash_conflict"
    assert await error(user_id="U0NOBODY", view=view) == "invalid_arguments"
    assert await error(user_id="U0BOB", view={**view, "type": "modal"}) == "invalid_arguments"
    many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert await error(user_id="U0BOB", view=many) == "invalid_arguments"
