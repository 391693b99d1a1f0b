"""StandIn: the stateful Slack stand-in, served from a background thread with its own loop."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from .driver import Driver
from .events import Events
from .faults import Fault, FaultRegistry
from .ratelimit import RateLimiter
from .server import ApiServer
from .socket_mode import SocketMode
from .workspace import Workspace

T = TypeVar("T")


class StandIn:
    def __init__(
        self,
        workspace_path: str | Path | None = None,
        signing_secret: str = "parley-dev-signing-secret",
        bot_token: str = "xoxb-standin-token",
        interactivity_url: str | None = None,
        rate_limits: bool = True,
        rate_limit_scale: float = 1.0,
        trigger_ttl_seconds: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.workspace = Workspace(workspace_path, trigger_ttl_seconds)
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.interactivity_url = interactivity_url
        self.faults = FaultRegistry()
        self.limiter = RateLimiter(enabled=rate_limits, scale=rate_limit_scale)
        self.host = host
        self.port = port
        self.driver = Driver(self)
        self.events = Events(self)  # people typing in DMs, the App Home (issue 13)
        self.socket_mode = SocketMode(self)  # apps.connections.open and the WebSocket
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    # ----- tunables (settable between tests) ---------------------------------------------
    @property
    def rate_limits(self) -> bool:
        return self.limiter.enabled

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self.limiter.enabled = enabled

    @property
    def rate_limit_scale(self) -> float:
        return self.limiter.scale

    @rate_limit_scale.setter
    def rate_limit_scale(self, scale: float) -> None:
        self.limiter.scale = scale
        self.limiter.reset()

    @property
    def trigger_ttl_seconds(self) -> float:
        return self.workspace.trigger_ttl_seconds

    @trigger_ttl_seconds.setter
    def trigger_ttl_seconds(self, seconds: float) -> None:
        self.workspace.trigger_ttl_seconds = seconds

    # ----- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._bound_port is None:
            raise RuntimeError("StandIn is not started")
        return f"http://{self.host}:{self._bound_port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def start(self) -> StandIn:
        """Start serving on a background thread; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("StandIn already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # handed to start() below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="slack-standin", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join(1)
            self._thread = None
            raise failure[0]
        return self

    async def _serve(self) -> None:
        app = ApiServer(self).make_app()
        # handler_cancellation=False: like Slack, finish a request whose client has gone (timed
        # out, dropped the connection); a late post still lands.
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=0.5,
            handler_cancellation=False,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop)
            fut.result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = self._runner = None
        self._bound_port = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- state (thread-safe, deep copies) ------------------------------------------------
    def _read(self, fn: Callable[[], T]) -> T:
        with self.workspace.lock:
            return copy.deepcopy(fn())

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return self._read(lambda: self.workspace.top_level(channel))

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return self._read(lambda: self.workspace.thread(channel, thread_ts))

    def get_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return self._read(lambda: self.workspace.find(channel, ts))

    def dm_channel_id(self, user_id: str) -> str:
        with self.workspace.lock:
            if user_id not in self.workspace.users:
                raise LookupError(f"no user {user_id!r}")
            return self.workspace.dm_channel(user_id).id

    def ephemerals(
        self, channel: str | None = None, user: str | None = None
    ) -> list[dict[str, Any]]:
        return self._read(
            lambda: [
                e
                for e in self.workspace.ephemerals
                if (channel is None or e["channel"] == channel)
                and (user is None or e["user"] == user)
            ]
        )

    def response_url_posts(self) -> list[dict[str, Any]]:
        return self._read(lambda: self.workspace.response_url_posts)

    def views(self, user: str | None = None) -> list[dict[str, Any]]:
        with self.workspace.lock:
            return self.workspace.views.open_views(user)

    def view_errors(self, view_id: str) -> dict[str, Any] | None:
        """The last `response_action: errors` map the app answered for a view."""
        with self.workspace.lock:
            rec = self.workspace.views.records.get(view_id)
            return copy.deepcopy(rec.errors) if rec else None

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home view last published for `user` (views.publish), or None."""
        return self._read(lambda: self.workspace.homes.get(user))

    def journal(self) -> list[dict[str, Any]]:
        return self._read(lambda: self.workspace.journal)

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [e for e in self.journal() if e["method"] == method]

    # ----- manipulation ------------------------------------------------------------------
    def reset(self) -> None:
        with self.workspace.lock:
            self.workspace.reload()
        self.faults.clear()
        self.limiter.reset()

    def advance_clock(self, seconds: float) -> None:
        """Move the stand-in's clock (trigger and response_url expiry, new ts values)."""
        with self.workspace.lock:
            self.workspace.clock_offset += seconds

    def delete_message(self, channel: str, ts: str) -> None:
        """A human deletes the message (afterwards chat.update gets message_not_found)."""
        with self.workspace.lock:
            if not self.workspace.delete(channel, ts):
                raise LookupError(f"no message {ts} in {channel}")

    def add_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> str:
        """A human posts in a channel (or thread); returns the message ts."""
        with self.workspace.lock:
            if user not in self.workspace.users or channel not in self.workspace.channels:
                raise LookupError(f"unknown user {user!r} or channel {channel!r}")
            msg = self.workspace.post(channel, text, None, thread_ts=thread_ts, user=user)
            return str(msg["ts"])

    def archive_channel(self, channel: str) -> None:
        with self.workspace.lock:
            ch = self.workspace.channels.get(channel)
            if ch is None:
                raise LookupError(f"no channel {channel!r}")
            ch.is_archived = True

    def inject_fault(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        after_effect: bool = False,
        times: int | None = 1,
    ) -> None:
        self.faults.add(
            Fault(
                method=method,
                error=error,
                status=status,
                retry_after=retry_after,
                delay=delay,
                drop=drop,
                after_effect=after_effect,
                times=times,
            )
        )

    def clear_faults(self) -> None:
        self.faults.clear()
