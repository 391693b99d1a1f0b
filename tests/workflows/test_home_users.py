"""Whose App Home a change re-publishes (issue 13): named by the workflow in the change's own
fan-out (`DeliverRequest.homes`), so it costs no workflow event of its own."""

from __future__ import annotations

from parley.domain import Actor, Status
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import (
    ALICE,
    _change,
    _input,
    _until,
    client,
    running,
)
from workflows.alert import AlertWorkflow
from workflows.alert_types import AssigneeChange

__all__ = ["client"]  # the fixture, re-used
CONSOLE = Actor(source="console", id="carol", name="carol")


async def test_changes_name_the_people_whose_home_they_touch(client) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    async with running(client, rec, _input()) as handle:
        await handle.signal(
            AlertWorkflow.set_assignee,
            AssigneeChange(assignee_id="U0BOB", actor=ALICE, key="a1"),
        )
        await _until(lambda: _async(rec.homes == [["U0BOB"]]))
        # Reassigned from the console: the old and the new assignee (never a console id).
        await handle.signal(
            AlertWorkflow.set_assignee,
            AssigneeChange(assignee_id="U0CAROL", actor=CONSOLE, key="a2"),
        )
        await _until(lambda: _async(len(rec.homes) == 2))
        assert rec.homes[1] == ["U0BOB", "U0CAROL"]
        # Resolved in Slack by Alice: the assignee's list and Alice's "closed by you".
        await handle.signal(AlertWorkflow.set_status, _change(Status.RESOLVED, "s1", "benign"))
        await _until(lambda: _async(len(rec.homes) == 3))
        assert rec.homes[2] == ["U0ALICE", "U0CAROL"]
        # Reopened from the console: Alice's "closed by you" changes too.
        reopen = _change(Status.OPEN, "s2").model_copy(update={"actor": CONSOLE})
        await handle.signal(AlertWorkflow.set_status, reopen)
        await _until(lambda: _async(len(rec.homes) == 4))
        assert rec.homes[3] == ["U0ALICE", "U0CAROL"]
        # Resolved in the console by someone signed in with Slack (their id is their Slack id):
        # their own "closed by you" changes, as it would for a click in Slack.
        signed_in = Actor(source="console", id="U0DAVE", name="Dave Doe")
        close = _change(Status.RESOLVED, "s3", "benign").model_copy(update={"actor": signed_in})
        await handle.signal(AlertWorkflow.set_status, close)
        await _until(lambda: _async(len(rec.homes) == 5))
        assert rec.homes[4] == ["U0CAROL", "U0DAVE"]
        await handle.terminate("done")


async def _async(value: bool) -> bool:
    return value
