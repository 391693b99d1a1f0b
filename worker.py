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
from activities.home import HomePublisher
from activities.people import PeopleDirectory
from activities.slack import SlackActivities, SlackPacer
from activities.slack_fanout import SlackFanOut
from activities.storm import StormActivities
from parley import tracing
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.service import Enricher
from parley.logs import configure_logging
from parley.settings import Settings, UnsafeSettings, check_production_safety, get_settings
from parley.slack.client import make_slack_client
from parley.store.db import Database, SchemaNotReady, prepare_schema, unavailable
from parley.store.pacing import Rate
from parley.temporal import connect, metrics_runtime
from parley.worker_http import WorkerHttp
from workflows.alert import AlertWorkflow
from workflows.boomerang import BoomerangWorkflow
from workflows.storm import StormWorkflow
from workflows.tor_refresh import TorRefreshWorkflow

log = logging.getLogger("parley.worker")
TOR_SCHEDULE_ID = "parley-tor-refresh"
STORE_RETRY_SECONDS = 2.0


def slack_pacer(settings: Settings, db: Database) -> SlackPacer | None:
    """Per-channel and per-workspace pacing of posts, or None when turned off."""
    if settings.slack_channel_posts_per_second <= 0:
        return None
    return SlackPacer(
        db,
        channel=Rate(
            "channel", settings.slack_channel_posts_per_second, settings.slack_channel_post_burst
        ),
        workspace=Rate(
            "workspace",
            max(settings.slack_workspace_posts_per_second, 1e-3),
            settings.slack_workspace_post_burst,
        ),
    )


def build_worker(
    client: Client,
    settings: Settings,
    db: Database,
    task_queue: str | None = None,
    enricher: Enricher | None = None,
) -> Worker:
    slack_client = make_slack_client(
        settings.slack_bot_token,
        settings.slack_api_base_url,
        timeout=settings.slack_timeout_seconds,
    )
    slack = SlackActivities(slack_client, pacer=slack_pacer(settings, db))
    # The people directory is filled from the store writes, with the worker's Slack client.
    history = HistoryActivities(db, people=PeopleDirectory(db, slack_client))
    enrich = EnrichmentActivities(enricher or Enricher(EnrichmentConfig.from_env()))
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=[AlertWorkflow, BoomerangWorkflow, StormWorkflow, TorRefreshWorkflow],
        activities=[
            *slack.all(),
            *SlackFanOut(slack, HomePublisher(db, slack_client)).all(),
            *history.all(),
            *enrich.all(),
            *StormActivities(slack, db).all(),
        ],
        graceful_shutdown_timeout=timedelta(seconds=10),
        max_cached_workflows=settings.temporal_max_cached_workflows,
    )


def enrichment_config(settings: Settings) -> EnrichmentConfig:
    """PARLEY_* enrichment settings; with a Tor list source, the enricher reads the file the
    hourly refresh writes (PARLEY_TOR_EXIT_LIST, else .data/tor-exit-list.txt), so the fresh
    list wins over the packaged snapshot."""
    config = EnrichmentConfig.from_env()
    if settings.tor_exit_list_source and not config.tor_list_path:
        default = str(Path(".data") / "tor-exit-list.txt")
        config = config.model_copy(update={"tor_list_path": default})
    return config


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


async def open_store(settings: Settings) -> Database:
    """The store, its schema at head. Never after the API: migrate under the database's lock,
    or wait for a migration job (PARLEY_MIGRATE_ON_START)."""
    db = Database(settings.database_url)
    told = False
    try:
        while True:
            try:
                await prepare_schema(
                    db, settings.parley_migrate_on_start, settings.parley_schema_wait_seconds
                )
                return db
            except Exception as exc:  # a database still starting up: wait for it, say so once
                if not unavailable(exc):
                    raise
                if not told:
                    log.error("database unavailable (%s); retrying until it answers", exc)
                    told = True
                await asyncio.sleep(STORE_RETRY_SECONDS)
    except BaseException:
        await db.dispose()
        raise


async def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    try:
        check_production_safety(settings)
    except UnsafeSettings as exc:  # say which setting to fix, without a traceback
        raise SystemExit(str(exc)) from None
    try:
        db = await open_store(settings)
    except SchemaNotReady as exc:
        raise SystemExit(str(exc)) from None
    runtime = (
        metrics_runtime(settings.temporal_metrics_address)
        if settings.temporal_metrics_address
        else None
    )
    client = await connect(
        settings, runtime=runtime, interceptors=tracing.set_up(settings, "parley-worker")
    )
    enricher = Enricher(enrichment_config(settings))
    for line in enricher.sources_summary():
        log.info("threat intel: %s", line)
    if settings.tor_exit_list_source and enricher.config.tor_list_path:
        await ensure_tor_schedule(
            client,
            TorRefreshInput(
                source=settings.tor_exit_list_source, cache_path=enricher.config.tor_list_path
            ),
            settings.temporal_task_queue,
        )
    worker = build_worker(client, settings, db, enricher=enricher)
    http = (
        WorkerHttp(db, client, settings.parley_worker_http_address)
        if settings.parley_worker_http_address
        else None
    )
    if http is not None:
        await http.start()
    log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address)

    stopping: list[asyncio.Task[None]] = []

    def stop() -> None:
        if http is not None:
            http.stopping = True  # /readyz says so while running activities finish
        if not stopping:  # a second Ctrl-C must not start a second shutdown
            stopping.append(loop.create_task(worker.shutdown()))

    # SIGTERM (make run's Ctrl-C, a deploy) lets running activities finish before exiting.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await worker.run()
    finally:
        if http is not None:
            await http.stop()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
