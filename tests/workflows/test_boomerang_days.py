"""Real days pass for a Boomerang: time-skipping V2 on the same dev-server binary, default delays.

Experimental in temporalio 1.35 (per-workflow virtual clocks); the other Boomerang tests use
short injected delays on the normal server and cover the same code path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from parley.domain import Actor
from tests.workflows.fakes import Recorder
from tests.workflows.test_alert_workflow import _input, running
from tools.devstack import dev_server_options
from workflows.alert import AlertWorkflow
from workflows.alert_types import BoomerangAsk, boomerang_workflow_id
from workflows.boomerang_types import BoomerangDelays


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping_v2(
        **dev_server_options("frontend.WorkflowTimeSkippingEnabled=true")
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_default_delays_remind_escalate_and_expire_over_a_week(
    skipping_env: WorkflowEnvironment,
) -> None:
    client = skipping_env.client
    rec = Recorder()
    inp = _input()
    assert inp.boomerang_delays == BoomerangDelays()  # 4 h, 24 h, 7 days
    async with running(client, rec, inp) as handle:
        await handle.signal(
            AlertWorkflow.ask_boomerang,
            BoomerangAsk(
                recipient_id="U0BOB",
                question="Was this you?",
                actor=Actor(source="slack", id="U0ALICE"),
                key="ask-1",
            ),
        )
        child = client.get_workflow_handle(boomerang_workflow_id(inp.alert.id, 1))

        def kinds() -> list[str]:
            return [h.action for h in rec.history if h.action.startswith("boomerang_")]

        async def until(expected: list[str]) -> None:
            for _ in range(300):
                if kinds() == expected:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"{kinds()} != {expected}")

        await until(["boomerang_asked"])
        started = await skipping_env.get_current_time(child)
        await skipping_env.fast_forward(child, timedelta(hours=5))
        await until(["boomerang_asked", "boomerang_reminded"])
        assert len(rec.reminders) == 1
        await skipping_env.fast_forward(child, timedelta(hours=20))
        await until(["boomerang_asked", "boomerang_reminded", "boomerang_escalated"])
        await skipping_env.fast_forward(child, timedelta(days=6, hours=1))
        await until(
            ["boomerang_asked", "boomerang_reminded", "boomerang_escalated", "boomerang_expired"]
        )
        assert await child.result() == "expired"
        elapsed = await skipping_env.get_current_time(child) - started
        assert elapsed > timedelta(days=6)  # virtual time: the week passed in seconds
        assert rec.dms[-1].status == "expired"
        await handle.terminate("done")
