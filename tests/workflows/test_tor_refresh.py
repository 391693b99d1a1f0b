"""The hourly Temporal Schedule that keeps Tor's exit list fresh for the threat-intel card."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.enrichment import EnrichmentActivities, TorRefreshInput
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.service import Enricher
from parley.enrichment.tor_source import load_tor_list
from worker import TOR_SCHEDULE_ID as SCHEDULE_ID
from worker import ensure_tor_schedule as ensure_schedule
from workflows.tor_refresh import TorRefreshWorkflow


def _bulk_list(path: Path, count: int) -> list[str]:
    ips = [f"198.51.100.{i}" for i in range(1, 151)][:count]
    path.write_text("\n".join(ips) + "\n")
    return ips


async def test_schedule_refreshes_the_list_hourly(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        data_converter=pydantic_data_converter,
    )
    source, cache = tmp_path / "exits.txt", tmp_path / "cache" / "tor.txt"
    ips = _bulk_list(source, 150)
    queue = str(uuid.uuid4())
    acts = EnrichmentActivities(Enricher(EnrichmentConfig(tor_list_path=str(cache))))
    inp = TorRefreshInput(source=str(source), cache_path=str(cache))
    async with Worker(
        client, task_queue=queue, workflows=[TorRefreshWorkflow], activities=acts.all()
    ):
        try:
            await ensure_schedule(client, inp, queue)
            await ensure_schedule(client, inp, queue)  # a restarted worker: no error, no twin
            for _ in range(200):
                if cache.exists():
                    break
                await asyncio.sleep(0.1)
            assert cache.exists(), "the immediate run did not write the list"
            tor_list, _ = load_tor_list(str(cache))
            assert set(ips) <= set(tor_list.exits)
            desc = await client.get_schedule_handle(SCHEDULE_ID).describe()
            assert desc.schedule.spec.intervals[0].every == timedelta(hours=1)

        finally:
            await client.get_schedule_handle(SCHEDULE_ID).delete()
