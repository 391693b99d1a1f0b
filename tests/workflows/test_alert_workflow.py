"""AlertWorkflow's decisions on the real dev server, with Slack and the store faked by name."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from parley.domain import Actor, AlertIn, Destination, Severity, Status
from tests.workflows.fakes import Recorder
from workflows.alert import AlertWorkflow
from workflows.alert_types import (
    AlertState,
    AlertWorkflowInput,
    AssigneeChange,
    BoomerangAsk,
    DetailsRequest,
    IntelRequest,
    StatusChange,
    alert_workflow_id,
    boomerang_workflow_id,
)
from workflows.boomerang import BoomerangWorkflow
from workflows.boomerang_types import BoomerangAnswer

HISTORIES = Path(__file__).parent / "histories"
ALICE = Actor(source="slack", id="U0ALICE", name="alice")


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment) -> Client:
    return await Client.connect(
        temporal_env.client.service_client.config.target_host,
        data_converter=pydantic_data_converter,
    )


def _input(retention: float = 3600, **alert: object) -> AlertWorkflowInput:
    fields: dict[str, object] = {
        "id": f"wf-{uuid.uuid4().hex[:10]}",
        "title": "Impossible travel",
        "severity": Severity.HIGH,
        "rule_id": "Okta.ImpossibleTravel",
        "created_at": datetime(2026, 11, 30, 7, tzinfo=UTC),
    }
    fields.update(alert)
    return AlertWorkflowInput(
        alert=AlertIn.model_validate(fields),
        destinations=[
            Destination(id="d1", name="sec", channel="C0ALERTS"),
            Destination(id="d2", name="crit", channel="C0CRIT"),
        ],
        console_base_url="http://console.test",
        retention_seconds=retention,
    )


@asynccontextmanager
async def running(
    client: Client, rec: Recorder, inp: AlertWorkflowInput, **start: Any
) -> AsyncIterator[WorkflowHandle]:
    """A worker on its own task queue with the fakes, and the alert's workflow started on it."""
    queue = str(uuid.uuid4())
    async with Worker(
        client,
        task_queue=queue,
        workflows=[AlertWorkflow, BoomerangWorkflow],
        activities=rec.activities(),
    ):
        yield await client.start_workflow(
            AlertWorkflow.run, inp, id=alert_workflow_id(inp.alert.id), task_queue=queue, **start
        )


async def _until(check, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def _state(handle: WorkflowHandle) -> AlertState:
    return await handle.query(AlertWorkflow.state)


def _change(status: Status, key: str, comment: str | None = None) -> StatusChange:
    return StatusChange(status=status, actor=ALICE, key=key, comment=comment)


async def _save(handle: WorkflowHandle, name: str) -> None:
    """PARLEY_RECORD_HISTORIES=1 refreshes the committed histories the replay test reads."""
    if os.environ.get("PARLEY_RECORD_HISTORIES") != "1":
        return
    HISTORIES.mkdir(exist_ok=True)
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())


async def test_created_then_posted_to_every_destination(client: Client) -> None:
    rec = Recorder(dead_channels={"C0CRIT"})
    inp = _input()
    async with running(client, rec, inp) as handle:

        async def posted() -> bool:
            return len((await _state(handle)).copies) == 2 and len(rec.history) == 2

        await _until(posted)
        st = await _state(handle)
        assert [h.action for h in rec.history] == ["created", "delivery_failed"]
        assert {c.channel: c.failed for c in st.copies} == {
            "C0ALERTS": None,
            "C0CRIT": "channel_not_found",
        }
        await handle.terminate("done")


async def test_status_changes_apply_once_and_rerender_every_copy(client: Client) -> None:
    rec = Recorder()
    inp = _input()
    async with running(client, rec, inp) as handle:
        await handle.signal(AlertWorkflow.set_status, _change(Status.TRIAGED, "k1"))
        await handle.signal(AlertWorkflow.set_status, _change(Status.TRIAGED, "k1"))  # retry
        await handle.signal(AlertWorkflow.set_status, _change(Status.TRIAGED, "k2"))  # no-op
        await handle.signal(AlertWorkflow.set_status, _change(Status.RESOLVED, "k3"))  # no comment
        await handle.signal(
            AlertWorkflow.set_assignee,
            AssigneeChange(assignee_id="U0BOB", actor=ALICE, key="k4"),
        )
        await handle.signal(
            AlertWorkflow.set_status, _change(Status.RESOLVED, "k5", comment="benign")
        )

        async def done() -> bool:
            return (await _state(handle)).status is Status.RESOLVED and len(rec.replies) == 6

        await _until(done)
        st = await _state(handle)
        actions = [h.action for h in rec.history]
        assert actions == ["created", "status_changed", "assignee_changed", "status_changed"]
        assert st.assignee_name == "Name of U0BOB"
        assert st.resolution_comment == "benign"
        assert st.closed_at is not None
        # Three changes, each re-rendering and replying in both copies.
        assert len(rec.updates) == 6
        assert {r.target.channel for r in rec.replies} == {"C0ALERTS", "C0CRIT"}
        assert len(rec.notices) == 1 and "comment" in rec.notices[0].text
        assert rec.projections[-1].status is Status.RESOLVED
        await _save(handle, "status_assignee_resolve")
        await handle.terminate("done")


async def test_closed_alert_completes_after_retention_unless_reopened(client: Client) -> None:
    rec = Recorder()
    inp = _input(retention=1.5)
    async with running(client, rec, inp) as handle:
        await handle.signal(AlertWorkflow.set_status, _change(Status.INVALID, "a"))
        await asyncio.sleep(0.7)
        await handle.signal(AlertWorkflow.set_status, _change(Status.OPEN, "b"))  # reopen
        await asyncio.sleep(2.0)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.signal(AlertWorkflow.set_status, _change(Status.INVALID, "c"))
        result = await asyncio.wait_for(handle.result(), 10)
        assert result.status is Status.INVALID
        await _save(handle, "reopen_and_retention")


async def test_continue_as_new_carries_the_whole_state(client: Client) -> None:
    rec = Recorder()
    inp = _input()
    async with running(client, rec, inp) as handle:
        first_run = (await handle.describe()).run_id
        # Enough changes to pass the server's 300-event suggestion (tests/conftest.py).
        statuses = [Status.TRIAGED, Status.OPEN] * 20
        for i, status in enumerate(statuses):
            await handle.signal(AlertWorkflow.set_status, _change(status, f"c{i}"))

        async def all_applied() -> bool:
            return len([h for h in rec.history if h.action == "status_changed"]) == len(statuses)

        await _until(all_applied, timeout=60)
        latest = client.get_workflow_handle(handle.id)

        async def continued() -> bool:
            return (await latest.describe()).run_id != first_run

        await _until(continued)
        st = await latest.query(AlertWorkflow.state)
        assert st.status is Status.OPEN
        assert st.revision == len(statuses)
        assert len(st.copies) == 2 and all(c.ts for c in st.copies)
        # A retried click from before the continue-as-new is still recognised.
        await latest.signal(AlertWorkflow.set_status, _change(Status.TRIAGED, "c0"))
        await asyncio.sleep(1.0)
        assert (await latest.query(AlertWorkflow.state)).status is Status.OPEN
        await _save(
            client.get_workflow_handle(handle.id, run_id=first_run), "before_continue_as_new"
        )
        await _save(latest, "after_continue_as_new")
        await latest.terminate("done")


async def test_boomerang_details_and_intel_histories(client: Client) -> None:
    """Runs the message paths added after the first release, and saves them for replay."""
    rec = Recorder()
    inp = _input(summary_attributes={"src": ["198.51.100.7", "10.1.2.3"]})
    async with running(client, rec, inp) as handle:
        await handle.signal(
            AlertWorkflow.ask_boomerang,
            BoomerangAsk(recipient_id="U0BOB", question="yours?", actor=ALICE, key="ask"),
        )
        await handle.signal(
            AlertWorkflow.show_details,
            DetailsRequest(actor=ALICE, key="d1", channel="C0ALERTS"),
        )
        await handle.signal(
            AlertWorkflow.threat_intel,
            IntelRequest(actor=ALICE, key="i1", ip="10.1.2.3", channel="C0CRIT"),
        )
        await handle.signal(
            AlertWorkflow.threat_intel,
            IntelRequest(actor=ALICE, key="i2", ip="192.0.2.99", channel="C0CRIT"),  # not ours
        )
        child = client.get_workflow_handle(boomerang_workflow_id(inp.alert.id, 1))

        async def asked() -> bool:
            return any(h.action == "boomerang_asked" for h in rec.history)

        await _until(asked)
        await child.signal(
            BoomerangWorkflow.answer,
            BoomerangAnswer(kind="no", user_id="U0CAROL", key="wrong-person"),
        )
        await child.signal(
            BoomerangWorkflow.answer, BoomerangAnswer(kind="no", user_id="U0BOB", key="a1")
        )
        assert await child.result() == "answered"

        async def done() -> bool:
            return any(h.action == "boomerang_answered" for h in rec.history)

        await _until(done)
        st = await _state(handle)
        assert st.denied_by == ["U0BOB"]
        actions = [h.action for h in rec.history]
        assert actions.count("details_shown") == 1 and actions.count("threat_intel_viewed") == 1
        details = next(r for r in rec.replies if r.key.endswith("details/d1"))
        assert details.target.channel == "C0ALERTS"
        assert "place of 198.51.100.7" in str(details.blocks)
        intel = next(r for r in rec.replies if "/intel/" in r.key)
        assert intel.target.channel == "C0CRIT"
        assert "not publicly routable" in str(intel.blocks).lower()
        # The wrong person and the IP that is not the alert's were told, not obeyed.
        texts = [n.text for n in rec.notices]
        assert any("Only <@U0BOB>" in t for t in texts)
        assert any("192.0.2.99" in t for t in texts)
        await _save(handle, "boomerang_details_intel")
        await _save(child, "boomerang_child_answered")
        await handle.terminate("done")
