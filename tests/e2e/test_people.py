"""The console names Slack people from the worker's people directory: the whole stack, with the
stand-in's journal showing which users.info calls happened, and when."""

from __future__ import annotations

import uuid
from typing import Any

from parley.slack.ui import ids
from parley.store import people
from tests.e2e.conftest import Stack, new_alert
from tools.slack_standin.seed import User


def _new_person(stack: Stack, name: str, real_name: str) -> str:
    """A Slack user nobody has seen yet (nothing cached anywhere), in #security-alerts."""
    user_id = f"U0{uuid.uuid4().hex[:8].upper()}"
    ws = stack.standin.workspace
    with ws.lock:
        ws.users[user_id] = User(id=user_id, name=name, real_name=real_name)
        ws.channels["C0ALERTS"].members.add(user_id)
    return user_id


def _lookups(stack: Stack, user_id: str) -> int:
    return sum(1 for c in stack.standin.calls("users.info") if c["args"].get("user") == user_id)


async def _page(stack: Stack, path: str) -> str:
    headers = {"Accept": "text/html"} | stack.auth()
    resp = await stack.http.get(path, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.text


async def _one_copy(stack: Stack) -> tuple[dict[str, Any], Any]:
    alert = new_alert(severity="Medium")  # #security-alerts only
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    state = await stack.wait_posted(alert["id"], 1)
    return alert, state.copies[0]


async def test_the_timeline_names_slack_clickers_without_the_api_calling_slack(
    fresh: Stack,
) -> None:
    erin = _new_person(fresh, "erin", "Erin Example")
    frank = _new_person(fresh, "frank", "Frank Fischer")
    alert, copy = await _one_copy(fresh)
    driver = fresh.standin.driver
    click = await driver.click(
        erin, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    assert click.status == 200
    click = await driver.click(erin, copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user=frank)
    assert click.status == 200

    # The worker's store write fills the directory: Erin, the clicker, from users.info; Frank,
    # the assignee, from the name the workflow resolved for him (one users.info, not two).
    async def named() -> dict[str, str]:
        found = await people.names(fresh.db, [erin, frank])
        return found if len(found) == 2 else {}

    assert await fresh.wait_for(named, what="both people in the directory") == {
        erin: "Erin Example",
        frank: "Frank Fischer",
    }
    assert _lookups(fresh, erin) == 1 and _lookups(fresh, frank) == 1
    history = await fresh.history(alert["id"])
    assert [h["actor"]["name"] for h in history if h["actor"]["id"] == erin] == ["erin", "erin"]

    # Rendering the page and its live fragment asks Slack nothing.
    before = len(fresh.standin.calls("users.info"))
    html = await _page(fresh, f"/alerts/{alert['id']}")
    live = await _page(fresh, f"/console/alerts/{alert['id']}/live")
    assert len(fresh.standin.calls("users.info")) == before
    for text in (html, live):
        # One name for Erin in every row: the real name, not the payload's username.
        assert "Erin Example changed status Open → Triaged" in text
        assert "Erin Example assigned it to Frank Fischer" in text
        assert "erin changed" not in text and "erin assigned" not in text


async def test_without_a_name_the_row_keeps_what_slack_sent(fresh: Stack) -> None:
    gina = _new_person(fresh, "gina", "Gina Gray")
    alert, copy = await _one_copy(fresh)
    # users.info fails for as long as this test runs: the change still goes through.
    fresh.standin.inject_fault("users.info", error="internal_error", times=None)
    try:
        click = await fresh.standin.driver.click(
            gina, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
        )
        assert click.status == 200
        await fresh.wait_for(lambda: _lookups(fresh, gina) >= 1, what="the worker asking Slack")

        async def changed() -> bool:
            return any(h["action"] == "status_changed" for h in await fresh.history(alert["id"]))

        await fresh.wait_for(changed, what="the status change in the history")
        assert await people.names(fresh.db, [gina]) == {}
        before = len(fresh.standin.calls("users.info"))
        html = await _page(fresh, f"/alerts/{alert['id']}")
        assert len(fresh.standin.calls("users.info")) == before
        assert "gina changed status Open → Triaged" in html  # the username the click carried
    finally:
        fresh.standin.clear_faults()
