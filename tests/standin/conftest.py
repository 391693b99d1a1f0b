"""Fixtures: one stand-in per session (reset before each test) and a recording receiver."""

from __future__ import annotations

import inspect
import json
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn

TOKEN = "xoxb-standin-token"
SECRET = "parley-dev-signing-secret"
FAST_SCALE = 100.0  # rate limits stay on, but far out of the way of ordinary tests


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    s = StandIn(rate_limit_scale=FAST_SCALE).start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> Iterator[None]:
    standin.reset()
    standin.rate_limits = True
    standin.rate_limit_scale = FAST_SCALE
    standin.trigger_ttl_seconds = 3.0
    standin.interactivity_url = None
    standin.driver.timestamp_offset = 0.0
    yield


@pytest.fixture
def client(standin: StandIn) -> AsyncWebClient:
    # No retry handlers, so every fault and error reaches the test.
    return AsyncWebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[])


Responder = Callable[[dict[str, Any]], Awaitable[web.StreamResponse] | web.StreamResponse | None]


class Receiver:
    """A tiny app endpoint: records what Slack (the driver) sent and answers as told."""

    def __init__(self, verify: bool) -> None:
        self.requests: list[dict[str, Any]] = []
        self.responder: Responder | None = None
        self.verify = verify
        self.verifier = SignatureVerifier(SECRET)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        form = urllib.parse.parse_qs(raw.decode())
        payload = json.loads(form["payload"][0]) if "payload" in form else None
        valid = self.verifier.is_valid_request(raw, dict(request.headers))
        record = {"body": raw, "headers": dict(request.headers), "payload": payload, "valid": valid}
        self.requests.append(record)
        if self.verify and not valid:
            return web.json_response({"error": "invalid request"}, status=401)
        if self.responder is not None:
            out = self.responder(record)
            if inspect.isawaitable(out):
                out = await out
            if out is not None:
                return out
        return web.Response(status=200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/slack/interactivity", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/slack/interactivity"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


@pytest_asyncio.fixture
async def receiver(standin: StandIn) -> AsyncIterator[Receiver]:
    r = Receiver(verify=True)
    await r.start()
    standin.interactivity_url = r.url
    yield r
    await r.stop()


ALERT_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Impossible travel"}},
    {
        "type": "section",
        "block_id": "facts",
        "fields": [
            {"type": "mrkdwn", "text": "*Severity*\nhigh"},
            {"type": "mrkdwn", "text": "*User*\nalice"},
        ],
    },
    {
        "type": "actions",
        "block_id": "triage",
        "elements": [
            {
                "type": "button",
                "action_id": "ack",
                "text": {"type": "plain_text", "text": "Ack"},
                "value": "alert-1",
                "style": "primary",
            },
            {
                "type": "users_select",
                "action_id": "assign",
                "placeholder": {"type": "plain_text", "text": "Assign"},
            },
            {
                "type": "static_select",
                "action_id": "status",
                "options": [
                    {"text": {"type": "plain_text", "text": "Open"}, "value": "open"},
                    {"text": {"type": "plain_text", "text": "Resolved"}, "value": "resolved"},
                ],
            },
            {
                "type": "overflow",
                "action_id": "more",
                "options": [
                    {"text": {"type": "plain_text", "text": "Invalid"}, "value": "invalid"},
                ],
            },
        ],
    },
]


PostAlert = Callable[..., Awaitable[str]]


@pytest.fixture
def alert_blocks() -> list[dict[str, Any]]:
    return json.loads(json.dumps(ALERT_BLOCKS))


@pytest.fixture
def post_alert(client: AsyncWebClient) -> PostAlert:
    """Post an alert-like message (buttons, selects, metadata); returns its ts."""

    async def post(channel: str = "C0ALERTS") -> str:
        resp = await client.chat_postMessage(
            channel=channel,
            text="Impossible travel",
            blocks=ALERT_BLOCKS,
            metadata={"event_type": "parley_alert", "event_payload": {"alert_id": "alert-1"}},
        )
        return str(resp["ts"])

    return post
