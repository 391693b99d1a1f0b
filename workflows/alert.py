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

with workflow.unsafe.imports_passed_through():
    from activities.slack_errors import PERMANENT, permanent_code
    from slackui.alert import render_change_reply
    from workflows import search_attributes as sa
    from workflows.types import (
        SYSTEM,
        Actor,
        AlertState,
        AlertWorkflowInput,
        AssigneeChange,
        Destination,
        HistoryEntry,
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
# Nice-to-have calls (permalinks, display names) give up quickly instead of blocking a change.
BEST_EFFORT_OPTS = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(maximum_attempts=3),
}

Change = StatusChange | AssigneeChange


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

    @workflow.query
    def state(self) -> AlertState:
        return self._state

    def _enqueue(self, change: Change) -> None:
        # A click is applied once, however often Slack, the API or a retry delivers it.
        if change.key in self._state.seen_keys or any(c.key == change.key for c in self._inbox):
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
        self._remember(change.key)
        if isinstance(change, StatusChange):
            await self._apply_status(change)
        else:
            await self._apply_assignee(change)

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

    async def _tell(self, change: Change, text: str) -> None:
        if change.actor.source != "slack" or not change.actor.id:
            return
        try:
            await workflow.execute_activity(
                "slack.notify_user",
                NotifyUserRequest(
                    user_id=change.actor.id,
                    text=text,
                    channel=change.reply_channel,
                    response_url=change.response_url,
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
