"""The interaction driver: plays the Slack client, signing and POSTing interaction payloads.

Coroutines run in the caller's event loop with their own aiohttp session; state is read and
written under the workspace lock, never across an await.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from . import response_url as response_urls
from .payloads import (
    base_payload,
    build_action,
    find_element,
    new_trigger_id,
    record_choice,
    state_values,
)
from .submission import ACK_DEADLINE_SECONDS, apply_response, submission_state
from .views_state import ViewRecord

if TYPE_CHECKING:
    from .standin import StandIn


@dataclass
class InteractionResult:
    status: int  # 0 when no HTTP answer came back (refused, reset, timed out)
    body: Any  # parsed JSON if the app answered JSON, else text
    elapsed: float  # seconds
    trigger_id: str | None
    payload: dict[str, Any]  # what was sent
    problems: list[str] = field(default_factory=list)  # what Slack would have complained about

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Driver:
    def __init__(self, standin: StandIn) -> None:
        self._standin = standin
        self.clock: Callable[[], float] = time.time  # for the signature timestamp only
        self.timestamp_offset = 0.0  # e.g. -360 to send a 6-minute-old request
        self.timeout = 10.0  # Slack gives up at 3 s; waiting longer lets tests measure

    # ----- public API --------------------------------------------------------------------
    async def click(
        self,
        user: str,
        channel: str,
        ts: str,
        action_id: str,
        *,
        value: str | None = None,
        selected_option: str | None = None,
        selected_user: str | None = None,
        timestamp_offset: float | None = None,
    ) -> InteractionResult:
        """block_actions on a stored message (top-level or thread reply)."""
        ws = self._standin.workspace
        with ws.lock:
            payload = self._message_action(
                user, channel, ts, action_id, value, selected_option, selected_user
            )
        return await self._send(payload, timestamp_offset)

    async def click_in_view(
        self,
        user: str,
        view_id: str,
        action_id: str,
        *,
        value: str | None = None,
        selected_option: str | None = None,
        selected_user: str | None = None,
        timestamp_offset: float | None = None,
    ) -> InteractionResult:
        """block_actions inside an open modal."""
        ws = self._standin.workspace
        with ws.lock:
            rec = self._open_view(user, view_id)
            view = rec.view
            block, el = find_element(view["blocks"], action_id, value)
            action = build_action(
                ws,
                block,
                el,
                value=value,
                selected_option=selected_option,
                selected_user=selected_user,
                action_ts=self._action_ts(),
            )
            values = record_choice(
                state_values(view["blocks"], view["state"]["values"]), block, el, action
            )
            view["state"] = {"values": values}
            trigger_id = self._trigger(user, view_id)
            payload = base_payload(ws, "block_actions", user)
            payload.update(
                {
                    "container": {"type": "view", "view_id": view_id},
                    "trigger_id": trigger_id,
                    "view": copy.deepcopy(view),
                    "actions": [action],
                }
            )
        return await self._send(payload, timestamp_offset)

    async def submit_view(
        self,
        user: str,
        view_id: str,
        values: dict[str, dict[str, Any]],
        *,
        timestamp_offset: float | None = None,
    ) -> InteractionResult:
        ws = self._standin.workspace
        with ws.lock:
            rec = self._open_view(user, view_id)
            state = submission_state(ws, rec.view, values)
            rec.view["state"] = {"values": state}
            payload = base_payload(ws, "view_submission", user)
            payload.update(
                {
                    "trigger_id": self._trigger(user, view_id),
                    "view": copy.deepcopy(rec.view),
                    "response_urls": [],
                }
            )
        result = await self._send(payload, timestamp_offset)
        with ws.lock:
            if rec.open:
                result.problems.extend(
                    apply_response(ws, rec, result.status, result.body, result.elapsed)
                )
        return result

    async def close_view(
        self, user: str, view_id: str, *, timestamp_offset: float | None = None
    ) -> InteractionResult | None:
        """The user cancels the modal. view_closed is sent only if notify_on_close is set;
        returns None when nothing was sent."""
        ws = self._standin.workspace
        with ws.lock:
            rec = self._open_view(user, view_id)
            view = copy.deepcopy(rec.view)
            ws.views.close(view_id)
            if not view.get("notify_on_close"):
                return None
            payload = base_payload(ws, "view_closed", user)
            payload.update({"view": view, "is_cleared": False})
        return await self._send(payload, timestamp_offset)

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> InteractionResult:
        """POST exactly these bytes and headers (forged or stale signatures)."""
        payload: dict[str, Any] = {}
        try:
            raw = urllib.parse.parse_qs(body.decode()).get("payload", ["{}"])[0]
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
        return await self._post(body, headers, payload, None)

    def signed_headers(self, body: bytes, timestamp_offset: float | None = None) -> dict[str, str]:
        offset = self.timestamp_offset if timestamp_offset is None else timestamp_offset
        ts = int(self.clock() + offset)
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(self._standin.signing_secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    # ----- internals ---------------------------------------------------------------------
    def _action_ts(self) -> str:
        now = self._standin.workspace.now()
        return f"{now:.6f}"

    def _trigger(self, user: str, view_id: str | None) -> str:
        trigger_id = new_trigger_id()
        self._standin.workspace.add_trigger(trigger_id, user, view_id)
        return trigger_id

    def _open_view(self, user: str, view_id: str) -> ViewRecord:
        rec = self._standin.workspace.views.records.get(view_id)
        if rec is None or not rec.open:
            raise LookupError(f"view {view_id} is not open")
        if rec.user != user:
            raise LookupError(f"view {view_id} belongs to {rec.user}, not {user}")
        return rec

    def _message_action(
        self,
        user: str,
        channel: str,
        ts: str,
        action_id: str,
        value: str | None,
        selected_option: str | None,
        selected_user: str | None,
    ) -> dict[str, Any]:
        ws = self._standin.workspace
        u = ws.users.get(user)
        if u is None or u.deleted or u.is_bot:
            raise LookupError(f"{user!r} is not an active human user")
        ch = ws.channels.get(channel)
        if ch is None:
            raise LookupError(f"no channel {channel!r}")
        if (ch.is_private or ch.is_im) and user not in ch.members:
            raise LookupError(f"{user} cannot see {channel}")
        msg = ws.find(channel, ts)
        if msg is None:
            raise LookupError(f"no message {ts} in {channel}")
        blocks = msg.get("blocks") or []
        block, el = find_element(blocks, action_id, value)
        action = build_action(
            ws,
            block,
            el,
            value=value,
            selected_option=selected_option,
            selected_user=selected_user,
            action_ts=self._action_ts(),
        )
        values = record_choice(state_values(blocks), block, el, action)
        thread_ts = msg.get("thread_ts") if msg.get("thread_ts") != msg["ts"] else None
        container = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        if thread_ts:
            container["thread_ts"] = thread_ts  # clicks inside a thread carry the parent ts
        payload = base_payload(ws, "block_actions", user)
        payload.update(
            {
                "container": container,
                "trigger_id": self._trigger(user, None),
                "channel": {"id": channel, "name": ch.name},
                "message": copy.deepcopy(msg),
                "state": {"values": values},
                "response_url": response_urls.mint(
                    ws, self._standin.url, channel, ts, user, thread_ts=thread_ts
                ),
                "actions": [action],
            }
        )
        return payload

    async def _send(self, payload: dict[str, Any], ts_offset: float | None) -> InteractionResult:
        if self._standin.socket_mode.enabled:  # Socket Mode: an envelope instead of a POST
            return await self._over_socket(payload)
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return await self._post(
            body, self.signed_headers(body, ts_offset), payload, payload.get("trigger_id")
        )

    async def _over_socket(self, payload: dict[str, Any]) -> InteractionResult:
        result = await self._standin.socket_mode.interact(payload)
        problems = [] if result["acked"] else ["no ack within 3 s: Slack shows the user an error"]
        return InteractionResult(
            200 if result["acked"] else 0,
            result.get("payload") or "",
            float(result.get("elapsed") or 0.0),
            payload.get("trigger_id"),
            payload,
            problems,
        )

    async def _post(
        self,
        body: bytes,
        headers: dict[str, str],
        payload: dict[str, Any],
        trigger_id: str | None,
    ) -> InteractionResult:
        url = self._standin.interactivity_url
        if not url:
            raise RuntimeError("StandIn.interactivity_url is not set")
        start = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data=body, headers=headers) as resp,
            ):
                text = await resp.text()
                status = resp.status
                ctype = resp.headers.get("Content-Type", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            elapsed = time.monotonic() - start
            return InteractionResult(
                0,
                f"{type(exc).__name__}: {exc}",
                elapsed,
                trigger_id,
                payload,
                ["no HTTP answer: Slack shows the user an error"],
            )
        elapsed = time.monotonic() - start
        parsed: Any = text
        if "json" in ctype and text.strip():
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = text
        problems = []
        if elapsed > ACK_DEADLINE_SECONDS:
            problems.append(f"ack took {elapsed:.2f}s, over Slack's 3 s deadline")
        return InteractionResult(status, parsed, elapsed, trigger_id, payload, problems)
