"""TorRefreshWorkflow: one refresh of the Tor exit list, started hourly by a Temporal Schedule
(created by the worker, `worker.ensure_tor_schedule`).

A failed download keeps the last good file (the activity raises before replacing it); a list
older than the configured age then reads as "unknown", never as "not Tor".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.enrichment import EnrichmentActivities, TorRefreshInput


@workflow.defn
class TorRefreshWorkflow:
    @workflow.run
    async def run(self, inp: TorRefreshInput) -> int:
        result = await workflow.execute_activity_method(
            EnrichmentActivities.refresh_tor,
            inp,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=5)),
        )
        return result.count
