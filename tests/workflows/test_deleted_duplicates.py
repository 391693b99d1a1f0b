"""A duplicate Slack message the activity deleted is recorded in the alert's history, once, for
every kind of keyed post: alert copies, reposts, thread replies, Boomerang DMs and reminders."""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from parley.domain import HistoryEntry, SlackCopy, Status
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import (
    ALICE,
    _change,
    _input,
    _save,
    _state,
    _until,
    client,  # noqa: F401 - the fixture
    running,
)
from workflows.alert import AlertWorkflow
from workflows.alert_effects import DUPLICATES_PATCH, ONE_TRIP
from workflows.alert_types import BoomerangAsk, boomerang_workflow_id
from workflows.boomerang_types import BoomerangDelays


async def _patches(handle: WorkflowHandle) -> list[str]:
    """The patch ids a run recorded (`workflow.patched` leaves a marker per id)."""
    history = await handle.fetch_history()
    return [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and "patch-data" in e.marker_recorded_event_attributes.details
    ]


def _deleted(rec: Recorder) -> dict[str, HistoryEntry]:
    return {h.key: h for h in rec.history if h.action == "duplicate_deleted"}


async def test_every_deleted_duplicate_is_recorded_once(client: Client) -> None:  # noqa: F811
    inp = _input()
    inp.boomerang_delays = BoomerangDelays(remind_after_seconds=0.5)
    alert_id = inp.alert.id
    dm_key = f"{boomerang_workflow_id(alert_id, 1)}/dm"
    rec = Recorder(
        healed={
            "C0CRIT": ["1700000000.900001", "1700000000.900002"],  # the alert's first post
            "C0ALERTS/r1": ["1700000004.900001"],  # its repost when the copy was gone
            f"reply/{alert_id}/d2/r1": ["1700000001.900001"],
            dm_key: ["1700000002.900001"],
            f"{boomerang_workflow_id(alert_id, 1)}/reminder": ["1700000003.900001"],
        }
    )
    async with running(client, rec, inp) as handle:
        await handle.signal(AlertWorkflow.set_status, _change(Status.TRIAGED, "c1"))
        await handle.signal(
            AlertWorkflow.ask_boomerang,
            BoomerangAsk(recipient_id="U0BOB", question="yours?", actor=ALICE, key="ask"),
        )

        async def all_recorded() -> bool:
            return len(_deleted(rec)) == 5

        await _until(all_recorded)
        rows = _deleted(rec)
        crit = rows["duplicate_deleted/C0CRIT/1700000000.900001"]
        assert crit.alert_id == alert_id and crit.actor.source == "system"
        assert crit.from_value == "1700000000.900001, 1700000000.900002"
        assert "2 extra alert messages in C0CRIT" in (crit.comment or "")
        st = await _state(handle)
        kept = next(c for c in st.copies if c.channel == "C0CRIT")
        assert crit.to_value == kept.ts and type(kept) is SlackCopy  # no `healed` in the state
        repost = next(c for c in st.copies if c.channel == "C0ALERTS")
        assert rows["duplicate_deleted/C0ALERTS/1700000004.900001"].to_value == repost.ts
        reply = rows["duplicate_deleted/C0CRIT/1700000001.900001"]
        assert "extra thread reply in C0CRIT" in (reply.comment or "")
        dm = rows["duplicate_deleted/DU0BOB/1700000002.900001"]
        assert dm.alert_id == alert_id and dm.to_value == "1700000002.000001"
        reminder = rows["duplicate_deleted/DU0BOB/1700000003.900001"]
        assert "extra Boomerang reminder in DU0BOB" in (reminder.comment or "")
        # The alert's rows go in its batched store write (a new run's one-trip generation); the
        # Boomerang child records them behind their own patch.
        assert ONE_TRIP in await _patches(handle)
        child = client.get_workflow_handle(boomerang_workflow_id(alert_id, 1))
        assert DUPLICATES_PATCH in await _patches(child)
        await _save(handle, "duplicates_deleted")
        await _save(child, "boomerang_duplicates_deleted")
        await child.terminate("done")
        await handle.terminate("done")


async def test_without_duplicates_nothing_new_is_recorded(client: Client) -> None:  # noqa: F811
    rec = Recorder()
    async with running(client, rec, _input()) as handle:
        await handle.signal(AlertWorkflow.set_status, _change(Status.TRIAGED, "c1"))

        async def replied() -> bool:
            return len(rec.replies) == 2

        await _until(replied)
        assert _deleted(rec) == {}
        # No duplicate, no record: the duplicates patch leaves no marker.
        assert DUPLICATES_PATCH not in await _patches(handle)
        await handle.terminate("done")
