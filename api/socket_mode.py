"""Socket Mode (issue 13): interactions and events over Slack's WebSocket, for teams that cannot
expose a public URL. On when SLACK_APP_TOKEN (xapp-…) is set.

slack-sdk's own `SocketModeClient` (the aiohttp flavour: aiohttp is already Parley's and the
stand-in's HTTP stack) does the protocol: `apps.connections.open` through the Web API base URL,
pings, reconnecting after a `disconnect` or a dropped socket. It is built inside the API's
lifespan because it needs a running loop.

Every envelope goes to the same handlers as the HTTP routes (api/slack.py's
`dispatch_interaction`, api/slack_events.py's `handle_event`), which answer within Slack's 3 s
whether or not a worker runs; their answer becomes the ack's payload (a modal's
`response_action`). An answer the HTTP route would give as a 5xx (database and Temporal both
away) is not acked, so Slack delivers the event again: the same as a failed HTTP delivery.
Envelopes are not deduplicated by id (a redelivery has a new one): the handlers' idempotency keys
(a click's action_ts, a DM's ts) make a redelivered one change nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from api import slack, slack_events
from parley.settings import Settings
from parley.store.db import StoreUnavailable

log = logging.getLogger("parley.slack.socket")
RETRY_CONNECT_SECONDS = 2.0


def as_request(app: FastAPI) -> Request:
    """What the handlers read from an HTTP request (`request.app`), for an envelope."""
    scope: dict[str, Any] = {
        "type": "http",
        "app": app,
        "method": "POST",
        "path": "/slack/socket-mode",
        "headers": [],
        "query_string": b"",
    }
    return Request(scope)


def ack_payload(resp: Response) -> dict[str, Any] | None:
    """The handler's answer as the ack's payload (only a JSON object counts)."""
    if resp.status_code != 200 or not resp.body:
        return None
    try:
        body = json.loads(bytes(resp.body))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class SocketModeListener:
    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.client: SocketModeClient | None = None
        self._starting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect in the background: the API serves its routes while Slack is unreachable."""
        web = AsyncWebClient(base_url=self.settings.slack_api_base_url, timeout=10)
        self.client = SocketModeClient(
            app_token=self.settings.slack_app_token,
            web_client=web,
            auto_reconnect_enabled=True,
            logger=log,
        )
        self.client.socket_mode_request_listeners.append(self._on_request)
        self._starting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        assert self.client is not None
        while True:
            try:
                await self.client.connect()
                log.info("connected to Slack over Socket Mode")
                return
            except Exception as exc:  # the stand-in or Slack not up yet, a bad token: keep trying
                log.warning("Socket Mode connect failed (%s); retrying", exc)
                await asyncio.sleep(RETRY_CONNECT_SECONDS)

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self.client is not None:
            await self.client.close()

    async def _on_request(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        resp = await self.handle(req.type, req.payload)
        if resp.status_code >= 500:
            log.warning(
                "envelope %s not acked: the handler answered %s", req.envelope_id, resp.status_code
            )
            return
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload=ack_payload(resp))
        )

    async def handle(self, kind: str, payload: dict[str, Any]) -> Response:
        request = as_request(self.app)
        try:
            if kind == "interactive":
                return await slack.dispatch_interaction(request, payload)
            if kind == "events_api":
                return await slack_events.handle_event(request, payload)
        except StoreUnavailable as exc:
            log.warning("database unavailable for a %s envelope: %s", kind, exc)
            return Response(status_code=503)
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            log.warning("malformed %s envelope: %s", kind, exc)
            return Response(status_code=400)
        return Response(status_code=200)  # slash commands and others: Parley has none
