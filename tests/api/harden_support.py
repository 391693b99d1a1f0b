"""The whole API app (`create_app`) for the hardening, property and schema tests.

Real pieces only: the Temporal dev server (`temporal_env`), a migrated SQLite or PostgreSQL
database (`backend_url`) and the Slack stand-in for the Web API. `running_app` runs the app's
own lifespan in the test's event loop and talks to it in-process through httpx's ASGI
transport, which also lets a test hand it odd bytes no well-behaved client would send.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from parley.settings import Settings
from tools.slack_standin.driver import sign

TOKEN = "harden-api-token"
SECRET = "harden-signing-secret"
BOT_TOKEN = "xoxb-harden-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings_for(
    temporal_env: WorkflowEnvironment, database_url: str, slack_base_url: str
) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_base_url=slack_base_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        # No worker polls this queue: intake only needs Temporal to accept the start.
        temporal_task_queue=f"parley-harden-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        console_base_url="http://console.example.test",
        parley_api_token=TOKEN,
        parley_secret_key="harden-modal-signing-key-0123456789abcdef",
    )


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://parley") as client:
            yield app, client


def new_alert(**overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "id": f"h-{uuid.uuid4().hex[:12]}",
        "title": "Console login from a new country",
        "severity": "High",
        "rule_id": "AWS.Console.LoginFromNewCountry",
        "created_at": "2026-11-30T07:00:00Z",
        "summary_attributes": {"p_any_ip_addresses": ["203.0.113.7"]},
    }
    alert.update(overrides)
    return alert


def signed(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with `body` (the stand-in's own signer)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, ts, body),
    }
