"""Issue 13 over the Events API (HTTP): a Boomerang recipient types the answer in the DM."""

from __future__ import annotations

import json

from parley.store.questions import open_questions
from tests.e2e.conftest import Stack
from tests.e2e.test_boomerang import ALICE, BOB, _actions, _alert, _ask, _dm, _texts, unique


async def _answers(stack: Stack, alert_id: str) -> list[dict]:
    return [h for h in await stack.history(alert_id) if h["action"] == "boomerang_answered"]


async def _wait_open_row(stack: Stack, recipient: str, alert_id: str) -> None:
    """The alert's workflow has recorded its question (and the DM) in the console store."""

    async def recorded() -> bool:
        rows = await open_questions(stack.db, recipient)
        return any(r.dm_ts and r.alert_id == alert_id for r in rows)

    await stack.wait_for(recorded, what=f"the open question of {alert_id} for {recipient}")


async def test_typed_thread_reply_is_the_answer_once(fresh: Stack) -> None:
    state = await _alert(fresh)
    question = unique("Was the 03:00 login from Lisbon you?")
    await _ask(fresh, state, BOB, question)
    dm = await _dm(fresh, BOB, question)
    await _wait_open_row(fresh, BOB, state.alert.id)
    events = fresh.standin.events

    # A stranger (Alice is never asked) and the bot's own DM (echoed back by Slack) change nothing.
    stranger = await events.send(events.type_dm(ALICE, "it was me, honest"))
    own = await events.send(events.echo(dm["channel"], dm["ts"]))
    assert stranger.ok and own.ok

    body = events.type_dm(BOB, "Yes, I was on the <night> train & VPN", thread_ts=dm["ts"])
    first = await events.send(body)
    assert first.ok and first.attempts[0]["status"] == 200
    # Slack believed the first delivery timed out: the same event again, with retry headers.
    retried = await events.post(body, retry_num=1, retry_reason="http_timeout")
    assert retried["acked"]
    # An edit of the answer is not a second answer.
    edited = await events.send(
        events.edit_dm(BOB, dm["channel"], body["event"]["ts"], "Actually no")
    )
    assert edited.ok

    async def answered() -> bool:
        texts = _texts(fresh, state)
        return all("Yes, I was on the &lt;night&gt; train &amp; VPN" in t for t in texts.values())

    await fresh.wait_for(answered, what="the typed answer in both threads")
    answers = await _answers(fresh, state.alert.id)
    assert len(answers) == 1, answers
    assert answers[0]["actor"]["id"] == BOB
    assert answers[0]["comment"] == "Yes, I was on the <night> train & VPN"
    assert "it was me, honest" not in json.dumps(await fresh.history(state.alert.id))
    # In the question's thread: no "filed under" note is needed.
    notes = [m["text"] for m in fresh.standin.messages(dm["channel"])]
    assert not [t for t in notes if "filed your answer" in t and state.alert.id in t]
    # The DM shows the answer, without the buttons.
    msg = fresh.standin.get_message(dm["channel"], dm["ts"])
    assert "night" in json.dumps(msg["blocks"]) and not any(
        b["type"] == "actions" for b in msg["blocks"]
    )


async def test_top_level_dm_answers_the_latest_question(fresh: Stack) -> None:
    older, newer = await _alert(fresh), await _alert(fresh)
    q_old, q_new = unique("Did you rotate the key?"), unique("Did you log in from Oslo?")
    await _ask(fresh, older, BOB, q_old)
    await _dm(fresh, BOB, q_old)
    await _wait_open_row(fresh, BOB, older.alert.id)
    await _ask(fresh, newer, BOB, q_new)
    dm = await _dm(fresh, BOB, q_new)
    await _wait_open_row(fresh, BOB, newer.alert.id)

    delivery = await fresh.standin.events.send(fresh.standin.events.type_dm(BOB, "Oslo was me"))
    assert delivery.ok

    async def filed() -> bool:
        notes = [
            m for m in fresh.standin.messages(dm["channel"]) if "filed your answer" in m["text"]
        ]
        return bool(notes) and newer.alert.id in notes[-1]["text"]

    await fresh.wait_for(filed, what="the bot saying which alert it filed the answer under")
    # The note comes from the question's workflow; the alert's history row from the alert's,
    # a moment later.
    answers = await fresh.wait_for(
        lambda: _answers(fresh, newer.alert.id), what="the answer in the alert's history"
    )
    assert [a["comment"] for a in answers] == ["Oslo was me"]
    assert await _answers(fresh, older.alert.id) == []
    assert "boomerang_asked" in await _actions(fresh, older.alert.id)


async def test_url_verification_and_forged_events(fresh: Stack) -> None:
    body = {
        "token": "x",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    res = await fresh.standin.events.post(body)
    assert res["status"] == 200 and json.loads(res["body"])["challenge"] == body["challenge"]
    raw = json.dumps(fresh.standin.events.type_dm(ALICE, "hi")).encode()
    forged = await fresh.http.post(
        "/slack/events",
        content=raw,
        headers={"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert forged.status_code == 401
