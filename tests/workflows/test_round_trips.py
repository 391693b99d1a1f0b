"""What a change costs in workflow history: a constant, whatever the number of channels.

Counts the events the real server records (the figures behind issue 10's "≤ 40 events for post
to 2 channels, triage, resolve"); the activities are the by-name fakes, which does not change the
events the workflow itself produces.
"""

from __future__ import annotations

import asyncio
import uuid
from itertools import pairwise

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from parley.domain import Destination, Status
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import ALICE, _input, client, running
from workflows import search_attributes as sa
from workflows.alert import AlertWorkflow
from workflows.alert_types import StatusChange

__all__ = ["client"]  # the fixture, re-used


async def _events(handle: WorkflowHandle) -> list[int]:
    return [e.event_type async for e in handle.fetch_history_events()]


async def _settled(handle: WorkflowHandle, rec: Recorder, replies: int) -> int:
    """Event count once the workflow has done everything for `replies` thread replies: no
    workflow task or activity open, and no new event for half a second."""
    last, stable = -1, 0
    for _ in range(400):
        events = await _events(handle)
        open_task = events[-1] in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        )
        stable = stable + 1 if len(events) == last else 0
        last = len(events)
        if len(rec.replies) >= replies and not open_task and stable >= 10:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not settle")


async def _cost(client: Client, copies: int) -> list[int]:
    """Events for: post to `copies` channels, then triage, then resolve."""
    rec = Recorder()
    inp = _input()
    inp.destinations = [
        Destination(id=f"d{i}", name=f"chan{i}", channel=f"C0CHAN{i}") for i in range(copies)
    ]
    counts = []
    # Started as intake starts it: with the search attributes the UI filters on.
    attrs = sa.at_start(Status.OPEN.value, inp.alert.severity.value, inp.alert.rule_id)
    async with running(client, rec, inp, search_attributes=attrs) as handle:
        counts.append(await _settled(handle, rec, 0))
        for n, (status, comment) in enumerate(
            [(Status.TRIAGED, None), (Status.RESOLVED, "false positive")], start=1
        ):
            change = StatusChange(
                status=status, comment=comment, actor=ALICE, key=f"k{n}-{uuid.uuid4()}"
            )
            await handle.signal(AlertWorkflow.set_status, change)
            counts.append(await _settled(handle, rec, n * copies))
        await handle.terminate("measured")
    return counts


async def test_a_change_costs_the_same_events_for_one_copy_or_five(client: Client) -> None:
    one = await _cost(client, 1)
    five = await _cost(client, 5)
    per_change_one = [b - a for a, b in pairwise(one)]
    per_change_five = [b - a for a, b in pairwise(five)]
    assert per_change_one == per_change_five
    assert one[0] == five[0]  # posting to five channels costs what posting to one does


async def test_post_to_two_triage_resolve_within_forty_events(client: Client) -> None:
    counts = await _cost(client, 2)
    print(f"events after post to 2 channels, triage, resolve: {counts}")
    assert counts[-1] <= 40, counts
