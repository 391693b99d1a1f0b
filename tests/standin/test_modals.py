"""Modals end to end: click -> views.open -> view_submission / view_closed, as Slack runs them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn

SECRET = "parley-dev-signing-secret"


def opt(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def input_block(block_id: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": block_id.title()},
        "element": element,
    }


JUSTIFY: dict[str, Any] = {
    "type": "modal",
    "callback_id": "justify",
    "private_metadata": "alert-1",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Justify"},
    "submit": {"type": "plain_text", "text": "Send"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        input_block(
            "reason",
            {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 50},
        ),
        input_block(
            "severity",
            {"type": "static_select", "action_id": "sev", "options": [opt("High", "high")]},
        ),
        input_block("owner", {"type": "users_select", "action_id": "who"}, optional=True),
        input_block(
            "flags",
            {"type": "checkboxes", "action_id": "f", "options": [opt("False positive", "fp")]},
            optional=True,
        ),
        {
            "type": "actions",
            "block_id": "tools",
            "elements": [
                {
                    "type": "button",
                    "action_id": "lookup",
                    "text": {"type": "plain_text", "text": "Look up"},
                    "value": "ip",
                }
            ],
        },
    ],
}
SIMPLE: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Thanks"},
    "submit": {"type": "plain_text", "text": "OK"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Noted."}}],
}
VIEW_KEYS = {
    "id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash",
    "title", "clear_on_close", "notify_on_close", "close", "submit", "previous_view_id",
    "root_view_id", "app_id", "external_id", "app_installed_team_id", "bot_id",
}  # fmt: skip


@pytest.fixture
def answers(client: AsyncWebClient, receiver: Any) -> list[Any]:
    """A minimal app: a message click opens JUSTIFY; submissions get the queued answers."""
    queue: list[Any] = []

    async def app(record: dict[str, Any]) -> web.StreamResponse | None:
        p = record["payload"]
        if p["type"] == "block_actions" and p["container"]["type"] == "message":
            await client.views_open(trigger_id=p["trigger_id"], view=JUSTIFY)
        if p["type"] == "view_submission" and queue:
            answer = queue.pop(0)
            if callable(answer):
                answer = await answer()
            if answer is not None:
                return web.json_response(answer)
        return None

    receiver.responder = app
    return queue


async def open_justify(standin: StandIn, post_alert: Any, user: str = "U0ALICE") -> str:
    ts = await post_alert()
    res = await standin.driver.click(user, "C0ALERTS", ts, "ack")
    assert res.status == 200
    (view,) = standin.views(user)
    return str(view["id"])


async def test_view_submission_payload_and_errors(
    standin: StandIn, receiver: Any, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)
    answers.extend([{"response_action": "errors", "errors": {"reason": "Say more"}}, None])
    res = await standin.driver.submit_view(
        "U0ALICE",
        vid,
        {
            "reason": {"text": "vpn"},
            "severity": {"sev": "high"},
            "owner": {"who": "U0BOB"},
            "flags": {"f": ["fp"]},
        },
    )
    got = receiver.last
    assert SignatureVerifier(SECRET).is_valid_request(got["body"], got["headers"])
    p = got["payload"]
    assert set(p) == {
        "type", "team", "user", "api_app_id", "token", "trigger_id", "view", "response_urls",
        "is_enterprise_install", "enterprise",
    }  # fmt: skip
    assert p["type"] == "view_submission" and p["response_urls"] == []
    assert p["trigger_id"] == res.trigger_id and p["user"]["id"] == "U0ALICE"
    view = p["view"]
    assert set(view) == VIEW_KEYS
    assert (view["id"], view["type"], view["callback_id"]) == (vid, "modal", "justify")
    assert view["private_metadata"] == "alert-1" and view["root_view_id"] == vid
    assert view["state"]["values"] == {
        "reason": {"text": {"type": "plain_text_input", "value": "vpn"}},
        "severity": {
            "sev": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "High", "emoji": True},
                    "value": "high",
                },
            }
        },
        "owner": {"who": {"type": "users_select", "selected_user": "U0BOB"}},
        "flags": {
            "f": {
                "type": "checkboxes",
                "selected_options": [
                    {
                        "text": {"type": "plain_text", "text": "False positive", "emoji": True},
                        "value": "fp",
                    }
                ],
            }
        },
    }
    # `errors` keeps the modal open, with what the user typed.
    assert res.body == {"response_action": "errors", "errors": {"reason": "Say more"}}
    assert standin.view_errors(vid) == {"reason": "Say more"}
    (still_open,) = standin.views("U0ALICE")
    assert still_open["state"]["values"]["reason"]["text"]["value"] == "vpn"
    # Fix only the reason; the rest is still filled in. An empty 200 closes the modal.
    res2 = await standin.driver.submit_view("U0ALICE", vid, {"reason": {"text": "travelling"}})
    values = receiver.last["payload"]["view"]["state"]["values"]
    assert values["reason"]["text"]["value"] == "travelling"
    assert values["owner"]["who"]["selected_user"] == "U0BOB"
    assert res2.status == 200 and res2.body == "" and res2.problems == []
    assert standin.views("U0ALICE") == []


async def test_response_action_update_push_clear(
    standin: StandIn, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)
    filled = {"reason": {"text": "ok"}, "severity": {"sev": "high"}}
    answers.append({"response_action": "update", "view": {**JUSTIFY, "private_metadata": "v2"}})
    await standin.driver.submit_view("U0ALICE", vid, filled)
    (view,) = standin.views("U0ALICE")
    assert view["id"] == vid and view["private_metadata"] == "v2"
    answers.append({"response_action": "push", "view": SIMPLE})
    await standin.driver.submit_view("U0ALICE", vid, filled)
    stack = standin.views("U0ALICE")
    assert stack[0]["id"] == vid and len(stack) == 2
    assert stack[1]["previous_view_id"] == vid and stack[1]["root_view_id"] == vid
    answers.append({"response_action": "clear"})
    await standin.driver.submit_view("U0ALICE", stack[1]["id"], {})
    assert standin.views("U0ALICE") == []


async def test_invalid_response_action_view_is_reported(
    standin: StandIn, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)
    bad = {**SIMPLE, "title": {"type": "plain_text", "text": "x" * 30}}
    answers.append({"response_action": "update", "view": bad})
    res = await standin.driver.submit_view(
        "U0ALICE", vid, {"reason": {"text": "ok"}, "severity": {"sev": "high"}}
    )
    assert any("/view/title/text" in p for p in res.problems)
    assert standin.views("U0ALICE")[0]["title"]["text"] == "Justify"


async def test_submission_test_bugs_raise(
    standin: StandIn, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)
    with pytest.raises(ValueError, match="required input 'severity'"):
        await standin.driver.submit_view("U0ALICE", vid, {"reason": {"text": "x"}})
    with pytest.raises(LookupError):
        await standin.driver.submit_view("U0ALICE", vid, {"nope": {"x": "y"}})
    with pytest.raises(ValueError, match="max_length"):
        await standin.driver.submit_view(
            "U0ALICE", vid, {"reason": {"text": "x" * 51}, "severity": {"sev": "high"}}
        )
    with pytest.raises(LookupError):  # someone else's modal
        await standin.driver.submit_view("U0BOB", vid, {})


async def test_close_view(
    client: AsyncWebClient, standin: StandIn, receiver: Any, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)
    res = await standin.driver.close_view("U0ALICE", vid)
    assert res is not None and res.status == 200
    p = receiver.last["payload"]
    assert p["type"] == "view_closed" and p["is_cleared"] is False
    assert p["view"]["id"] == vid and "trigger_id" not in p
    assert standin.views("U0ALICE") == []
    # Without notify_on_close Slack sends nothing.
    receiver.responder = None
    ts = await post_alert()
    click = await standin.driver.click("U0ALICE", "C0ALERTS", ts, "ack")
    quiet = (await client.views_open(trigger_id=click.trigger_id, view=SIMPLE))["view"]
    sent = len(receiver.requests)
    assert await standin.driver.close_view("U0ALICE", quiet["id"]) is None
    assert len(receiver.requests) == sent and standin.views("U0ALICE") == []


async def test_click_in_view_payload(
    standin: StandIn, receiver: Any, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)
    res = await standin.driver.click_in_view("U0ALICE", vid, "lookup")
    p = receiver.last["payload"]
    assert set(p) == {
        "type", "user", "api_app_id", "token", "container", "trigger_id", "team", "enterprise",
        "is_enterprise_install", "view", "actions",
    }  # fmt: skip
    assert p["container"] == {"type": "view", "view_id": vid}
    assert p["view"]["id"] == vid and set(p["view"]) == VIEW_KEYS
    assert p["actions"][0]["action_id"] == "lookup" and p["actions"][0]["value"] == "ip"
    assert res.trigger_id == p["trigger_id"]


async def test_slow_ack_is_ignored_by_slack(
    standin: StandIn, answers: list[Any], post_alert: Any
) -> None:
    vid = await open_justify(standin, post_alert)

    async def slow() -> None:
        await asyncio.sleep(3.1)

    answers.append(slow)
    res = await standin.driver.submit_view(
        "U0ALICE", vid, {"reason": {"text": "ok"}, "severity": {"sev": "high"}}
    )
    assert res.status == 200 and res.elapsed > 3.0
    assert any("3 s" in p for p in res.problems)
    assert [v["id"] for v in standin.views("U0ALICE")] == [vid]  # the empty ack came too late


async def test_http_submit_endpoint(standin: StandIn, answers: list[Any], post_alert: Any) -> None:
    vid = await open_justify(standin, post_alert)
    body = {
        "user": "U0ALICE",
        "view_id": vid,
        "values": {"reason": {"text": "curl"}, "severity": {"sev": "high"}},
    }
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{standin.url}/_stub/views?user=U0ALICE") as resp:
            assert [v["id"] for v in (await resp.json())["views"]] == [vid]
        async with http.post(f"{standin.url}/_stub/submit", json=body) as resp:
            data = await resp.json()
    assert data["ok"] is True and data["status"] == 200
    assert data["payload"]["view"]["state"]["values"]["reason"]["text"]["value"] == "curl"
    assert standin.views() == []
