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

from activities.history import ProjectionRequest, SaveCopyRequest
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
from parley.domain import HistoryEntry, SlackCopy
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.models import ThreatIntel
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
    dead_channels: set[str] = field(default_factory=set)
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
            if any(h.key == entry.key for h in rec.history):
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

        return [
            locate, analyse,
            boomerang_dm, boomerang_reminder,
            post_alert, update_alert, thread_reply, notify_user, permalink, user_name,
            record, project, save_copy,
        ]  # fmt: skip
