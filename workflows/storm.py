"""StormWorkflow: while one rule floods one channel, its alerts share one digest message.

One per (channel, rule), id `storm-<channel>-<rule id>`. Intake decides that an alert goes to a
storm (workflows/alert_storm.py has the alert's side); the first such alert starts this workflow
as an abandoned child, the next ones signal `join`. It keeps the members, posts the digest once
and re-renders it at most every `refresh_seconds` (a timer, not a call per join), and applies
"Resolve all" / "Mark all Invalid" to every member through the member's own workflow, with a key
derived from the bulk action's key, so a retried action changes each alert once. After a quiet
period as long as the counting window it says so in the digest and its thread, and ends.

Shape as in AlertWorkflow: handlers only change state (they are synchronous), the main loop does
the work, and a long storm continues-as-new with its whole state.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

from workflows import alert
from workflows.options import BEST_EFFORT_OPTS, SLACK_OPTS

with workflow.unsafe.imports_passed_through():
    from activities.slack import NotifyUserRequest, SlackActivities
    from activities.storm import (
        LeadInRequest,
        RefreshRequest,
        StormActivities,
        StormReplyRequest,
    )
    from parley.domain import Severity
    from parley.slack.ui.alert import Rendered
    from parley.slack.ui.storm import render_bulk_reply, render_end_reply
    from workflows.alert_types import StatusChange, alert_workflow_id
    from workflows.storm_types import (
        TITLES_KEPT,
        BulkChange,
        BulkRecord,
        DigestView,
        StormInput,
        StormMember,
        StormState,
        bulk_member_key,
    )

SEEN_KEYS_KEPT = 200
# Members signalled at once by a bulk action: well under Temporal's 2,000 pending signals, and
# a continue-as-new can come between two batches.
BULK_BATCH = 50
MIN_WAIT = timedelta(milliseconds=50)


@workflow.defn
class StormWorkflow:
    @workflow.init
    def __init__(self, inp: StormInput) -> None:
        self._inp = inp
        now = workflow.now()
        self._state: StormState = inp.state or StormState(
            storm_id=workflow.uuid4().hex[:16], started_at=now, last_join_at=now
        )
        self._ids = {m.alert_id for m in self._state.members}
        # Alerts that joined after the storm ended: they start the next storm.
        self._late: list[StormMember] = []
        self._refused: list[BulkChange] = []
        if inp.state is None:
            for member in inp.members:
                self._add(member)

    # ---- messages ---------------------------------------------------------------------------

    @workflow.signal
    def join(self, member: StormMember) -> None:
        if self._state.ended_at is not None:
            if all(m.alert_id != member.alert_id for m in self._late):
                self._late.append(member)
            return
        self._add(member)

    @workflow.signal
    def bulk_change(self, change: BulkChange) -> None:
        st = self._state
        if change.key in st.seen_keys:
            return  # Slack re-sent the submission, or the person submitted twice
        if change.storm_id and change.storm_id != st.storm_id:
            # From the digest of an earlier storm of this channel and rule: not for these alerts.
            self._refused.append(change)
            return
        st.seen_keys.append(change.key)
        del st.seen_keys[:-SEEN_KEYS_KEPT]
        st.bulk.append(
            BulkRecord(
                key=change.key,
                status=change.status,
                comment=change.comment,
                actor=change.actor,
                at=workflow.now(),
            )
        )
        st.revision += 1

    @workflow.query
    def state(self) -> StormState:
        return self._state

    def _add(self, member: StormMember) -> None:
        st = self._state
        if member.alert_id in self._ids:
            known = next(m for m in st.members if m.alert_id == member.alert_id)
            if known.posted and not member.posted:  # a lead-in that was digested after all
                known.posted = False
                st.changed.append(known.alert_id)
                st.revision += 1
            return
        self._ids.add(member.alert_id)
        st.members.append(member)
        if len(st.members) > TITLES_KEPT:
            st.members[-TITLES_KEPT - 1].title = ""
        if not member.posted:
            st.last_join_at = max(st.last_join_at, workflow.now())
        st.revision += 1

    # ---- main loop --------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: StormInput) -> StormState:
        st = self._state
        if not st.lead_in_done:
            await self._lead_in()
        while True:
            if self._refused:
                await self._refuse(self._refused.pop(0))
                continue
            if bulk := self._pending_bulk():
                await self._bulk_step(bulk)
                await self._continue_as_new_if_suggested()
                continue
            now = workflow.now()
            if self._dirty and now >= self._next_render():
                await self._refresh()
                continue
            quiet_at = st.last_join_at + timedelta(seconds=inp.window_seconds)
            if not self._dirty and now >= quiet_at:
                break
            await self._continue_as_new_if_suggested()
            deadline = self._next_render() if self._dirty else quiet_at
            was_dirty = self._dirty
            try:
                await workflow.wait_condition(
                    lambda d=was_dirty: (
                        self._pending_bulk() is not None or self._dirty != d or bool(self._refused)
                    ),
                    timeout=max(deadline - now, MIN_WAIT),
                    timeout_summary="digest refresh" if was_dirty else "quiet period",
                )
            except TimeoutError:
                pass
        await self._end()
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not (self._pending_bulk() or self._refused):
                break
            while self._refused:
                await self._refuse(self._refused.pop(0))
            if self._pending_bulk():
                await self._drain_bulk()  # sent while the storm was ending: it still applies
                await self._refresh()
        if self._late:
            # Alerts joined while this storm was ending: they begin the next one, under the
            # same workflow id, with its own digest.
            workflow.continue_as_new(inp.model_copy(update={"members": self._late, "state": None}))
        return st

    @property
    def _dirty(self) -> bool:
        return self._state.revision != self._state.rendered_revision

    def _next_render(self) -> datetime:
        st = self._state
        if st.rendered_at is None:
            return workflow.now()
        return st.rendered_at + timedelta(seconds=self._inp.refresh_seconds)

    def _pending_bulk(self) -> BulkRecord | None:
        return next((b for b in self._state.bulk if not b.done), None)

    async def _continue_as_new_if_suggested(self) -> None:
        if not workflow.info().is_continue_as_new_suggested():
            return
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._inp.model_copy(update={"members": [], "state": self._state}))

    # ---- what the storm does ----------------------------------------------------------------

    async def _refuse(self, change: BulkChange) -> None:
        """Tell the person their bulk action came from an earlier storm's digest; best effort."""
        if change.actor.source != "slack" or not change.actor.id:
            return
        try:
            await workflow.execute_activity_method(
                SlackActivities.notify_user,
                NotifyUserRequest(
                    user_id=change.actor.id,
                    text="That storm is over, so nothing was changed; this is a newer storm of "
                    "the same rule. Use its own digest, or change alerts from the console.",
                    channel=change.reply_channel,
                ),
                **BEST_EFFORT_OPTS,
            )
        except ActivityError as err:
            workflow.logger.warning("could not tell %s: %s", change.actor.id, err)

    async def _lead_in(self) -> None:
        """The rule's alerts posted on their own just before the storm belong to it too."""
        st = self._state
        window = timedelta(seconds=self._inp.window_seconds)
        try:
            found = await workflow.execute_activity_method(
                StormActivities.lead_in,
                LeadInRequest(
                    storm_id=st.storm_id,
                    destination=self._inp.destination,
                    rule_id=self._inp.rule_id,
                    since=st.started_at - window,
                    until=st.started_at,
                ),
                summary="alerts posted before the storm",
                **BEST_EFFORT_OPTS,  # a nicety: the storm must not wait on it
            )
        except ActivityError as err:  # the storm still works without them
            workflow.logger.warning("no lead-in alerts for the storm: %s", err)
            found = []
        fresh = [m for m in found if m.alert_id not in self._ids]
        self._ids.update(m.alert_id for m in fresh)
        for m in fresh[:-TITLES_KEPT]:
            m.title = ""
        st.members[:0] = fresh
        st.lead_in_done = True
        st.revision += 1

    def _view(self) -> DigestView:
        st, inp = self._state, self._inp
        counts: dict[Severity, int] = {}
        for m in st.members:
            counts[m.severity] = counts.get(m.severity, 0) + 1
        first = min([st.started_at] + [m.at for m in st.members[:1]])
        newest = [m for m in reversed(st.members[-TITLES_KEPT:])]
        return DigestView(
            storm_id=st.storm_id,
            workflow_id=workflow.info().workflow_id,
            channel=inp.destination.channel,
            rule_id=inp.rule_id,
            rule_name=inp.rule_name,
            started_at=first,
            last_at=st.last_join_at,
            ended_at=st.ended_at,
            total=len(st.members),
            posted=sum(1 for m in st.members if m.posted),
            counts=counts,
            newest=newest,
            bulk=st.bulk,
            window_seconds=inp.window_seconds,
            revision=st.revision,
        )

    async def _refresh(self) -> None:
        """Record the storm and re-render the digest (or post it, the first time)."""
        st = self._state
        st.rendered_revision = st.revision
        st.rendered_at = workflow.now()
        upto = len(st.members)
        changed = set(st.changed)
        members = st.members[st.recorded_members : upto] + [
            m for m in st.members[: st.recorded_members] if m.alert_id in changed
        ]
        view = self._view()
        # Rendered as markdown by the UI: keep the rule id (detection data) out of its syntax.
        rule = "".join(c for c in view.rule_id if c not in "`[]<>*_")[:200]
        workflow.set_current_details(
            f"**{view.total}** alerts of `{rule}` in {view.channel}"
            + (" · ended" if st.ended_at else "")
        )
        try:
            result = await workflow.execute_activity_method(
                StormActivities.refresh,
                RefreshRequest(
                    view=view,
                    destination=self._inp.destination,
                    members=members,
                    digest_ts=st.digest_ts,
                    console_base_url=self._inp.console_base_url,
                ),
                summary=f"digest of {view.total} alerts",
                **SLACK_OPTS,
            )
        except ActivityError as err:
            # Slack refused the channel for good: the storm is still in the console, and the
            # members are recorded again with the next refresh.
            workflow.logger.warning("storm digest not delivered: %s", err)
            return
        st.recorded_members = upto
        st.changed = [a for a in st.changed if a not in changed]
        st.digest_ts = result.digest_ts

    async def _reply(self, key: str, rendered: Rendered) -> None:
        st = self._state
        if not st.digest_ts:
            await self._refresh()  # a thread needs its digest first
        if not st.digest_ts:
            return  # Slack refused the digest: the console still has the storm
        try:
            await workflow.execute_activity_method(
                StormActivities.reply,
                StormReplyRequest(
                    channel=self._inp.destination.channel,
                    thread_ts=st.digest_ts,
                    key=f"storm/{st.storm_id}/{key}",
                    text=rendered.text,
                    blocks=rendered.blocks,
                ),
                **SLACK_OPTS,
            )
        except ActivityError as err:
            workflow.logger.warning("reply in the storm's thread refused: %s", err)

    async def _bulk_step(self, bulk: BulkRecord) -> None:
        """Signal the next batch of members; the alerts apply the change themselves."""
        st = self._state
        if bulk.total is None:
            bulk.total = len(st.members)
        batch = st.members[bulk.next_index : min(bulk.next_index + BULK_BATCH, bulk.total)]
        reached = await asyncio.gather(*(self._signal_member(bulk, m) for m in batch))
        bulk.gone += reached.count(False)
        bulk.next_index += len(batch)
        if bulk.next_index < bulk.total:
            return
        bulk.done = True
        st.revision += 1
        await self._reply(f"bulk/{bulk_member_key(bulk.key, '')}", render_bulk_reply(bulk))

    async def _signal_member(self, bulk: BulkRecord, member: StormMember) -> bool:
        change = StatusChange(
            status=bulk.status,
            comment=bulk.comment,
            actor=bulk.actor,
            key=bulk_member_key(bulk.key, member.alert_id),
        )
        handle = workflow.get_external_workflow_handle_for(
            alert.AlertWorkflow.run, alert_workflow_id(member.alert_id)
        )
        try:
            await handle.signal(alert.AlertWorkflow.set_status, change)
        except FailureError as err:  # past its retention, or terminated: nothing to change
            workflow.logger.info("storm member %s is gone: %s", member.alert_id, err)
            return False
        return True

    async def _end(self) -> None:
        """No alert for a whole window: the digest and its thread say what the storm was."""
        st = self._state
        st.ended_at = workflow.now()
        st.revision += 1
        await self._drain_bulk()
        await self._refresh()
        await self._reply("end", render_end_reply(self._view()))

    async def _drain_bulk(self) -> None:
        while bulk := self._pending_bulk():
            await self._bulk_step(bulk)
