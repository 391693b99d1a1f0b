"""Alerts that grow (issue 11): AlertWorkflow.grow on the real dev server, Slack and store faked.

The "more events" window is the input's `growth_line_seconds` (the setting
ALERT_GROWTH_LINE_SECONDS): a couple of seconds here stand in for the default minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from parley.domain import Status
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import (
    _change,
    _input,
    _save,
    _state,
    _until,
    client,  # noqa: F401 (fixture)
    running,
)
from tools.devstack import dev_server_options
from workflows.alert import AlertWorkflow
from workflows.alert_types import AlertGrowth

WINDOW = 1.5


def _growth(count: int, previous: int, reopen: bool = False) -> AlertGrowth:
    return AlertGrowth(
        key=f"grow/{count}", event_count=count, previous_count=previous, reopen=reopen
    )


def _lines(rec: Recorder) -> list[str]:
    return [r.text for r in rec.replies if "more event" in r.text]


async def _posted(handle: WorkflowHandle, rec: Recorder) -> None:
    async def both() -> bool:
        return len([c for c in (await _state(handle)).copies if c.ts]) == 2

    await _until(both)


async def test_growth_rerenders_every_copy_and_lines_once_per_window(client: Client) -> None:  # noqa: F811
    rec = Recorder()
    inp = _input(event_count=3).model_copy(update={"growth_line_seconds": WINDOW})
    async with running(client, rec, inp) as handle:
        await _posted(handle, rec)
        await handle.signal(AlertWorkflow.grow, _growth(12, 3))
        await handle.signal(AlertWorkflow.grow, _growth(57, 12))
        await handle.signal(AlertWorkflow.grow, _growth(57, 12))  # the same growth again
        await handle.signal(AlertWorkflow.grow, _growth(40, 12))  # late and smaller: nothing

        async def first_line() -> bool:
            return len(_lines(rec)) == 2  # one line in each of the two threads

        await _until(first_line)
        assert _lines(rec) == [":chart_with_upwards_trend: 54 more events (57 in all)"] * 2
        await asyncio.sleep(WINDOW + 0.5)
        assert len(_lines(rec)) == 2  # nothing more happened: no more lines

        await handle.signal(AlertWorkflow.grow, _growth(80, 57))

        async def second_line() -> bool:
            return len(_lines(rec)) == 4

        await _until(second_line)
        assert _lines(rec)[2:] == [":chart_with_upwards_trend: 23 more events (80 in all)"] * 2
        grew = [h for h in rec.history if h.action == "events_added"]
        assert [(h.from_value, h.to_value) for h in grew] == [
            ("3", "12"),
            ("12", "57"),
            ("57", "80"),
        ]
        # Both copies re-rendered, the last time with 80 events (a burst re-renders once).
        assert 4 <= len(rec.updates) <= 6
        assert {u.target.channel for u in rec.updates[-2:]} == {"C0ALERTS", "C0CRIT"}
        assert all(u.state.alert.event_count == 80 for u in rec.updates[-2:])
        st = await _state(handle)
        assert (st.alert.event_count, st.status, st.growth_line_due) == (80, Status.OPEN, None)
        await _save(handle, "alert_grows")
        await handle.terminate("done")


async def test_growth_of_a_closed_alert_is_recorded_and_reopens_only_if_asked(
    client: Client,  # noqa: F811
) -> None:
    rec = Recorder()
    inp = _input(event_count=1).model_copy(update={"growth_line_seconds": WINDOW})
    async with running(client, rec, inp) as handle:
        await _posted(handle, rec)
        await handle.signal(
            AlertWorkflow.set_status, _change(Status.RESOLVED, "k1", comment="benign")
        )
        await handle.signal(AlertWorkflow.grow, _growth(5, 1))

        async def recorded() -> bool:
            return any(h.action == "events_added" for h in rec.history)

        await _until(recorded)
        await asyncio.sleep(WINDOW + 0.5)
        st = await _state(handle)
        assert (st.status, st.alert.event_count) == (Status.RESOLVED, 5)
        grew = next(h for h in rec.history if h.action == "events_added")
        assert "not reopened" in (grew.comment or "")
        assert _lines(rec) == []  # a closed alert's thread stays quiet

        await handle.signal(AlertWorkflow.grow, _growth(9, 5, reopen=True))

        async def reopened() -> bool:  # state first, then history and the thread replies
            told = [r for r in rec.replies if "Resolved → Open" in r.text]
            return (await _state(handle)).status is Status.OPEN and len(told) == 2

        await _until(reopened)
        changes = [h for h in rec.history if h.action == "status_changed"]
        assert [(h.from_value, h.to_value) for h in changes][-1] == ("Resolved", "Open")

        async def line() -> bool:
            return len(_lines(rec)) == 2

        await _until(line)
        assert _lines(rec) == [":chart_with_upwards_trend: 4 more events (9 in all)"] * 2
        await handle.terminate("done")


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping_v2(
        **dev_server_options("frontend.WorkflowTimeSkippingEnabled=true")
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_a_burst_of_growths_rerenders_once(client: Client) -> None:  # noqa: F811
    rec = Recorder()
    inp = _input(event_count=1).model_copy(update={"growth_line_seconds": WINDOW})
    async with running(client, rec, inp) as handle:
        await _posted(handle, rec)
        # The worker is busy with the first while the rest queue up in the inbox.
        for n in range(2, 12):
            await handle.signal(AlertWorkflow.grow, _growth(n, n - 1))

        async def all_recorded() -> bool:
            return len([h for h in rec.history if h.action == "events_added"]) == 10

        await _until(all_recorded)
        await _until(lambda: _has_lines(rec, 2))
        assert len(rec.updates) < 20  # fewer than a re-render of both copies per growth
        assert all(u.state.alert.event_count == 11 for u in rec.updates[-2:])
        await handle.terminate("done")


async def _has_lines(rec: Recorder, n: int) -> bool:
    return len(_lines(rec)) == n


async def test_default_minute_on_virtual_time(skipping_env: WorkflowEnvironment) -> None:
    """The issue's case with the real default: 3 → 12 → 57 within a minute, then 80 two
    minutes later, ends with 80 and two lines in each thread (time-skipping V2 server)."""
    rec = Recorder()
    inp = _input(event_count=3)
    assert inp.growth_line_seconds == 60
    async with running(skipping_env.client, rec, inp) as handle:
        await _posted(handle, rec)
        await handle.signal(AlertWorkflow.grow, _growth(12, 3))
        await handle.signal(AlertWorkflow.grow, _growth(57, 12))

        async def grew(n: int) -> bool:
            return len([h for h in rec.history if h.action == "events_added"]) == n

        async def lines(n: int) -> bool:
            return len(_lines(rec)) == n

        await _until(lambda: grew(2))
        assert _lines(rec) == []  # the window is still open
        await skipping_env.fast_forward(handle, timedelta(seconds=61))
        await _until(lambda: lines(2))
        await skipping_env.fast_forward(handle, timedelta(minutes=2))
        await handle.signal(AlertWorkflow.grow, _growth(80, 57))
        await _until(lambda: grew(3))
        await skipping_env.fast_forward(handle, timedelta(seconds=61))
        await _until(lambda: lines(4))
        await skipping_env.fast_forward(handle, timedelta(minutes=5))
        await asyncio.sleep(0.5)
        assert [line.split(" ", 1)[1] for line in _lines(rec)] == [
            "54 more events (57 in all)",
            "54 more events (57 in all)",
            "23 more events (80 in all)",
            "23 more events (80 in all)",
        ]
        assert all(u.state.alert.event_count == 80 for u in rec.updates[-2:])
        await handle.terminate("done")
