"""AlertEffects: everything AlertWorkflow does to the world, each effect one activity call.

The workflow owns one instance (`self.fx`) and calls it from its main loop only: history writes,
the console projection, posts, re-renders, thread replies and notes to a user. Every call is a
typed reference to the activity that implements it (`SlackActivities.update_alert`, …).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.options import BEST_EFFORT_OPTS, DB_OPTS, SLACK_OPTS

with workflow.unsafe.imports_passed_through():
    from activities.history import HistoryActivities, ProjectionRequest, SaveCopyRequest
    from activities.slack import (
        NotifyUserRequest,
        PostAlertRequest,
        PostAlertResult,
        SlackActivities,
        ThreadReplyRequest,
        UpdateCopyRequest,
        UpdateCopyResult,
    )
    from parley.domain import SYSTEM, Actor, Destination, HistoryEntry, SlackCopy
    from parley.slack.errors import permanent_code
    from workflows.alert_types import AlertState, AlertWorkflowInput, Request

# Recording a deleted duplicate adds commands; the marker keeps runs that an older worker went on
# with (without the record) replayable.
DUPLICATES_PATCH = "record-deleted-duplicates"


async def record_deleted_duplicates(
    alert_id: str, channel: str, kept: str, deleted: list[str], what: str
) -> None:
    """A retried post found its key on more than one message and deleted the later ones."""
    if not deleted or not workflow.patched(DUPLICATES_PATCH):
        return
    many = len(deleted) > 1
    entry = HistoryEntry(
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
    await workflow.execute_activity_method(HistoryActivities.record, entry, **DB_OPTS)


class AlertEffects:
    def __init__(self, state: AlertState, inp: AlertWorkflowInput) -> None:
        self.state = state
        self.inp = inp

    async def post_everywhere(self, destinations: list[Destination]) -> None:
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
                await self.history(
                    "message_reposted",
                    SYSTEM,
                    key=f"reposted/{result.target.destination_id}/r{self.state.revision}",
                    comment=f"the alert message in {result.target.channel} was gone; posted again",
                )
                await self.duplicates_deleted(result.target, result.healed, "alert message")

    async def reply_everywhere(self, key_suffix: str, text: str, blocks: list[dict] | None) -> None:
        async def reply(copy: SlackCopy) -> None:
            try:
                await self.reply_in(copy, key_suffix, text, blocks)
            except ActivityError as err:  # one channel's trouble must not block the others'
                workflow.logger.warning("thread reply in %s failed: %s", copy.channel, err)

        await asyncio.gather(*(reply(c) for c in self.state.copies if c.ts and not c.failed))

    async def reply_in(
        self, copy: SlackCopy, key_suffix: str, text: str, blocks: list[dict] | None
    ) -> None:
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

    async def delivery_failed(self, copy: SlackCopy) -> None:
        await self.history(
            "delivery_failed",
            SYSTEM,
            key=f"delivery_failed/{copy.destination_id}/{copy.failed}",
            to_value=copy.channel,
            comment=f"Slack refused delivery to {copy.destination_name or copy.channel}: "
            f"{copy.failed}",
        )
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

    async def history(
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
            alert_id=self.state.alert.id,
            key=key,
            at=workflow.now(),
            actor=actor,
            action=action,
            from_value=from_value,
            to_value=to_value,
            comment=comment,
        )
        await workflow.execute_activity_method(HistoryActivities.record, entry, **DB_OPTS)

    async def project(self) -> None:
        st = self.state
        await workflow.execute_activity_method(
            HistoryActivities.project,
            ProjectionRequest(
                alert_id=st.alert.id,
                status=st.status,
                assignee_id=st.assignee_id,
                assignee_name=st.assignee_name,
                resolution_comment=st.resolution_comment,
            ),
            **DB_OPTS,
        )

    async def user_name(self, user_id: str) -> str:
        return await workflow.execute_activity_method(
            SlackActivities.user_name, user_id, **BEST_EFFORT_OPTS
        )
