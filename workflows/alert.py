"""AlertWorkflow: one durable workflow per alert (`alert-<id>`).

Shape: signal handlers only validate and queue a change (they are synchronous, so they finish at
once and never race); the main loop applies queued changes one at a time: state, history,
re-render of every copy, a reply in every thread. Closed alerts stay reopenable for the retention
period, then the workflow completes. Long alerts continue-as-new carrying the whole state.

Why signals and not updates for Slack clicks: a signal is accepted by the Temporal server in
milliseconds whether or not a worker runs, and is durable from then on. An update needs a live
worker to be accepted, so the API would have to answer Slack on a timeout and keep retrying the
update from its own memory, where a restart of the API would lose the click. What an update would
validate synchronously (a known status, a comment for Resolved) the API checks before signalling;
what only the workflow can judge is told to the user afterwards in an ephemeral message.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from workflows import alert_boomerang, alert_context, alert_storm
from workflows.alert_effects import AlertEffects

with workflow.unsafe.imports_passed_through():
    from parley.domain import SYSTEM, Actor, Status
    from parley.slack.ui.alert import render_change_reply, render_growth_line
    from workflows import search_attributes as sa
    from workflows.alert_types import (
        AlertGrowth,
        AlertState,
        AlertWorkflowInput,
        AssigneeChange,
        BoomerangAsk,
        DetailsRequest,
        IntelRequest,
        StatusChange,
    )
    from workflows.boomerang_types import BoomerangEvent

SEEN_KEYS_KEPT = 500

Change = (
    StatusChange
    | AssigneeChange
    | BoomerangAsk
    | BoomerangEvent
    | DetailsRequest
    | IntelRequest
    | AlertGrowth
)
# Alerts that grow keep at most this many events in the workflow's state (intake's cap too).
EVENTS_KEPT = 100


def change_key(change: Change) -> str:
    if isinstance(change, BoomerangEvent):
        return f"boomerang/{change.boomerang_id}/{change.kind}"
    return change.key


@workflow.defn
class AlertWorkflow:
    @workflow.init
    def __init__(self, inp: AlertWorkflowInput) -> None:
        self._inp = inp
        self._fresh = inp.state is None
        self._state: AlertState = inp.state or AlertState(alert=inp.alert)
        self._inbox: list[Change] = []
        # Every effect (history, posts, re-renders, replies) goes through this one object.
        self.fx = AlertEffects(self._state, inp)

    # ---- messages ---------------------------------------------------------------------------

    @workflow.signal
    def set_status(self, change: StatusChange) -> None:
        self._enqueue(change)

    @workflow.signal
    def set_assignee(self, change: AssigneeChange) -> None:
        self._enqueue(change)

    @workflow.signal
    def ask_boomerang(self, ask: BoomerangAsk) -> None:
        self._enqueue(ask)

    @workflow.signal
    def boomerang_event(self, event: BoomerangEvent) -> None:
        self._enqueue(event)

    @workflow.signal
    def show_details(self, request: DetailsRequest) -> None:
        self._enqueue(request)

    @workflow.signal
    def threat_intel(self, request: IntelRequest) -> None:
        self._enqueue(request)

    @workflow.signal
    def grow(self, growth: AlertGrowth) -> None:
        """More events for this alert (issue 11): sent by intake, never by a person."""
        self._enqueue(growth)

    @workflow.query
    def state(self) -> AlertState:
        return self._state

    def _enqueue(self, change: Change) -> None:
        # A click is applied once, however often Slack, the API or a retry delivers it.
        key = change_key(change)
        if key in self._state.seen_keys or any(change_key(c) == key for c in self._inbox):
            return
        self._inbox.append(change)

    # ---- main loop --------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: AlertWorkflowInput) -> AlertState:
        self._set_details()
        if self._fresh:
            self.fx.begin()
            await self.fx.history("created", SYSTEM, key="created", to_value=Status.OPEN.value)
            await self.fx.project()
            self._upsert_search_attributes()
            # A channel its rule is flooding gets the alert in the storm's digest instead.
            joined = await alert_storm.join_all(self.fx, alert_storm.digest_destinations(inp))
            posted = [d for d in inp.destinations if d not in joined]
            if posted or not joined:
                await self.fx.post_everywhere(posted)
        while True:
            if self._inbox:
                await self._apply(self._inbox.pop(0))
                continue
            if self._growth_line_in() == timedelta(0):
                await self._post_growth_line()
                continue
            retention = self._time_left_open()
            if retention is not None and retention <= timedelta(0):
                break
            # Without a pending "more events" line this is the retention wait, as it always was.
            line_in = self._growth_line_in()
            if line_in is None:
                timeout = retention
            else:
                timeout = line_in if retention is None else min(retention, line_in)
            summary = "retention" if line_in is None or timeout != line_in else "more events"
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._inbox:
                    # Every setting carries over (delays included); the posts are done.
                    workflow.continue_as_new(
                        inp.model_copy(
                            update={"destinations": [], "storm": None, "state": self._state}
                        )
                    )
            try:
                await workflow.wait_condition(
                    lambda: bool(self._inbox), timeout=timeout, timeout_summary=summary
                )
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _time_left_open(self) -> timedelta | None:
        closed_at = self._state.closed_at
        if closed_at is None:
            return None
        ends = closed_at + timedelta(seconds=self._inp.retention_seconds)
        return ends - workflow.now()

    # ---- applying a change -------------------------------------------------------------------

    async def _apply(self, change: Change) -> None:
        self._remember(change_key(change))
        self.fx.begin()
        if isinstance(change, StatusChange):
            await self._apply_status(change)
        elif isinstance(change, AssigneeChange):
            await self._apply_assignee(change)
        elif isinstance(change, BoomerangAsk):
            await alert_boomerang.start(self.fx, change)
        elif isinstance(change, BoomerangEvent):
            await alert_boomerang.happened(self.fx, change)
        elif isinstance(change, DetailsRequest):
            await alert_context.show_details(self.fx, change)
        elif isinstance(change, AlertGrowth):
            await self._apply_growth(change)
        else:
            await alert_context.threat_intel(self.fx, change)
        await self.fx.flush()  # a change that only recorded history (or nothing) still writes it

    async def _apply_status(self, change: StatusChange) -> None:
        st = self._state
        old = st.status
        if change.status == old:
            return  # nothing changes, so nothing is recorded or posted
        comment = (change.comment or "").strip() or None
        if change.status is Status.RESOLVED and not comment:
            await self.fx.tell(change, "A resolution comment is required to resolve this alert.")
            return
        st.status = change.status
        st.resolution_comment = comment if change.status is Status.RESOLVED else None
        st.closed_at = workflow.now() if change.status.is_closed else None
        st.revision += 1
        await self.fx.history(
            "status_changed",
            change.actor,
            key=f"status/{change.key}",
            from_value=old.value,
            to_value=change.status.value,
            comment=comment,
        )
        # The assignee's list; the closer's "closed by you" (the one who closes, and the one
        # whose close a reopen undoes). A console user signed in with Slack is that Slack user.
        person = self.fx.slack_person(change.actor)
        self.fx.touch_home(st.assignee_id, person, st.closed_by)
        st.closed_by = person if change.status.is_closed else None
        await self._after_change(change.actor, "status", old.value, change.status.value, comment)
        if change.status.is_closed:
            await alert_boomerang.cancel_open(
                self.fx, f"the alert was marked {change.status.value}"
            )

    async def _apply_assignee(self, change: AssigneeChange) -> None:
        st = self._state
        if change.assignee_id == st.assignee_id:
            return
        name = change.assignee_name
        if change.assignee_id and not name:
            name = await self.fx.user_name(change.assignee_id)
        old_id, old_name = st.assignee_id, st.assignee_name
        self.fx.touch_home(old_id, change.assignee_id)
        st.assignee_id = change.assignee_id
        st.assignee_name = name if change.assignee_id else ""
        st.revision += 1
        await self.fx.history(
            "assignee_changed",
            change.actor,
            key=f"assignee/{change.key}",
            from_value=old_name or old_id,
            to_value=st.assignee_name or st.assignee_id,
        )
        await self._after_change(
            change.actor,
            "assignee",
            f"<@{old_id}>" if old_id else None,
            f"<@{st.assignee_id}>" if st.assignee_id else None,
            None,
        )

    # ---- alerts that grow (issue 11) ----------------------------------------------------------

    async def _apply_growth(self, growth: AlertGrowth) -> None:
        """One history row per growth and every copy re-rendered with the count; the thread
        gets one "N more events (M in all)" line per window, however many growths it held."""
        st = self._state
        old = st.alert.effective_event_count
        if growth.event_count <= old:
            return  # the start already carried this count (it was queued behind it)
        events = (list(st.alert.events) + list(growth.new_events))[-EVENTS_KEPT:]
        st.alert = st.alert.model_copy(update={"event_count": growth.event_count, "events": events})
        if st.lined_event_count is None:
            st.lined_event_count = old
        closed = st.status.is_closed
        reopen = closed and growth.reopen
        note = None
        if closed and not reopen:
            note = f"arrived while {st.status.value}; not reopened"
        elif reopen:
            note = f"arrived while {st.status.value}; reopened"
        await self.fx.history(
            "events_added",
            SYSTEM,
            key=f"grow/{growth.key}",
            from_value=str(old),
            to_value=str(growth.event_count),
            comment=note,
        )
        if reopen:
            # Recorded and told like any status change (history, thread reply, every copy).
            change = StatusChange(status=Status.OPEN, actor=SYSTEM, key=f"reopen/{growth.key}")
            await self._apply_status(change)
        elif not self._bigger_growth_queued(growth.event_count):
            # A burst of growths re-renders once, for the last: the next one would redo it.
            st.revision += 1
            await self.fx.rerender_only()
        if closed and not reopen:
            st.lined_event_count = growth.event_count  # a closed alert's thread stays quiet
            return
        if st.growth_line_due is None:
            st.growth_line_due = workflow.now() + timedelta(seconds=self._inp.growth_line_seconds)

    def _bigger_growth_queued(self, count: int) -> bool:
        return any(isinstance(c, AlertGrowth) and c.event_count > count for c in self._inbox)

    def _growth_line_in(self) -> timedelta | None:
        """How long until the pending "more events" line is due (zero: now); None: none."""
        due = self._state.growth_line_due
        if due is None:
            return None
        return max(due - workflow.now(), timedelta(0))

    async def _post_growth_line(self) -> None:
        st = self._state
        st.growth_line_due = None
        total = st.alert.effective_event_count
        added = total - (st.lined_event_count or 0)
        st.lined_event_count = total
        if added <= 0:
            return
        self.fx.begin()
        line = render_growth_line(added, total)
        await self.fx.change_everywhere(f"grow/{total}", line.text, line.blocks, rerender=False)

    async def _after_change(
        self, actor: Actor, what: str, old: str | None, new: str | None, comment: str | None
    ) -> None:
        await self.fx.project()
        self._upsert_search_attributes()
        self._set_details()
        reply = render_change_reply(actor.mention(), what, old, new, comment)
        await self.fx.change_everywhere(f"r{self._state.revision}", reply.text, reply.blocks)

    # ---- bookkeeping --------------------------------------------------------------------------

    def _remember(self, key: str) -> None:
        keys = self._state.seen_keys
        keys.append(key)
        if len(keys) > SEEN_KEYS_KEPT:
            del keys[: len(keys) - SEEN_KEYS_KEPT]

    def _upsert_search_attributes(self) -> None:
        st = self._state
        updates = [
            sa.ALERT_STATUS.value_set(st.status.value),
            sa.ALERT_SEVERITY.value_set(st.alert.severity.value),
            sa.ALERT_RULE_ID.value_set(st.alert.rule_id),
            sa.ALERT_ASSIGNEE.value_set(st.assignee_id)
            if st.assignee_id
            else sa.ALERT_ASSIGNEE.value_unset(),
        ]
        if self.fx.batched:
            # Only what differs from what the workflow already carries (intake sets status,
            # severity and rule at start): an upsert that changes nothing is a wasted event.
            current = workflow.info().typed_search_attributes
            updates = [u for u in updates if current.get(u.key) != u.value]
            if not updates:
                return
        workflow.upsert_search_attributes(updates)

    def _set_details(self) -> None:
        st = self._state
        assignee = st.assignee_name or st.assignee_id or "unassigned"
        # Rendered as markdown by the UI: keep attacker-controlled text out of link syntax.
        title = st.alert.title.replace("[", "(").replace("]", ")")[:500]
        workflow.set_current_details(
            f"**{st.alert.severity.value}** · {st.status.value} · {assignee}\n\n{title}"
        )
