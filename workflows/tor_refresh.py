"""TorRefreshWorkflow: one refresh of the Tor exit list, started hourly by a Temporal Schedule.

A failed download keeps the last good file (the activity raises before replacing it); a list
older than the configured age then reads as "unknown", never as "not Tor".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from enrichment.tor_source import TorRefreshResult
    from workflows.types import TorRefreshInput

SCHEDULE_ID = "parley-tor-refresh"


@workflow.defn
class TorRefreshWorkflow:
    @workflow.run
    async def run(self, inp: TorRefreshInput) -> int:
        result = await workflow.execute_activity(
            "enrich.refresh_tor",
            inp,
            result_type=TorRefreshResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=5)),
        )
        return result.count


async def ensure_schedule(
    client: Client, inp: TorRefreshInput, task_queue: str, every: timedelta = timedelta(hours=1)
) -> None:
    """Create the hourly schedule, or bring an existing one up to date (idempotent)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            TorRefreshWorkflow.run, inp, id=SCHEDULE_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
    )
    try:
        await client.create_schedule(SCHEDULE_ID, schedule, trigger_immediately=True)
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(SCHEDULE_ID).update(update)
