"""Socket Mode for the stand-in (issue 13): `apps.connections.open` and the WebSocket.

As Slack's (docs.slack.dev/apis/events-api/using-socket-mode; /work/shared/notes/slack-more.md
§1):
- `apps.connections.open` takes only an app-level token (`Authorization: Bearer xapp-…`): none is
  `not_authed`, a bot or user token `not_allowed_token_type`, another app token `invalid_auth`,
  anything but a POST `insecure_request`. Tier 1. It answers a one-use `ws://…/link/?ticket=…`
  URL.
- The socket sends `hello` as soon as it opens. Envelopes carry `envelope_id`, `type`
  (`interactive` or `events_api`), `accepts_response_payload` and `payload`; `events_api` ones
  also `retry_attempt` and `retry_reason`. The app acks with `{"envelope_id": …, "payload"?}`.
- An `events_api` envelope not acked within `ack_timeout` (Slack: 3 s) is delivered again with a
  new envelope id and `retry_attempt` 1..3 (`retry_delays`; Slack: at once, 1 min, 5 min);
  `interactive` ones are not (the user sees an error). Late acks and unknown ids are dropped.
- `disconnect(reason)` sends `{"type": "disconnect", "reason": …}`; from then on that socket
  gets no new envelopes, and Slack closes it after a grace period. Envelopes wait for an open
  socket (events that come while none is open are delivered when one opens).
- Any open socket may carry an envelope, and its ack may come back on any socket of the app.

All socket work runs on the stand-in's own loop; the public coroutines may be awaited from any
loop (tests, the driver).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .events import Delivery
    from .standin import StandIn

T = TypeVar("T")
APP_TOKEN = "xapp-1-A0PARLEY-1-standin"


class SocketMode:
    def __init__(self, standin: StandIn) -> None:
        self._standin = standin
        self.app_token = APP_TOKEN
        # The app's "Enable Socket Mode" switch: deliveries go over sockets, not request URLs.
        self.enabled = False
        self.ack_timeout = 3.0
        self.retry_delays: tuple[float, ...] = (0.0, 60.0, 300.0)
        self.wait_for_socket = 30.0
        self.close_grace = 10.0  # after a disconnect message, Slack closes the old socket
        self.log: list[dict[str, Any]] = []  # hello, envelopes, acks, disconnects, for tests
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._draining: set[int] = set()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._drop_acks = 0
        self._opened: asyncio.Condition | None = None

    # ----- test controls (any thread) ------------------------------------------------------
    def drop_next_acks(self, count: int = 1) -> None:
        """Lose the app's next `count` acks on the way back, as a flaky network would."""
        self._drop_acks += count

    @property
    def open_sockets(self) -> int:
        return len([w for w in self._sockets if id(w) not in self._draining and not w.closed])

    async def disconnect(self, reason: str = "refresh_requested") -> int:
        """Send `disconnect` on every open socket; returns how many got it."""
        return await self._on_loop(self._disconnect(reason))

    async def drop_sockets(self) -> int:
        """Close every socket without a word, as a network failure would; returns how many."""
        return await self._on_loop(self._drop())

    async def send_event(self, body: dict[str, Any], delivery: Delivery) -> None:
        """An events_api envelope, redelivered (retry_attempt 1..3) until it is acked."""
        await self._on_loop(self._send_event(body, delivery))

    async def interact(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An interactive envelope, delivered once: {"acked", "payload", "elapsed", …}."""
        return await self._on_loop(self._deliver("interactive", payload))

    async def _on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._standin._loop
        if loop is None:
            raise RuntimeError("StandIn is not started")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    # ----- routes ---------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        """Registered before the generic /api/{method} route, which would otherwise match."""
        app.router.add_route("*", "/api/apps.connections.open", self._connections_open)
        app.router.add_route("GET", "/link/", self._link)

    async def _connections_open(self, request: web.Request) -> web.Response:
        body, status, headers = self._open(request)
        ws = self._standin.workspace
        with ws.lock:
            ws.journal.append(
                {
                    "method": "apps.connections.open",
                    "http_method": request.method,
                    "args": {},
                    "headers": {"user-agent": request.headers.get("User-Agent", "")},
                    "time": time.time(),
                    "status": status,
                    "result": body,
                }
            )
        return web.json_response(body, status=status, headers=headers)

    def _open(self, request: web.Request) -> tuple[dict[str, Any], int, dict[str, str]]:
        if request.method != "POST":
            return {"ok": False, "error": "insecure_request"}, 200, {}
        retry = self._standin.limiter.check("apps.connections.open", "1")
        if retry is not None:
            return {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry)}
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            return {"ok": False, "error": "not_authed"}, 200, {}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}, 200, {}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}, 200, {}
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        app_id = self._standin.workspace.bot.app_id
        url = self._standin.url.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{url}/link/?ticket={ticket}&app_id={app_id}"}, 200, {}

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # one use
        sock = web.WebSocketResponse(autoping=True)
        await sock.prepare(request)
        self._sockets.append(sock)
        hello = {
            "type": "hello",
            "num_connections": self.open_sockets,
            "debug_info": {
                "host": "applink-standin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self._standin.workspace.bot.app_id},
        }
        await sock.send_str(json.dumps(hello))
        self.log.append({"kind": "hello", "socket": id(sock), "time": time.time()})
        async with self._condition():
            self._condition().notify_all()
        try:
            async for msg in sock:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            self._sockets = [s for s in self._sockets if s is not sock]
            self._draining.discard(id(sock))
            self.log.append({"kind": "closed", "socket": id(sock), "time": time.time()})
        return sock

    def _condition(self) -> asyncio.Condition:
        if self._opened is None:
            self._opened = asyncio.Condition()
        return self._opened

    def _on_text(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        eid = frame.get("envelope_id") if isinstance(frame, dict) else None
        if not isinstance(eid, str):
            return
        if self._drop_acks > 0:
            self._drop_acks -= 1
            self.log.append({"kind": "ack_lost", "envelope_id": eid, "time": time.time()})
            return
        future = self._acks.pop(eid, None)
        if future is None or future.done():
            self.log.append({"kind": "ack_unknown", "envelope_id": eid, "time": time.time()})
            return
        self.log.append({"kind": "ack", "envelope_id": eid, "time": time.time()})
        future.set_result(frame)

    # ----- delivery (on the stand-in's loop) ----------------------------------------------
    async def _socket(self) -> web.WebSocketResponse:
        """An open socket that has not been told to disconnect; waits for one to open."""
        async with self._condition():
            await asyncio.wait_for(
                self._condition().wait_for(lambda: self.open_sockets > 0), self.wait_for_socket
            )
        live = [s for s in self._sockets if id(s) not in self._draining and not s.closed]
        return live[-1]

    async def _deliver(
        self, kind: str, payload: dict[str, Any], retry_attempt: int = 0, retry_reason: str = ""
    ) -> dict[str, Any]:
        eid = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": eid,
            "type": kind,
            "accepts_response_payload": kind == "interactive",
            "payload": payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[eid] = future
        start = time.monotonic()
        while True:
            try:
                sock = await self._socket()
            except TimeoutError:
                self._acks.pop(eid, None)
                return {"envelope_id": eid, "acked": False, "reason": "no_socket", "status": 0}
            try:
                await sock.send_str(json.dumps(envelope))
                break
            except ConnectionError:  # closed under us: another socket takes it
                self._draining.add(id(sock))
        self.log.append(
            {"kind": "envelope", "envelope_id": eid, "type": kind, "retry_attempt": retry_attempt}
        )
        try:
            ack = await asyncio.wait_for(asyncio.shield(future), self.ack_timeout)
        except TimeoutError:
            self._acks.pop(eid, None)  # a late ack is dropped, as Slack does
            elapsed = time.monotonic() - start
            return {"envelope_id": eid, "acked": False, "reason": "timeout", "elapsed": elapsed}
        return {
            "envelope_id": eid,
            "acked": True,
            "status": 200,
            "payload": ack.get("payload"),
            "elapsed": time.monotonic() - start,
            "retry_attempt": retry_attempt,
        }

    async def _send_event(self, body: dict[str, Any], delivery: Delivery) -> None:
        schedule = [None, *self.retry_delays]
        for attempt, delay in enumerate(schedule):
            if delay:
                await asyncio.sleep(delay)
            reason = "timeout" if attempt else ""
            result = await self._deliver("events_api", body, attempt, reason)
            delivery.attempts.append(result)
            if result["acked"]:
                return

    async def _disconnect(self, reason: str) -> int:
        frame = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        )
        told = 0
        for sock in list(self._sockets):
            if id(sock) in self._draining or sock.closed:
                continue
            self._draining.add(id(sock))
            try:
                await sock.send_str(frame)
                told += 1
            except ConnectionError:
                continue
            asyncio.get_running_loop().call_later(
                self.close_grace, lambda s=sock: asyncio.ensure_future(s.close())
            )
        self.log.append({"kind": "disconnect", "reason": reason, "told": told})
        return told

    async def _drop(self) -> int:
        socks = [s for s in self._sockets if not s.closed]
        for sock in socks:
            self._draining.add(id(sock))
            await sock.close(code=1001)  # "going away": what a proxy or a restart sends
        self.log.append({"kind": "dropped", "count": len(socks)})
        return len(socks)

    def reset(self) -> None:
        self._drop_acks = 0
        self.log.clear()
