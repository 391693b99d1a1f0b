"""Issue 12: /metrics on the API and the worker move with real traffic.

The stack's worker is swapped for one wired as worker.py wires it: a client on a runtime with the
SDK's Prometheus exporter, and the worker's own HTTP server (Parley counters, /healthz, /readyz).
Then an alert, a click, a 429, a refused channel, a Boomerang question and a storm go through the
real API, Temporal and the stand-in, and every counter named in the issue is read before and
after from the scrape endpoints, as Prometheus would.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from parley.domain import DestinationIn
from parley.store import repo
from parley.temporal import metrics_runtime
from parley.worker_http import WorkerHttp
from tests.e2e.conftest import Stack, new_alert
from tests.e2e.test_boomerang import _ask
from tests.e2e.test_storm import THRESHOLD, noisy, storms
from worker import build_worker

NO_BOT_CHANNEL = "C0NOBOT"  # the bot is not a member: Slack answers not_in_channel


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def scrape(url: str) -> dict[str, float]:
    """Every sample as `name{label="v",…}` → value (labels sorted), like a PromQL selector."""
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.get(url)
    assert resp.status_code == 200, resp.text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include `labels`."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(
        v for k, v in samples.items() if k.split("{", 1)[0] == name and all(w in k for w in want)
    )


class Metered:
    def __init__(self, stack: Stack, worker_url: str, sdk_url: str) -> None:
        self.stack, self.worker_url, self.sdk_url = stack, worker_url, sdk_url

    async def api(self) -> dict[str, float]:
        return await scrape(f"{self.stack.api_url}/metrics")

    async def worker(self) -> dict[str, float]:
        return await scrape(f"{self.worker_url}/metrics")

    async def sdk(self) -> dict[str, float]:
        return await scrape(self.sdk_url)


@pytest.fixture
async def metered(fresh: Stack) -> AsyncIterator[Metered]:
    await fresh.stop_worker()
    sdk_port = _free_port()
    client = await Client.connect(
        fresh.settings.temporal_address,
        data_converter=pydantic_data_converter,
        runtime=metrics_runtime(f"127.0.0.1:{sdk_port}"),
    )
    worker = build_worker(client, fresh.settings, fresh.db, enricher=fresh.enricher)
    http = WorkerHttp(fresh.db, client, "127.0.0.1:0")
    port = await http.start()
    fresh.worker = worker
    fresh.worker_task = asyncio.get_running_loop().create_task(worker.run())
    try:
        yield Metered(fresh, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sdk_port}/metrics")
    finally:
        await fresh.stop_worker()
        await http.stop()


async def test_api_and_worker_metrics_move_end_to_end(metered: Metered) -> None:
    stack = metered.stack
    api0, worker0 = await metered.api(), await metered.worker()

    # An alert: intake "created", then posts; a duplicate: intake "duplicate".
    alert = new_alert()
    assert (await stack.post_alert(alert)).status_code == 201
    assert (await stack.post_alert(alert)).status_code == 200
    state = await stack.wait_posted(alert["id"], 2)
    # A 429 on the next update: counted, waited out, then applied.
    stack.standin.inject_fault("chat.update", error="ratelimited", status=429, retry_after=1)
    copy = next(c for c in state.copies if c.channel == "C0ALERTS")
    click = await stack.standin.driver.click(
        "U0ALICE", copy.channel, copy.ts, "alert.update_status", selected_option="Triaged"
    )
    assert click.status == 200

    async def triaged() -> bool:
        st = await stack.state(alert["id"])
        return st.status.value == "Triaged" and st.revision > state.revision

    await stack.wait_for(triaged, timeout=30, what="the click applied")

    # A channel the bot is not in: a delivery failure in the history.
    log_type = f"Ops.Metrics.{uuid.uuid4().hex[:6]}"
    await repo.create_destination(
        stack.db,
        DestinationIn(name=f"nobot-{log_type}", channel=NO_BOT_CHANNEL, log_types=[log_type]),
    )
    refused = new_alert(log_type=log_type, severity="Low")
    assert (await stack.post_alert(refused)).status_code == 201

    async def failed_delivery() -> bool:
        return any(h["action"] == "delivery_failed" for h in await stack.history(refused["id"]))

    await stack.wait_for(failed_delivery, timeout=30, what="the delivery failure")

    # A Boomerang question stays open.
    st = await stack.wait_posted(alert["id"], 2)
    assert (await _ask(stack, st, "U0BOB", f"Was this you? {uuid.uuid4().hex[:6]}")).status == 200

    async def boomerangs_open() -> bool:
        return total(await metered.worker(), "parley_boomerangs_open") > total(
            worker0, "parley_boomerangs_open"
        )

    await stack.wait_for(boomerangs_open, timeout=30, what="the open Boomerang gauge")

    # A storm: past the threshold a rule's alerts go to one digest.
    rule = f"Noisy.{uuid.uuid4().hex[:8]}"
    with storms(stack, window=60):
        for _ in range(THRESHOLD + 2):
            assert (await stack.post_alert(noisy(rule))).status_code == 201

    async def storm_started() -> bool:
        return total(await metered.worker(), "parley_storms_started_total") > total(
            worker0, "parley_storms_started_total"
        )

    await stack.wait_for(storm_started, timeout=30, what="the storm counter")

    api1, worker1 = await metered.api(), await metered.worker()
    moved = {
        "intake created": total(api1, "parley_intake_alerts_total", outcome="created")
        - total(api0, "parley_intake_alerts_total", outcome="created"),
        "intake duplicate": total(api1, "parley_intake_alerts_total", outcome="duplicate")
        - total(api0, "parley_intake_alerts_total", outcome="duplicate"),
        "requests by route": total(
            api1, "parley_http_requests_total", route="/alerts", method="POST"
        )
        - total(api0, "parley_http_requests_total", route="/alerts", method="POST"),
        "request latency": total(api1, "parley_http_request_seconds_count", route="/alerts")
        - total(api0, "parley_http_request_seconds_count", route="/alerts"),
        "slack ack latency": total(api1, "parley_slack_ack_seconds_count")
        - total(api0, "parley_slack_ack_seconds_count"),
        "posts": total(worker1, "parley_slack_posts_total")
        - total(worker0, "parley_slack_posts_total"),
        "updates": total(worker1, "parley_slack_updates_total")
        - total(worker0, "parley_slack_updates_total"),
        "429s": total(worker1, "parley_slack_rate_limited_total", method="chat.update")
        - total(worker0, "parley_slack_rate_limited_total", method="chat.update"),
        "delivery failures": total(worker1, "parley_delivery_failures_total")
        - total(worker0, "parley_delivery_failures_total"),
    }
    assert moved["intake created"] >= 2 + THRESHOLD, moved
    assert moved["intake duplicate"] == 1, moved
    assert moved["requests by route"] >= 3 + THRESHOLD, moved
    assert moved["request latency"] >= 3 + THRESHOLD, moved
    assert moved["slack ack latency"] >= 2, moved  # the click and the Boomerang modal
    assert moved["posts"] >= 3, moved  # two copies and at least one thread reply
    assert moved["updates"] >= 2, moved  # both copies re-rendered after the 429
    assert moved["429s"] == 1, moved
    assert moved["delivery failures"] == 1, moved
    # No alert id or user ever becomes a label.
    assert alert["id"] not in "".join(api1) + "".join(worker1)

    # The SDK's own metrics, from the runtime's Prometheus exporter.
    sdk = await metered.sdk()
    assert (
        total(sdk, "temporal_workflow_completed")
        + total(sdk, "temporal_activity_execution_latency_count")
        > 0
    ), sorted(sdk)[:20]
    assert total(sdk, "temporal_worker_task_slots_available") > 0

    # The worker's health endpoints.
    async with httpx.AsyncClient(base_url=metered.worker_url, timeout=10) as http:
        assert (await http.get("/healthz")).json()["status"] == "ok"
        ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "temporal": "ok"}
