"""The Temporal worker: alert workflows plus the Slack and console-store activities.

Run it with `python worker.py` (the Makefile's `make run` does). Building a worker is a function
so tests can run one in-process against the real dev server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from pathlib import Path

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
from temporalio.worker import Worker

from activities.enrichment import EnrichmentActivities, TorRefreshInput
from activities.history import HistoryActivities
from activities.slack import SlackActivities
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.service import Enricher
from parley.settings import Settings, get_settings
from parley.slack.client import make_slack_client
from parley.store.db import Database, migrate
from parley.temporal import connect
from workflows.alert import AlertWorkflow
from workflows.boomerang import BoomerangWorkflow
from workflows.tor_refresh import TorRefreshWorkflow

log = logging.getLogger("parley.worker")
TOR_SCHEDULE_ID = "parley-tor-refresh"


def build_worker(
    client: Client,
    settings: Settings,
    db: Database,
    task_queue: str | None = None,
    enricher: Enricher | None = None,
) -> Worker:
    slack = SlackActivities(
        make_slack_client(settings.slack_bot_token, settings.slack_api_base_url)
    )
    history = HistoryActivities(db)
    enrich = EnrichmentActivities(enricher or Enricher(EnrichmentConfig.from_env()))
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=[AlertWorkflow, BoomerangWorkflow, TorRefreshWorkflow],
        activities=[*slack.all(), *history.all(), *enrich.all()],
        graceful_shutdown_timeout=timedelta(seconds=10),
        max_cached_workflows=settings.temporal_max_cached_workflows,
    )


async def ensure_tor_schedule(
    client: Client, inp: TorRefreshInput, task_queue: str, every: timedelta = timedelta(hours=1)
) -> None:
    """Create the hourly Tor-list refresh schedule, or bring an existing one up to date."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            TorRefreshWorkflow.run, inp, id=TOR_SCHEDULE_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
    )
    try:
        await client.create_schedule(TOR_SCHEDULE_ID, schedule, trigger_immediately=True)
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(TOR_SCHEDULE_ID).update(update)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    migrate(settings.database_url)
    db = Database(settings.database_url)
    client = await connect(settings)
    enricher = Enricher(EnrichmentConfig.from_env())
    for line in enricher.sources_summary():
        log.info("threat intel: %s", line)
    if settings.tor_exit_list_source:
        # The hourly refresh writes the file the enricher reads (PARLEY_TOR_EXIT_LIST).
        cache = enricher.config.tor_list_path or str(Path(".data") / "tor-exit-list.txt")
        await ensure_tor_schedule(
            client,
            TorRefreshInput(source=settings.tor_exit_list_source, cache_path=cache),
            settings.temporal_task_queue,
        )
    worker = build_worker(client, settings, db, enricher=enricher)
    log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address)
    # SIGTERM (make run's Ctrl-C, a deploy) lets running activities finish before exiting.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: loop.create_task(worker.shutdown()))
    try:
        await worker.run()
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
