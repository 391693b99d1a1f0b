"""Block Kit limits: refused through the API with Slack's error shapes, one case per limit."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn
from tools.slack_standin.blockkit import validate_message_blocks, validate_view


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(**over: Any) -> dict[str, Any]:
    b = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go"}
    b.update(over)
    return b


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def option(text: str = "o", value: str = "v") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def select(n: int = 1, **over: Any) -> dict[str, Any]:
    s = {
        "type": "static_select",
        "action_id": "s",
        "options": [option(value=f"v{i}") for i in range(n)],
    }
    s.update(over)
    return s


async def test_51_blocks_refused_50_accepted(client: AsyncWebClient, standin: StandIn) -> None:
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="t", blocks=[section("x")] * 51)
    data = info.value.response.data
    assert data["error"] == "invalid_blocks"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    ok = await client.chat_postMessage(channel="C0ALERTS", text="t", blocks=[section("x")] * 50)
    assert len(ok["message"]["blocks"]) == 50
    assert len(standin.messages("C0ALERTS")) == 1


async def test_3001_char_section_refused(client: AsyncWebClient) -> None:
    blocks = [section("ok")] * 11 + [section("x" * 3001)]
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="t", blocks=blocks)
    data = info.value.response.data
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/11/text/text]"
    ]
    assert data["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/11/text/text]"
    ]
    ok = await client.chat_postMessage(channel="C0ALERTS", text="t", blocks=[section("x" * 3000)])
    assert ok["ok"] is True


BAD: list[tuple[str, list[dict[str, Any]], str]] = [
    (
        "fields>10",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    (
        "field>2000",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    (
        "section needs text or fields",
        [{"type": "section"}],
        "missing required field: text [json-pointer:/blocks/0]",
    ),
    (
        "button text>75",
        [actions(button(text={"type": "plain_text", "text": "b" * 76}))],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    (
        "button needs text",
        [actions({"type": "button", "action_id": "a"})],
        "missing required field: text [json-pointer:/blocks/0/elements/0]",
    ),
    (
        "button text must be plain_text",
        [actions(button(text={"type": "mrkdwn", "text": "b"}))],
        "must be a valid enum value [json-pointer:/blocks/0/elements/0/text/type]",
    ),
    (
        "button value>2000",
        [actions(button(value="v" * 2001))],
        "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
    ),
    (
        "button url>3000",
        [actions(button(url="u" * 3001))],
        "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]",
    ),
    (
        "button style",
        [actions(button(style="green"))],
        "must be a valid enum value [json-pointer:/blocks/0/elements/0/style]",
    ),
    (
        "action_id>255",
        [actions(button(action_id="a" * 256))],
        "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
    ),
    (
        "block_id>255",
        [{**section("x"), "block_id": "b" * 256}],
        "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
    ),
    (
        "duplicate block_id",
        [{**section("x"), "block_id": "same"}, {**section("y"), "block_id": "same"}],
        '`block_id` "same" already exists [json-pointer:/blocks/1/block_id]',
    ),
    (
        "duplicate action_id in a block",
        [actions(button(), button())],
        '`action_id` "go" already exists [json-pointer:/blocks/0/elements/1/action_id]',
    ),
    (
        "select>100 options",
        [actions(select(101))],
        "no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]",
    ),
    (
        "select without options",
        [actions(select(0))],
        "must provide at least 1 items [json-pointer:/blocks/0/elements/0/options]",
    ),
    (
        "option text>75",
        [actions(select(options=[option(text="o" * 76)]))],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]",
    ),
    (
        "option value>150",
        [actions(select(options=[option(value="v" * 151)]))],
        "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",
    ),
    (
        "header>150",
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        "actions>25 elements",
        [actions(*[button(action_id=f"a{i}") for i in range(26)])],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        "context>10 elements",
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        "input label>2000",
        [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "l" * 2001},
                "element": {"type": "plain_text_input", "action_id": "i"},
            }
        ],
        "must be less than 2001 characters [json-pointer:/blocks/0/label/text]",
    ),
    (
        "unknown block type",
        [{"type": "carousel"}],
        "unsupported type: carousel [json-pointer:/blocks/0/type]",
    ),
    (
        "element not allowed in actions",
        [actions({"type": "plain_text_input", "action_id": "i"})],
        "unsupported type: plain_text_input [json-pointer:/blocks/0/elements/0/type]",
    ),
    (
        "unknown property",
        [{**section("x"), "colour": "red"}],
        "invalid additional property: colour [json-pointer:/blocks/0]",
    ),
    (
        "empty text",
        [section("")],
        "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        "text must be an object",
        [{"type": "section", "text": "plain string"}],
        "must provide an object [json-pointer:/blocks/0/text]",
    ),
]


@pytest.mark.parametrize(("blocks", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_block_limit_refused(blocks: list[dict[str, Any]], expected: str) -> None:
    assert f"[ERROR] {expected}" in validate_message_blocks(blocks)


GOOD: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "fields=10 x 2000",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10}],
    ),
    (
        "button at limits",
        [actions(button(text={"type": "plain_text", "text": "b" * 75}, value="v" * 2000))],
    ),
    ("ids at 255", [{**actions(button(action_id="a" * 255)), "block_id": "b" * 255}]),
    ("select 100 options", [actions(select(100))]),
    ("header 150", [{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}]),
    ("actions 25", [actions(*[button(action_id=f"a{i}") for i in range(25)])]),
    ("context 10", [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10}]),
    ("same action_id in two blocks", [actions(button()), actions(button())]),
    (
        "button without action_id",
        [actions({"type": "button", "text": {"type": "plain_text", "text": "x"}})],
    ),
    (
        "rich_text preformatted",
        [
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "{}"}]}
                ],
            }
        ],
    ),
]


@pytest.mark.parametrize("blocks", [g[1] for g in GOOD], ids=[g[0] for g in GOOD])
def test_block_at_limit_accepted(blocks: list[dict[str, Any]]) -> None:
    assert validate_message_blocks(blocks) == []


async def test_generated_action_id_is_stored(client: AsyncWebClient) -> None:
    resp = await client.chat_postMessage(
        channel="C0ALERTS",
        text="t",
        blocks=[actions({"type": "button", "text": {"type": "plain_text", "text": "x"}})],
    )
    element = resp["message"]["blocks"][0]["elements"][0]
    assert isinstance(element["action_id"], str) and element["action_id"]
    assert element["text"]["emoji"] is True


async def test_aggregate_limits(client: AsyncWebClient) -> None:
    md = [{"type": "markdown", "text": "m" * 7000}, {"type": "markdown", "text": "m" * 5001}]
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="t", blocks=md)
    assert info.value.response["error"] == "invalid_blocks"
    big = [section("x" * 3000)] * 5
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="t", blocks=big)
    assert info.value.response["error"] == "msg_blocks_too_long"
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="t", blocks="not json")
    assert info.value.response["error"] == "invalid_blocks_format"


def modal(**over: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Justify"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    }
    view.update(over)
    return view


VIEW_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("title>24", modal(title={"type": "plain_text", "text": "t" * 25}), "/view/title/text"),
    ("submit>24", modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
    ("close>24", modal(close={"type": "plain_text", "text": "c" * 25}), "/view/close/text"),
    ("private_metadata>3000", modal(private_metadata="p" * 3001), "/view/private_metadata"),
    ("callback_id>255", modal(callback_id="c" * 256), "/view/callback_id"),
    ("blocks>100", modal(blocks=[section("x")] * 101), "/view/blocks"),
    (
        "input without submit",
        {k: v for k, v in modal().items() if k != "submit"},
        "/view/blocks/0/input",
    ),
    (
        "markdown block in modal",
        modal(blocks=[{"type": "markdown", "text": "m"}]),
        "/view/blocks/0/type",
    ),
    ("home is not a modal", modal(type="home"), "/view/type"),
]


@pytest.mark.parametrize(
    ("view", "pointer"), [v[1:] for v in VIEW_BAD], ids=[v[0] for v in VIEW_BAD]
)
def test_view_limit_refused(view: dict[str, Any], pointer: str) -> None:
    errors = validate_view(view)
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


def test_view_at_limits_accepted() -> None:
    view = modal(
        title={"type": "plain_text", "text": "t" * 24},
        private_metadata="p" * 3000,
        callback_id="c" * 255,
        blocks=[section("x")] * 100,
    )
    assert validate_view(view) == []
