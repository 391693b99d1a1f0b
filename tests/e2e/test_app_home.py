"""The App Home (issue 13): what is waiting for a person, re-published when it changes."""

from __future__ import annotations

import json
from typing import Any

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack
from tests.e2e.test_boomerang import ALICE, BOB, _alert, _ask, _dm, unique


def _home_text(stack: Stack, user: str) -> str:
    home = stack.standin.home(user)
    return json.dumps(home["blocks"], ensure_ascii=False) if home else ""


def _section(text: str, start: str, end: str | None) -> str:
    """The part of the Home between two headings ("" before the first publish)."""
    part = text.split(start, 1)[1] if start in text else ""
    return part.split(end, 1)[0] if end else part


async def test_home_lists_the_assignees_alert_and_follows_the_console(fresh: Stack) -> None:
    state = await _alert(fresh)
    alert_id = state.alert.id
    copy = next(c for c in state.copies if c.channel == "C0ALERTS")
    res = await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user=BOB
    )
    assert res.status == 200

    def assigned() -> bool:
        text = _home_text(fresh, BOB)
        return alert_id in _section(text, "Assigned to you", "Questions for you")

    # Published on the change, before Bob ever opened the tab.
    await fresh.wait_for(assigned, what="the alert on Bob's Home")
    home = fresh.standin.home(BOB)
    assert home is not None and home["type"] == "home"
    text = _home_text(fresh, BOB)
    assert f"/alerts/{alert_id}|console" in text  # the console page
    assert "|Slack message>" in text  # and the Slack message (its permalink)
    # Set Assignee shows Bob on every copy.
    for c in (await fresh.state(alert_id)).copies:
        msg = fresh.standin.get_message(c.channel, c.ts)
        selects = [
            e
            for b in msg["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("action_id") == ids.SET_ASSIGNEE
        ]
        assert selects and selects[0].get("initial_user") == BOB

    # Opening the tab publishes it too (app_home_opened, acked at once).
    before = len(fresh.standin.calls("views.publish"))
    opened = await fresh.standin.events.send(fresh.standin.events.home_opened(BOB))
    assert opened.ok
    await fresh.wait_for(
        lambda: len(fresh.standin.calls("views.publish")) > before, what="publish on open"
    )

    # Resolved from the console: it leaves Bob's list.
    resp = await fresh.http.post(
        f"/alerts/{alert_id}/status",
        json={"status": Status.RESOLVED.value, "comment": "benign", "user": "carol"},
        headers=fresh.auth(),
    )
    assert resp.status_code == 202, resp.text

    def gone() -> bool:
        text = _home_text(fresh, BOB)
        return alert_id not in _section(text, "Assigned to you", "Questions for you")

    await fresh.wait_for(gone, what="the resolved alert off Bob's Home")


async def test_home_lists_open_questions_with_the_dm_buttons(fresh: Stack) -> None:
    state = await _alert(fresh)
    question = unique("Did you approve the MFA push?")
    await _ask(fresh, state, BOB, question)
    await _dm(fresh, BOB, question)

    def listed() -> dict[str, Any] | None:
        home = fresh.standin.home(BOB)
        text = _home_text(fresh, BOB)
        return home if question in _section(text, "Questions for you", "Closed by you") else None

    home = await fresh.wait_for(listed, what="the question on Bob's Home")
    buttons = {
        e["action_id"]
        for b in home["blocks"]
        if b["type"] == "actions" and state.alert.id in b.get("block_id", "")
        for e in b["elements"]
    }
    assert buttons == {ids.BOOMERANG_YES, ids.BOOMERANG_NO, ids.BOOMERANG_REPLY}

    # Answered from the Home tab (no response_url there): recorded, and the Home updated.
    value = next(
        e["value"]
        for b in home["blocks"]
        if b["type"] == "actions" and state.alert.id in b.get("block_id", "")
        for e in b["elements"]
        if e["action_id"] == ids.BOOMERANG_YES
    )
    res = await fresh.standin.events.click_home(BOB, ids.BOOMERANG_YES, value=value)
    assert res.status == 200

    async def answered() -> bool:
        history = await fresh.history(state.alert.id)
        return any(h["action"] == "boomerang_answered" for h in history)

    await fresh.wait_for(answered, what="the answer from the Home tab")
    await fresh.wait_for(lambda: listed() is None, what="the question off Bob's Home")
