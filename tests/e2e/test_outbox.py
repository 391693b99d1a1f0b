"""Issue 9, end to end: Temporal stopped, the database locked or down, one id sent 20 times.

The Temporal tests run a stack of their own around a dev server that can be stopped and
started again on the same port and database file, as an operator would restart Temporal; the
session's shared server stays up for everyone else. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack, _stack, new_alert
from tests.store.store_support import fresh_pg_database, write_locked
from tools.devstack import ApiServer, dev_server_options
from tools.slack_standin import StandIn

SLACK_ACK_DEADLINE = 3.0  # s: Slack shows the user an error when a click is not acked by then

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


class StoppableTemporal:
    """A dev server on a fixed port with its state in a file: stop it, start it again."""

    def __init__(self, db_file: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.db_file = db_file
        self.env: WorkflowEnvironment | None = None

    async def start(self) -> WorkflowEnvironment:
        self.env = await WorkflowEnvironment.start_local(
            port=self.port, dev_server_database_filename=str(self.db_file), **dev_server_options()
        )
        return self.env

    async def stop(self) -> None:
        assert self.env is not None
        await self.env.shutdown()
        self.env = None


@dataclass
class Outage:
    stack: Stack
    temporal: StoppableTemporal


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def outage_stack(
    request: pytest.FixtureRequest, standin: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Outage]:
    tmp = tmp_path_factory.mktemp("outage")
    temporal = StoppableTemporal(tmp / "temporal.db")
    env = await temporal.start()
    previous_url = standin.interactivity_url
    async with AsyncExitStack() as cleanup:
        if request.param == "postgresql":
            url = await cleanup.enter_async_context(fresh_pg_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp / 'parley.db'}"
        try:
            async for stack in _stack(env, standin, url):
                standin.interactivity_url = previous_url  # set per test (see `outage`)
                yield Outage(stack, temporal)
        finally:
            if temporal.env is not None:
                await temporal.stop()


@pytest.fixture
async def outage(outage_stack: Outage) -> AsyncIterator[Outage]:
    """The stack with Temporal running, and the stand-in's clicks going to its API."""
    standin = outage_stack.stack.standin
    standin.clear_faults()
    if outage_stack.temporal.env is None:
        await outage_stack.temporal.start()
    previous_url, standin.interactivity_url = (
        standin.interactivity_url,
        (f"{outage_stack.stack.api_url}/slack/interactions"),
    )
    try:
        yield outage_stack
    finally:
        standin.interactivity_url = previous_url


async def _posted(stack: Stack, alert: dict[str, Any]) -> Any:
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    state = await stack.wait_posted(alert["id"], 2)
    return next(c for c in state.copies if c.channel == "C0ALERTS")


def _our_messages(stack: Stack, channel: str, alert_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in stack.standin.messages(channel)
        if ((m.get("metadata") or {}).get("event_payload") or {}).get("alert") == alert_id
    ]


async def _detail(stack: Stack, alert_id: str) -> dict[str, Any]:
    resp = await stack.http.get(f"/alerts/{alert_id}", headers=stack.auth())
    assert resp.status_code == 200, resp.text
    return resp.json()


def _changes(history: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [
        (h["action"], h["from_value"], h["to_value"])
        for h in history
        if h["action"] in ("status_changed", "assignee_changed")
    ]


async def _click(stack: Stack, copy: Any, step: tuple[str, str]) -> Any:
    what, value = step
    if what == "status":
        return await stack.standin.driver.click(
            ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option=value
        )
    return await stack.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user=value
    )


@pytest.mark.timeout(300)
async def test_temporal_stopped_30s_clicks_and_alerts_are_queued_then_applied_once(
    outage: Outage,
) -> None:
    stack = outage.stack
    targets = [new_alert() for _ in range(4)]
    copies = {a["id"]: await _posted(stack, a) for a in targets}
    # Five clicks per alert, each a change from the one before: 20 clicks, 20 history rows.
    plan = [
        ("status", "Triaged"), ("assignee", BOB), ("status", "Open"),
        ("assignee", CAROL), ("status", "Triaged"),
    ]  # fmt: skip

    await outage.temporal.stop()
    stopped = time.monotonic()
    clicks = []
    for step in plan:
        for alert in targets:  # interleaved across alerts, in order within each
            clicks.append(await _click(stack, copies[alert["id"]], step))
    fresh_alerts = [new_alert() for _ in range(5)]
    intake = [await stack.post_alert(a) for a in fresh_alerts]

    # Slack heard back inside its 3 s every time (what the stand-in's driver recorded). How
    # fast is a benchmark's question (bench/clicks.py), not a test's: a loaded machine varies.
    assert [c.status for c in clicks] == [200] * 20
    slow = [round(c.elapsed, 3) for c in clicks if c.elapsed >= SLACK_ACK_DEADLINE]
    assert slow == [], f"acks past Slack's deadline: {slow}"
    assert all(c.problems == [] for c in clicks), [c.problems for c in clicks]
    for resp in intake:
        assert resp.status_code == 202, resp.text
        assert (resp.json()["queued"], resp.json()["duplicate"]) == (True, False)

    # Each person is told their change is queued.
    urls = {c.payload["response_url"] for c in clicks}

    def told() -> set[str]:
        notes = stack.standin.response_url_posts()
        return {p["response_url"] for p in notes if "queued" in (p.get("text") or "")} & urls

    await stack.wait_for(lambda: told() == urls, what="a queued note for every click")
    # The console shows what waits, in order; nothing is applied yet.
    first = await _detail(stack, targets[0]["id"])
    assert first["queued"] == 5
    assert [q["summary"].split(" by ")[0] for q in first["queued_items"]] == [
        "status → Triaged", f"assignee → {BOB}", "status → Open",
        f"assignee → {CAROL}", "status → Triaged",
    ]  # fmt: skip
    assert _changes(first["history"]) == []
    waiting = await _detail(stack, fresh_alerts[0]["id"])
    assert [q["kind"] for q in waiting["queued_items"]] == ["start"]
    assert waiting["slack_copies"] == [] and waiting["history"] == []
    browser = {"Accept": "text/html", "Authorization": f"Bearer {stack.settings.parley_api_token}"}
    page = await stack.http.get(f"/alerts/{fresh_alerts[0]['id']}", headers=browser)
    assert 'id="queued"' in page.text and "1 queued" in page.text
    listed = await stack.http.get("/alerts", params={"limit": 200}, headers=stack.auth())
    queued_in_list = {a["alert_id"]: a["queued"] for a in listed.json()["items"]}
    assert all(queued_in_list[a["id"]] == 5 for a in targets)
    assert all(queued_in_list[a["id"]] == 1 for a in fresh_alerts)

    await asyncio.sleep(max(0.0, 30.0 - (time.monotonic() - stopped)))
    await outage.temporal.start()

    # Status rows with their values; assignee rows show names, which Slack supplies.
    expected = [
        ("status_changed", "Open", "Triaged"),
        ("assignee_changed",),
        ("status_changed", "Triaged", "Open"),
        ("assignee_changed",),
        ("status_changed", "Open", "Triaged"),
    ]

    async def applied(alert_id: str) -> bool:
        detail = await _detail(stack, alert_id)
        return len(_changes(detail["history"])) >= 5 and detail["queued"] == 0

    for alert in targets:
        await stack.wait_for(lambda a=alert: applied(a["id"]), timeout=60, what="clicks applied")
    for alert in fresh_alerts:
        await stack.wait_for(
            lambda a=alert: _started(stack, a["id"]), timeout=60, what="queued start relayed"
        )
        await stack.wait_posted(alert["id"], 2)
    await asyncio.sleep(2.0)  # anything applied twice would show by now

    for alert in targets:
        detail = await _detail(stack, alert["id"])
        # Exactly once each, in the order the clicks were made.
        changes = _changes(detail["history"])
        assert [c if c[0] == "status_changed" else c[:1] for c in changes] == expected
        state = await stack.state(alert["id"])
        assert (state.status, state.assignee_id) == (Status.TRIAGED, CAROL)
        for copy in state.copies:
            assert len(stack.standin.replies(copy.channel, copy.ts)) == 5, copy
    for alert in fresh_alerts:
        for channel in ("C0ALERTS", "C0CRIT"):
            assert len(_our_messages(stack, channel, alert["id"])) == 1, (alert["id"], channel)
        assert (await _detail(stack, alert["id"]))["queued_items"] == []


async def _started(stack: Stack, alert_id: str) -> bool:
    from temporalio.service import RPCError

    try:
        await stack.client.get_workflow_handle(f"alert-{alert_id}").describe()
    except RPCError:
        return False
    return True


async def test_two_queued_changes_apply_in_the_order_accepted(outage: Outage) -> None:
    stack = outage.stack
    alert = new_alert()
    copy = await _posted(stack, alert)
    await outage.temporal.stop()
    try:
        click = await stack.standin.driver.click(
            ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
        )
        assert click.status == 200 and click.elapsed < SLACK_ACK_DEADLINE
        console = await stack.http.post(
            f"/alerts/{alert['id']}/status",
            json={"status": "Invalid", "user": "carol@console"},
            headers=stack.auth(),
        )
        assert console.status_code == 202, console.text
        assert console.json() == {"status": "queued", "queued": True}
        queued = (await _detail(stack, alert["id"]))["queued_items"]
        assert [q["summary"] for q in queued] == [
            "status → Triaged by alice (slack)",
            "status → Invalid by carol@console (console)",
        ]
    finally:
        await outage.temporal.start()

    async def both() -> list[tuple[str, str | None, str | None]]:
        changes = _changes((await _detail(stack, alert["id"]))["history"])
        return changes if len(changes) >= 2 else []

    changes = await stack.wait_for(both, timeout=60, what="both queued changes")
    await asyncio.sleep(1.0)
    assert (
        _changes((await _detail(stack, alert["id"]))["history"])
        == changes
        == [
            ("status_changed", "Open", "Triaged"),
            ("status_changed", "Triaged", "Invalid"),
        ]
    )
    assert (await stack.state(alert["id"])).status is Status.INVALID


async def test_twenty_concurrent_intakes_of_one_id_create_it_once(fresh: Stack) -> None:
    alert = new_alert()
    answers = await asyncio.gather(*(fresh.post_alert(alert) for _ in range(20)))
    bodies = [r.json() for r in answers]
    created = [b for b in bodies if b["duplicate"] is False]
    assert len(created) == 1, [
        (r.status_code, b["duplicate"]) for r, b in zip(answers, bodies, strict=True)
    ]
    assert sorted(r.status_code for r in answers) == [200] * 19 + [201]
    await fresh.wait_posted(alert["id"], 2)
    await asyncio.sleep(1.0)
    for channel in ("C0ALERTS", "C0CRIT"):
        assert len(_our_messages(fresh, channel, alert["id"])) == 1, channel
    history = await fresh.history(alert["id"])
    assert [h["action"] for h in history].count("created") == 1


async def test_locked_database_answers_503_with_retry_after_quickly(fresh: Stack) -> None:
    alert = new_alert()
    async with write_locked(fresh.settings.database_url):
        started = time.monotonic()
        try:
            resp = await fresh.http.post("/alerts", json=alert, headers=fresh.auth(), timeout=8)
        except httpx.TimeoutException:
            pytest.fail("no answer within 8 s while the database was locked")
        took = time.monotonic() - started
    assert resp.status_code == 503, resp.text
    assert int(resp.headers["retry-after"]) > 0
    assert took < 5.0, f"took {took:.2f} s"  # a functional bound; the old wait was 15 s
    # Nothing was changed: the same alert, sent again, is new.
    again = await fresh.post_alert(alert)
    assert again.status_code == 201 and again.json()["duplicate"] is False, again.text
    await fresh.wait_posted(alert["id"], 2)


async def test_database_down_answers_503_and_clicks_still_reach_temporal(fresh: Stack) -> None:
    posted = new_alert()
    copy = await _posted(fresh, posted)
    if fresh.db.dialect == "sqlite":
        nowhere = f"sqlite+aiosqlite:////nonexistent-{uuid.uuid4().hex}/parley.db"
    else:
        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/parley"
    down = ApiServer(fresh.settings.model_copy(update={"database_url": nowhere}))
    url = await asyncio.to_thread(down.start)
    previous, fresh.standin.interactivity_url = (
        fresh.standin.interactivity_url,
        f"{url}/slack/interactions",
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=8) as http:
            started = time.monotonic()
            resp = await http.post("/alerts", json=new_alert(), headers=fresh.auth())
            took = time.monotonic() - started
            assert resp.status_code == 503, resp.text
            assert int(resp.headers["retry-after"]) > 0 and took < 5.0
        # A click needs no database when Temporal is there: it is signalled directly.
        click = await fresh.standin.driver.click(
            ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
        )
        assert click.status == 200 and click.elapsed < 3.0
    finally:
        fresh.standin.interactivity_url = previous
        await asyncio.to_thread(down.stop)

    async def applied() -> bool:
        return (await fresh.state(posted["id"])).status is Status.TRIAGED

    await fresh.wait_for(applied, what="the click applied without the database")


async def test_relays_of_several_replicas_deliver_each_queued_change_once_in_order(
    fresh: Stack,
) -> None:
    """Changes queued while Temporal was away meet every relay at once when it is back.

    PostgreSQL serves several API replicas, so three more relays race the API's own; SQLite
    serves one process, so its one relay delivers alone. Either way Temporal receives each
    change exactly once (its history counts the signals), in the order they were accepted.
    """
    from types import SimpleNamespace

    from api.outbox import Outbox, signal_name
    from api.relay import Relay
    from parley.domain import Actor
    from parley.store import outbox as queue
    from parley.store.db import Database
    from workflows.alert import AlertWorkflow
    from workflows.alert_types import StatusChange

    alert = new_alert()
    await _posted(fresh, alert)
    statuses = ["Triaged", "Open"] * 6
    for n, value in enumerate(statuses):
        change = StatusChange(
            status=Status(value), actor=Actor(source="console", id="c", name="c"), key=f"k{n}"
        )
        queued = await queue.queue_signal(
            fresh.db,
            workflow_id=f"alert-{alert['id']}",
            alert_id=alert["id"],
            signal=signal_name(AlertWorkflow.set_status),
            key=change.key,
            payload=change.model_dump(mode="json"),
            summary="test",
        )
        assert queued is not None and not queued.direct
    replicas = []
    if fresh.db.dialect == "postgresql":
        for _ in range(3):
            state = SimpleNamespace(
                db=Database(fresh.settings.database_url), settings=fresh.settings, temporal=None
            )
            state.temporal = fresh.client
            replicas.append(Relay(Outbox(SimpleNamespace(state=state))))
    try:
        await asyncio.gather(*(r.relay_once() for r in replicas))

        async def applied() -> list[tuple[str, str | None, str | None]]:
            changes = _changes((await _detail(fresh, alert["id"]))["history"])
            return changes if len(changes) >= len(statuses) else []

        changes = await fresh.wait_for(applied, timeout=30, what="every queued change")
    finally:
        for r in replicas:
            await r.db.dispose()
    assert [to for _, _, to in changes] == statuses
    handle = fresh.client.get_workflow_handle(f"alert-{alert['id']}")
    signalled = [
        e
        async for e in handle.fetch_history_events()
        if e.workflow_execution_signaled_event_attributes.signal_name == "set_status"
    ]
    assert len(signalled) == len(statuses)
    assert (await _detail(fresh, alert["id"]))["queued_items"] == []
