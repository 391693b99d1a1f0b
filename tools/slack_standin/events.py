"""The Events API side of the stand-in (issue 13): people typing in DMs, editing, opening the
App Home, and Slack delivering those events to the app, signed, with Slack's retries.

Delivery goes over Socket Mode when the app has a socket open or waiting (socket_mode.py),
else as a signed JSON POST to `events_url`. Shapes: docs.slack.dev/reference/events/message.im,
app_home_opened, and the event_callback wrapper (see /work/shared/notes/slack-more.md §2).

Retry policy over HTTP, as Slack's: a delivery that is not a 2xx within 3 s is retried up to 3
times (`X-Slack-Retry-Num` 1..3 with `X-Slack-Retry-Reason`), after `retry_delays` (Slack: at
once, 1 min, 5 min; tests shorten them). A non-2xx answer with `x-slack-no-retry: 1` stops them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .driver import InteractionResult, sign
from .payloads import base_payload, build_action, find_element, new_trigger_id

if TYPE_CHECKING:
    from .standin import StandIn

ACK_DEADLINE_SECONDS = 3.0


@dataclass
class Delivery:
    """What happened to one event: every attempt's answer (status 0: no answer in time)."""

    body: dict[str, Any]
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and bool(self.attempts[-1].get("acked"))


class Events:
    def __init__(self, standin: StandIn) -> None:
        self._standin = standin
        self.events_url: str | None = None
        self.retry_delays: tuple[float, ...] = (0.0, 60.0, 300.0)
        self.timeout = ACK_DEADLINE_SECONDS
        self.delivered: list[Delivery] = []

    # ----- what people do ------------------------------------------------------------------
    def type_dm(self, user: str, text: str, thread_ts: str | None = None) -> dict[str, Any]:
        """`user` types `text` in their DM with the bot (in a thread when `thread_ts` is given);
        the message is stored, and the `message.im` event_callback body returned (not sent)."""
        ws = self._standin.workspace
        with ws.lock:
            u = ws.users.get(user)
            if u is None or u.is_bot or u.deleted:
                raise LookupError(f"{user!r} is not an active human user")
            channel = ws.dm_channel(user)
            msg = ws.post(channel.id, text, None, thread_ts=thread_ts, user=user)
            event: dict[str, Any] = {
                "client_msg_id": str(uuid.uuid4()),
                "type": "message",
                "text": text,
                "user": user,
                "ts": msg["ts"],
                "blocks": [_rich_text(text)],
                "team": ws.team.id,
                "channel": channel.id,
                "event_ts": msg["ts"],
                "channel_type": "im",
            }
            if msg.get("thread_ts"):
                event["thread_ts"] = msg["thread_ts"]
                event["parent_user_id"] = msg.get("parent_user_id")
            return self._callback(event)

    def echo(self, channel: str, ts: str) -> dict[str, Any]:
        """The `message.im` event Slack sends the app for a message already in a DM (the bot's
        own posts come back like this, with `bot_id` and the bot's user id)."""
        ws = self._standin.workspace
        with ws.lock:
            msg = ws.find(channel, ts)
            ch = ws.channels.get(channel)
            if msg is None or ch is None or not ch.is_im:
                raise LookupError(f"no DM message {ts} in {channel}")
            event = copy.deepcopy(msg)
            event.pop("metadata", None)  # events carry metadata only with a scope Parley lacks
            event.update({"channel": channel, "event_ts": ts, "channel_type": "im"})
            return self._callback(event)

    def edit_dm(self, user: str, channel: str, ts: str, text: str) -> dict[str, Any]:
        """`user` edits their DM message: a `message_changed` event (no top-level `user`)."""
        ws = self._standin.workspace
        with ws.lock:
            msg = ws.find(channel, ts)
            if msg is None or msg.get("user") != user:
                raise LookupError(f"{user} has no message {ts} in {channel}")
            previous = copy.deepcopy(msg)
            msg["text"] = text
            msg["edited"] = {"user": user, "ts": ws.next_ts()}
            event = {
                "type": "message",
                "subtype": "message_changed",
                "message": copy.deepcopy(msg),
                "previous_message": previous,
                "channel": channel,
                "hidden": True,
                "ts": msg["edited"]["ts"],
                "event_ts": msg["edited"]["ts"],
                "channel_type": "im",
            }
            return self._callback(event)

    def home_opened(self, user: str) -> dict[str, Any]:
        """`user` opens the app's Home tab: `app_home_opened`, with the view once published."""
        ws = self._standin.workspace
        with ws.lock:
            if user not in ws.users:
                raise LookupError(f"no user {user!r}")
            now = f"{ws.now():.6f}"
            event: dict[str, Any] = {
                "type": "app_home_opened",
                "user": user,
                "channel": ws.dm_channel(user).id,
                "tab": "home",
                "event_ts": now,
            }
            home = ws.homes.get(user)
            if home is not None:
                event["view"] = copy.deepcopy(home)
            return self._callback(event)

    async def click_home(
        self, user: str, action_id: str, *, value: str | None = None
    ) -> InteractionResult:
        """`user` clicks a button on their Home tab: block_actions from a `home` view, with a
        trigger_id but no response_url (docs.slack.dev/surfaces/app-home)."""
        ws = self._standin.workspace
        with ws.lock:
            home = ws.homes.get(user)
            if home is None:
                raise LookupError(f"{user} has no Home view published")
            block, el = find_element(home["blocks"], action_id, value)
            action = build_action(
                ws, block, el, value=value, selected_option=None, selected_user=None,
                action_ts=f"{ws.now():.6f}",
            )  # fmt: skip
            trigger_id = new_trigger_id()
            ws.add_trigger(trigger_id, user, None)
            view = {k: v for k, v in copy.deepcopy(home).items() if k != "published"}
            payload = base_payload(ws, "block_actions", user)
            payload.update(
                {
                    "container": {"type": "view", "view_id": home["id"]},
                    "trigger_id": trigger_id,
                    "view": view,
                    "actions": [action],
                }
            )
        return await self._standin.driver._send(payload, None)

    # ----- delivery ------------------------------------------------------------------------
    async def send(self, body: dict[str, Any], *, retries: bool = True) -> Delivery:
        """Deliver an event body as Slack would: over the socket when Socket Mode is on, else
        POSTed to `events_url`, retried on failure (unless `retries` is False)."""
        delivery = Delivery(body)
        self.delivered.append(delivery)
        socket = getattr(self._standin, "socket_mode", None)
        if socket is not None and socket.enabled:
            await socket.send_event(body, delivery)
            return delivery
        schedule = [None, *self.retry_delays] if retries else [None]
        for attempt, delay in enumerate(schedule):
            if delay:
                await asyncio.sleep(delay)
            reason = delivery.attempts[-1]["reason"] if delivery.attempts else None
            result = await self.post(body, attempt, reason)
            delivery.attempts.append(result)
            if result["acked"] or result.get("no_retry"):
                break
        return delivery

    async def post(
        self, body: dict[str, Any], retry_num: int = 0, retry_reason: str | None = None
    ) -> dict[str, Any]:
        """One signed POST of an event body (`retry_num` > 0: Slack's retry headers)."""
        url = self.events_url
        if not url:
            raise RuntimeError("Events.events_url is not set")
        raw = json.dumps(body).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(self._standin.signing_secret, ts, raw),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_error"
        start = time.monotonic()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(url, data=raw, headers=headers) as resp,
            ):
                text = await resp.text()
                status = resp.status
                no_retry = resp.headers.get("x-slack-no-retry") == "1"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return {"status": 0, "acked": False, "reason": "connection_failed", "body": str(exc)}
        elapsed = time.monotonic() - start
        late = elapsed > self.timeout
        acked = 200 <= status < 300 and not late
        reason = "http_timeout" if late else ("" if acked else "http_error")
        return {
            "status": status,
            "acked": acked,
            "reason": reason,
            "body": text,
            "elapsed": elapsed,
            "retry_num": retry_num,
            "no_retry": no_retry and not (200 <= status < 300),
        }

    def _callback(self, event: dict[str, Any]) -> dict[str, Any]:
        ws = self._standin.workspace
        return {
            "token": ws.verification_token,
            "team_id": ws.team.id,
            "context_team_id": ws.team.id,
            "context_enterprise_id": None,
            "api_app_id": ws.bot.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(ws.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ws.team.id,
                    "user_id": ws.bot.user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }


def _rich_text(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "block_id": secrets.token_urlsafe(3),
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def add_event_routes(app: web.Application, standin: StandIn) -> None:
    """/_stub controls for a person at the keyboard (local stacks, `make run`)."""

    async def body_of(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError as exc:
            raise web.HTTPBadRequest(text="body must be JSON") from exc
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return data

    async def deliver(request: web.Request, make: Any) -> web.Response:
        data = await body_of(request)
        try:
            event = make(data)
        except (LookupError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        delivery = await standin.events.send(event)
        return web.json_response({"ok": delivery.ok, "attempts": delivery.attempts}, dumps=_dumps)

    async def dm(request: web.Request) -> web.Response:
        return await deliver(
            request,
            lambda d: standin.events.type_dm(str(d["user"]), str(d["text"]), d.get("thread_ts")),
        )

    async def home(request: web.Request) -> web.Response:
        return await deliver(request, lambda d: standin.events.home_opened(str(d["user"])))

    async def disconnect(request: web.Request) -> web.Response:
        data = await body_of(request)
        told = await standin.socket_mode.disconnect(str(data.get("reason", "refresh_requested")))
        return web.json_response({"ok": True, "told": told})

    app.router.add_post("/_stub/dm", dm)
    app.router.add_post("/_stub/home_opened", home)
    app.router.add_post("/_stub/socket/disconnect", disconnect)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
