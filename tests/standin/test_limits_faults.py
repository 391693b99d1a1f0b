"""Rate limits (429 + Retry-After) and fault injection, seen through slack_sdk."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn

TOKEN = "xoxb-standin-token"


async def test_flooding_a_channel_gets_429(client: AsyncWebClient, standin: StandIn) -> None:
    standin.rate_limit_scale = 1.0
    for i in range(3):  # the burst
        await client.chat_postMessage(channel="C0ALERTS", text=f"m{i}")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="one too many")
    resp = info.value.response
    assert resp.status_code == 429
    assert resp.data == {"ok": False, "error": "ratelimited"}
    assert int(resp.headers["Retry-After"]) >= 1
    # The limit is per channel: another channel is still open.
    other = await client.chat_postMessage(channel="C0CRIT", text="elsewhere")
    assert other["ok"] is True
    assert len(standin.messages("C0ALERTS")) == 3
    assert standin.calls("chat.postMessage")[3]["status"] == 429


async def test_retry_handler_gets_through_after_429(standin: StandIn) -> None:
    standin.rate_limit_scale = 1.0
    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=2)
    client = AsyncWebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[handler])
    for i in range(3):
        await client.chat_postMessage(channel="C0ALERTS", text=f"m{i}")
    start = time.monotonic()
    resp = await client.chat_postMessage(channel="C0ALERTS", text="eventually")
    elapsed = time.monotonic() - start
    assert resp["ok"] is True
    statuses = [c["status"] for c in standin.calls("chat.postMessage")]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:] and statuses[-1] == 200
    assert elapsed >= 1.0  # it honoured Retry-After
    assert [m["text"] for m in standin.messages("C0ALERTS")][-1] == "eventually"


async def test_method_tiers(client: AsyncWebClient, standin: StandIn) -> None:
    standin.rate_limit_scale = 0.05  # tier 4: 100/min -> burst 5; tier 3: 50/min -> burst 2
    for _ in range(5):
        await client.users_info(user="U0ALICE")
    with pytest.raises(SlackApiError) as info:
        await client.users_info(user="U0ALICE")
    assert info.value.response.status_code == 429
    ts = (await client.chat_postMessage(channel="C0ALERTS", text="x"))["ts"]
    for _ in range(2):
        await client.chat_update(channel="C0ALERTS", ts=ts, text="y")
    with pytest.raises(SlackApiError) as info:
        await client.chat_update(channel="C0ALERTS", ts=ts, text="z")
    assert info.value.response.status_code == 429
    assert int(info.value.response.headers["Retry-After"]) >= 1


async def test_rate_limits_can_be_disabled(client: AsyncWebClient, standin: StandIn) -> None:
    standin.rate_limit_scale = 1.0
    standin.rate_limits = False
    for i in range(10):
        await client.chat_postMessage(channel="C0ALERTS", text=f"m{i}")
    assert len(standin.messages("C0ALERTS")) == 10


async def test_fault_error(client: AsyncWebClient, standin: StandIn) -> None:
    standin.inject_fault("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="x")
    assert info.value.response.status_code == 200
    assert info.value.response.data == {"ok": False, "error": "channel_not_found"}
    assert standin.messages("C0ALERTS") == []
    # times=1 by default: the next call is normal
    assert (await client.chat_postMessage(channel="C0ALERTS", text="x"))["ok"] is True
    assert standin.calls("chat.postMessage")[0]["fault"] == {
        "method": "chat.postMessage",
        "error": "channel_not_found",
    }


async def test_fault_5xx_html(client: AsyncWebClient, standin: StandIn) -> None:
    standin.inject_fault("chat.update", status=503)
    ts = (await client.chat_postMessage(channel="C0ALERTS", text="x"))["ts"]
    with pytest.raises(SlackApiError) as info:
        await client.chat_update(channel="C0ALERTS", ts=ts, text="y")
    assert info.value.response.status_code == 503
    assert "<html>" in standin.calls("chat.update")[0]["result"]
    standin.inject_fault("chat.update", status=500)
    retrying = AsyncWebClient(
        token=TOKEN, base_url=standin.base_url, retry_handlers=[AsyncServerErrorRetryHandler()]
    )
    assert (await retrying.chat_update(channel="C0ALERTS", ts=ts, text="y"))["ok"] is True


async def test_fault_429_with_retry_after_zero(standin: StandIn) -> None:
    standin.inject_fault("views.open", status=429, retry_after=0, times=1)
    standin.inject_fault("auth.test", status=429, retry_after=0)
    client = AsyncWebClient(
        token=TOKEN,
        base_url=standin.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    resp = await client.auth_test()
    assert resp["ok"] is True
    calls = standin.calls("auth.test")
    assert [c["status"] for c in calls] == [429, 200]
    assert calls[0]["result"] == {"ok": False, "error": "ratelimited"}


async def test_fault_delay(standin: StandIn) -> None:
    standin.inject_fault("auth.test", delay=0.4)
    client = AsyncWebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[])
    start = time.monotonic()
    assert (await client.auth_test())["ok"] is True
    assert time.monotonic() - start >= 0.4
    standin.inject_fault("auth.test", delay=2.0)
    impatient = AsyncWebClient(token=TOKEN, base_url=standin.base_url, timeout=1, retry_handlers=[])
    with pytest.raises(asyncio.TimeoutError):
        await impatient.auth_test()


async def test_fault_drop(client: AsyncWebClient, standin: StandIn) -> None:
    standin.inject_fault("chat.postMessage", drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel="C0ALERTS", text="x")
    assert standin.messages("C0ALERTS") == []
    assert standin.calls("chat.postMessage")[0]["status"] is None
    # slack_sdk's connection-error handler retries once and gets through.
    standin.inject_fault("chat.postMessage", drop=True)
    retrying = AsyncWebClient(
        token=TOKEN,
        base_url=standin.base_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )
    assert (await retrying.chat_postMessage(channel="C0ALERTS", text="y"))["ok"] is True
    assert [m["text"] for m in standin.messages("C0ALERTS")] == ["y"]


async def test_fault_after_effect_drop_keeps_message(
    client: AsyncWebClient, standin: StandIn
) -> None:
    standin.inject_fault("chat.postMessage", drop=True, after_effect=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel="C0ALERTS", text="accepted, answer lost")
    # Slack stored it even though the caller never heard back: a retry would duplicate it.
    assert [m["text"] for m in standin.messages("C0ALERTS")] == ["accepted, answer lost"]
    entry = standin.calls("chat.postMessage")[0]
    assert entry["performed"]["ok"] is True and entry["status"] is None


async def test_fault_times_and_wildcard(client: AsyncWebClient, standin: StandIn) -> None:
    standin.inject_fault("*", error="fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.users_info(user="U0ALICE")
    assert (await client.auth_test())["ok"] is True
    standin.inject_fault("auth.test", error="internal_error", times=None)
    for _ in range(3):
        with pytest.raises(SlackApiError):
            await client.auth_test()
    standin.clear_faults()
    assert (await client.auth_test())["ok"] is True


def test_inject_fault_rejects_nonsense(standin: StandIn) -> None:
    with pytest.raises(ValueError):
        standin.inject_fault("auth.test")
    with pytest.raises(ValueError):
        standin.inject_fault("auth.test", status=200)


async def test_faults_over_http(client: AsyncWebClient, standin: StandIn) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{standin.url}/_stub/faults", json={"method": "auth.test", "error": "account_inactive"}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["faults"][0]["error"] == "account_inactive"
        async with http.post(f"{standin.url}/_stub/faults", json={"error": "x"}) as resp:
            assert resp.status == 400
    with pytest.raises(SlackApiError) as info:
        await client.auth_test()
    assert info.value.response["error"] == "account_inactive"
