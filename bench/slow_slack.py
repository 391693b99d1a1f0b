"""Slow and ambiguous Slack posts on the real pieces: how long until every copy is settled, and
what exactly-once costs in Slack calls.

Issue 9's case scaled down: the Slack client times out after SLACK_TIMEOUT_SECONDS=1 and the
stand-in applies the post later (17 s against 15 s in the issue). Parley looks again 2 × the
timeout after sending; the last two cases go past that bound on purpose, to show what is left:
a duplicate is healed if the retry's own look sees it, and stays if it lands later still.
Prints figures; asserts nothing. `make bench` runs it; `--alerts N` scales it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections import Counter

import httpx

from bench.inproc import InProcess, in_process_stack
from workflows.alert import AlertWorkflow

TIMEOUT = 1.0
CHANNELS = ("C0ALERTS", "C0CRIT")
# Faults on chat.postMessage, in order, each for the first post in every channel.
CASES: dict[str, list[dict[str, object]]] = {
    "healthy Slack": [],
    "connection dropped after the post": [{"drop": True, "after_effect": True}],
    "HTTP 500 after the post": [{"status": 500, "after_effect": True}],
    f"post applied {TIMEOUT + 0.5:g}s late": [{"delay": TIMEOUT + 0.5}],
    f"post applied {2 * TIMEOUT + 0.5:g}s late, retry slow": [
        {"delay": 2 * TIMEOUT + 0.5},
        {"delay": TIMEOUT + 0.5},
    ],
    f"post applied {2 * TIMEOUT + 0.5:g}s late (past bound)": [{"delay": 2 * TIMEOUT + 0.5}],
}


def alert() -> dict:
    return {
        "id": f"slow-{uuid.uuid4().hex[:10]}",
        "title": "Bench alert",
        "severity": "High",
        "rule_id": "Bench.Rule",
        "created_at": "2026-11-30T07:00:00Z",
    }


async def run(alerts: int) -> None:
    async with in_process_stack(
        {c: c for c in CHANNELS}, 100.0, slack_timeout_seconds=TIMEOUT
    ) as stack:
        await cases(stack, alerts)


async def cases(stack: InProcess, alerts: int) -> None:
    standin, client = stack.standin, stack.client
    print(f"Slack client timeout {TIMEOUT:g}s, {alerts} alerts x {len(CHANNELS)} channels each")
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as http:
        for case, faults in CASES.items():
            posted: list[float] = []
            copies: Counter[int] = Counter()
            before = Counter(c["method"] for c in standin.journal())
            for _ in range(alerts):
                for fault in faults:
                    standin.inject_fault("chat.postMessage", times=len(CHANNELS), **fault)
                body = alert()
                t0 = time.perf_counter()
                assert (await http.post("/alerts", json=body)).status_code == 201
                handle = client.get_workflow_handle(f"alert-{body['id']}")
                while True:
                    st = await handle.query(AlertWorkflow.state)
                    if len([c for c in st.copies if c.ts]) == len(CHANNELS):
                        break
                    await asyncio.sleep(0.02)
                posted.append(time.perf_counter() - t0)
                await asyncio.sleep(3 * TIMEOUT)  # let any straggler land before counting
                for channel in CHANNELS:
                    mine = [
                        m
                        for m in standin.messages(channel)
                        if ((m.get("metadata") or {}).get("event_payload") or {}).get("alert")
                        == body["id"]
                    ]
                    copies[len(mine)] += 1
            calls = Counter(c["method"] for c in standin.journal()) - before
            slack = sorted(m for m in calls if m.startswith(("chat", "conv")))
            per = {m: calls[m] / alerts for m in slack}
            print(
                f"{case:<40} intake->posted p50={statistics.median(posted):5.2f}s "
                f"max={max(posted):5.2f}s  copies/channel {dict(copies)}  calls/alert {per}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=5)
    asyncio.run(run(parser.parse_args().alerts))
