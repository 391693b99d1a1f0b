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

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.slack_errors import PERMANENT, permanent_code
    from enrichment.models import ThreatIntel
    from slackui import boomerang as boomerang_ui
    from slackui.alert import render_change_reply
    from slackui.details import render_details
    from slackui.intel import render_card, render_fallback_text
    from workflows import search_attributes as sa
    from workflows.types import (
        SYSTEM,
        Actor,
        AlertState,
        AlertWorkflowInput,
        AssigneeChange,
        BoomerangAsk,
        BoomerangEvent,
        BoomerangInfo,
        BoomerangInput,
        Destination,
        DetailsRequest,
        HistoryEntry,
        IntelRequest,
        NotifyUserRequest,
        PostAlertRequest,
        Projection,
        SaveCopyRequest,
        SlackCopy,
        Status,
        StatusChange,
        ThreadReplyRequest,
        UpdateCopyRequest,
        UpdateCopyResult,
        ip_values,
    )

SEEN_KEYS_KEPT = 500

SLACK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=0,  # bounded by schedule_to_close: a Slack outage must not lose the alert
    non_retryable_error_types=[PERMANENT],
)
SLACK_OPTS = {
    "start_to_close_timeout": timedelta(seconds=30),
    "schedule_to_close_timeout": timedelta(days=3),
    "retry_policy": SLACK_RETRY,
}
DB_OPTS = {
    "start_to_close_timeout": timedelta(seconds=20),
    "schedule_to_close_timeout": timedelta(days=3),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
}
ENRICH_OPTS = {
    "start_to_close_timeout": timedelta(seconds=20),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
}
# Nice-to-have calls (permalinks, display names) give up quickly instead of blocking a change.
BEST_EFFORT_OPTS = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(maximum_attempts=3),
}

Change = (
    StatusChange | AssigneeChange | BoomerangAsk | BoomerangEvent | DetailsRequest | IntelRequest
)


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
            await self._history("created", SYSTEM, key="created", to_value=Status.OPEN.value)
            await self._project()
            self._upsert_search_attributes()
            await self._post_everywhere(inp.destinations)
        while True:
            if self._inbox:
                await self._apply(self._inbox.pop(0))
                continue
            timeout = self._time_left_open()
            if timeout is not None and timeout <= timedelta(0):
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._inbox:
                    workflow.continue_as_new(
                        AlertWorkflowInput(
                            alert=inp.alert,
                            destinations=[],
                            console_base_url=inp.console_base_url,
                            retention_seconds=inp.retention_seconds,
                            state=self._state,
                        )
                    )
            try:
                await workflow.wait_condition(
                    lambda: bool(self._inbox), timeout=timeout, timeout_summary="retention"
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
        if isinstance(change, StatusChange):
            await self._apply_status(change)
        elif isinstance(change, AssigneeChange):
            await self._apply_assignee(change)
        elif isinstance(change, BoomerangAsk):
            await self._start_boomerang(change)
        elif isinstance(change, BoomerangEvent):
            await self._boomerang_happened(change)
        elif isinstance(change, DetailsRequest):
            await self._show_details(change)
        else:
            await self._threat_intel(change)

    async def _apply_status(self, change: StatusChange) -> None:
        st = self._state
        old = st.status
        if change.status == old:
            return  # nothing changes, so nothing is recorded or posted
        comment = (change.comment or "").strip() or None
        if change.status is Status.RESOLVED and not comment:
            await self._tell(change, "A resolution comment is required to resolve this alert.")
            return
        st.status = change.status
        st.resolution_comment = comment if change.status is Status.RESOLVED else None
        st.closed_at = workflow.now() if change.status.is_closed else None
        st.revision += 1
        await self._history(
            "status_changed",
            change.actor,
            key=f"status/{change.key}",
            from_value=old.value,
            to_value=change.status.value,
            comment=comment,
        )
        await self._after_change(change.actor, "status", old.value, change.status.value, comment)
        if change.status.is_closed:
            await self._cancel_boomerangs(f"the alert was marked {change.status.value}")

    async def _apply_assignee(self, change: AssigneeChange) -> None:
        st = self._state
        if change.assignee_id == st.assignee_id:
            return
        name = change.assignee_name
        if change.assignee_id and not name:
            name = await workflow.execute_activity(
                "slack.user_name", change.assignee_id, result_type=str, **BEST_EFFORT_OPTS
            )
        old_id, old_name = st.assignee_id, st.assignee_name
        st.assignee_id = change.assignee_id
        st.assignee_name = name if change.assignee_id else ""
        st.revision += 1
        await self._history(
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

    async def _after_change(
        self, actor: Actor, what: str, old: str | None, new: str | None, comment: str | None
    ) -> None:
        await self._project()
        self._upsert_search_attributes()
        self._set_details()
        await self._rerender_everywhere()
        reply = render_change_reply(actor.mention(), what, old, new, comment)
        await self._reply_everywhere(f"r{self._state.revision}", reply.text, reply.blocks)

    # ---- context: details and threat intel -----------------------------------------------------

    def _clicked_copy(self, channel: str | None, ts: str | None) -> SlackCopy | None:
        live = [c for c in self._state.copies if c.ts and not c.failed]
        exact = [c for c in live if c.channel == channel and (ts is None or c.ts == ts)]
        same_channel = [c for c in live if c.channel == channel]
        return (exact or same_channel or live or [None])[0]

    async def _show_details(self, req: DetailsRequest) -> None:
        st = self._state
        copy = self._clicked_copy(req.channel, req.message_ts)
        if copy is None:
            return
        now = workflow.now()
        last = st.details_posted_at.get(copy.destination_id)
        # A double click posts once; a later click posts again, as the thread has moved on.
        if last and (now - last).total_seconds() < self._inp.details_dedupe_seconds:
            return
        st.details_posted_at[copy.destination_id] = now
        ips = sorted({ip for _, ip in ip_values(st.alert.summary_attributes)})
        locations: dict[str, str] = {}
        if ips:
            try:
                locations = await workflow.execute_activity(
                    "enrich.locate", ips, result_type=dict[str, str], **ENRICH_OPTS
                )
            except ActivityError as err:  # details without places beat no details
                workflow.logger.warning("no locations for details: %s", err)
        rendered = render_details(st, locations, self._inp.console_base_url)
        await self._reply_in(copy, f"details/{req.key}", rendered.text, rendered.blocks)
        await self._history("details_shown", req.actor, key=f"details/{req.key}")

    async def _threat_intel(self, req: IntelRequest) -> None:
        st = self._state
        allowed = {ip for _, ip in ip_values(st.alert.summary_attributes)}
        if req.ip not in allowed:
            await self._tell(req, f"{req.ip} is not an IP address of this alert.")
            return
        copy = self._clicked_copy(req.channel, req.message_ts)
        if copy is None:
            return
        try:
            intel = await workflow.execute_activity(
                "enrich.analyse", req.ip, result_type=ThreatIntel, **ENRICH_OPTS
            )
        except ActivityError as err:
            workflow.logger.warning("threat intel for %s failed: %s", req.ip, err)
            await self._tell(req, f"Threat intel for {req.ip} is unavailable right now.")
            return
        await self._reply_in(
            copy, f"intel/{req.key}", render_fallback_text(intel), render_card(intel)
        )
        await self._history(
            "threat_intel_viewed", req.actor, key=f"intel/{req.key}", to_value=req.ip
        )

    async def _reply_in(
        self, copy: SlackCopy, key_suffix: str, text: str, blocks: list[dict] | None
    ) -> None:
        await workflow.execute_activity(
            "slack.thread_reply",
            ThreadReplyRequest(
                alert_id=self._state.alert.id,
                target=copy,
                key=f"reply/{self._state.alert.id}/{copy.destination_id}/{key_suffix}",
                text=text,
                blocks=blocks,
            ),
            result_type=str,
            **SLACK_OPTS,
        )

    # ---- Boomerang 🪃 -------------------------------------------------------------------------

    async def _start_boomerang(self, ask: BoomerangAsk) -> None:
        st = self._state
        if st.status.is_closed:
            await self._tell(ask, "This alert is closed; reopen it before asking someone.")
            return
        st.boomerang_seq += 1
        child_id = f"alert-{st.alert.id}-boomerang-{st.boomerang_seq}"
        st.boomerangs.append(
            BoomerangInfo(
                id=child_id,
                recipient_id=ask.recipient_id,
                asker_id=ask.actor.id,
                question=ask.question,
            )
        )
        # ABANDON: the question outlives this run when the alert continues-as-new; the child
        # reports to the alert by workflow id, which always reaches the latest run.
        await workflow.start_child_workflow(
            "BoomerangWorkflow",
            BoomerangInput(
                boomerang_id=child_id,
                alert_id=st.alert.id,
                alert_title=st.alert.title,
                alert_severity=st.alert.severity,
                console_url=f"{self._inp.console_base_url.rstrip('/')}/alerts/{st.alert.id}",
                asker=ask.actor,
                recipient_id=ask.recipient_id,
                question=ask.question,
                first_event=st.alert.first_event if ask.share_event else None,
                delays=self._inp.boomerang_delays,
            ),
            id=child_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"🪃 asking {ask.recipient_id} about alert {st.alert.id}"[:200],
        )

    async def _boomerang_happened(self, event: BoomerangEvent) -> None:
        st = self._state
        info = next((b for b in st.boomerangs if b.id == event.boomerang_id), None)
        if info is None:
            return
        asker, whom = f"<@{info.asker_id}>", f"<@{info.recipient_id}>"
        actor = SYSTEM
        comment: str | None = event.detail
        if event.kind == "asked":
            actor = Actor(source="slack", id=info.asker_id)
            comment = info.question
            text = f"🪃 {asker} asked {whom}:\n" + boomerang_ui.answer_summary(None, info.question)
        elif event.kind == "undeliverable":
            info.status = "undeliverable"
            text = (
                f"🪃 {asker}, Parley could not deliver your question to {whom} "
                f"(`{event.detail}`). Try asking someone else."
            )
        elif event.kind == "reminded":
            text = f"⏰ Reminded {whom} of {asker}'s question."
        elif event.kind == "escalated":
            text = f"⚠️ {asker}: {whom} has not answered your Boomerang yet."
        elif event.kind == "expired":
            info.status = "expired"
            text = f"⌛ {whom} did not answer {asker}'s question; it has expired."
        elif event.kind == "cancelled":
            info.status = "cancelled"
            text = f"🪃 The question to {whom} is no longer needed ({event.detail})."
        else:  # answered
            info.status = "answered"
            info.answer_kind, info.answer_text = event.answer_kind, event.answer_text
            actor = Actor(source="slack", id=info.recipient_id)
            comment = event.answer_text or {
                "yes": "Yes, this was me",
                "no": "No, this wasn't me",
            }.get(event.answer_kind or "", "")
            text = f"🪃 {whom} answered {asker}:\n" + boomerang_ui.answer_summary(
                event.answer_kind, event.answer_text
            )
            if event.answer_kind == "no":
                text = f"🚨 *Security signal:* {whom} says this was *not* them.\n" + text
        await self._history(
            f"boomerang_{event.kind}",
            actor,
            key=f"boomerang/{info.id}/{event.kind}",
            from_value=info.asker_id,
            to_value=info.recipient_id,
            comment=comment,
        )
        if event.kind == "answered" and event.answer_kind == "no":
            st.denied_by.append(info.recipient_id)
            st.revision += 1
            await self._rerender_everywhere()
        await self._reply_everywhere(f"{info.id}/{event.kind}", text, None)

    async def _cancel_boomerangs(self, reason: str) -> None:
        for info in self._state.boomerangs:
            if info.status != "open":
                continue
            try:
                await workflow.get_external_workflow_handle(info.id).signal("cancel", reason)
            except Exception as err:  # already finished: its own event will say how
                workflow.logger.warning("could not cancel %s: %s", info.id, err)

    # ---- side effects ------------------------------------------------------------------------

    async def _post_everywhere(self, destinations: list[Destination]) -> None:
        async def post(dest: Destination) -> SlackCopy:
            try:
                return await workflow.execute_activity(
                    "slack.post_alert",
                    PostAlertRequest(
                        state=self._state,
                        destination=dest,
                        console_base_url=self._inp.console_base_url,
                    ),
                    result_type=SlackCopy,
                    summary=f"post to {dest.name}",
                    **SLACK_OPTS,
                )
            except ActivityError as err:
                code = permanent_code(err) or "gave_up"
                return SlackCopy(
                    destination_id=dest.id,
                    destination_name=dest.name,
                    channel=dest.channel,
                    failed=code,
                )

        copies = await asyncio.gather(*(post(d) for d in destinations))
        self._state.copies = list(copies)
        for copy in copies:
            if copy.failed:
                await self._delivery_failed(copy)
            else:
                await self._save_copy(copy)

    async def _rerender_everywhere(self) -> None:
        async def update(copy: SlackCopy) -> UpdateCopyResult:
            try:
                return await workflow.execute_activity(
                    "slack.update_alert",
                    UpdateCopyRequest(
                        state=self._state, target=copy, console_base_url=self._inp.console_base_url
                    ),
                    result_type=UpdateCopyResult,
                    summary=f"re-render in {copy.destination_name or copy.channel}",
                    **SLACK_OPTS,
                )
            except ActivityError as err:
                code = permanent_code(err) or "gave_up"
                return UpdateCopyResult(target=copy.model_copy(update={"failed": code}))

        live = [c for c in self._state.copies if c.ts and not c.failed]
        results = await asyncio.gather(*(update(c) for c in live))
        by_dest = {r.target.destination_id: r for r in results}
        self._state.copies = [
            by_dest[c.destination_id].target if c.destination_id in by_dest else c
            for c in self._state.copies
        ]
        for result in results:
            if result.target.failed:
                await self._delivery_failed(result.target)
            elif result.reposted:
                await self._save_copy(result.target)
                await self._history(
                    "message_reposted",
                    SYSTEM,
                    key=f"reposted/{result.target.destination_id}/r{self._state.revision}",
                    comment=f"the alert message in {result.target.channel} was gone; posted again",
                )

    async def _reply_everywhere(
        self, key_suffix: str, text: str, blocks: list[dict] | None
    ) -> None:
        async def reply(copy: SlackCopy) -> None:
            try:
                await workflow.execute_activity(
                    "slack.thread_reply",
                    ThreadReplyRequest(
                        alert_id=self._state.alert.id,
                        target=copy,
                        key=f"reply/{self._state.alert.id}/{copy.destination_id}/{key_suffix}",
                        text=text,
                        blocks=blocks,
                    ),
                    result_type=str,
                    **SLACK_OPTS,
                )
            except ActivityError as err:
                workflow.logger.warning("thread reply in %s failed: %s", copy.channel, err)

        await asyncio.gather(*(reply(c) for c in self._state.copies if c.ts and not c.failed))

    async def _delivery_failed(self, copy: SlackCopy) -> None:
        await self._history(
            "delivery_failed",
            SYSTEM,
            key=f"delivery_failed/{copy.destination_id}/{copy.failed}",
            to_value=copy.channel,
            comment=f"Slack refused delivery to {copy.destination_name or copy.channel}: "
            f"{copy.failed}",
        )
        await self._save_copy(copy, permalink=False)

    async def _save_copy(self, copy: SlackCopy, permalink: bool = True) -> None:
        link = None
        if permalink and copy.ts:
            link = await workflow.execute_activity(
                "slack.permalink", copy, result_type=str | None, **BEST_EFFORT_OPTS
            )
        await workflow.execute_activity(
            "history.save_copy",
            SaveCopyRequest(alert_id=self._state.alert.id, target=copy, permalink=link),
            **DB_OPTS,
        )

    async def _tell(
        self, change: StatusChange | AssigneeChange | BoomerangAsk | IntelRequest, text: str
    ) -> None:
        if change.actor.source != "slack" or not change.actor.id:
            return
        try:
            await workflow.execute_activity(
                "slack.notify_user",
                NotifyUserRequest(
                    user_id=change.actor.id,
                    text=text,
                    channel=change.reply_channel,
                    response_url=getattr(change, "response_url", None),
                ),
                **BEST_EFFORT_OPTS,
            )
        except ActivityError as err:
            workflow.logger.warning("could not tell %s: %s", change.actor.id, err)

    async def _history(
        self,
        action: str,
        actor: Actor,
        *,
        key: str,
        from_value: str | None = None,
        to_value: str | None = None,
        comment: str | None = None,
    ) -> None:
        entry = HistoryEntry(
            alert_id=self._state.alert.id,
            key=key,
            at=workflow.now(),
            actor=actor,
            action=action,
            from_value=from_value,
            to_value=to_value,
            comment=comment,
        )
        await workflow.execute_activity("history.record", entry, **DB_OPTS)

    async def _project(self) -> None:
        st = self._state
        await workflow.execute_activity(
            "history.project",
            Projection(
                alert_id=st.alert.id,
                status=st.status,
                assignee_id=st.assignee_id,
                assignee_name=st.assignee_name,
                resolution_comment=st.resolution_comment,
            ),
            **DB_OPTS,
        )

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
        workflow.upsert_search_attributes(updates)

    def _set_details(self) -> None:
        st = self._state
        assignee = st.assignee_name or st.assignee_id or "unassigned"
        # Rendered as markdown by the UI: keep attacker-controlled text out of link syntax.
        title = st.alert.title.replace("[", "(").replace("]", ")")[:500]
        workflow.set_current_details(
            f"**{st.alert.severity.value}** · {st.status.value} · {assignee}\n\n{title}"
        )
