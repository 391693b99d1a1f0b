"""Storm activities: the store's view of a storm, and its digest message in Slack.

The digest is posted exactly once per storm through the same keyed posting as alert messages
(`SlackActivities._post_keyed`: message metadata with a key, looked up before a retried post),
then re-rendered in place with chat.update; a digest someone deleted is posted again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio import activity

from activities.slack import SlackActivities
from parley import metrics
from parley.domain import Destination, SlackCopy
from parley.slack.errors import MessageGone
from parley.slack.ui.storm import render_digest
from parley.store import storms
from parley.store.db import Database
from workflows.storm_types import DigestView, StormMember


class LeadInRequest(BaseModel):
    storm_id: str
    destination: Destination
    rule_id: str
    since: datetime
    until: datetime


class RefreshRequest(BaseModel):
    """Record the storm (and members the store does not have yet), then post or re-render."""

    view: DigestView
    destination: Destination
    members: list[StormMember]  # new to the store, or changed since recorded
    digest_ts: str | None = None
    console_base_url: str


class RefreshResult(BaseModel):
    digest_ts: str
    posted: bool = False  # a new message (the first, or one replacing a deleted digest)


class StormReplyRequest(BaseModel):
    channel: str
    thread_ts: str
    key: str
    text: str
    blocks: list[dict[str, Any]] | None = None


class StormActivities:
    def __init__(self, slack: SlackActivities, db: Database) -> None:
        self.slack = slack
        self.db = db

    @activity.defn(name="storm.lead_in")
    async def lead_in(self, req: LeadInRequest) -> list[StormMember]:
        """The rule's alerts this destination took on their own just before the storm began."""
        metrics.STORMS_STARTED.inc()  # asked once, as the storm begins
        found = await storms.lead_in(
            self.db,
            req.destination,
            req.rule_id,
            storm_id=req.storm_id,
            since=req.since,
            until=req.until,
        )
        return [
            StormMember(alert_id=a, title=title[:200], severity=sev, at=at, posted=True)
            for a, title, sev, at in found
        ]

    async def _record(self, req: RefreshRequest, ts: str | None, permalink: str | None) -> None:
        v = req.view
        await storms.record_storm(
            self.db,
            storm_id=v.storm_id,
            workflow_id=v.workflow_id,
            destination=req.destination,
            rule_id=v.rule_id,
            rule_name=v.rule_name,
            started_at=v.started_at,
            last_at=v.last_at,
            ended_at=v.ended_at,
            member_count=v.total,
            counts={s.value: n for s, n in v.counts.items()},
            members=[(m.alert_id, m.at, m.posted) for m in req.members],
            digest_ts=ts,
            permalink=permalink,
        )

    @activity.defn(name="storm.refresh")
    async def refresh(self, req: RefreshRequest) -> RefreshResult:
        # The store first: the console lists whatever the digest shows. Both writes are
        # idempotent, so a retry after a 429 or a dropped connection simply repeats them.
        await self._record(req, req.digest_ts, None)
        v = req.view
        rendered = render_digest(v, req.console_base_url)
        channel = req.destination.channel
        if req.digest_ts and await self.slack._update(channel, req.digest_ts, rendered):
            return RefreshResult(digest_ts=req.digest_ts)
        # The first post of this storm, or a new one for a digest someone deleted.
        key = f"storm/{v.storm_id}" + (f"/r{v.revision}" if req.digest_ts else "")
        posted = await self.slack._post_keyed(
            channel,
            key=key,
            text=rendered.text,
            blocks=rendered.blocks,
            destination_id=req.destination.id,
        )
        ts = posted.ts  # a later duplicate, if a slow retry left one, is already deleted
        copy = SlackCopy(destination_id=req.destination.id, channel=channel, ts=ts)
        await self._record(req, ts, await self.slack.permalink(copy))
        return RefreshResult(digest_ts=ts, posted=True)

    @activity.defn(name="storm.reply")
    async def reply(self, req: StormReplyRequest) -> str:
        """A reply in the digest's thread (a bulk action, the end of the storm), once per key."""
        try:
            posted = await self.slack._post_keyed(
                req.channel, req.key, req.text, req.blocks, thread_ts=req.thread_ts
            )
            return posted.ts
        except MessageGone:  # the digest was deleted: the next refresh posts it again
            return ""

    def all(self) -> list[Any]:
        return [self.lead_in, self.refresh, self.reply]
