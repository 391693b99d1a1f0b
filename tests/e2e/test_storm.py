"""Storms end to end: past the threshold a rule's alerts share one digest message per channel,
High alerts still post on their own, "Resolve all" reaches every alert once, and the storm ends
after a quiet period with a summary. Through the API, the worker and the stand-in, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack, new_alert
from workflows.storm import StormWorkflow
from workflows.storm_types import StormState, storm_workflow_id

ALICE = "U0ALICE"
BOB = "U0BOB"
CHANNEL = "C0ALERTS"  # Low and Medium alerts go only here (C0CRIT takes High and up)
THRESHOLD = 3


@contextmanager
def storms(stack: Stack, window: float) -> Iterator[None]:
    """Storms on, for alerts posted inside the block (the API reads these at intake)."""
    s = stack.settings
    saved = (s.parley_storm_threshold, s.parley_storm_window_seconds)
    s.parley_storm_threshold, s.parley_storm_window_seconds = THRESHOLD, window
    try:
        yield
    finally:
        s.parley_storm_threshold, s.parley_storm_window_seconds = saved


def noisy(rule: str, **overrides: Any) -> dict[str, Any]:
    return new_alert(
        rule_id=rule,
        rule_name="Noisy rule",
        severity=overrides.pop("severity", "Low"),
        title=f"Noisy login {uuid.uuid4().hex[:6]}",
        **overrides,
    )


def _text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + message.get("text", "")


def _ours(stack: Stack, channel: str, alert_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in stack.standin.messages(channel)
        if ((m.get("metadata") or {}).get("event_payload") or {}).get("alert") == alert_id
    ]


async def storm_state(stack: Stack, rule: str) -> StormState:
    handle = stack.client.get_workflow_handle(storm_workflow_id(CHANNEL, rule))
    return await handle.query(StormWorkflow.state)


async def digest(stack: Stack, rule: str, shows: str) -> dict[str, Any]:
    """The storm's digest message, once its text shows `shows`."""

    async def found() -> dict[str, Any] | None:
        st = await storm_state(stack, rule)
        msg = stack.standin.get_message(CHANNEL, st.digest_ts) if st.digest_ts else None
        return msg if msg and shows in _text_of(msg) else None

    return await stack.wait_for(found, timeout=30, what=f"a digest showing {shows!r}")


async def history(stack: Stack, alert_id: str, action: str) -> list[dict[str, Any]]:
    return [h for h in await stack.history(alert_id) if h["action"] == action]


async def start_storm(
    stack: Stack, rule: str, digested: int = 2
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """THRESHOLD alerts post on their own, then `digested` more go to the digest."""
    first = [noisy(rule) for _ in range(THRESHOLD)]
    for alert in first:  # intake counts at once; the posts may trail
        assert (await stack.post_alert(alert)).status_code == 201
    rest = [noisy(rule) for _ in range(digested)]
    for alert in rest:
        assert (await stack.post_alert(alert)).status_code == 201
    for alert in first:
        await stack.wait_posted(alert["id"], 1)
    for alert in rest:
        await stack.wait_for(
            lambda a=alert: history(stack, a["id"], "digested"), what="the digested history row"
        )
    return first, rest


async def test_past_the_threshold_alerts_go_to_one_digest(fresh: Stack) -> None:
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    with storms(fresh, window=60):
        first, rest = await start_storm(fresh, rule, digested=3)
        total = len(first) + len(rest)
        message = await digest(fresh, rule, f"*{total} alerts*")

    # The first ones posted one by one; the rest have no message of their own, anywhere.
    for alert in first:
        assert len(_ours(fresh, CHANNEL, alert["id"])) == 1
    for alert in rest:
        assert _ours(fresh, CHANNEL, alert["id"]) == []
        st = await fresh.state(alert["id"])
        assert st.copies == []
        rows = await history(fresh, alert["id"], "digested")
        assert len(rows) == 1 and rows[0]["to_value"] == storm_workflow_id(CHANNEL, rule)
    # One digest in the channel, posted once, with the newest titles and the bulk buttons.
    st = await storm_state(fresh, rule)
    keyed = [
        m
        for m in fresh.standin.messages(CHANNEL)
        if ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
        == f"storm/{st.storm_id}"
    ]
    assert [m["ts"] for m in keyed] == [message["ts"]]
    assert rest[-1]["title"] in _text_of(message)
    actions = [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == [ids.STORM_LIST, ids.STORM_RESOLVE_ALL, ids.STORM_INVALID_ALL]

    # The console lists the storm and its members; a digested alert's page links it.
    async def listed() -> dict[str, Any] | None:
        resp = await fresh.http.get("/storms", headers=fresh.auth())
        mine = [s for s in resp.json() if s["storm_id"] == st.storm_id]
        return mine[0] if mine and mine[0]["member_count"] == total else None

    summary = await fresh.wait_for(listed, what="the storm in the console")
    assert summary["ended_at"] is None and summary["channel"] == CHANNEL
    detail = (await fresh.http.get(f"/storms/{st.storm_id}", headers=fresh.auth())).json()
    posted = {m["alert_id"] for m in detail["members"] if m["posted"]}
    assert posted == {a["id"] for a in first}
    assert {m["alert_id"] for m in detail["members"]} == {a["id"] for a in first + rest}
    page = await fresh.http.get(
        f"/alerts/{rest[0]['id']}",
        headers={
            "Accept": "text/html",
            "Authorization": f"Bearer {fresh.settings.parley_api_token}",
        },
    )
    assert f"/storms/{st.storm_id}" in page.text


async def test_a_high_alert_in_a_storm_still_posts_on_its_own(fresh: Stack) -> None:
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    with storms(fresh, window=60):
        await start_storm(fresh, rule)
        high = noisy(rule, severity="High")
        assert (await fresh.post_alert(high)).status_code == 201
        state = await fresh.wait_posted(high["id"], 2)
        low = noisy(rule)
        assert (await fresh.post_alert(low)).status_code == 201
        await fresh.wait_for(lambda: history(fresh, low["id"], "digested"), what="digested")
    assert {c.channel for c in state.copies} == {CHANNEL, "C0CRIT"}
    assert len(_ours(fresh, CHANNEL, high["id"])) == 1
    assert await history(fresh, high["id"], "digested") == []
    storm = await storm_state(fresh, rule)
    members = {m.alert_id for m in storm.members}
    assert low["id"] in members and high["id"] not in members


def _resend(stack: Stack, payload: dict[str, Any]) -> Any:
    """Slack delivering the same view_submission again, signed as Slack signs it."""
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    return stack.standin.driver.send_raw(body, stack.standin.driver.signed_headers(body))


async def test_resolve_all_reaches_every_alert_of_the_storm_once(fresh: Stack) -> None:
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    with storms(fresh, window=60):
        first, rest = await start_storm(fresh, rule, digested=3)
        members = first + rest
        message = await digest(fresh, rule, f"*{len(members)} alerts*")
    comment = f"Rule misfired after a deploy ({uuid.uuid4().hex[:6]})"
    click = await fresh.standin.driver.click(ALICE, CHANNEL, message["ts"], ids.STORM_RESOLVE_ALL)
    assert click.status == 200
    view = [v for v in fresh.standin.views(ALICE) if v["callback_id"] == ids.STORM_BULK_MODAL][-1]
    blank = await fresh.standin.driver.submit_view(
        ALICE, view["id"], {ids.STORM_COMMENT_BLOCK: {ids.STORM_COMMENT_ACTION: "  "}}
    )
    assert blank.body["response_action"] == "errors"
    done = await fresh.standin.driver.submit_view(
        ALICE, view["id"], {ids.STORM_COMMENT_BLOCK: {ids.STORM_COMMENT_ACTION: comment}}
    )
    assert done.status == 200 and not done.body
    again = await _resend(fresh, done.payload)  # Slack retried the submission
    assert again.status == 200

    async def all_resolved() -> bool:
        for alert in members:
            st = await fresh.state(alert["id"])
            if st.status is not Status.RESOLVED:
                return False
        return True

    await fresh.wait_for(all_resolved, timeout=30, what="every member resolved")
    await digest(fresh, rule, f"resolved all {len(members)} alerts of the storm")
    await asyncio.sleep(1.5)  # anything applied twice would show by now
    for alert in members:
        changes = await history(fresh, alert["id"], "status_changed")
        assert len(changes) == 1, (alert["id"], changes)
        assert changes[0]["to_value"] == "Resolved" and changes[0]["comment"] == comment
        assert changes[0]["actor"]["id"] == ALICE
        st = await fresh.state(alert["id"])
        for copy in st.copies:  # the alerts posted on their own: one reply in each thread
            replies = fresh.standin.replies(copy.channel, copy.ts)
            assert [comment in r["text"] for r in replies] == [True], replies
    storm = await storm_state(fresh, rule)
    assert len(storm.bulk) == 1 and storm.bulk[0].done and storm.bulk[0].gone == 0
    thread = fresh.standin.replies(CHANNEL, message["ts"])
    assert len([r for r in thread if "resolved all" in r["text"]]) == 1


async def test_the_storm_ends_after_a_quiet_period_with_a_summary(fresh: Stack) -> None:
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    with storms(fresh, window=4):
        first, rest = await start_storm(fresh, rule)
        total = len(first) + len(rest)
        message = await digest(fresh, rule, "Storm over")
        handle = fresh.client.get_workflow_handle(storm_workflow_id(CHANNEL, rule))
        await fresh.wait_for(
            lambda: _completed(handle), timeout=30, what="the storm's workflow to complete"
        )
        thread = fresh.standin.replies(CHANNEL, message["ts"])
        assert len(thread) == 1 and f"{total} alerts" in thread[0]["text"]
        assert "Storm over" in thread[0]["text"]
        buttons = [
            e["action_id"]
            for b in message["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert buttons == [ids.STORM_LIST]  # nothing left to resolve together
        resp = await fresh.http.get("/storms", headers=fresh.auth())
        ended = [s for s in resp.json() if s["workflow_id"] == handle.id]
        assert ended and ended[0]["ended_at"] and ended[0]["member_count"] == total
        # After the storm, the rule's next alert posts on its own again.
        later = noisy(rule)
        assert (await fresh.post_alert(later)).status_code == 201
        await fresh.wait_posted(later["id"], 1)


async def _completed(handle: Any) -> bool:
    desc = await handle.describe()
    return desc.status == WorkflowExecutionStatus.COMPLETED


async def test_a_viewer_cannot_close_a_storm_where_clicks_follow_roles(fresh: Stack) -> None:
    """The review found the digest's bulk buttons outside the Slack role check: a viewer could
    resolve a whole storm in a channel where their single status click is refused."""
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    with storms(fresh, window=60):
        first, rest = await start_storm(fresh, rule, digested=3)
        message = await digest(fresh, rule, f"*{len(first + rest)} alerts*")
    s = fresh.settings
    saved = (s.slack_roles_destinations, s.console_analysts, s.console_default_role)
    s.slack_roles_destinations, s.console_analysts = ["security-alerts"], [ALICE]
    s.console_default_role = "viewer"
    try:
        for action in (ids.STORM_RESOLVE_ALL, ids.STORM_INVALID_ALL):
            seen = len(fresh.standin.ephemerals(CHANNEL, BOB))
            click = await fresh.standin.driver.click(BOB, CHANNEL, message["ts"], action)
            assert click.status == 200

            def told(n: int = seen) -> bool:
                said = [e["text"] for e in fresh.standin.ephemerals(CHANNEL, BOB)][n:]
                return any("viewer" in t and "analyst role" in t for t in said)

            await fresh.wait_for(told, what="the ephemeral refusal")
        assert not bulk_modals(fresh, BOB)
        # The analyst still may.
        before = len(bulk_modals(fresh, ALICE))
        click = await fresh.standin.driver.click(
            ALICE, CHANNEL, message["ts"], ids.STORM_RESOLVE_ALL
        )
        assert click.status == 200 and len(bulk_modals(fresh, ALICE)) == before + 1
    finally:
        s.slack_roles_destinations, s.console_analysts, s.console_default_role = saved
    for alert in first + rest:
        assert (await fresh.state(alert["id"])).status is Status.OPEN


def bulk_modals(stack: Stack, user: str) -> list[dict[str, Any]]:
    return [v for v in stack.standin.views(user) if v["callback_id"] == ids.STORM_BULK_MODAL]
