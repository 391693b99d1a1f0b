"""Socket Mode end to end (issue 13): slack-sdk's SocketModeClient in the API against the
stand-in's WebSocket. Clicks and typed answers arrive as envelopes, are acked and applied; an
envelope whose ack was lost is redelivered and applied once; a `disconnect` loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack
from tests.e2e.test_boomerang import ALICE, BOB, _alert, _ask, _dm, _texts, unique
from tests.e2e.test_slack_events import _answers, _wait_open_row
from tools.devstack import ApiServer


@pytest.fixture
async def socket_stack(fresh: Stack) -> AsyncIterator[Stack]:
    """A second API, on Socket Mode, beside the session's HTTP one; the stand-in's app is
    switched to Socket Mode, so the driver's clicks and the events go over the socket."""
    sm = fresh.standin.socket_mode
    saved = (sm.ack_timeout, sm.retry_delays)
    sm.ack_timeout, sm.retry_delays = 1.5, (0.2, 0.5, 1.0)
    sm.enabled = True
    settings = fresh.settings.model_copy(update={"slack_app_token": sm.app_token})
    server = ApiServer(settings)
    await asyncio.to_thread(server.start)
    try:
        await fresh.wait_for(lambda: sm.open_sockets >= 1, what="the API's socket")
        yield fresh
    finally:
        sm.enabled = False
        await asyncio.to_thread(server.stop)
        sm.ack_timeout, sm.retry_delays = saved


async def _status(stack: Stack, alert_id: str, status: Status) -> None:
    async def reached() -> bool:
        return (await stack.state(alert_id)).status is status

    await stack.wait_for(reached, what=f"{alert_id} {status.value}")


async def test_socket_mode_clicks_answers_redelivery_and_disconnect(socket_stack: Stack) -> None:
    stack = socket_stack
    sm, events = stack.standin.socket_mode, stack.standin.events
    opened = len(stack.standin.calls("apps.connections.open"))
    hello = [e for e in sm.log if e["kind"] == "hello"]
    assert hello, sm.log
    state = await _alert(stack)
    copy = next(c for c in state.copies if c.channel == "C0ALERTS")

    # A status click, as an interactive envelope, acked and applied.
    res = await stack.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option=Status.TRIAGED.value
    )
    assert res.status == 200 and not res.problems
    await _status(stack, state.alert.id, Status.TRIAGED)

    # Boomerang over the socket: the modal's submission is acked with no errors.
    question = unique("Was the login from Porto you?")
    submitted = await _ask(stack, state, BOB, question)
    assert submitted.status == 200 and not submitted.body, submitted
    dm = await _dm(stack, BOB, question)
    await _wait_open_row(stack, BOB, state.alert.id)

    # A typed answer whose first ack is lost on the way back: redelivered, applied once.
    sm.drop_next_acks(1)
    delivery = await events.send(events.type_dm(BOB, "Yes, Porto was me", thread_ts=dm["ts"]))
    assert delivery.ok
    assert [a["acked"] for a in delivery.attempts] == [False, True]
    assert delivery.attempts[1]["retry_attempt"] == 1

    async def answered() -> bool:
        return all("Yes, Porto was me" in t for t in _texts(stack, state).values())

    await stack.wait_for(answered, what="the typed answer in both threads")

    # Slack refreshes the connection mid-stream: nothing sent meanwhile is lost.
    told = await sm.disconnect("refresh_requested")
    assert told >= 1
    res = await stack.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option=Status.INVALID.value
    )
    assert res.status == 200, res
    await _status(stack, state.alert.id, Status.INVALID)
    reopened = len(stack.standin.calls("apps.connections.open"))
    assert reopened > opened
    assert len([e for e in sm.log if e["kind"] == "hello"]) > len(hello)

    # The socket drops without a disconnect message: Parley reconnects, the click still lands.
    assert await sm.drop_sockets() >= 1
    res = await stack.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option=Status.OPEN.value
    )
    assert res.status == 200, res
    await _status(stack, state.alert.id, Status.OPEN)
    assert len(stack.standin.calls("apps.connections.open")) > reopened
    answers = await _answers(stack, state.alert.id)
    assert [a["comment"] for a in answers] == ["Yes, Porto was me"]

    # No worker running: the envelope is still acked in time (the stand-in waits 1.5 s).
    await stack.stop_worker()
    try:
        res = await stack.standin.driver.click(
            ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option=Status.TRIAGED.value
        )
        assert res.status == 200 and not res.problems, res
    finally:
        stack.start_worker()
    await _status(stack, state.alert.id, Status.TRIAGED)
