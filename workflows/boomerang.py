"""BoomerangWorkflow 🪃: ask one person about an alert in a DM and wait for them, durably.

A child of the alert's workflow (id `alert-<alert id>-boomerang-<n>`), so each question is
visible in the Temporal UI and its history stays small. It owns only the DM; everything the
alert's threads and history should show goes to the alert workflow as a `boomerang_event` signal
(addressed by workflow id, so it reaches the alert's latest run after a continue-as-new). The one
exception is the DM's own bookkeeping: a duplicate DM it deleted goes straight to the history.

Timeline from the moment the DM is delivered: reminder DM, escalation note for the asker, expiry.
An answer or a cancellation (the alert was closed) ends it early.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows import alert
from workflows.alert_effects import record_deleted_duplicates
from workflows.options import BEST_EFFORT_OPTS, DM_OPTS

with workflow.unsafe.imports_passed_through():
    from activities.slack import DmRef, DmRequest, NotifyUserRequest, SlackActivities
    from parley.slack.errors import permanent_code
    from workflows.alert_types import alert_workflow_id
    from workflows.boomerang_types import (
        BoomerangAnswer,
        BoomerangEvent,
        BoomerangEventKind,
        BoomerangInput,
        BoomerangStatus,
    )

# The note under a top-level typed answer (issue 13) is a new command: runs recorded before it
# never carry such an answer, and the marker keeps it that way on replay.
FILED_NOTE = "boomerang-filed-note"


@workflow.defn
class BoomerangWorkflow:
    @workflow.init
    def __init__(self, inp: BoomerangInput) -> None:
        self._inp = inp
        self._status: BoomerangStatus = "open"
        self._answer: BoomerangAnswer | None = None
        self._cancel_reason: str | None = None
        self._refusals: list[tuple[BoomerangAnswer, str]] = []
        self._seen: set[str] = set()
        self._dm: DmRef | None = None

    # ---- messages ---------------------------------------------------------------------------

    @workflow.signal
    def answer(self, answer: BoomerangAnswer) -> None:
        if answer.key in self._seen:
            return
        self._seen.add(answer.key)
        recipient = self._inp.recipient_id
        if answer.user_id != recipient:
            self._refusals.append((answer, f"Only <@{recipient}> can answer this."))
        elif self._status != "open" or self._answer is not None:
            self._refusals.append((answer, "Thanks, but this question was already closed."))
        else:
            self._answer = answer

    @workflow.signal
    def cancel(self, reason: str) -> None:
        if self._status == "open" and self._cancel_reason is None:
            self._cancel_reason = reason

    # ---- main loop --------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: BoomerangInput) -> BoomerangStatus:
        try:
            self._dm = await workflow.execute_activity_method(
                SlackActivities.boomerang_dm,
                DmRequest(user_id=inp.recipient_id, key=f"{inp.boomerang_id}/dm", boomerang=inp),
                summary=f"DM {inp.recipient_id}",
                **DM_OPTS,
            )
        except ActivityError as err:
            self._status = "undeliverable"
            await self._tell_alert("undeliverable", detail=permanent_code(err) or "gave_up")
            return self._status
        await self._duplicates_deleted(self._dm, "Boomerang DM")
        await self._tell_alert("asked", dm=self._dm)

        asked_at = workflow.now()
        d = inp.delays
        stages: list[tuple[float, BoomerangEventKind]] = sorted(
            [
                (d.remind_after_seconds, "reminded"),
                (d.escalate_after_seconds, "escalated"),
                (d.expire_after_seconds, "expired"),
            ]
        )
        while self._status == "open":
            await self._refuse_pending()
            if self._answer is not None:
                await self._finish("answered")
                break
            if self._cancel_reason is not None:
                await self._finish("cancelled", detail=self._cancel_reason)
                break
            after, kind = stages[0]
            left = asked_at + timedelta(seconds=after) - workflow.now()
            if left <= timedelta(0):
                stages.pop(0)
                await self._stage(kind)
                continue
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._answer is not None
                        or self._cancel_reason is not None
                        or bool(self._refusals)
                    ),
                    timeout=left,
                    timeout_summary=kind,
                )
            except TimeoutError:
                pass
        await self._refuse_pending()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    async def _stage(self, kind: BoomerangEventKind) -> None:
        if kind == "reminded":
            reminder = await workflow.execute_activity_method(
                SlackActivities.boomerang_reminder,
                DmRequest(
                    user_id=self._inp.recipient_id,
                    key=f"{self._inp.boomerang_id}/reminder",
                    boomerang=self._inp,
                    channel=self._dm.channel if self._dm else None,
                    ts=self._dm.ts if self._dm else None,
                ),
                **DM_OPTS,
            )
            await self._duplicates_deleted(reminder, "Boomerang reminder")
            await self._tell_alert("reminded")
        elif kind == "escalated":
            await self._tell_alert("escalated")
        else:
            await self._finish("expired")

    async def _finish(self, kind: BoomerangEventKind, detail: str | None = None) -> None:
        self._status = {"answered": "answered", "expired": "expired"}.get(kind, "cancelled")  # type: ignore[assignment]
        a = self._answer if kind == "answered" else None
        await self._rerender_dm()
        if a is not None and a.filed_note_channel and workflow.patched(FILED_NOTE):
            await self._filed_note(a.filed_note_channel)
        await self._tell_alert(
            kind,
            detail=detail,
            answer_kind=a.kind if a else None,
            answer_text=a.text if a else None,
        )

    async def _filed_note(self, channel: str) -> None:
        """A top-level typed answer: tell the recipient which alert it was filed under."""
        try:
            await workflow.execute_activity_method(
                SlackActivities.boomerang_filed,
                DmRequest(
                    user_id=self._inp.recipient_id,
                    key=f"{self._inp.boomerang_id}/filed",
                    boomerang=self._inp,
                    channel=channel,
                ),
                **BEST_EFFORT_OPTS,
            )
        except ActivityError as err:  # the answer counts without the note
            workflow.logger.warning("could not post the filed note: %s", err)

    async def _rerender_dm(self) -> None:
        if self._dm is None:
            return
        a = self._answer if self._status == "answered" else None
        try:
            await workflow.execute_activity_method(
                SlackActivities.boomerang_dm,
                DmRequest(
                    user_id=self._inp.recipient_id,
                    key=f"{self._inp.boomerang_id}/dm",
                    boomerang=self._inp,
                    status=self._status,
                    answer_kind=a.kind if a else None,
                    answer_text=a.text if a else None,
                    channel=self._dm.channel,
                    ts=self._dm.ts,
                ),
                **DM_OPTS,
            )
        except ActivityError as err:  # the answer still counts if the DM cannot be re-rendered
            workflow.logger.warning("could not re-render the Boomerang DM: %s", err)

    async def _duplicates_deleted(self, dm: DmRef, what: str) -> None:
        await record_deleted_duplicates(self._inp.alert_id, dm.channel, dm.ts, dm.healed, what)

    async def _refuse_pending(self) -> None:
        while self._refusals:
            answer, text = self._refusals.pop(0)
            try:
                await workflow.execute_activity_method(
                    SlackActivities.notify_user,
                    NotifyUserRequest(
                        user_id=answer.user_id,
                        text=text,
                        response_url=answer.response_url,
                        channel=self._dm.channel if self._dm else None,
                    ),
                    **BEST_EFFORT_OPTS,
                )
            except ActivityError as err:
                workflow.logger.warning("could not tell %s: %s", answer.user_id, err)

    async def _tell_alert(
        self,
        kind: BoomerangEventKind,
        *,
        detail: str | None = None,
        answer_kind: str | None = None,
        answer_text: str | None = None,
        dm: DmRef | None = None,
    ) -> None:
        event = BoomerangEvent(
            boomerang_id=self._inp.boomerang_id,
            kind=kind,
            at=workflow.now(),
            detail=detail,
            answer_kind=answer_kind,  # type: ignore[arg-type]
            answer_text=answer_text,
            dm_channel=dm.channel if dm else None,
            dm_ts=dm.ts if dm else None,
        )
        handle = workflow.get_external_workflow_handle_for(
            alert.AlertWorkflow.run, alert_workflow_id(self._inp.alert_id)
        )
        try:
            await handle.signal(alert.AlertWorkflow.boomerang_event, event)
        except Exception as err:  # the alert's retention ended: nobody is left to tell
            workflow.logger.warning("alert workflow did not take %s: %s", kind, err)
