"""AlertEffects: everything AlertWorkflow does to the world.

The workflow owns one instance (`self.fx`) and calls it from its main loop only: history writes,
the console projection, posts, re-renders, thread replies and notes to a user. Every call is a
typed reference to the activity that implements it (`SlackFanOut.deliver`, …).

Two generations, chosen per change by `workflow.patched(ONE_TRIP)`:
- batched (every new run, and older runs from their next change on): the store writes of a change
  are buffered and go in one local activity (`HistoryActivities.write`, one marker event), and the
  Slack side of a change is one activity for every copy (`SlackFanOut.deliver`: re-render, then
  the thread reply). A change costs a constant number of workflow tasks whatever the copies.
- legacy: one activity per write and per copy, as before; kept only so that histories recorded
  before the patch replay unchanged. Remove it with `workflow.deprecate_patch` once no such run
  is open.

Enrichment on arrival (`workflow.patched(ENRICH_ON_ARRIVAL)`, only for an alert with IPs and a
destination that asks): one `EnrichmentActivities.brief` before the first post, so that post
already carries the per-IP lines.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.options import BEST_EFFORT_OPTS, DB_OPTS, ENRICH_OPTS, LOCAL_DB_OPTS, SLACK_OPTS

with workflow.unsafe.imports_passed_through():
    from activities.enrichment import EnrichmentActivities
    from activities.history import (
        HistoryActivities,
        ProjectionRequest,
        SaveCopyRequest,
        StoreWrite,
    )
    from activities.slack import (
        NotifyUserRequest,
        PostAlertRequest,
        PostAlertResult,
        SlackActivities,
        ThreadReplyRequest,
        UpdateCopyRequest,
        UpdateCopyResult,
    )
    from activities.slack_fanout import (
        CopyOutcome,
        DeliverRequest,
        PostAllRequest,
        Reply,
        SlackFanOut,
    )
    from parley.domain import SYSTEM, Actor, Destination, HistoryEntry, SlackCopy, ip_values
    from parley.slack.errors import permanent_code
    from parley.slack.ui.text import SLACK_USER_ID
    from parley.store.questions import Question
    from workflows.alert_types import AlertState, AlertWorkflowInput, Request

# Recording a deleted duplicate adds commands; the marker keeps runs that an older worker went on
# with (without the record) replayable.
DUPLICATES_PATCH = "record-deleted-duplicates"


def duplicate_entry(
    alert_id: str, channel: str, kept: str, deleted: list[str], what: str
) -> HistoryEntry:
    """The history row for duplicates a retried post found and deleted."""
    many = len(deleted) > 1
    return HistoryEntry(
        alert_id=alert_id,
        key=f"duplicate_deleted/{channel}/{deleted[0]}",
        at=workflow.now(),
        actor=SYSTEM,
        action="duplicate_deleted",
        from_value=", ".join(deleted),
        to_value=kept,
        comment=f"a slow Slack request left {len(deleted)} extra {what}{'s' if many else ''} in "
        f"{channel}; deleted {'them' if many else 'it'} and kept the first",
    )


async def record_deleted_duplicates(
    alert_id: str, channel: str, kept: str, deleted: list[str], what: str
) -> None:
    """A retried post found its key on more than one message and deleted the later ones."""
    if not deleted or not workflow.patched(DUPLICATES_PATCH):
        return
    entry = duplicate_entry(alert_id, channel, kept, deleted, what)
    await workflow.execute_activity_method(HistoryActivities.record, entry, **DB_OPTS)


ONE_TRIP = "one-trip-per-change"

ENRICH_ON_ARRIVAL = "enrich-on-arrival"
# Offline lookups take milliseconds: a first post waits for them briefly, never for long.
ARRIVAL_ENRICH_OPTS: dict[str, Any] = {
    **ENRICH_OPTS,
    "schedule_to_close_timeout": timedelta(seconds=30),
}


class AlertEffects:
    def __init__(self, state: AlertState, inp: AlertWorkflowInput) -> None:
        self.state = state
        self.inp = inp
        self.batched = False
        self._write = StoreWrite(alert_id=state.alert.id)
        self._homes: set[str] = set()

    def begin(self) -> None:
        """Called before each change (and before the first post): picks the generation."""
        self.batched = workflow.patched(ONE_TRIP)

    async def flush(self) -> None:
        """Write what this change buffered for the store: history first, then Slack."""
        if self._write.empty:
            return
        write, self._write = self._write, StoreWrite(alert_id=self.state.alert.id)
        await workflow.execute_local_activity_method(
            HistoryActivities.write, write, **LOCAL_DB_OPTS
        )

    # ---- Slack, batched: one activity for every copy ------------------------------------------

    def _keep(self, outcome: CopyOutcome) -> None:
        """Record what Slack did to one copy: a refusal, or a copy posted (again)."""
        copy = outcome.target
        if copy.failed:
            self._write.entries.append(self._refused_entry(copy))
        if copy.failed or outcome.permalink or outcome.reposted:
            self._write.copies.append(
                SaveCopyRequest(
                    alert_id=self.state.alert.id, target=copy, permalink=outcome.permalink
                )
            )
        if outcome.healed:
            what = "alert message"
            self._write.entries.append(
                duplicate_entry(
                    self.state.alert.id, copy.channel, copy.ts or "", outcome.healed, what
                )
            )
        if outcome.reposted:
            self._write.entries.append(self._reposted_entry(copy))

    async def _deliver(self, copies: list[SlackCopy], rerender: bool, reply: Reply | None) -> None:
        await self.flush()
        if not copies:
            return
        result = await workflow.execute_activity_method(
            SlackFanOut.deliver,
            DeliverRequest(
                state=self.state,
                console_base_url=self.inp.console_base_url,
                copies=copies,
                rerender=rerender,
                reply=reply,
                homes=self._take_homes(),
            ),
            summary=f"{'re-render and ' if rerender else ''}reply in {len(copies)} channel(s)",
            **SLACK_OPTS,
        )
        changed = {o.target.destination_id: o.target for o in result.outcomes if rerender}
        self.state.copies = [changed.get(c.destination_id, c) for c in self.state.copies]
        for outcome in result.outcomes:
            if rerender:
                self._keep(outcome)
            if outcome.reply_healed:
                target = outcome.target
                self._write.entries.append(
                    duplicate_entry(
                        self.state.alert.id,
                        target.channel,
                        outcome.reply_ts or "",
                        outcome.reply_healed,
                        "thread reply",
                    )
                )
            if outcome.reply_failed:
                workflow.logger.warning(
                    "thread reply in %s refused: %s", outcome.target.channel, outcome.reply_failed
                )
        await self.flush()

    def _take_homes(self) -> list[str]:
        users, self._homes = sorted(self._homes), set()
        return users

    def _live(self) -> list[SlackCopy]:
        return [c for c in self.state.copies if c.ts and not c.failed]

    async def change_everywhere(
        self, key_suffix: str, text: str, blocks: list[dict] | None, *, rerender: bool = True
    ) -> None:
        """One change reaches every copy: re-rendered (optional), and a reply in each thread."""
        if not self.batched:
            if rerender:
                await self.rerender_everywhere()
            await self.reply_everywhere(key_suffix, text, blocks)
            return
        await self._deliver(
            self._live(), rerender, Reply(key_suffix=key_suffix, text=text, blocks=blocks)
        )

    async def rerender_only(self) -> None:
        """Every copy re-rendered, no thread reply (an alert that grew: the line comes later)."""
        if not self.batched:
            await self.rerender_everywhere()
            return
        await self._deliver(self._live(), rerender=True, reply=None)

    async def _enrich_on_arrival(self, destinations: list[Destination]) -> None:
        """The alert's IPs analysed for the destinations that ask, before their first post."""
        wanted = [d.id for d in destinations if d.enrich_on_arrival]
        ips = list(dict.fromkeys(ip for _, ip in ip_values(self.state.alert.summary_attributes)))
        if not wanted or not ips or not workflow.patched(ENRICH_ON_ARRIVAL):
            return
        try:
            intel = await workflow.execute_activity_method(
                EnrichmentActivities.brief,
                ips,
                summary=f"analyse {len(ips)} IP(s) on arrival",
                **ARRIVAL_ENRICH_OPTS,
            )
        except ActivityError as err:  # the alert without its IP lines beats no alert
            workflow.logger.warning("no enrichment on arrival: %s", err)
            return
        self.state.ip_intel = intel.model_copy(update={"destination_ids": wanted})

    async def post_everywhere(self, destinations: list[Destination]) -> None:
        if self.batched:
            await self.flush()
            await self._enrich_on_arrival(destinations)
            result = await workflow.execute_activity_method(
                SlackFanOut.post_all,
                PostAllRequest(
                    state=self.state,
                    destinations=destinations,
                    console_base_url=self.inp.console_base_url,
                ),
                summary=f"post to {', '.join(d.name for d in destinations)}"[:200],
                **SLACK_OPTS,
            )
            self.state.copies = [o.target for o in result.outcomes]
            for outcome in result.outcomes:
                self._keep(outcome)
            await self.flush()
            return
        await self._legacy_post_everywhere(destinations)

    # ---- legacy generation: one activity per write and per copy -------------------------------

    async def _legacy_post_everywhere(self, destinations: list[Destination]) -> None:
        async def post(dest: Destination) -> PostAlertResult:
            try:
                return await workflow.execute_activity_method(
                    SlackActivities.post_alert,
                    PostAlertRequest(
                        state=self.state,
                        destination=dest,
                        console_base_url=self.inp.console_base_url,
                    ),
                    summary=f"post to {dest.name}",
                    **SLACK_OPTS,
                )
            except ActivityError as err:
                code = permanent_code(err) or "gave_up"
                return PostAlertResult(
                    destination_id=dest.id,
                    destination_name=dest.name,
                    channel=dest.channel,
                    failed=code,
                )

        results = await asyncio.gather(*(post(d) for d in destinations))
        self.state.copies = [r.as_copy() for r in results]
        for copy, result in zip(self.state.copies, results, strict=True):
            if copy.failed:
                await self.delivery_failed(copy)
            else:
                await self.save_copy(copy)
                await self.duplicates_deleted(copy, result.healed, "alert message")

    async def rerender_everywhere(self) -> None:
        async def update(copy: SlackCopy) -> UpdateCopyResult:
            try:
                return await workflow.execute_activity_method(
                    SlackActivities.update_alert,
                    UpdateCopyRequest(
                        state=self.state, target=copy, console_base_url=self.inp.console_base_url
                    ),
                    summary=f"re-render in {copy.destination_name or copy.channel}",
                    **SLACK_OPTS,
                )
            except ActivityError as err:
                code = permanent_code(err) or "gave_up"
                return UpdateCopyResult(target=copy.model_copy(update={"failed": code}))

        live = [c for c in self.state.copies if c.ts and not c.failed]
        results = await asyncio.gather(*(update(c) for c in live))
        by_dest = {r.target.destination_id: r for r in results}
        self.state.copies = [
            by_dest[c.destination_id].target if c.destination_id in by_dest else c
            for c in self.state.copies
        ]
        for result in results:
            if result.target.failed:
                await self.delivery_failed(result.target)
            elif result.reposted:
                await self.save_copy(result.target)
                await self._record(self._reposted_entry(result.target))
                await self.duplicates_deleted(result.target, result.healed, "alert message")

    async def reply_everywhere(self, key_suffix: str, text: str, blocks: list[dict] | None) -> None:
        async def reply(copy: SlackCopy) -> None:
            try:
                await self.reply_in(copy, key_suffix, text, blocks)
            except ActivityError as err:  # one channel's trouble must not block the others'
                workflow.logger.warning("thread reply in %s failed: %s", copy.channel, err)

        await asyncio.gather(*(reply(c) for c in self.state.copies if c.ts and not c.failed))

    async def reply_with(self, copy: SlackCopy, reply: Reply) -> None:
        """A reply in one copy's thread with a file after it (batched generation only)."""
        await self._deliver([copy], rerender=False, reply=reply)

    async def reply_in(
        self, copy: SlackCopy, key_suffix: str, text: str, blocks: list[dict] | None
    ) -> None:
        """A reply in one copy's thread (details, threat intel)."""
        if self.batched:
            reply = Reply(key_suffix=key_suffix, text=text, blocks=blocks)
            await self._deliver([copy], rerender=False, reply=reply)
            return
        reply = await workflow.execute_activity_method(
            SlackActivities.thread_reply,
            ThreadReplyRequest(
                alert_id=self.state.alert.id,
                target=copy,
                key=f"reply/{self.state.alert.id}/{copy.destination_id}/{key_suffix}",
                text=text,
                blocks=blocks,
            ),
            **SLACK_OPTS,
        )
        await self.duplicates_deleted(copy, reply.healed, "thread reply", kept=reply.ts)

    async def duplicates_deleted(
        self, copy: SlackCopy, deleted: list[str], what: str, kept: str | None = None
    ) -> None:
        await record_deleted_duplicates(
            self.state.alert.id, copy.channel, kept or copy.ts or "", deleted, what
        )

    def _refused_entry(self, copy: SlackCopy) -> HistoryEntry:
        return self.entry(
            "delivery_failed",
            SYSTEM,
            key=f"delivery_failed/{copy.destination_id}/{copy.failed}",
            to_value=copy.channel,
            comment=f"Slack refused delivery to {copy.destination_name or copy.channel}: "
            f"{copy.failed}",
        )

    def _reposted_entry(self, copy: SlackCopy) -> HistoryEntry:
        return self.entry(
            "message_reposted",
            SYSTEM,
            key=f"reposted/{copy.destination_id}/r{self.state.revision}",
            comment=f"the alert message in {copy.channel} was gone; posted again",
        )

    async def delivery_failed(self, copy: SlackCopy) -> None:
        await self._record(self._refused_entry(copy))
        await self.save_copy(copy, permalink=False)

    async def save_copy(self, copy: SlackCopy, permalink: bool = True) -> None:
        link = None
        if permalink and copy.ts:
            link = await workflow.execute_activity_method(
                SlackActivities.permalink, copy, **BEST_EFFORT_OPTS
            )
        await workflow.execute_activity_method(
            HistoryActivities.save_copy,
            SaveCopyRequest(alert_id=self.state.alert.id, target=copy, permalink=link),
            **DB_OPTS,
        )

    async def tell(self, request: Request, text: str) -> None:
        """An ephemeral note to the Slack user who asked (a refusal, say); best effort."""
        if request.actor.source != "slack" or not request.actor.id:
            return
        try:
            await workflow.execute_activity_method(
                SlackActivities.notify_user,
                NotifyUserRequest(
                    user_id=request.actor.id,
                    text=text,
                    channel=request.reply_channel,
                    response_url=request.response_url,
                ),
                **BEST_EFFORT_OPTS,
            )
        except ActivityError as err:
            workflow.logger.warning("could not tell %s: %s", request.actor.id, err)

    def entry(
        self,
        action: str,
        actor: Actor,
        *,
        key: str,
        from_value: str | None = None,
        to_value: str | None = None,
        comment: str | None = None,
    ) -> HistoryEntry:
        return HistoryEntry(
            alert_id=self.state.alert.id,
            key=key,
            at=workflow.now(),
            actor=actor,
            action=action,
            from_value=from_value,
            to_value=to_value,
            comment=comment,
        )

    @staticmethod
    def slack_person(actor: Actor) -> str | None:
        """The Slack user behind a change: a Slack click, or a console user signed in with
        Slack (whose id is their Slack id); None for the system or a token's console user."""
        if actor.source in ("slack", "console") and SLACK_USER_ID.fullmatch(actor.id or ""):
            return actor.id
        return None

    def touch_home(self, *user_ids: str | None) -> None:
        """These people's App Home shows what this change touches (assignee, closer, asked):
        the change's fan-out re-publishes them (an input of the same activity, no new command;
        the legacy generation only replays, so it has no Home)."""
        self._homes.update(u for u in user_ids if u and SLACK_USER_ID.fullmatch(u))

    def save_question(self, question: Question) -> None:
        """A Boomerang question's row (issue 13), written with this change's other store writes.
        Batched runs only: a legacy change has no store write to carry it, and no new command
        may appear in a legacy replay."""
        if self.batched:
            self._write.questions.append(question)

    async def history(self, action: str, actor: Actor, *, key: str, **values: str | None) -> None:
        """One row of the alert's history (batched: written before the change's Slack calls).
        `values`: from_value, to_value, comment."""
        await self._record(self.entry(action, actor, key=key, **values))

    async def _record(self, entry: HistoryEntry) -> None:
        if self.batched:
            self._write.entries.append(entry)
            return
        await workflow.execute_activity_method(HistoryActivities.record, entry, **DB_OPTS)

    async def project(self) -> None:
        """The console's copy of status and assignee."""
        st = self.state
        projection = ProjectionRequest(
            alert_id=st.alert.id,
            status=st.status,
            assignee_id=st.assignee_id,
            assignee_name=st.assignee_name,
            resolution_comment=st.resolution_comment,
        )
        if self.batched:
            self._write.projection = projection
            return
        await workflow.execute_activity_method(HistoryActivities.project, projection, **DB_OPTS)

    async def user_name(self, user_id: str) -> str:
        if self.batched:  # users.info answers in milliseconds: no need for a full activity
            return await workflow.execute_local_activity_method(
                SlackActivities.user_name, user_id, **BEST_EFFORT_OPTS
            )
        return await workflow.execute_activity_method(
            SlackActivities.user_name, user_id, **BEST_EFFORT_OPTS
        )
