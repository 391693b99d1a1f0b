"""AlertWorkflow's side effects: Slack posts, re-renders, thread replies, history writes.

A mixin of plain methods (no handlers): every one runs activities from the workflow's main loop.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.slack_errors import PERMANENT, permanent_code
    from workflows.types import (
        SYSTEM,
        Actor,
        AlertState,
        AlertWorkflowInput,
        AssigneeChange,
        BoomerangAsk,
        Destination,
        HistoryEntry,
        IntelRequest,
        NotifyUserRequest,
        PostAlertRequest,
        Projection,
        SaveCopyRequest,
        SlackCopy,
        StatusChange,
        ThreadReplyRequest,
        UpdateCopyRequest,
        UpdateCopyResult,
    )


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


class AlertEffects:
    # Set by AlertWorkflow.__init__; declared here for type checkers.
    _state: AlertState
    _inp: AlertWorkflowInput

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
                await self._reply_in(copy, key_suffix, text, blocks)
            except ActivityError as err:  # one channel's trouble must not block the others'
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
