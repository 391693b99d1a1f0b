"""Boomerang 🪃 end to end: modal → DM → answer in every thread and the console; durable waits."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack, new_alert
from workflows.alert_types import AlertState

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def delays(stack: Stack, remind: float, escalate: float, expire: float) -> Iterator[None]:
    """Boomerang delays for alerts created inside the block (read by the API at intake)."""
    s = stack.settings
    saved = (
        s.boomerang_remind_after_seconds,
        s.boomerang_escalate_after_seconds,
        s.boomerang_expire_after_seconds,
    )
    s.boomerang_remind_after_seconds = remind
    s.boomerang_escalate_after_seconds = escalate
    s.boomerang_expire_after_seconds = expire
    try:
        yield
    finally:
        (
            s.boomerang_remind_after_seconds,
            s.boomerang_escalate_after_seconds,
            s.boomerang_expire_after_seconds,
        ) = saved


def unique(question: str) -> str:
    """Questions are looked up in DMs the stand-in keeps for the whole session."""
    return f"{question} [{uuid.uuid4().hex[:6]}]"


async def _alert(stack: Stack, **overrides: Any) -> AlertState:
    alert = new_alert(**overrides)
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    return await stack.wait_posted(alert["id"], 2)


async def _ask(
    stack: Stack, state: AlertState, recipient: str, question: str, share: bool = False
) -> Any:
    copy = next(c for c in state.copies if c.channel == "C0ALERTS")
    res = await stack.standin.driver.click(ALICE, copy.channel, copy.ts, ids.BOOMERANG)
    assert res.status == 200
    view = [v for v in stack.standin.views(ALICE) if v.get("callback_id") == ids.BOOMERANG_MODAL][
        -1
    ]
    values: dict[str, dict[str, Any]] = {
        ids.BOOMERANG_RECIPIENT_BLOCK: {ids.BOOMERANG_RECIPIENT_ACTION: recipient},
        ids.BOOMERANG_QUESTION_BLOCK: {ids.BOOMERANG_QUESTION_ACTION: question},
    }
    if share:
        values[ids.BOOMERANG_SHARE_BLOCK] = {
            ids.BOOMERANG_SHARE_ACTION: [ids.BOOMERANG_SHARE_VALUE]
        }
    return await stack.standin.driver.submit_view(ALICE, view["id"], values)


async def _dm(stack: Stack, user: str, question: str) -> dict[str, Any]:
    channel = stack.standin.dm_channel_id(user)

    def find() -> dict[str, Any] | None:
        for msg in stack.standin.messages(channel):
            if question in json.dumps(msg.get("blocks") or [], ensure_ascii=False):
                return msg
        return None

    msg = await stack.wait_for(find, what=f"the DM to {user}")
    msg["channel"] = channel
    return msg


async def _resend(stack: Stack, payload: dict[str, Any], **changes: Any) -> Any:
    """Send a payload Slack's client would not produce (another user, a stale button), signed."""
    body = copy.deepcopy(payload)
    for path, value in changes.items():
        node = body
        *parents, leaf = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[leaf] = value
    raw = ("payload=" + quote(json.dumps(body))).encode()
    return await stack.standin.driver.send_raw(raw, stack.standin.driver.signed_headers(raw))


def _texts(stack: Stack, state: AlertState) -> dict[str, str]:
    return {
        c.channel: "\n".join(r["text"] for r in stack.standin.replies(c.channel, c.ts))
        for c in state.copies
    }


async def _actions(stack: Stack, alert_id: str) -> list[str]:
    return [h["action"] for h in await stack.history(alert_id)]


async def test_ask_share_reply_shows_everywhere(fresh: Stack) -> None:
    first_event = {"eventName": "ConsoleLogin", "sourceIPAddress": "203.0.113.7", "zz": "x" * 4000}
    state = await _alert(fresh, first_event=first_event)
    question = unique("Was this login from Lagos you?")
    res = await _ask(fresh, state, BOB, question, share=True)
    assert res.status == 200 and not res.body

    dm = await _dm(fresh, BOB, question)
    raw = json.dumps(dm["blocks"])
    assert "ConsoleLogin" in raw and "203.0.113.7" in raw  # the shared event JSON
    assert "long values clipped" in raw  # 4,000 characters do not fit: the note says so
    assert {ids.BOOMERANG_YES, ids.BOOMERANG_NO, ids.BOOMERANG_REPLY} <= set(
        e["action_id"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]
    )

    res = await fresh.standin.driver.click(BOB, dm["channel"], dm["ts"], ids.BOOMERANG_REPLY)
    assert res.status == 200
    view = [
        v for v in fresh.standin.views(BOB) if v.get("callback_id") == ids.BOOMERANG_REPLY_MODAL
    ][-1]
    done = await fresh.standin.driver.submit_view(
        BOB,
        view["id"],
        {ids.BOOMERANG_REPLY_BLOCK: {ids.BOOMERANG_REPLY_ACTION: "Yes, VPN in Lagos"}},
    )
    assert done.status == 200 and not done.body

    async def answered() -> bool:
        texts = _texts(fresh, state)
        return all(question in t and "Yes, VPN in Lagos" in t for t in texts.values())

    await fresh.wait_for(answered, what="question and answer in both threads")
    history = await fresh.history(state.alert.id)
    asked = next(h for h in history if h["action"] == "boomerang_asked")
    assert asked["actor"]["id"] == ALICE and asked["to_value"] == BOB
    assert asked["comment"] == question
    reply = next(h for h in history if h["action"] == "boomerang_answered")
    assert reply["actor"]["id"] == BOB and reply["comment"] == "Yes, VPN in Lagos"

    def dm_answered() -> bool:
        msg = fresh.standin.get_message(dm["channel"], dm["ts"])
        blocks = msg.get("blocks") or []
        return "Yes, VPN in Lagos" in json.dumps(blocks) and not any(
            b["type"] == "actions" for b in blocks
        )

    await fresh.wait_for(dm_answered, what="the DM re-rendered as answered")


async def test_no_this_wasnt_me_marks_the_alert(fresh: Stack) -> None:
    state = await _alert(fresh)
    question = unique("Did you create access key AKIA…?")
    await _ask(fresh, state, BOB, question)
    dm = await _dm(fresh, BOB, question)
    clicked = await fresh.standin.driver.click(BOB, dm["channel"], dm["ts"], ids.BOOMERANG_NO)

    async def marked() -> bool:
        st = await fresh.state(state.alert.id)
        if BOB not in st.denied_by:
            return False
        return all(
            "No, this wasn't me" in json.dumps(fresh.standin.get_message(c.channel, c.ts)["blocks"])
            and "not* them" in "\n".join(r["text"] for r in fresh.standin.replies(c.channel, c.ts))
            for c in st.copies
        )

    await fresh.wait_for(marked, what="the alert marked in both copies")
    await _late_answer_is_refused(fresh, clicked.payload, state.alert.id)


async def _late_answer_is_refused(stack: Stack, captured: dict[str, Any], alert_id: str) -> None:
    """Replay a real DM click as "Yes" from a client that still shows the old buttons."""
    before_posts = len(stack.standin.response_url_posts())
    before = await _actions(stack, alert_id)
    res = await _resend(
        stack,
        captured,
        actions__0__action_id=ids.BOOMERANG_YES,
        actions__0__action_ts="1900000000.000001",
    )
    assert res.status == 200

    def told() -> bool:
        return any(
            "already" in (p.get("text") or "")
            for p in stack.standin.response_url_posts()[before_posts:]
        )

    await stack.wait_for(told, what="a polite refusal of the late answer")
    await asyncio.sleep(0.5)
    assert await _actions(stack, alert_id) == before


async def test_unanswered_question_reminds_escalates_and_expires(fresh: Stack) -> None:
    with delays(fresh, remind=1.0, escalate=2.0, expire=3.0):
        state = await _alert(fresh)
    question = unique("Is the new admin role yours?")
    await _ask(fresh, state, CAROL, question)
    dm = await _dm(fresh, CAROL, question)
    # CAROL opens the reply form but never sends it; her client keeps the buttons.
    opened = await fresh.standin.driver.click(CAROL, dm["channel"], dm["ts"], ids.BOOMERANG_REPLY)

    async def expired() -> bool:
        return "boomerang_expired" in await _actions(fresh, state.alert.id)

    await fresh.wait_for(expired, timeout=30, what="expiry")
    actions = [a for a in await _actions(fresh, state.alert.id) if a.startswith("boomerang_")]
    assert actions == [
        "boomerang_asked",
        "boomerang_reminded",
        "boomerang_escalated",
        "boomerang_expired",
    ]
    reminders = [
        m
        for m in fresh.standin.messages(dm["channel"])
        if "Reminder" in (m.get("text") or "") and float(m["ts"]) > float(dm["ts"])
    ]
    assert len(reminders) == 1
    # The history is written before the threads are told: wait for the last reply.
    await fresh.wait_for(
        lambda: all("expired" in t for t in _texts(fresh, state).values()),
        what="expiry in both threads",
    )
    for text in _texts(fresh, state).values():
        assert f"<@{ALICE}>: <@{CAROL}> has not answered" in text  # escalation names the asker
    await fresh.wait_for(
        lambda: (
            "expired" in json.dumps(fresh.standin.get_message(dm["channel"], dm["ts"])["blocks"])
        ),
        what="DM re-rendered as expired",
    )
    # A client still showing the old buttons answers late: refused politely, nothing recorded.
    await _late_answer_is_refused(fresh, opened.payload, state.alert.id)


async def test_only_the_person_asked_can_answer(fresh: Stack) -> None:
    state = await _alert(fresh)
    question = unique("Was the S3 bucket made public by you?")
    await _ask(fresh, state, BOB, question)
    dm = await _dm(fresh, BOB, question)
    before = len(fresh.standin.response_url_posts())
    # Slack shows a DM only to its two members, so another user's click can only be a payload
    # built elsewhere (a shared or forged message): take BOB's real click and change the user.
    real = await fresh.standin.driver.click(BOB, dm["channel"], dm["ts"], ids.BOOMERANG_REPLY)
    res = await _resend(
        fresh,
        real.payload,
        user__id=CAROL,
        user__name="carol",
        actions__0__action_id=ids.BOOMERANG_YES,
    )
    assert res.status == 200

    def told() -> bool:
        return any(
            f"Only <@{BOB}> can answer" in (p.get("text") or "")
            for p in fresh.standin.response_url_posts()[before:]
        )

    await fresh.wait_for(told, what="an ephemeral refusal")
    await asyncio.sleep(1.0)
    assert "boomerang_answered" not in await _actions(fresh, state.alert.id)
    st = await fresh.state(state.alert.id)
    assert st.boomerangs[0].status == "open"


async def test_resolving_the_alert_cancels_open_questions(fresh: Stack) -> None:
    state = await _alert(fresh)
    question = unique("Did you rotate the deploy key?")
    await _ask(fresh, state, BOB, question)
    dm = await _dm(fresh, BOB, question)
    resp = await fresh.http.post(
        f"/alerts/{state.alert.id}/status",
        json={"status": "Resolved", "comment": "rotation confirmed by ticket", "user": "dana"},
        headers=fresh.auth(),
    )
    assert resp.status_code == 202

    async def cancelled() -> bool:
        return "boomerang_cancelled" in await _actions(fresh, state.alert.id)

    await fresh.wait_for(cancelled, what="the question cancelled")
    msg = fresh.standin.get_message(dm["channel"], dm["ts"])
    assert "No longer needed" in json.dumps(msg["blocks"])
    st = await fresh.state(state.alert.id)
    assert st.status is Status.RESOLVED and st.boomerangs[0].status == "cancelled"


async def test_modal_refuses_bots_deactivated_and_unknown_people(fresh: Stack) -> None:
    state = await _alert(fresh)
    bot = await _ask(fresh, state, "U0HELPER", "anyone there?")
    assert bot.body["response_action"] == "errors"
    assert "bot" in bot.body["errors"][ids.BOOMERANG_RECIPIENT_BLOCK]
    # Slack's picker hides deactivated people, but one may be deactivated while the modal is
    # open, and an unknown id can only come from a crafted request: the API checks both.
    path = "view__state__values__" + ids.BOOMERANG_RECIPIENT_BLOCK
    for user, words in (("U0DAVE", "deactivated"), ("U0NOBODY", "know")):
        res = await _resend(
            fresh, bot.payload, **{f"{path}__{ids.BOOMERANG_RECIPIENT_ACTION}__selected_user": user}
        )
        assert res.status == 200
        assert res.body["response_action"] == "errors", (user, res.body)
        assert words in res.body["errors"][ids.BOOMERANG_RECIPIENT_BLOCK]
    await asyncio.sleep(0.5)
    assert (await fresh.state(state.alert.id)).boomerangs == []


async def test_undeliverable_dm_is_told_in_the_thread(fresh: Stack) -> None:
    state = await _alert(fresh)
    fresh.standin.inject_fault("conversations.open", error="user_not_found", times=1)
    await _ask(fresh, state, BOB, "are you there?")

    async def told() -> bool:
        texts = _texts(fresh, state)
        return all("could not deliver" in t for t in texts.values())

    await fresh.wait_for(told, what="delivery failure in the threads")
    assert "boomerang_undeliverable" in await _actions(fresh, state.alert.id)


def _worker_process(stack: Stack) -> subprocess.Popen[bytes]:
    s = stack.settings
    env = dict(os.environ)
    env.update(
        SLACK_BOT_TOKEN=s.slack_bot_token,
        SLACK_API_BASE_URL=s.slack_api_base_url,
        SLACK_SIGNING_SECRET=s.slack_signing_secret,
        TEMPORAL_ADDRESS=s.temporal_address,
        TEMPORAL_TASK_QUEUE=s.temporal_task_queue,
        DATABASE_URL=s.database_url,
        CONSOLE_BASE_URL=s.console_base_url,
        # The worker refuses to start with dev secrets or no token (parley/settings.py).
        PARLEY_API_TOKEN=s.parley_api_token,
        PARLEY_SECRET_KEY=s.parley_secret_key,
    )
    return subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_answer_survives_a_killed_worker(fresh: Stack) -> None:
    await fresh.stop_worker()
    proc = _worker_process(fresh)
    try:
        state = await _alert(fresh)
        question = unique("Was the 3am sudo yours?")
        await _ask(fresh, state, BOB, question)
        dm = await _dm(fresh, BOB, question)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # Answered while no worker runs: the signal waits on the server.
        res = await fresh.standin.driver.click(BOB, dm["channel"], dm["ts"], ids.BOOMERANG_YES)
        assert res.status == 200 and res.elapsed < 3.0
        proc = _worker_process(fresh)

        async def recorded() -> bool:
            return "boomerang_answered" in await _actions(fresh, state.alert.id)

        await fresh.wait_for(recorded, timeout=60, what="the answer after the restart")
        await asyncio.sleep(1.5)
        actions = await _actions(fresh, state.alert.id)
        assert actions.count("boomerang_answered") == 1
        for text in _texts(fresh, state).values():
            assert text.count("Yes, this was me") == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
        fresh.start_worker()


async def test_several_questions_open_at_once(fresh: Stack) -> None:
    state = await _alert(fresh)
    to_bob, to_carol = unique("Bob, was it you?"), unique("Carol, was it you?")
    await _ask(fresh, state, BOB, to_bob)
    await _ask(fresh, state, CAROL, to_carol)
    dm_bob = await _dm(fresh, BOB, to_bob)
    await _dm(fresh, CAROL, to_carol)
    st = await fresh.state(state.alert.id)
    assert [(b.recipient_id, b.status) for b in st.boomerangs] == [(BOB, "open"), (CAROL, "open")]
    assert st.boomerangs[0].id != st.boomerangs[1].id
    await fresh.standin.driver.click(BOB, dm_bob["channel"], dm_bob["ts"], ids.BOOMERANG_YES)

    async def one_answered() -> bool:
        st = await fresh.state(state.alert.id)
        return [b.status for b in st.boomerangs] == ["answered", "open"]

    await fresh.wait_for(one_answered, what="Bob answered, Carol still asked")
