"""Every copy of an alert in one activity: post to all destinations, or apply one change
(re-render, then the thread reply) to all copies.

Why one activity and not one per copy: a change costs the workflow one activity round trip
(three history events and one workflow task) whatever the number of channels, and the copies are
still worked on concurrently, here. Each copy keeps its own outcome: a channel Slack refuses for
good is reported, not raised, so it never blocks the others. A transient failure (429, 5xx, a
dropped connection) is raised after the other copies finished; the copies already done travel to
the next attempt in the heartbeat details, so a retry redoes only the copies that failed. The
keyed posting of `SlackActivities._post_keyed` still guards against a post that Slack accepted
just before an attempt failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.home import HomePublisher
from activities.slack import (
    Posted,
    SlackActivities,
    flight_log,
    previous_heartbeat,
)
from parley.domain import Destination, SlackCopy
from parley.slack.errors import PACED, PERMANENT, MessageGone
from parley.slack.ui.alert import Rendered, render_alert
from parley.slack.ui.event_json import Attachment
from workflows.alert_types import AlertState

T = TypeVar("T")


class Reply(BaseModel):
    """A thread reply for every copy; `key_suffix` makes it exactly-once per copy."""

    key_suffix: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    # Uploaded into the same thread after the reply (the whole event, issue 13).
    attachment: Attachment | None = None


class PostAllRequest(BaseModel):
    state: AlertState
    destinations: list[Destination]
    console_base_url: str


class DeliverRequest(BaseModel):
    """One change to every given copy: re-render it (optional), then reply in its thread."""

    state: AlertState
    console_base_url: str
    copies: list[SlackCopy]
    rerender: bool = True
    reply: Reply | None = None
    # Slack users whose App Home this change touches: re-published after the copies (issue 13).
    homes: list[str] = Field(default_factory=list)


class CopyOutcome(BaseModel):
    target: SlackCopy  # `ts` changes when the copy was re-posted; `failed` when Slack refused
    reposted: bool = False
    permalink: str | None = None  # for a new post (or re-post)
    reply_failed: str | None = None  # the thread reply was refused for good (the copy is fine)
    healed: list[str] = Field(default_factory=list)  # later duplicates of the post, deleted
    reply_ts: str | None = None  # the thread reply kept
    reply_healed: list[str] = Field(default_factory=list)  # later duplicates of the reply


class FanOutResult(BaseModel):
    outcomes: list[CopyOutcome]


def _permanent_code(exc: BaseException) -> str | None:
    if isinstance(exc, ApplicationError) and exc.type == PERMANENT:
        return str(exc.details[0]) if exc.details else "unknown_error"
    return None


def _retry_delay(exc: BaseException) -> timedelta | None:
    return exc.next_retry_delay if isinstance(exc, ApplicationError) else None


class _Attempt:
    """What earlier attempts of this activity finished (copies) and may have sent (post keys).

    Carried in the heartbeat details that an attempt leaves when it fails cleanly: a retry
    redoes only unfinished copies, and looks a post up in Slack before re-sending only when an
    earlier attempt may have sent it (a post held back by pacing never left, and a look-up costs
    a tier-3 call). When the previous attempt left no such record (the worker died, or it timed
    out), every post may exist, and each is looked up first, as keyed posting always did.
    """

    def __init__(
        self, number: int, done: dict[str, CopyOutcome], sent: set[str], known: bool
    ) -> None:
        self.number = number
        self.done = done
        self.sent = sent
        self._tried = set(sent)
        self._known = known

    @classmethod
    def resume(cls, number: int) -> _Attempt:
        d = previous_heartbeat()
        done = {k: CopyOutcome.model_validate(v) for k, v in (d.get("done") or {}).items()}
        # Only the attempt just before this one can vouch for what was not sent.
        known = number == 1 or d.get("attempt") == number - 1
        return cls(number, done, set(d.get("sent") or []), known)

    def may_exist(self, key: str) -> bool:
        return key in self._tried or not self._known

    def details(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "done": {k: v.model_dump(mode="json") for k, v in self.done.items()},
            "sent": sorted(self.sent),
        }


class SlackFanOut:
    def __init__(self, slack: SlackActivities, homes: HomePublisher | None = None) -> None:
        self.slack = slack
        self.homes = homes

    async def _publish_homes(self, user_ids: list[str], console_base_url: str) -> None:
        """Best effort, never raised: a retry would redo the copies for a nicety, and the Home
        catches up the next time its person opens it."""
        if not user_ids or self.homes is None:
            return
        try:
            await self.homes.publish(user_ids, console_base_url)
        except Exception as exc:
            activity.logger.warning("App Home of %s not re-published: %s", user_ids, exc)

    async def _each(
        self,
        ids: Sequence[str],
        work: Callable[[int, _Attempt], Awaitable[CopyOutcome]],
        refused: Callable[[int, str], CopyOutcome],
    ) -> list[CopyOutcome]:
        """Run `work(i, attempt)` for every copy not done by an earlier attempt, concurrently."""
        attempt = _Attempt.resume(activity.info().attempt)
        log = flight_log()  # made here, so that every copy's writes share it
        pending = [i for i, ident in enumerate(ids) if ident not in attempt.done]
        results = await asyncio.gather(*(work(i, attempt) for i in pending), return_exceptions=True)
        transient: list[BaseException] = []
        for i, result in zip(pending, results, strict=True):
            if isinstance(result, CopyOutcome):
                attempt.done[ids[i]] = result
            elif isinstance(result, Exception) and (code := _permanent_code(result)):
                attempt.done[ids[i]] = refused(i, code)
            elif isinstance(result, BaseException):
                transient.append(result)
        if transient:
            log.extra = attempt.details()
            log.beat()
            # Wait as long as the slowest limit asks; the others retry no sooner than that.
            delays = [d for d in map(_retry_delay, transient) if d is not None]
            if delays:
                paced = all(getattr(t, "type", None) == PACED for t in transient)
                raise ApplicationError(
                    f"{len(transient)} of {len(ids)} copies must wait: {transient[0]}",
                    type=getattr(transient[0], "type", None) or "SlackRateLimited",
                    next_retry_delay=max(delays),
                    # Only Parley's own pacing: routine, logged at DEBUG rather than WARNING.
                    category=(
                        ApplicationErrorCategory.BENIGN
                        if paced
                        else ApplicationErrorCategory.UNSPECIFIED
                    ),
                ) from transient[0]
            raise transient[0]
        return [attempt.done[ident] for ident in ids]

    async def _permalink(self, copy: SlackCopy) -> str | None:
        # A permalink is a nicety for the console: never fail a post for it.
        return await self.slack.permalink(copy) if copy.ts else None

    @activity.defn(name="slack.post_all")
    async def post_all(self, req: PostAllRequest) -> FanOutResult:
        """Post the alert to every destination, exactly once each, with its permalink."""
        alert_id = req.state.alert.id

        def copy_of(dest: Destination, **extra: Any) -> SlackCopy:
            return SlackCopy(
                destination_id=dest.id, destination_name=dest.name, channel=dest.channel, **extra
            )

        async def post(i: int, attempt: _Attempt) -> CopyOutcome:
            dest = req.destinations[i]
            key = f"alert/{alert_id}/{dest.id}"
            # Per destination: one that asked for enrichment on arrival gets the IP lines.
            rendered = render_alert(req.state, req.console_base_url, dest.id)
            posted = await self.slack._post_keyed(
                dest.channel,
                key=key,
                text=rendered.text,
                blocks=rendered.blocks,
                alert_id=alert_id,
                destination_id=dest.id,
                may_exist=attempt.may_exist(key),
                sent=attempt.sent,
            )
            copy = copy_of(dest, ts=posted.ts)
            permalink = await self._permalink(copy)
            return CopyOutcome(target=copy, permalink=permalink, healed=posted.healed)

        outcomes = await self._each(
            [d.id for d in req.destinations],
            post,
            lambda i, code: CopyOutcome(target=copy_of(req.destinations[i], failed=code)),
        )
        return FanOutResult(outcomes=outcomes)

    @activity.defn(name="slack.deliver")
    async def deliver(self, req: DeliverRequest) -> FanOutResult:
        """Apply one change to every copy: chat.update (a deleted copy is posted again), then
        the reply in its thread, the copies concurrently, each copy's two calls in order."""
        alert_id = req.state.alert.id

        async def apply(i: int, attempt: _Attempt) -> CopyOutcome:
            copy = req.copies[i]
            outcome = CopyOutcome(target=copy)
            if req.rerender:
                rendered = render_alert(req.state, req.console_base_url, copy.destination_id)
                outcome = await self._rerender(req.state, copy, rendered, attempt)
            if req.reply and outcome.target.ts:
                failed, posted = await self._reply(alert_id, outcome.target, req.reply, attempt)
                outcome.reply_failed = failed
                if posted is not None:
                    outcome.reply_ts, outcome.reply_healed = posted.ts, posted.healed
            return outcome

        outcomes = await self._each(
            [c.destination_id for c in req.copies],
            apply,
            lambda i, code: CopyOutcome(target=req.copies[i].model_copy(update={"failed": code})),
        )
        await self._publish_homes(req.homes, req.console_base_url)
        return FanOutResult(outcomes=outcomes)

    async def _rerender(
        self, state: AlertState, copy: SlackCopy, rendered: Rendered, attempt: _Attempt
    ) -> CopyOutcome:
        if copy.ts and await self.slack._update(copy.channel, copy.ts, rendered):
            return CopyOutcome(target=copy)
        key = f"alert/{state.alert.id}/{copy.destination_id}/r{state.revision}"
        posted = await self.slack._post_keyed(
            copy.channel,
            key=key,
            text=rendered.text,
            blocks=rendered.blocks,
            alert_id=state.alert.id,
            destination_id=copy.destination_id,
            may_exist=attempt.may_exist(key),
            sent=attempt.sent,
        )
        reposted = copy.model_copy(update={"ts": posted.ts})
        permalink = await self._permalink(reposted)
        return CopyOutcome(
            target=reposted, reposted=True, permalink=permalink, healed=posted.healed
        )

    async def _reply(
        self, alert_id: str, copy: SlackCopy, reply: Reply, attempt: _Attempt
    ) -> tuple[str | None, Posted | None]:
        """Post the thread reply: (the error code if refused for good, the reply kept)."""
        key = f"reply/{alert_id}/{copy.destination_id}/{reply.key_suffix}"
        try:
            posted = await self.slack._post_keyed(
                copy.channel,
                key=key,
                text=reply.text,
                blocks=reply.blocks,
                thread_ts=copy.ts,
                alert_id=alert_id,
                may_exist=attempt.may_exist(key),
                sent=attempt.sent,
            )
        except MessageGone:
            # Deleted between the re-render and the reply: the next change re-posts the alert.
            return None, None
        except ApplicationError as exc:
            if code := _permanent_code(exc):
                activity.logger.warning("reply in %s refused: %s", copy.channel, code)
                return code, None
            raise
        if reply.attachment is not None and copy.ts:
            file_key = f"file/{key}"
            may_exist = attempt.may_exist(file_key)
            attempt.sent.add(file_key)  # from here on a retry looks for it before uploading
            try:
                await self.slack._upload_keyed(
                    copy.channel, copy.ts, reply.attachment, may_exist=may_exist
                )
            except ApplicationError as exc:
                code = _permanent_code(exc)
                if not code:
                    raise
                # The reply already points to the console: a refused file loses nothing.
                activity.logger.warning("file in %s refused: %s", copy.channel, code)
        return None, posted

    def all(self) -> list[Any]:
        return [self.post_all, self.deliver]
