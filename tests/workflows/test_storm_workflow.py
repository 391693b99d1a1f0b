"""StormWorkflow's decisions on the real dev server, with Slack, the store and the members'
workflows replaced by fakes registered under the real names: the digest is refreshed on a timer
(not per join), a bulk action reaches every member once across continue-as-new, alerts that join
while a storm ends start the next one, and an alert with a storm plan joins instead of posting.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.slack import NotifyUserRequest
from activities.storm import LeadInRequest, RefreshRequest, RefreshResult, StormReplyRequest
from parley.domain import Actor, Destination, Severity, Status
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import _input, _save, _state, _until
from workflows.alert import AlertWorkflow
from workflows.alert_types import StatusChange, alert_workflow_id
from workflows.storm import StormWorkflow
from workflows.storm_types import (
    BulkChange,
    StormInput,
    StormMember,
    StormPlan,
    StormState,
    bulk_member_key,
    storm_workflow_id,
)

ALICE = Actor(source="slack", id="U0ALICE", name="alice")
DEST = Destination(id="d1", name="sec", channel="C0ALERTS")


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment) -> Client:
    return await Client.connect(
        temporal_env.client.service_client.config.target_host,
        data_converter=pydantic_data_converter,
    )


@dataclass
class Storms:
    """The storm's activities, recorded; `hold_end` keeps the final refresh waiting."""

    lead_ins: list[StormMember] = field(default_factory=list)
    refreshes: list[RefreshRequest] = field(default_factory=list)
    replies: list[StormReplyRequest] = field(default_factory=list)
    notices: list[NotifyUserRequest] = field(default_factory=list)
    hold_end: asyncio.Event | None = None
    ending: asyncio.Event = field(default_factory=asyncio.Event)
    _ts: Any = field(default_factory=lambda: itertools.count(1))

    def activities(self, notify: bool = True) -> list[Any]:
        """`notify=False` when the Recorder's fakes (which tell users too) run beside these."""
        rec = self

        @activity.defn(name="storm.lead_in")
        async def lead_in(req: LeadInRequest) -> list[StormMember]:
            return rec.lead_ins

        @activity.defn(name="storm.refresh")
        async def refresh(req: RefreshRequest) -> RefreshResult:
            rec.refreshes.append(req)
            if req.view.ended_at and rec.hold_end is not None:
                rec.ending.set()
                hold, rec.hold_end = rec.hold_end, None
                await hold.wait()
            ts = req.digest_ts or f"1700000100.{next(rec._ts):06d}"
            return RefreshResult(digest_ts=ts, posted=req.digest_ts is None)

        @activity.defn(name="storm.reply")
        async def reply(req: StormReplyRequest) -> str:
            rec.replies.append(req)
            return f"1700000200.{next(rec._ts):06d}"

        @activity.defn(name="slack.notify_user")
        async def notify_user(req: NotifyUserRequest) -> None:
            rec.notices.append(req)

        return [lead_in, refresh, reply, *([notify_user] if notify else [])]

    def views_of(self, storm_id: str) -> list[Any]:
        return [r.view for r in self.refreshes if r.view.storm_id == storm_id]


@workflow.defn(name="AlertWorkflow", sandboxed=False)  # a test double, not our code
class FakeAlert:
    """Stands in for a member's AlertWorkflow: records the status changes it is sent."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name="set_status")
    def set_status(self, change: StatusChange) -> None:
        self.keys.append(change.key)

    @workflow.query
    def received(self) -> list[str]:
        return self.keys


def _member(i: int, **fields: Any) -> StormMember:
    return StormMember(
        alert_id=f"m-{uuid.uuid4().hex[:8]}-{i}",
        title=f"Noisy login {i}",
        severity=Severity.LOW,
        at=datetime.now(UTC),
        **fields,
    )


def _storm_input(members: list[StormMember], window: float, refresh: float = 1.0) -> StormInput:
    return StormInput(
        destination=DEST,
        rule_id=f"Rule.{uuid.uuid4().hex[:8]}",
        rule_name="Noisy rule",
        window_seconds=window,
        refresh_seconds=refresh,
        console_base_url="http://console.test",
        members=members,
    )


@asynccontextmanager
async def storm_worker(
    client: Client, storms: Storms, *workflows: type, extra: list[Any] | None = None
) -> AsyncIterator[str]:
    queue = str(uuid.uuid4())
    async with Worker(
        client,
        task_queue=queue,
        workflows=[StormWorkflow, *workflows],
        activities=[*storms.activities(notify=extra is None), *(extra or [])],
    ):
        yield queue


async def _start(client: Client, inp: StormInput, queue: str) -> WorkflowHandle:
    return await client.start_workflow(
        StormWorkflow.run,
        inp,
        id=storm_workflow_id(inp.destination.channel, inp.rule_id),
        task_queue=queue,
    )


async def _storm(handle: WorkflowHandle) -> StormState:
    return await handle.query(StormWorkflow.state)


async def test_the_digest_is_refreshed_on_a_timer_not_per_join(client: Client) -> None:
    storms = Storms(lead_ins=[_member(i, posted=True) for i in range(2)])
    inp = _storm_input([_member(0)], window=60, refresh=1.0)
    async with storm_worker(client, storms) as queue:
        started = time.monotonic()
        handle = await _start(client, inp, queue)
        joins = [_member(i) for i in range(1, 41)]
        for m in joins:  # a steady stream for a few seconds
            await handle.signal(StormWorkflow.join, m)
            await asyncio.sleep(0.05)
        await handle.signal(StormWorkflow.join, joins[0])  # a join delivered twice
        # A lead-in (claimed before the storm began) that intake sent to the digest after all.
        flipped = storms.lead_ins[1].model_copy(update={"posted": False})
        await handle.signal(StormWorkflow.join, flipped)

        async def rendered() -> bool:
            st = await _storm(handle)
            return len(st.members) == 43 and st.rendered_revision == st.revision

        await _until(rendered, timeout=30)
        elapsed = time.monotonic() - started
        st = await _storm(handle)
        views = storms.views_of(st.storm_id)
        # At most one refresh a second (plus the first, at once), whatever the joins.
        assert 1 <= len(views) <= elapsed / inp.refresh_seconds + 2, (len(views), elapsed)
        assert 2 <= len(views) < len(joins) / 4
        last = views[-1]
        assert (last.total, last.posted) == (43, 1)
        assert [m.title for m in last.newest][:2] == ["Noisy login 40", "Noisy login 39"]
        # Every member reached the store once, the flipped lead-in again with its new flag;
        # the lead-ins come first, as they came first.
        recorded = [(m.alert_id, m.posted) for r in storms.refreshes for m in r.members]
        assert sorted(recorded) == sorted(
            [(m.alert_id, m.posted) for m in st.members] + [(flipped.alert_id, True)]
        )
        assert [m.alert_id for m in st.members[:2]] == [m.alert_id for m in storms.lead_ins]
        # Posted once, then re-rendered in place.
        assert [r.digest_ts for r in storms.refreshes][:2] == [None, "1700000100.000001"]
        assert {r.digest_ts for r in storms.refreshes[1:]} == {"1700000100.000001"}
        # Old members keep no title: the state stays small however long the storm.
        assert sum(1 for m in st.members if m.title) == 10
        await handle.terminate("done")


async def test_a_storm_resolves_all_then_ends_after_a_quiet_window(client: Client) -> None:
    storms = Storms()
    members = [_member(i) for i in range(3)]
    inp = _storm_input(members, window=2.0, refresh=0.5)
    async with storm_worker(client, storms, FakeAlert) as queue:
        fakes = [
            await client.start_workflow(
                FakeAlert.run, id=alert_workflow_id(m.alert_id), task_queue=queue
            )
            for m in members[:2]
        ]  # the third alert's workflow is gone (past its retention)
        handle = await _start(client, inp, queue)
        change = BulkChange(status=Status.INVALID, comment="misfire", actor=ALICE, key="view:V1:U1")
        await handle.signal(StormWorkflow.bulk_change, change)
        await handle.signal(StormWorkflow.bulk_change, change)  # Slack re-sent the submission
        # A form from the digest of an earlier storm under this workflow id: refused, and said.
        earlier = change.model_copy(
            update={"key": "view:V0:U1", "storm_id": "an-earlier-storm", "reply_channel": "C0A"}
        )
        await handle.signal(StormWorkflow.bulk_change, earlier)
        st = await asyncio.wait_for(handle.result(), 30)
        assert st.ended_at is not None and len(st.bulk) == 1
        assert [(n.user_id, n.channel) for n in storms.notices] == [("U0ALICE", "C0A")]
        assert (st.bulk[0].done, st.bulk[0].total, st.bulk[0].gone) == (True, 3, 1)
        for fake, m in zip(fakes, members, strict=False):
            assert await fake.query(FakeAlert.received) == [bulk_member_key(change.key, m.alert_id)]
        keys = [r.key.removeprefix(f"storm/{st.storm_id}/")[:4] for r in storms.replies]
        assert keys == ["bulk", "end"]
        assert {r.thread_ts for r in storms.replies} == {st.digest_ts}
        final = storms.refreshes[-1].view
        assert final.ended_at is not None and final.bulk[0].done
        await _save(handle, "storm_bulk_and_end")
        for fake in fakes:
            await fake.terminate("done")


async def test_a_bulk_action_reaches_every_member_once_across_continue_as_new(
    client: Client,
) -> None:
    storms = Storms()
    members = [_member(i) for i in range(200)]
    inp = _storm_input(members, window=120, refresh=5)
    async with storm_worker(client, storms, FakeAlert) as queue:
        fakes = await asyncio.gather(
            *(
                client.start_workflow(
                    FakeAlert.run, id=alert_workflow_id(m.alert_id), task_queue=queue
                )
                for m in members
            )
        )
        handle = await _start(client, inp, queue)
        first_run = (await handle.describe()).run_id
        change = BulkChange(status=Status.RESOLVED, comment="misfire", actor=ALICE, key="k1")
        await handle.signal(StormWorkflow.bulk_change, change)
        latest = client.get_workflow_handle_for(StormWorkflow.run, handle.id)

        async def done() -> bool:
            st = await _storm(latest)
            return bool(st.bulk) and st.bulk[0].done

        await _until(done, timeout=120)
        # 200 signals pass the server's 300-event suggestion (tests/conftest.py): the action
        # continued in a new run from where the old one stopped.
        first = await client.get_workflow_handle(handle.id, run_id=first_run).describe()
        assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
        received = await asyncio.gather(*(f.query(FakeAlert.received) for f in fakes))
        assert [len(r) for r in received] == [1] * len(members)
        assert received[7] == [bulk_member_key("k1", members[7].alert_id)]
        await latest.signal(StormWorkflow.bulk_change, change)  # remembered across runs
        await asyncio.sleep(1.0)
        assert len((await _storm(latest)).bulk) == 1
        await latest.terminate("done")
        for f in fakes:
            await f.terminate("done")


async def test_alerts_joining_while_a_storm_ends_start_the_next_one(client: Client) -> None:
    hold = asyncio.Event()
    storms = Storms(hold_end=hold)
    inp = _storm_input([_member(0)], window=1.0, refresh=0.2)
    async with storm_worker(client, storms) as queue:
        handle = await _start(client, inp, queue)
        await asyncio.wait_for(storms.ending.wait(), 20)  # its final refresh is under way
        first = await _storm(handle)
        late = _member(1)
        await handle.signal(StormWorkflow.join, late)
        hold.set()
        latest = client.get_workflow_handle_for(StormWorkflow.run, handle.id)

        async def next_storm() -> StormState | None:
            st = await _storm(latest)
            return st if st.storm_id != first.storm_id else None

        second = await _until_value(next_storm)
        assert [m.alert_id for m in second.members] == [late.alert_id]
        assert late.alert_id not in [m.alert_id for m in first.members]
        result = await asyncio.wait_for(latest.result(), 30)
        assert result.storm_id == second.storm_id and result.ended_at is not None
        ended = [r.view.storm_id for r in storms.refreshes if r.view.ended_at]
        assert ended == [first.storm_id, second.storm_id]


async def _until_value(check: Any, timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_an_alert_in_a_storm_joins_the_digest_instead_of_posting(client: Client) -> None:
    rec, storms = Recorder(), Storms()
    plan = StormPlan(digest_destination_ids=["d1"], window_seconds=60, refresh_seconds=0.5)
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    inputs = [_input(rule_id=rule, severity=Severity.LOW) for _ in range(2)]
    async with storm_worker(client, storms, AlertWorkflow, extra=rec.activities()) as queue:
        handles = []
        for inp in inputs:
            inp = inp.model_copy(update={"storm": plan})
            handles.append(
                await client.start_workflow(
                    AlertWorkflow.run, inp, id=alert_workflow_id(inp.alert.id), task_queue=queue
                )
            )
        storm = client.get_workflow_handle(storm_workflow_id("C0ALERTS", rule))

        async def joined() -> bool:
            try:
                st = await _storm(storm)
            except Exception:
                return False
            digested = [h for h in rec.history if h.action == "digested"]
            return len(st.members) == 2 and len(digested) == 2

        await _until(joined)

        async def posted() -> bool:  # the digest is joined first, then the other channel posts
            return all([(await _state(h)).copies for h in handles])

        await _until(posted)
        for handle, inp in zip(handles, inputs, strict=True):
            st = await _state(handle)
            assert [c.channel for c in st.copies] == ["C0CRIT"]  # d2 still gets a post
            digested = [
                h for h in rec.history if h.alert_id == inp.alert.id and h.action == "digested"
            ]
            assert len(digested) == 1 and digested[0].to_value == storm.id
        assert {p.destination.id for p in rec.posts} == {"d2"}
        await _save(handles[0], "alert_starts_storm")
        await _save(handles[1], "alert_joins_storm")
        await storm.terminate("done")
        for handle in handles:
            await handle.terminate("done")
