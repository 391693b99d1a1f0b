"""In-memory activities registered under the real names, for workflow-only tests.

The Temporal server is real; only Slack and the database are replaced, so these tests pin the
workflow's decisions (what it records and posts, and in which order) quickly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.history import ProjectionRequest, SaveCopyRequest, StoreWrite
from activities.slack import (
    DmRef,
    DmRequest,
    NotifyUserRequest,
    PostAlertRequest,
    PostAlertResult,
    ThreadReplyRequest,
    ThreadReplyResult,
    UpdateCopyRequest,
    UpdateCopyResult,
)
from activities.slack_fanout import CopyOutcome, DeliverRequest, FanOutResult, PostAllRequest
from parley.domain import HistoryEntry, SlackCopy
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.models import IpIntel, ThreatIntel
from parley.enrichment.service import Enricher
from parley.slack.errors import PERMANENT


@dataclass
class Recorder:
    history: list[HistoryEntry] = field(default_factory=list)
    projections: list[ProjectionRequest] = field(default_factory=list)
    posts: list[PostAlertRequest] = field(default_factory=list)
    updates: list[UpdateCopyRequest] = field(default_factory=list)
    replies: list[ThreadReplyRequest] = field(default_factory=list)
    notices: list[NotifyUserRequest] = field(default_factory=list)
    dms: list[DmRequest] = field(default_factory=list)
    reminders: list[DmRequest] = field(default_factory=list)
    homes: list[list[str]] = field(default_factory=list)  # App Homes re-published, per change
    filed: list[DmRequest] = field(default_factory=list)  # "filed under" notes (typed answers)
    dead_channels: set[str] = field(default_factory=set)
    briefed: list[list[str]] = field(default_factory=list)
    brief_fails: bool = False
    # Later duplicates the activity deleted: by channel for alert posts, else by message key.
    healed: dict[str, list[str]] = field(default_factory=dict)
    _ts: Any = field(default_factory=lambda: itertools.count(1))

    def activities(self) -> list[Any]:
        rec = self

        @activity.defn(name="slack.post_alert")
        async def post_alert(req: PostAlertRequest) -> PostAlertResult:
            if req.destination.channel in rec.dead_channels:
                raise ApplicationError(
                    "gone", "channel_not_found", type=PERMANENT, non_retryable=True
                )
            rec.posts.append(req)
            return PostAlertResult(
                destination_id=req.destination.id,
                destination_name=req.destination.name,
                channel=req.destination.channel,
                ts=f"1700000000.{next(rec._ts):06d}",
                healed=rec.healed.get(req.destination.channel, []),
            )

        @activity.defn(name="slack.update_alert")
        async def update_alert(req: UpdateCopyRequest) -> UpdateCopyResult:
            rec.updates.append(req)
            healed = rec.healed.get(f"{req.target.channel}/r{req.state.revision}")
            if healed is None:
                return UpdateCopyResult(target=req.target)
            # The copy was gone: posted again, and a slow earlier repost deleted.
            ts = f"1700000004.{next(rec._ts):06d}"
            target = req.target.model_copy(update={"ts": ts})
            return UpdateCopyResult(target=target, reposted=True, healed=healed)

        @activity.defn(name="slack.thread_reply")
        async def thread_reply(req: ThreadReplyRequest) -> ThreadReplyResult:
            rec.replies.append(req)
            ts = f"1700000001.{next(rec._ts):06d}"
            return ThreadReplyResult(ts=ts, healed=rec.healed.get(req.key, []))

        @activity.defn(name="slack.notify_user")
        async def notify_user(req: NotifyUserRequest) -> None:
            rec.notices.append(req)

        @activity.defn(name="slack.permalink")
        async def permalink(copy: SlackCopy) -> str | None:
            return f"https://slack.test/archives/{copy.channel}/p{(copy.ts or '').replace('.', '')}"

        @activity.defn(name="slack.user_name")
        async def user_name(user_id: str) -> str:
            return f"Name of {user_id}"

        @activity.defn(name="history.record")
        async def record(entry: HistoryEntry) -> bool:
            if any((h.alert_id, h.key) == (entry.alert_id, entry.key) for h in rec.history):
                return False
            rec.history.append(entry)
            return True

        @activity.defn(name="history.project")
        async def project(p: ProjectionRequest) -> None:
            rec.projections.append(p)

        @activity.defn(name="history.save_copy")
        async def save_copy(req: SaveCopyRequest) -> None:
            return None

        @activity.defn(name="slack.boomerang_dm")
        async def boomerang_dm(req: DmRequest) -> DmRef:
            rec.dms.append(req)
            healed = [] if req.ts else rec.healed.get(req.key, [])
            return DmRef(
                channel=req.channel or f"D{req.user_id}",
                ts=req.ts or "1700000002.000001",
                healed=healed,
            )

        @activity.defn(name="slack.boomerang_reminder")
        async def boomerang_reminder(req: DmRequest) -> DmRef:
            rec.reminders.append(req)
            return DmRef(
                channel=req.channel or f"D{req.user_id}",
                ts="1700000003.000001",
                healed=rec.healed.get(req.key, []),
            )

        @activity.defn(name="slack.boomerang_filed")
        async def boomerang_filed(req: DmRequest) -> DmRef:
            rec.filed.append(req)
            return DmRef(channel=req.channel or f"D{req.user_id}", ts="1700000004.000001")

        @activity.defn(name="enrich.locate")
        async def locate(ips: list[str]) -> dict[str, str]:
            return {ip: f"place of {ip}" for ip in ips}

        @activity.defn(name="enrich.analyse")
        async def analyse(ip: str) -> ThreatIntel:
            # Offline and with every dataset off: only the range classification, no data files.
            config = EnrichmentConfig(
                geo_enabled=False, asn_enabled=False, tor_enabled=False, embedded_data=False
            )
            return Enricher(config).analyse(ip)

        @activity.defn(name="enrich.brief")
        async def brief(ips: list[str]) -> IpIntel:
            rec.briefed.append(ips)
            if rec.brief_fails:
                raise ApplicationError("enrichment broke", non_retryable=True)
            # Offline, every dataset off: the range classification only, no data files.
            config = EnrichmentConfig(
                geo_enabled=False,
                asn_enabled=False,
                tor_enabled=False,
                origin_enabled=False,
                embedded_data=False,
            )
            return Enricher(config).brief(ips)

        # The batched generation (one local store write, one fan-out activity per change)
        # reuses the per-call fakes above, so the tests see the same records either way.
        @activity.defn(name="store.write")
        async def write(w: StoreWrite) -> None:
            for entry in w.entries:
                await record(entry)
            if w.projection:
                await project(w.projection)

        @activity.defn(name="slack.post_all")
        async def post_all(req: PostAllRequest) -> FanOutResult:
            outcomes = []
            for dest in req.destinations:
                one = PostAlertRequest(
                    state=req.state, destination=dest, console_base_url=req.console_base_url
                )
                try:
                    posted = await post_alert(one)
                except ApplicationError as err:
                    failed = SlackCopy(
                        destination_id=dest.id, channel=dest.channel, failed=str(err.details[0])
                    )
                    outcomes.append(CopyOutcome(target=failed))
                    continue
                copy = posted.as_copy()
                outcomes.append(
                    CopyOutcome(target=copy, permalink=await permalink(copy), healed=posted.healed)
                )
            return FanOutResult(outcomes=outcomes)

        @activity.defn(name="slack.deliver")
        async def deliver(req: DeliverRequest) -> FanOutResult:
            if req.homes:
                rec.homes.append(req.homes)
            outcomes = []
            for copy in req.copies:
                outcome = CopyOutcome(target=copy)
                if req.rerender:
                    updated = await update_alert(
                        UpdateCopyRequest(
                            state=req.state, target=copy, console_base_url=req.console_base_url
                        )
                    )
                    outcome = CopyOutcome(
                        target=updated.target, reposted=updated.reposted, healed=updated.healed
                    )
                if req.reply:
                    key = f"reply/{req.state.alert.id}/{copy.destination_id}/{req.reply.key_suffix}"
                    reply = await thread_reply(
                        ThreadReplyRequest(
                            alert_id=req.state.alert.id,
                            target=outcome.target,
                            key=key,
                            text=req.reply.text,
                            blocks=req.reply.blocks,
                        )
                    )
                    outcome.reply_ts, outcome.reply_healed = reply.ts, reply.healed
                outcomes.append(outcome)
            return FanOutResult(outcomes=outcomes)

        return [
            write, post_all, deliver,
            locate, analyse, brief,
            boomerang_dm, boomerang_reminder, boomerang_filed,
            post_alert, update_alert, thread_reply, notify_user, permalink, user_name,
            record, project, save_copy,
        ]  # fmt: skip
