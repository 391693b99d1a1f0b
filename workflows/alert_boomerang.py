"""The alert's side of Boomerang 🪃: start a question, show what happens to it, cancel it."""

from __future__ import annotations

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from workflows import boomerang
from workflows.alert_effects import AlertEffects

with workflow.unsafe.imports_passed_through():
    from parley.domain import SYSTEM, Actor
    from parley.slack.ui import boomerang as boomerang_ui
    from parley.slack.ui.text import escape, user_mention
    from parley.store.questions import Question
    from workflows.alert_types import BoomerangAsk, BoomerangInfo, boomerang_workflow_id
    from workflows.boomerang_types import BoomerangEvent, BoomerangInput


async def start(fx: AlertEffects, ask: BoomerangAsk) -> None:
    st = fx.state
    if st.status.is_closed:
        await fx.tell(ask, "This alert is closed; reopen it before asking someone.")
        return
    st.boomerang_seq += 1
    child_id = boomerang_workflow_id(st.alert.id, st.boomerang_seq)
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
        boomerang.BoomerangWorkflow.run,
        BoomerangInput(
            boomerang_id=child_id,
            alert_id=st.alert.id,
            alert_title=st.alert.title,
            alert_severity=st.alert.severity,
            console_url=f"{fx.inp.console_base_url.rstrip('/')}/alerts/{st.alert.id}",
            asker=ask.actor,
            recipient_id=ask.recipient_id,
            question=ask.question,
            first_event=st.alert.first_event if ask.share_event else None,
            delays=fx.inp.boomerang_delays,
        ),
        id=child_id,
        parent_close_policy=ParentClosePolicy.ABANDON,
        static_summary=f"🪃 asking {ask.recipient_id} about alert {st.alert.id}"[:200],
    )


async def happened(fx: AlertEffects, event: BoomerangEvent) -> None:
    st = fx.state
    info = next((b for b in st.boomerangs if b.id == event.boomerang_id), None)
    if info is None:
        return
    # Every person-supplied piece goes through the escaping helpers (parley/slack/ui/text.py).
    asker, whom = user_mention(info.asker_id), user_mention(info.recipient_id)
    detail = escape(event.detail or "")
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
            f"(`{detail}`). Try asking someone else."
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
        text = f"🪃 The question to {whom} is no longer needed ({detail})."
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
    await fx.history(
        f"boomerang_{event.kind}",
        actor,
        key=f"boomerang/{info.id}/{event.kind}",
        from_value=info.asker_id,
        to_value=info.recipient_id,
        comment=comment,
    )
    fx.save_question(
        Question(
            boomerang_id=info.id,
            alert_id=st.alert.id,
            recipient_id=info.recipient_id,
            asker_id=info.asker_id,
            question=info.question,
            status=info.status,
            dm_channel=event.dm_channel,
            dm_ts=event.dm_ts,
            asked_at=event.at,
        )
    )
    if event.kind in ("asked", "answered", "expired", "cancelled", "undeliverable"):
        fx.touch_home(info.recipient_id)
    denied = event.kind == "answered" and event.answer_kind == "no"
    if denied:  # the alert message itself shows the denial
        st.denied_by.append(info.recipient_id)
        st.revision += 1
    await fx.change_everywhere(f"{info.id}/{event.kind}", text, None, rerender=denied)


async def cancel_open(fx: AlertEffects, reason: str) -> None:
    for info in fx.state.boomerangs:
        if info.status != "open":
            continue
        try:
            handle = workflow.get_external_workflow_handle_for(
                boomerang.BoomerangWorkflow.run, info.id
            )
            await handle.signal(boomerang.BoomerangWorkflow.cancel, reason)
        except Exception as err:  # already finished: its own event will say how
            workflow.logger.warning("could not cancel %s: %s", info.id, err)
