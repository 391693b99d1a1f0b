"""Structured logs (JSON lines carrying alert_id and workflow_id, no Alembic chatter) and the
optional OpenTelemetry hook on the Temporal client."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from parley import tracing
from parley.logs import bind_alert, configure_logging
from parley.settings import Settings
from parley.store.db import migrate
from parley.temporal import connect


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    configure_logging(Settings(parley_log_format="json", parley_log_level="INFO"), stream=out)
    try:
        yield out
    finally:
        root.handlers, root.level = saved[0], saved[1]
        activity.logger.activity_info_on_message = True


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_api_lines_carry_the_alert_they_are_about(json_logs: io.StringIO) -> None:
    async def request() -> None:  # a request's task: what it binds stays in it
        bind_alert("demo-0001")
        logging.getLogger("parley.api").warning("queued a status change")

    asyncio.run(request())
    logging.getLogger("parley.api").info("unrelated")
    first, second = lines(json_logs)
    assert first["message"] == "queued a status change" and first["level"] == "WARNING"
    assert first["alert_id"] == "demo-0001" and first["workflow_id"] == "alert-demo-0001"
    assert first["logger"] == "parley.api" and "time" in first
    assert "alert_id" not in second  # another task's binding does not leak


async def test_activity_lines_carry_the_workflow(json_logs: io.StringIO) -> None:
    @activity.defn
    async def post() -> None:
        activity.logger.warning("Slack refused blocks; posting text only")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="alert-abc-boomerang-2")
    await env.run(post)
    (line,) = lines(json_logs)
    assert line["alert_id"] == "abc" and line["workflow_id"] == "alert-abc-boomerang-2"
    # The SDK's context travels as fields, not appended to the message.
    assert line["message"] == "Slack refused blocks; posting text only"


def test_migrating_prints_no_alembic_lines(json_logs: io.StringIO, tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'parley.db'}")
    assert [entry for entry in lines(json_logs) if "alembic" in str(entry["logger"])] == []


async def test_tracing_wraps_temporal_calls_when_enabled(temporal_env: WorkflowEnvironment) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    assert tracing.set_up(Settings(), "parley-test") == []  # off by default: no interceptor
    exporter = InMemorySpanExporter()
    settings = Settings(
        parley_otel_enabled=True,
        temporal_address=temporal_env.client.service_client.config.target_host,
    )
    interceptors = tracing.set_up(settings, "parley-test", exporter=exporter)
    client = await connect(settings, interceptors=interceptors)
    # No worker needed: the client's own span is what starts a trace through Temporal.
    await client.start_workflow(
        "NoSuchWorkflow", id=f"trace-{uuid.uuid4().hex[:8]}", task_queue="nobody-polls"
    )
    from opentelemetry import trace

    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    names = [span.name for span in exporter.get_finished_spans()]
    assert "StartWorkflow:NoSuchWorkflow" in names, names
