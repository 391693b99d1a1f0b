"""Slack activities: post, re-render, reply in threads, tell a user. Thin adapters over slack-sdk.

Exactly-once posting: chat.postMessage has no idempotency key, so every message Parley posts
carries Slack message metadata with a key. A retried activity (the first attempt may have been
accepted by Slack before the worker died or the connection dropped) first looks for a message with
its key and returns that instead of posting again.

Looking only helps once the earlier request can no longer land. Slack keeps working on a request
after the client timed out or the connection dropped, so after such an ambiguous failure the retry
waits (a retryable error with `next_retry_delay`, no sleep) until `in_flight_seconds` (twice the
client timeout) have passed since the request was sent. A heartbeat records that moment before
every write, so a retry after a crashed or timed-out attempt waits as well; and no write starts
when the attempt could not see its answer before start_to_close.

A duplicate that lands anyway (Slack slower than that bound) is healed when a retry looks: it keeps
the earliest message with the key, deletes the later ones and returns their ts in `healed`, so the
workflow records the deletion in the alert's history.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from pydantic import BaseModel, Field, model_validator
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from parley import metrics
from parley.domain import Destination, SlackCopy
from parley.slack.client import send_ephemeral
from parley.slack.errors import (
    PACED,
    PERMANENT,
    RATE_LIMITED,
    TRANSIENT,
    InvalidBlocks,
    MessageGone,
    is_ambiguous,
    raise_ambiguous,
    raise_for_slack,
)
from parley.slack.ui import boomerang as boomerang_ui
from parley.slack.ui.alert import Rendered, render_alert
from parley.slack.ui.event_json import Attachment, event_attachment
from parley.slack.ui.text import escape
from parley.slack.users import display_name
from parley.store import pacing
from parley.store.db import Database
from parley.store.pacing import Rate
from workflows.alert_types import AlertState
from workflows.boomerang_types import AnswerKind, BoomerangInput, BoomerangStatus

METADATA_EVENT = "parley_message"
# A retry reads the conversation back to the activity's first schedule, page by page.
PAGE_SIZE = 200
# Slack's clock and Temporal's may disagree; look this much further back.
CLOCK_SKEW = timedelta(minutes=15)
# A write must be able to time out, and say so, this long before the attempt's start_to_close.
DEADLINE_MARGIN_SECONDS = 1.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---- requests ---------------------------------------------------------------------------------


class PostAlertRequest(BaseModel):
    state: AlertState
    destination: Destination
    console_base_url: str


class UpdateCopyRequest(BaseModel):
    state: AlertState
    target: SlackCopy
    console_base_url: str


class PostAlertResult(SlackCopy):
    """The posted copy; a SlackCopy, so results recorded before `healed` existed still decode."""

    healed: list[str] = Field(default_factory=list, description="ts of later copies deleted")

    def as_copy(self) -> SlackCopy:
        return SlackCopy.model_validate(self.model_dump(exclude={"healed"}))


class UpdateCopyResult(BaseModel):
    target: SlackCopy
    reposted: bool = False
    healed: list[str] = Field(default_factory=list, description="ts of later reposts deleted")


class ThreadReplyRequest(BaseModel):
    alert_id: str
    target: SlackCopy
    key: str = Field(description="unique per alert and copy: a retried post finds the first one")
    text: str
    blocks: list[dict[str, Any]] | None = None


class ThreadReplyResult(BaseModel):
    ts: str = Field(description="the reply, or empty when the parent was gone")
    healed: list[str] = Field(default_factory=list, description="ts of later replies deleted")

    @model_validator(mode="before")
    @classmethod
    def _from_bare_ts(cls, data: Any) -> Any:
        # Recorded histories hold the bare ts this activity used to return.
        return {"ts": data} if isinstance(data, str) else data


class NotifyUserRequest(BaseModel):
    """An ephemeral note to one user: via response_url when we have one, else postEphemeral."""

    user_id: str
    text: str
    channel: str | None = None
    response_url: str | None = None


class DmRequest(BaseModel):
    """Post (exactly once) or re-render a Boomerang DM."""

    user_id: str
    key: str
    boomerang: BoomerangInput
    status: BoomerangStatus = "open"
    answer_kind: AnswerKind | None = None
    answer_text: str | None = None
    channel: str | None = None  # set for updates
    ts: str | None = None


class DmRef(BaseModel):
    channel: str
    ts: str
    healed: list[str] = Field(default_factory=list, description="ts of later DMs deleted")


@dataclass
class Posted:
    ts: str
    healed: list[str] = field(default_factory=list)


# ---- activities -------------------------------------------------------------------------------


def _data(resp: Any) -> dict[str, Any]:
    return dict(resp.data) if isinstance(resp.data, dict) else {}


class FlightLog:
    """One activity attempt's heartbeat: until when its writes may still land in Slack, and what
    a fan-out activity finished (`extra`). The copies of a fan-out write concurrently and share
    one heartbeat, so the log keeps every write in flight, not just the last one."""

    def __init__(self, attempt: tuple[str, int], carried_until: float) -> None:
        self.attempt = attempt
        self.extra: dict[str, Any] = {}
        self._flights: dict[int, float] = {}
        self._next = 0
        # A retry's own heartbeats must not forget writes an earlier attempt left in flight.
        self._carried = carried_until

    def until(self) -> float:
        return max([self._carried, *self._flights.values()])

    def start(self, until: float) -> int:
        self._next += 1
        self._flights[self._next] = until
        self.beat()
        return self._next

    def land(self, flight: int) -> None:
        self._flights.pop(flight, None)
        self.beat()

    def beat(self) -> None:
        activity.heartbeat({"attempt": self.attempt[1], "until": self.until(), **self.extra})


_FLIGHTS: ContextVar[FlightLog | None] = ContextVar("parley_slack_flights", default=None)


def previous_heartbeat() -> dict[str, Any]:
    """What the previous attempt left: the dict a FlightLog beats (or a bare `until` float)."""
    details = activity.info().heartbeat_details
    last = details[-1] if details else None
    if isinstance(last, int | float):
        return {"until": float(last)}
    return last if isinstance(last, dict) else {}


def flight_log() -> FlightLog:
    """This attempt's log, made on first use (a fan-out makes it before its copies start)."""
    info = activity.info()
    key = (f"{info.workflow_run_id}/{info.activity_id}/{info.started_time}", info.attempt)
    log = _FLIGHTS.get()
    if log is None or log.attempt != key:
        until = previous_heartbeat().get("until") or 0.0
        log = FlightLog(key, until if isinstance(until, int | float) else 0.0)
        _FLIGHTS.set(log)
    return log


class SlackPacer:
    """Posts per channel and per workspace, paced in the shared store (parley/store/pacing.py)."""

    def __init__(self, db: Database, channel: Rate, workspace: Rate) -> None:
        self.db = db
        self.channel = channel
        self.workspace = workspace

    async def wait(self, channel: str) -> float:
        """0.0 when a post to `channel` may go now (its slot is taken), else seconds to wait."""
        rates = [replace(self.channel, key=f"channel:{channel}"), self.workspace]
        return await pacing.reserve(self.db, rates, time.time())


def _raise_counted(method: str, exc: SlackApiError) -> NoReturn:
    """raise_for_slack, counting the 429s on the way (the retry waits out Retry-After)."""
    try:
        raise_for_slack(exc)
    except ApplicationError as typed:
        if typed.type == RATE_LIMITED:
            metrics.SLACK_RATE_LIMITED.labels(method.replace("_", ".", 1)).inc()
        raise


class SlackActivities:
    def __init__(
        self,
        client: AsyncWebClient,
        in_flight_seconds: float | None = None,
        pacer: SlackPacer | None = None,
    ) -> None:
        self.client = client
        self.pacer = pacer
        self.timeout = float(client.timeout)
        # How long after it was sent a request may still land: the client's own timeout, then as
        # long again for Slack to finish what it started after we stopped listening (30 s with
        # the default 15 s timeout, the Slack activities' start_to_close).
        self.in_flight_seconds = (
            in_flight_seconds if in_flight_seconds is not None else 2 * self.timeout
        )

    # ---- helpers --------------------------------------------------------------------------

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            _raise_counted(method, exc)
        return _data(resp)

    async def _write(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """A call that changes a message: ambiguous failures wait out the request's flight."""
        info = activity.info()
        budget = info.start_to_close_timeout
        if budget is not None and budget.total_seconds() > self.timeout + DEADLINE_MARGIN_SECONDS:
            left = info.started_time.timestamp() + budget.total_seconds() - time.time()
            if left < self.timeout + DEADLINE_MARGIN_SECONDS:
                # Posting now could outlive the attempt: its retry would then look too early.
                raise ApplicationError(
                    f"{left:.1f}s left in this attempt: too little to see {method} through",
                    type=TRANSIENT,
                )
        sent = time.time()
        # Read back by the next attempt if this one never reports (crash, start_to_close).
        log = flight_log()
        flight = log.start(sent + self.in_flight_seconds)
        try:
            resp = await getattr(self.client, method)(**kwargs)
        except Exception as exc:
            if is_ambiguous(exc):  # stays in flight in the log: the retry waits it out
                raise_ambiguous(method, self._wait_left(sent + self.in_flight_seconds), exc)
            log.land(flight)  # answered (or never sent): nothing left in flight
            if isinstance(exc, SlackApiError):
                _raise_counted(method, exc)
            raise
        log.land(flight)
        if method == "chat_postMessage":
            metrics.SLACK_POSTS.inc()
        elif method == "chat_update":
            metrics.SLACK_UPDATES.inc()
        return _data(resp)

    async def _pace(self, channel: str) -> None:
        """Wait for the channel's next slot by retrying later, never by sleeping here."""
        if self.pacer is None:
            return
        wait = await self.pacer.wait(channel)
        if wait > 0:
            raise ApplicationError(
                f"pacing posts to {channel}: next slot in {wait:.2f}s",
                type=PACED,
                # Parley's own pacing is routine, not a failure: logged at DEBUG, not WARNING.
                category=ApplicationErrorCategory.BENIGN,
                next_retry_delay=timedelta(seconds=wait),
            )

    @staticmethod
    def _wait_left(until: float) -> float:
        # At least a second: Temporal's retry cannot be sooner than its own backoff anyway.
        return max(until - time.time(), 1.0)

    def _settle(self) -> None:
        """On a retry, wait until an earlier attempt's last write can no longer land."""
        if activity.info().attempt == 1:
            return
        until = previous_heartbeat().get("until")
        if isinstance(until, int | float) and until > time.time():
            raise_ambiguous("an earlier attempt's write", self._wait_left(until))

    async def _find_keyed(self, channel: str, key: str, thread_ts: str | None) -> list[str]:
        """ts of every message with this key since the activity was first scheduled, oldest first.

        Pages through the whole window: Slack may return fewer messages than `limit` per page.
        """
        oldest = max(activity.info().scheduled_time - CLOCK_SKEW, EPOCH).timestamp()
        method = "conversations_replies" if thread_ts else "conversations_history"
        args: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{oldest:.6f}",
            "limit": PAGE_SIZE,
            "include_all_metadata": True,
        }
        if thread_ts:
            args["ts"] = thread_ts
        found: set[str] = set()
        cursor = ""
        while True:
            data = await self._call(method, cursor=cursor or None, **args)
            for message in data.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                    found.add(str(message["ts"]))
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return sorted(found, key=float)

    async def _keep_first(self, channel: str, found: list[str]) -> Posted:
        """Keep the earliest message with a key and delete the later ones (a duplicate)."""
        keep, *later = sorted(found, key=float)
        healed = []
        for ts in later:
            try:
                await self._call("chat_delete", channel=channel, ts=ts)
            except MessageGone:
                continue  # someone deleted it already
            activity.logger.warning("deleted duplicate %s in %s; kept %s", ts, channel, keep)
            healed.append(ts)
        return Posted(keep, healed)

    async def _post_keyed(
        self,
        channel: str,
        key: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        alert_id: str = "",
        destination_id: str | None = None,
        may_exist: bool | None = None,
        sent: set[str] | None = None,
    ) -> Posted:
        """Post once per key. `may_exist` says whether an earlier attempt may have sent this key
        (default: any retry may have); `sent` collects the keys this attempt sends."""
        retry = activity.info().attempt > 1 if may_exist is None else may_exist
        if retry:
            self._settle()
            found = await self._find_keyed(channel, key, thread_ts)
            if found:
                activity.logger.info("found message %s from an earlier attempt", found[0])
                return await self._keep_first(channel, found)
        payload = {"key": key, "alert": alert_id}
        if destination_id:
            payload["destination"] = destination_id
        metadata = {"event_type": METADATA_EVENT, "event_payload": payload}
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "metadata": metadata}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        await self._pace(channel)
        if sent is not None:
            sent.add(key)
        try:
            try:
                data = await self._write("chat_postMessage", blocks=blocks, **kwargs)
            except InvalidBlocks as exc:
                # Our renderer keeps within Block Kit limits; if Slack still refuses, the text
                # fallback gets the alert through rather than losing it.
                activity.logger.error("Slack refused blocks (%s); posting text only", exc)
                data = await self._write("chat_postMessage", **kwargs)
        except ApplicationError as exc:
            # A 429 or a refusal is Slack's definite "not posted": no look-up needed next time.
            # Anything else (a timeout, a dropped connection, a 5xx) may have been posted.
            if sent is not None and exc.type in (RATE_LIMITED, PERMANENT):
                sent.discard(key)
            raise
        ts = str(data["ts"])
        if not retry:
            return Posted(ts)
        # An earlier attempt's request may have landed while this one posted: keep the first.
        found = await self._find_keyed(channel, key, thread_ts)
        return await self._keep_first(channel, sorted({*found, ts}, key=float))

    async def _find_file(self, channel: str, thread_ts: str, filename: str) -> str | None:
        """The id of a file named `filename` already shared in the thread, or None."""
        cursor = ""
        while True:
            data = await self._call(
                "conversations_replies",
                channel=channel,
                ts=thread_ts,
                limit=PAGE_SIZE,
                cursor=cursor or None,
            )
            for message in data.get("messages") or []:
                for f in message.get("files") or []:
                    if f.get("name") == filename:
                        return str(f.get("id"))
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return None

    async def _upload_keyed(
        self, channel: str, thread_ts: str, file: Attachment, *, may_exist: bool
    ) -> str:
        """Upload `file` into a thread once (slack_sdk's files_upload_v2: getUploadURLExternal,
        the upload, completeUploadExternal). A retry looks for the file's unique name first."""
        if may_exist:
            self._settle()
            found = await self._find_file(channel, thread_ts, file.filename)
            if found:
                return found
        data = await self._write(
            "files_upload_v2",
            channel=channel,
            thread_ts=thread_ts,
            content=file.content,
            filename=file.filename,
            title=file.title,
            initial_comment=file.comment,
        )
        return str((data.get("file") or {}).get("id") or "")

    async def _update(self, channel: str, ts: str, rendered: Rendered) -> bool:
        """Re-render a message in place; False when it is gone (deleted, or not ours)."""
        # A late earlier update landing after this one would show an older state.
        self._settle()
        try:
            await self._write(
                "chat_update", channel=channel, ts=ts, text=rendered.text, blocks=rendered.blocks
            )
        except MessageGone as gone:
            activity.logger.warning("message %s in %s is gone (%s)", ts, channel, gone)
            return False
        return True

    # ---- activities -------------------------------------------------------------------------

    @activity.defn(name="slack.post_alert")
    async def post_alert(self, req: PostAlertRequest) -> PostAlertResult:
        dest = req.destination
        rendered = render_alert(req.state, req.console_base_url)
        posted = await self._post_keyed(
            dest.channel,
            key=f"alert/{req.state.alert.id}/{dest.id}",
            text=rendered.text,
            blocks=rendered.blocks,
            alert_id=req.state.alert.id,
            destination_id=dest.id,
        )
        return PostAlertResult(
            destination_id=dest.id,
            destination_name=dest.name,
            channel=dest.channel,
            ts=posted.ts,
            healed=posted.healed,
        )

    @activity.defn(name="slack.update_alert")
    async def update_alert(self, req: UpdateCopyRequest) -> UpdateCopyResult:
        """Re-render one copy; a copy someone deleted is posted again rather than lost."""
        copy = req.target
        rendered = render_alert(req.state, req.console_base_url)
        if copy.ts and await self._update(copy.channel, copy.ts, rendered):
            return UpdateCopyResult(target=copy)
        posted = await self._post_keyed(
            copy.channel,
            key=f"alert/{req.state.alert.id}/{copy.destination_id}/r{req.state.revision}",
            text=rendered.text,
            blocks=rendered.blocks,
            alert_id=req.state.alert.id,
            destination_id=copy.destination_id,
        )
        return UpdateCopyResult(
            target=copy.model_copy(update={"ts": posted.ts}), reposted=True, healed=posted.healed
        )

    @activity.defn(name="slack.thread_reply")
    async def thread_reply(self, req: ThreadReplyRequest) -> ThreadReplyResult:
        if not req.target.ts:
            raise ValueError("copy has no message to reply under")
        try:
            posted = await self._post_keyed(
                req.target.channel,
                key=req.key,
                text=req.text,
                blocks=req.blocks,
                thread_ts=req.target.ts,
                alert_id=req.alert_id,
            )
        except MessageGone:
            # The parent was deleted between the re-render and the reply; the next change
            # re-posts the alert. Posting a reply to nowhere would only fail again.
            return ThreadReplyResult(ts="")
        return ThreadReplyResult(ts=posted.ts, healed=posted.healed)

    @activity.defn(name="slack.notify_user")
    async def notify_user(self, req: NotifyUserRequest) -> None:
        if req.response_url:
            status = await send_ephemeral(req.response_url, req.text)
            if status < 300:
                return
            activity.logger.warning("response_url answered %s; using postEphemeral", status)
        if req.channel:
            await self._call(
                "chat_postEphemeral", channel=req.channel, user=req.user_id, text=req.text
            )

    @activity.defn(name="slack.permalink")
    async def permalink(self, copy: SlackCopy) -> str | None:
        if not copy.ts:
            return None
        try:
            data = await self._call("chat_getPermalink", channel=copy.channel, message_ts=copy.ts)
        except Exception as exc:  # a permalink is a nicety: never fail the alert for it
            activity.logger.warning("no permalink for %s/%s: %s", copy.channel, copy.ts, exc)
            return None
        return data.get("permalink")

    @activity.defn(name="slack.user_name")
    async def user_name(self, user_id: str) -> str:
        try:
            data = await self._call("users_info", user=user_id)
        except Exception as exc:  # the id alone still identifies the person
            activity.logger.warning("users.info %s failed: %s", user_id, exc)
            return user_id
        return display_name(data) or user_id

    async def _dm_channel(self, user_id: str) -> str:
        data = await self._call("conversations_open", users=user_id)
        return str(data["channel"]["id"])

    @activity.defn(name="slack.boomerang_dm")
    async def boomerang_dm(self, req: DmRequest) -> DmRef:
        """Post the Boomerang DM once, or re-render it (answered, expired, no longer needed)."""
        rendered = boomerang_ui.dm(req.boomerang, req.status, req.answer_kind, req.answer_text)
        if req.channel and req.ts:
            # A DM the recipient deleted is not re-posted: the thread has the answer anyway.
            await self._update(req.channel, req.ts, rendered)
            return DmRef(channel=req.channel, ts=req.ts)
        channel = await self._dm_channel(req.user_id)
        b = req.boomerang
        posted = await self._post_keyed(
            channel, req.key, rendered.text, rendered.blocks, alert_id=b.alert_id
        )
        attachment = event_attachment(
            b.alert_id, b.first_event, req.key, boomerang_ui.EVENT_JSON_MAX
        )
        if attachment is not None:
            try:
                await self._upload_keyed(
                    channel, posted.ts, attachment, may_exist=activity.info().attempt > 1
                )
            except ApplicationError as exc:
                if exc.type != PERMANENT:
                    raise
                # The DM already links to the console: a refused file loses nothing.
                activity.logger.warning("event file in the DM refused: %s", exc)
        return DmRef(channel=channel, ts=posted.ts, healed=posted.healed)

    @activity.defn(name="slack.boomerang_reminder")
    async def boomerang_reminder(self, req: DmRequest) -> DmRef:
        b = req.boomerang
        return await self._dm_line(
            req,
            f"⏰ Reminder: <@{b.asker.id}> is still waiting for your answer about "
            f"*{escape(b.alert_title)}*. Use the buttons on the question above.",
        )

    @activity.defn(name="slack.boomerang_filed")
    async def boomerang_filed(self, req: DmRequest) -> DmRef:
        """Under a typed top-level answer: which alert Parley filed it under."""
        b = req.boomerang
        return await self._dm_line(
            req,
            f"🪃 Thanks! Parley filed your answer under <{b.console_url}|{escape(b.alert_title)}>"
            f" (alert `{escape(b.alert_id)}`), for <@{b.asker.id}>'s question.",
        )

    async def _dm_line(self, req: DmRequest, text: str) -> DmRef:
        """One plain line in the recipient's DM, posted exactly once under the request's key."""
        channel = req.channel or await self._dm_channel(req.user_id)
        posted = await self._post_keyed(
            channel, req.key, text, None, alert_id=req.boomerang.alert_id
        )
        return DmRef(channel=channel, ts=posted.ts, healed=posted.healed)

    def all(self) -> list[Any]:
        return [
            self.post_alert,
            self.update_alert,
            self.thread_reply,
            self.notify_user,
            self.permalink,
            self.user_name,
            self.boomerang_dm,
            self.boomerang_reminder,
            self.boomerang_filed,
        ]
