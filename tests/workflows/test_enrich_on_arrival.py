"""Enrichment on arrival in AlertWorkflow: one brief before the first post, only when a
destination asks and the alert has IPs; the post goes out without it when enrichment fails."""

from __future__ import annotations

import json

import pytest
from temporalio.client import Client, WorkflowHandle

from parley.domain import Destination
from parley.slack.ui.alert import render_alert
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import _input, _save, _state, _until, running
from tests.workflows.test_alert_workflow import client as client  # the fixture
from workflows.alert_types import AlertWorkflowInput

IPS = ["198.51.100.7", "10.1.2.3", "2001:db8::1"]


async def _patches(handle: WorkflowHandle) -> list[str]:
    """The patch ids the run recorded (marker payloads are encoded: read them, not the JSON)."""
    ids = []
    for event in (await handle.fetch_history()).events:
        if event.HasField("marker_recorded_event_attributes"):
            details = event.marker_recorded_event_attributes.details
            if "patch-data" in details:
                ids.append(json.loads(details["patch-data"].payloads[0].data)["id"])
    return ids


def _asking(**alert: object) -> AlertWorkflowInput:
    inp = _input(**alert)
    return inp.model_copy(
        update={
            "destinations": [
                Destination(id="d1", name="sec", channel="C0ALERTS"),
                Destination(id="d2", name="intel", channel="C0CRIT", enrich_on_arrival=True),
            ]
        }
    )


async def _posted(handle, rec: Recorder) -> None:  # type: ignore[no-untyped-def]
    async def both() -> bool:
        return len(rec.posts) == 2 and len((await _state(handle)).copies) == 2

    await _until(both)


async def test_first_post_carries_the_ip_lines_for_the_destination_that_asks(
    client: Client,
) -> None:
    rec = Recorder()
    inp = _asking(summary_attributes={"src": IPS[:2], "dst": [IPS[0], IPS[2]], "user": ["bob"]})
    async with running(client, rec, inp) as handle:
        await _posted(handle, rec)
        assert rec.briefed == [IPS]  # once, each IP once, before the posts
        for post in rec.posts:
            intel = post.state.ip_intel
            assert intel is not None and intel.destination_ids == ["d2"]
            assert [b.ip for b in intel.briefs] == IPS
        post = rec.posts[0]
        with_lines = render_alert(post.state, inp.console_base_url, "d2")
        without = render_alert(post.state, inp.console_base_url, "d1")
        assert any(b.get("block_id") == "ip_intel" for b in with_lines.blocks)
        assert not any(b.get("block_id") == "ip_intel" for b in without.blocks)
        assert (await _state(handle)).ip_intel == post.state.ip_intel  # kept for re-renders
        assert "enrich-on-arrival" in await _patches(handle)
        await _save(handle, "enrich_on_arrival")
        await handle.terminate("done")


@pytest.mark.parametrize(
    ("asks", "attributes"),
    [(False, {"src": IPS}), (True, {"user": ["bob"], "host": ["web-1"]})],
    ids=["no-destination-asks", "no-ip-in-the-alert"],
)
async def test_no_brief_when_nothing_to_do(
    client: Client, asks: bool, attributes: dict[str, list[str]]
) -> None:
    rec = Recorder()
    inp = _asking(summary_attributes=attributes) if asks else _input(summary_attributes=attributes)
    async with running(client, rec, inp) as handle:
        await _posted(handle, rec)
        assert rec.briefed == []
        assert (await _state(handle)).ip_intel is None
        patches = await _patches(handle)
        assert "one-trip-per-change" in patches  # the reader works…
        assert "enrich-on-arrival" not in patches  # …and no marker: histories stay as they were
        await handle.terminate("done")


async def test_failed_enrichment_still_posts(client: Client) -> None:
    rec = Recorder(brief_fails=True)
    inp = _asking(summary_attributes={"src": IPS})
    async with running(client, rec, inp) as handle:
        await _posted(handle, rec)
        assert len(rec.briefed) == 1
        assert all(p.state.ip_intel is None for p in rec.posts)
        await handle.terminate("done")
