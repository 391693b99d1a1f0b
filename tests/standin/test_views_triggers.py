"""trigger_id lifecycle and views.open / views.update / views.push."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn

Trigger = Callable[..., Awaitable[str]]


def modal(title: str = "Justify", **over: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "justify",
        "private_metadata": '{"alert_id": "alert-1"}',
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            },
            {
                "type": "actions",
                "block_id": "more",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "details",
                        "text": {"type": "plain_text", "text": "Details"},
                    }
                ],
            },
        ],
    }
    view.update(over)
    return view


@pytest.fixture
def trigger(standin: StandIn, receiver: Any, post_alert: Any) -> Trigger:
    """A fresh trigger_id, minted the only way Slack mints them: by an interaction."""

    async def mint(user: str = "U0ALICE", view_id: str | None = None) -> str:
        if view_id is not None:
            res = await standin.driver.click_in_view(user, view_id, "details")
        else:
            ts = await post_alert()
            res = await standin.driver.click(user, "C0ALERTS", ts, "ack")
        assert res.status == 200 and res.trigger_id
        return res.trigger_id

    return mint


async def error_of(coro: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        await coro
    return dict(info.value.response.data)


async def test_views_open_shape(client: AsyncWebClient, standin: StandIn, trigger: Trigger) -> None:
    resp = await client.views_open(trigger_id=await trigger(), view=modal())
    view = resp["view"]
    assert re.match(r"^V[A-Z0-9]{10}$", view["id"])
    assert re.match(r"^\d+\.[A-Za-z0-9]{8}$", view["hash"])
    assert view["state"] == {"values": {}}
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert (view["team_id"], view["app_id"], view["bot_id"]) == ("T0PARLEY", "A0PARLEY", "B0PARLEY")
    assert view["type"] == "modal" and view["callback_id"] == "justify"
    assert view["private_metadata"] == '{"alert_id": "alert-1"}'
    assert view["title"] == {"type": "plain_text", "text": "Justify", "emoji": True}
    assert view["notify_on_close"] is False and view["external_id"] == ""
    assert [v["id"] for v in standin.views("U0ALICE")] == [view["id"]]
    assert standin.views("U0BOB") == []


async def test_trigger_is_single_use(client: AsyncWebClient, trigger: Trigger) -> None:
    tid = await trigger()
    await client.views_open(trigger_id=tid, view=modal())
    again = await error_of(client.views_open(trigger_id=tid, view=modal()))
    assert again["error"] == "expired_trigger_id"


async def test_unknown_trigger_is_invalid_arguments(client: AsyncWebClient) -> None:
    for tid in ("12345.98765.abcdef0123456789", "garbage"):
        data = await error_of(client.views_open(trigger_id=tid, view=modal()))
        assert data["error"] == "invalid_arguments"
        assert data["response_metadata"]["messages"] == ["invalid `trigger_id`"]


async def test_trigger_expires_short_ttl(
    client: AsyncWebClient, standin: StandIn, trigger: Trigger
) -> None:
    standin.trigger_ttl_seconds = 0.2
    tid = await trigger()
    await asyncio.sleep(0.3)
    assert (await error_of(client.views_open(trigger_id=tid, view=modal())))["error"] == (
        "expired_trigger_id"
    )


async def test_default_trigger_ttl_is_three_seconds(
    client: AsyncWebClient, standin: StandIn, trigger: Trigger
) -> None:
    assert standin.trigger_ttl_seconds == 3.0
    fresh = await trigger()
    standin.advance_clock(2.9)
    assert (await client.views_open(trigger_id=fresh, view=modal()))["ok"] is True
    late = await trigger()
    standin.advance_clock(3.1)
    assert (await error_of(client.views_open(trigger_id=late, view=modal())))["error"] == (
        "expired_trigger_id"
    )


async def test_invalid_view_refused_without_spending_trigger(
    client: AsyncWebClient, trigger: Trigger
) -> None:
    tid = await trigger()
    data = await error_of(client.views_open(trigger_id=tid, view=modal(title="t" * 25)))
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert (await client.views_open(trigger_id=tid, view=modal()))["ok"] is True


async def test_views_update(client: AsyncWebClient, standin: StandIn, trigger: Trigger) -> None:
    opened = (await client.views_open(trigger_id=await trigger(), view=modal(external_id="ext-1")))[
        "view"
    ]
    updated = await client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal(title="Updated", external_id="ext-1")
    )
    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["hash"] != opened["hash"]
    assert standin.views("U0ALICE")[0]["title"]["text"] == "Updated"
    stale = await error_of(
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    )
    assert stale["error"] == "hash_conflict"
    by_ext = await client.views_update(external_id="ext-1", view=modal(title="By external id"))
    assert by_ext["view"]["id"] == opened["id"]
    missing = await error_of(client.views_update(view_id="V0000000000", view=modal()))
    assert missing["error"] == "not_found"
    bad = await error_of(
        client.views_update(view_id=opened["id"], view=modal(callback_id="c" * 256))
    )
    assert bad["error"] == "invalid_arguments"


async def test_duplicate_external_id(client: AsyncWebClient, trigger: Trigger) -> None:
    await client.views_open(trigger_id=await trigger("U0ALICE"), view=modal(external_id="same"))
    dup = await error_of(
        client.views_open(trigger_id=await trigger("U0BOB"), view=modal(external_id="same"))
    )
    assert dup["error"] == "duplicate_external_id"


async def test_views_push_stack_limit(
    client: AsyncWebClient, standin: StandIn, trigger: Trigger
) -> None:
    root = (await client.views_open(trigger_id=await trigger(), view=modal()))["view"]
    second = (
        await client.views_push(trigger_id=await trigger(view_id=root["id"]), view=modal("Two"))
    )["view"]
    assert second["previous_view_id"] == root["id"] and second["root_view_id"] == root["id"]
    third = (
        await client.views_push(trigger_id=await trigger(view_id=second["id"]), view=modal("Three"))
    )["view"]
    assert third["previous_view_id"] == second["id"]
    assert len(standin.views("U0ALICE")) == 3
    full = await error_of(
        client.views_push(trigger_id=await trigger(view_id=third["id"]), view=modal("Four"))
    )
    assert full["error"] == "push_limit_reached"
