"""Slack activities: post, re-render, reply in threads, tell a user. Thin adapters over slack-sdk.

Exactly-once posting: chat.postMessage has no idempotency key, so every message Parley posts
carries Slack message metadata with a key. A retried activity (the first attempt may have been
accepted by Slack before the worker died or the connection dropped) first looks for a message with
its key and returns that instead of posting again.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio import activity
from temporalio.exceptions import ApplicationError

from parley.domain import Destination, SlackCopy
from parley.slack.client import send_ephemeral
from parley.slack.errors import (
    PACED,
    PERMANENT,
    RATE_LIMITED,
    InvalidBlocks,
    MessageGone,
    raise_for_slack,
)
from parley.slack.ui import boomerang as boomerang_ui
from parley.slack.ui.alert import Rendered, render_alert
from parley.slack.ui.text import escape
from parley.store import pacing
from parley.store.db import Database
from parley.store.pacing import Rate
from workflows.alert_types import AlertState
from workflows.boomerang_types import AnswerKind, BoomerangInput, BoomerangStatus

METADATA_EVENT = "parley_message"
# How far back a retry looks for its own message; alert posts are retried within minutes.
LOOKBACK_MESSAGES = 200


# ---- requests ---------------------------------------------------------------------------------


class PostAlertRequest(BaseModel):
    state: AlertState
    destination: Destination
    console_base_url: str


class UpdateCopyRequest(BaseModel):
    state: AlertState
    target: SlackCopy
    console_base_url: str


class UpdateCopyResult(BaseModel):
    target: SlackCopy
    reposted: bool = False


class ThreadReplyRequest(BaseModel):
    alert_id: str
    target: SlackCopy
    key: str = Field(description="unique per alert and copy: a retried post finds the first one")
    text: str
    blocks: list[dict[str, Any]] | None = None


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


# ---- activities -------------------------------------------------------------------------------


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


class SlackActivities:
    def __init__(self, client: AsyncWebClient, pacer: SlackPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer

    async def _pace(self, channel: str) -> None:
        """Wait for the channel's next slot by retrying later, never by sleeping here."""
        if self.pacer is None:
            return
        wait = await self.pacer.wait(channel)
        if wait > 0:
            raise ApplicationError(
                f"pacing posts to {channel}: next slot in {wait:.2f}s",
                type=PACED,
                next_retry_delay=timedelta(seconds=wait),
            )

    # ---- helpers --------------------------------------------------------------------------

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            raise_for_slack(exc)
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    async def _find_keyed(self, channel: str, key: str, thread_ts: str | None) -> str | None:
        """ts of the message we already posted with this key, if any."""
        if thread_ts:
            data = await self._call(
                "conversations_replies",
                channel=channel,
                ts=thread_ts,
                limit=LOOKBACK_MESSAGES,
                include_all_metadata=True,
            )
        else:
            data = await self._call(
                "conversations_history",
                channel=channel,
                limit=LOOKBACK_MESSAGES,
                include_all_metadata=True,
            )
        for message in data.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return str(message["ts"])
        return None

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
    ) -> str:
        """Post once per key. `may_exist` says whether an earlier attempt may have sent this key
        (default: any retry may have); `sent` collects the keys this attempt sends."""
        await self._pace(channel)
        if may_exist is None:
            may_exist = activity.info().attempt > 1
        if may_exist:
            found = await self._find_keyed(channel, key, thread_ts)
            if found:
                activity.logger.info("found message %s from an earlier attempt", found)
                return found
        payload = {"key": key, "alert": alert_id}
        if destination_id:
            payload["destination"] = destination_id
        metadata = {"event_type": METADATA_EVENT, "event_payload": payload}
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "metadata": metadata}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if sent is not None:
            sent.add(key)
        try:
            try:
                data = await self._call("chat_postMessage", blocks=blocks, **kwargs)
            except InvalidBlocks as exc:
                # Our renderer keeps within Block Kit limits; if Slack still refuses, the text
                # fallback gets the alert through rather than losing it.
                activity.logger.error("Slack refused blocks (%s); posting text only", exc)
                data = await self._call("chat_postMessage", **kwargs)
        except ApplicationError as exc:
            # A 429 or a refusal is Slack's definite "not posted": no look-up needed next time.
            # Anything else (a timeout, a dropped connection, a 5xx) may have been posted.
            if sent is not None and exc.type in (RATE_LIMITED, PERMANENT):
                sent.discard(key)
            raise
        return str(data["ts"])

    async def _update(self, channel: str, ts: str, rendered: Rendered) -> bool:
        """Re-render a message in place; False when it is gone (deleted, or not ours)."""
        try:
            await self._call(
                "chat_update", channel=channel, ts=ts, text=rendered.text, blocks=rendered.blocks
            )
        except MessageGone as gone:
            activity.logger.warning("message %s in %s is gone (%s)", ts, channel, gone)
            return False
        return True

    # ---- activities -------------------------------------------------------------------------

    @activity.defn(name="slack.post_alert")
    async def post_alert(self, req: PostAlertRequest) -> SlackCopy:
        dest = req.destination
        rendered = render_alert(req.state, req.console_base_url)
        ts = await self._post_keyed(
            dest.channel,
            key=f"alert/{req.state.alert.id}/{dest.id}",
            text=rendered.text,
            blocks=rendered.blocks,
            alert_id=req.state.alert.id,
            destination_id=dest.id,
        )
        return SlackCopy(
            destination_id=dest.id, destination_name=dest.name, channel=dest.channel, ts=ts
        )

    @activity.defn(name="slack.update_alert")
    async def update_alert(self, req: UpdateCopyRequest) -> UpdateCopyResult:
        """Re-render one copy; a copy someone deleted is posted again rather than lost."""
        copy = req.target
        rendered = render_alert(req.state, req.console_base_url)
        if copy.ts and await self._update(copy.channel, copy.ts, rendered):
            return UpdateCopyResult(target=copy)
        ts = await self._post_keyed(
            copy.channel,
            key=f"alert/{req.state.alert.id}/{copy.destination_id}/r{req.state.revision}",
            text=rendered.text,
            blocks=rendered.blocks,
            alert_id=req.state.alert.id,
            destination_id=copy.destination_id,
        )
        return UpdateCopyResult(target=copy.model_copy(update={"ts": ts}), reposted=True)

    @activity.defn(name="slack.thread_reply")
    async def thread_reply(self, req: ThreadReplyRequest) -> str:
        if not req.target.ts:
            raise ValueError("copy has no message to reply under")
        try:
            return await self._post_keyed(
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
            return ""

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
        user = data.get("user") or {}
        profile = user.get("profile") or {}
        return str(profile.get("real_name") or user.get("real_name") or user.get("name") or user_id)

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
        ts = await self._post_keyed(
            channel, req.key, rendered.text, rendered.blocks, alert_id=req.boomerang.alert_id
        )
        return DmRef(channel=channel, ts=ts)

    @activity.defn(name="slack.boomerang_reminder")
    async def boomerang_reminder(self, req: DmRequest) -> DmRef:
        b = req.boomerang
        channel = req.channel or await self._dm_channel(req.user_id)
        text = (
            f"⏰ Reminder: <@{b.asker.id}> is still waiting for your answer about "
            f"*{escape(b.alert_title)}*. Use the buttons on the question above."
        )
        ts = await self._post_keyed(channel, req.key, text, None, alert_id=b.alert_id)
        return DmRef(channel=channel, ts=ts)

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
        ]
