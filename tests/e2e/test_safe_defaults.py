"""Signed but foreign interactions change nothing, and a console name cannot ping a channel:
end to end through the API, Temporal, the store and the Slack stand-in."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack, new_alert
from workflows.alert_types import AlertState

ALICE = "U0ALICE"
EVIL = "<!channel> <http://evil.example|click here>"


async def _posted(stack: Stack) -> tuple[dict[str, Any], AlertState]:
    alert = new_alert(severity="High")  # two copies: #security-alerts and #critical-alerts
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    return alert, await stack.wait_posted(alert["id"], 2)


async def _changes(stack: Stack, alert_id: str) -> list[str]:
    return [h["action"] for h in await stack.history(alert_id) if h["action"] != "created"]


def _replies(stack: Stack, state: AlertState) -> list[dict[str, Any]]:
    return [r for c in state.copies for r in stack.standin.replies(c.channel, c.ts)]


@contextmanager
def _workspace_named(stack: Stack, team_id: str) -> Iterator[None]:
    """The stand-in signs interactions as before, but from another workspace."""
    team = stack.standin.workspace.team
    ours, team.id = team.id, team_id
    try:
        yield
    finally:
        team.id = ours


async def test_console_name_is_escaped_in_every_thread(fresh: Stack) -> None:
    alert, state = await _posted(fresh)
    resp = await fresh.http.post(
        f"/alerts/{alert['id']}/status",
        json={"status": "Triaged", "user": EVIL},
        headers=fresh.auth(),
    )
    assert resp.status_code == 202, resp.text

    def replied() -> list[dict[str, Any]] | None:
        found = [
            r for c in state.copies for r in fresh.standin.replies(c.channel, c.ts)
            if "changed status Open → Triaged" in r["text"]
        ]  # fmt: skip
        return found if len(found) == len(state.copies) else None

    replies = await fresh.wait_for(replied, what="the change in every thread")
    for reply in replies:
        posted = reply["text"] + json.dumps(reply.get("blocks") or [], ensure_ascii=False)
        assert "<!channel>" not in posted and "<http://evil.example" not in posted, posted
        assert reply["text"].startswith("&lt;!channel&gt; &lt;http://evil.example|click here&gt;")
    # The console keeps the name as typed; only Slack needed it escaped.
    entry = next(h for h in await fresh.history(alert["id"]) if h["action"] == "status_changed")
    assert entry["actor"]["name"] == EVIL


async def test_click_from_another_workspace_changes_nothing(fresh: Stack) -> None:
    alert, state = await _posted(fresh)
    copy_ = state.copies[0]
    with _workspace_named(fresh, "T0ELSEWHERE"):
        foreign = await fresh.standin.driver.click(
            ALICE, copy_.channel, copy_.ts, ids.UPDATE_STATUS, selected_option="Invalid"
        )
    assert foreign.status == 403, foreign.body
    other_app = copy.deepcopy(foreign.payload)
    other_app["api_app_id"], other_app["team"]["id"] = "A0OTHERAPP", "T0PARLEY"
    raw = ("payload=" + quote(json.dumps(other_app))).encode()
    resent = await fresh.standin.driver.send_raw(raw, fresh.standin.driver.signed_headers(raw))
    assert resent.status == 403, resent.body
    await asyncio.sleep(1.0)  # time enough for a signal to have been applied
    assert (await fresh.state(alert["id"])).status is Status.OPEN
    assert await _changes(fresh, alert["id"]) == []
    assert _replies(fresh, state) == []

    # The same click from our own workspace goes through.
    ours = await fresh.standin.driver.click(
        ALICE, copy_.channel, copy_.ts, ids.UPDATE_STATUS, selected_option="Invalid"
    )
    assert ours.status == 200

    async def invalid() -> bool:
        return (await fresh.state(alert["id"])).status is Status.INVALID

    await fresh.wait_for(invalid, what="the click from our workspace")


async def test_submission_with_forged_metadata_changes_nothing(fresh: Stack) -> None:
    """A resolve modal Parley never opened: Parley's own callback id and inputs, and metadata
    naming the alert (as Parley used to write it), but not signed with Parley's key."""
    alert, state = await _posted(fresh)
    copy_ = state.copies[0]
    opened = await fresh.standin.driver.click(
        ALICE, copy_.channel, copy_.ts, ids.UPDATE_STATUS, selected_option="Resolved"
    )
    assert opened.status == 200
    view = [v for v in fresh.standin.views(ALICE) if v["callback_id"] == ids.RESOLVE_MODAL][-1]
    comment = {ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: "closing it for you"}}
    forged_ref = ids.AlertRef(alert_id=alert["id"], channel=copy_.channel, message_ts=copy_.ts)

    for metadata in (forged_ref.model_dump_json(), view["private_metadata"] + "x", ""):
        await _set_metadata(fresh, view["id"], metadata)
        forged = await fresh.standin.driver.submit_view(ALICE, view["id"], comment)
        assert forged.status == 200, forged.body
        # Answered with a field error (an empty 200 would have closed the modal, as accepted).
        assert isinstance(forged.body, dict), f"forged metadata accepted: {forged.body!r}"
        assert forged.body["response_action"] == "errors", forged.body
        assert "Parley did not open this form" in forged.body["errors"][ids.RESOLVE_COMMENT_BLOCK]
    await asyncio.sleep(1.0)
    assert (await fresh.state(alert["id"])).status is Status.OPEN
    assert await _changes(fresh, alert["id"]) == []
    assert _replies(fresh, state) == []

    # The modal as Parley opened it still resolves the alert.
    await _set_metadata(fresh, view["id"], view["private_metadata"])
    done = await fresh.standin.driver.submit_view(ALICE, view["id"], comment)
    assert done.status == 200 and not done.body, done.body

    async def resolved() -> bool:
        return (await fresh.state(alert["id"])).status is Status.RESOLVED

    await fresh.wait_for(resolved, what="the genuine submission")


async def _set_metadata(stack: Stack, view_id: str, metadata: str) -> None:
    """What another app holding a trigger_id could have opened: the same modal, other metadata."""
    ws = stack.standin.workspace
    with ws.lock:
        ws.views.records[view_id].view["private_metadata"] = metadata
