"""The stand-in's control API (`/_stub/*`), its light journal, and what benchmarks read from it.

Times in the journal (a call's arrival) and a click's `action_ts` are both on the stand-in's clock,
so click -> `chat.update` needs no clock agreement between processes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench.load import wait_until
from parley.slack.ui import ids
from tools.slack_standin.ratelimit import POST_PER_CHANNEL, POST_WORKSPACE

BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"


def slack_floor(posts: int) -> float:
    """Seconds Slack's chat.postMessage limits need for `posts` into one channel: ~1/s per
    channel and 300/min per workspace, after their bursts (the stand-in's figures)."""
    return max(
        max(0.0, posts - burst) / (per_minute / 60)
        for per_minute, burst in (POST_PER_CHANNEL, POST_WORKSPACE)
    )


@dataclass(frozen=True)
class Call:
    """One Web API call in the stand-in's journal, reduced (bench/standin_server.py)."""

    method: str
    status: int | None  # HTTP status (429: rate limited; None: connection dropped)
    ok: bool
    time: float  # arrival, stand-in clock
    channel: str | None
    ts: str | None  # the message posted (chat.postMessage) or changed (chat.update)
    thread_ts: str | None
    alert: str | None  # Parley's metadata: the alert a post belongs to


@dataclass
class ClickResult:
    status: int  # the API's HTTP answer to Slack (0: none)
    ack: float  # seconds from sending the signed request to the API's answer
    sent_at: float  # stand-in clock (epoch seconds) when the payload was built and sent
    body: Any
    problems: list[str]


class StandInClient:
    """The stand-in's `/_stub/*` endpoints: signed clicks and submissions, journal, channels."""

    def __init__(self, url: str, journal_url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(
            base_url=url, timeout=120, trust_env=False, limits=httpx.Limits(max_connections=200)
        )
        self.journal_url = journal_url
        self._seen: dict[str | None, tuple[int, list[Call]]] = {}

    async def close(self) -> None:
        await self.http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self.http.post(path, json=body)
        data = resp.json()
        if resp.status_code != 200 or not data.get("ok"):
            raise RuntimeError(f"stand-in {path} refused {body}: {data}")
        return dict(data)

    async def click(
        self, user: str, channel: str, ts: str, action_id: str, **fields: str
    ) -> ClickResult:
        """A signed block_actions POST to the API, as Slack sends it (the stand-in's driver)."""
        data = await self._post(
            "/_stub/click",
            {"user": user, "channel": channel, "ts": ts, "action_id": action_id, **fields},
        )
        return ClickResult(
            status=data["status"],
            ack=data["elapsed"],
            sent_at=float(data["payload"]["actions"][0]["action_ts"]),
            body=data["body"],
            problems=data["problems"],
        )

    async def submit(self, user: str, view_id: str, values: dict[str, Any]) -> dict[str, Any]:
        return await self._post(
            "/_stub/submit", {"user": user, "view_id": view_id, "values": values}
        )

    async def calls(self, method: str | None) -> list[Call]:
        """The journal's calls of one Web API method (None: all), fetching only new entries."""
        since, known = self._seen.get(method, (0, []))
        params: dict[str, str | int] = {"since": since}
        if method:
            params["method"] = method
        resp = await self.http.get(f"{self.journal_url}/journal", params=params)
        resp.raise_for_status()
        data = resp.json()
        known = known + [Call(**c) for c in data["calls"]]
        self._seen[method] = (data["next"], known)
        return known

    async def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel, each with its thread replies."""
        resp = await self.http.get("/_stub/messages", params={"channel": channel})
        resp.raise_for_status()
        return list(resp.json()["messages"])

    async def views(self, user: str) -> list[dict[str, Any]]:
        resp = await self.http.get("/_stub/views", params={"user": user})
        resp.raise_for_status()
        return list(resp.json()["views"])

    async def web_api(self, method: str, **args: str) -> dict[str, Any]:
        resp = await self.http.post(
            f"/api/{method}", data=args, headers={"Authorization": f"Bearer {BOT_TOKEN}"}
        )
        return dict(resp.json())


def metadata_of(message_or_args: dict[str, Any]) -> dict[str, Any]:
    """Parley's message metadata payload (key, alert, destination), or {}."""
    meta = message_or_args.get("metadata") or {}
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            return {}
    payload = meta.get("event_payload") if isinstance(meta, dict) else None
    return payload if isinstance(payload, dict) else {}


@dataclass(frozen=True)
class Posted:
    alert_id: str
    channel: str
    ts: str
    at: float  # journal time of the successful chat.postMessage


def alert_posts(calls: Iterable[Call]) -> list[Posted]:
    """Successful top-level posts of alert messages, from chat.postMessage calls."""
    return [
        Posted(c.alert, c.channel, c.ts, c.time)
        for c in calls
        if c.status == 200 and c.ok and c.alert and c.channel and c.ts and not c.thread_ts
    ]


def first_update(updates: Iterable[Call], channel: str, ts: str, after: float) -> float | None:
    """Journal time of the first chat.update of (channel, ts) at or after `after`."""
    times = [c.time for c in updates if c.channel == channel and c.ts == ts and c.time >= after]
    return min(times) if times else None


async def triage(slack: StandInClient, post: Posted) -> ClickResult:
    """Alice picks Update Status -> Triaged on the alert message: a signal, no modal."""
    return await slack.click(
        "U0ALICE", post.channel, post.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )


async def update_times(
    slack: StandInClient, posts: Sequence[Posted], clicks: Sequence[ClickResult], timeout: float
) -> list[float]:
    """For each clicked message, when its first chat.update after the click arrived."""

    async def all_updated() -> list[float] | None:
        updates = await slack.calls("chat.update")
        times = [
            first_update(updates, p.channel, p.ts, c.sent_at)
            for p, c in zip(posts, clicks, strict=True)
        ]
        return [t for t in times if t is not None] if all(times) else None

    return await wait_until(
        all_updated, timeout=timeout, what=f"{len(posts)} chat.update calls", interval=0.25
    )
