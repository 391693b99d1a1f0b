"""Load for the benchmarks: alerts, calls with a fixed number in flight, bare Temporal starts;
and polling until something holds."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.client import Client

NOOP_QUEUE = "bench-noop"
# POST /alerts: new, duplicate, or queued for a later start (an outbox would answer 202).
ACCEPTED = ("200", "201", "202")
T = TypeVar("T")


@dataclass
class Burst:
    """A batch of calls made with a fixed number in flight."""

    latencies: list[float]  # seconds, one per call
    wall: float  # seconds from the first call sent to the last answered
    started: float  # epoch seconds
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else float("nan")

    @property
    def accepted(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome in ACCEPTED)

    @property
    def refused(self) -> dict[str, int]:
        """Outcomes other than accepted: HTTP statuses or exception names."""
        return {k: n for k, n in self.outcomes.items() if k not in ACCEPTED}


async def burst(items: Sequence[T], concurrency: int, call: Callable[[T], Awaitable[str]]) -> Burst:
    """`call(item)` for every item, `concurrency` at a time; `call` returns an outcome label."""
    pending = iter(items)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()

    async def lane() -> None:
        for item in pending:  # shared iterator: each lane takes the next item
            t0 = time.perf_counter()
            outcomes[await call(item)] += 1
            latencies.append(time.perf_counter() - t0)

    started = time.time()
    t0 = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return Burst(latencies, time.perf_counter() - t0, started, outcomes)


def make_alert(
    run: str, i: int, *, rule_id: str = "Bench.Rule", severity: str = "High"
) -> dict[str, Any]:
    """An alert shaped like examples/alert.json: IPs in the summary, a runbook, a first event."""
    return {
        "id": f"bench-{run}-{i:05d}",
        "title": f"Console login from a new country for user{i}@example.com",
        "severity": severity,
        "rule_id": rule_id,
        "rule_name": "AWS console login from a new country",
        "log_type": "AWS.CloudTrail",
        "runbook": "Confirm with the user. If it was not them, disable the access keys.",
        "created_at": "2026-11-30T07:00:00Z",
        "summary_attributes": {
            "p_any_ip_addresses": [f"203.0.113.{i % 250 + 1}", "10.0.4.12"],
            "p_any_usernames": [f"user{i}"],
        },
        "event_count": 3,
        "first_event": {
            "eventName": "ConsoleLogin",
            "sourceIPAddress": f"203.0.113.{i % 250 + 1}",
            "userIdentity": {"type": "IAMUser", "userName": f"user{i}"},
            "responseElements": {"ConsoleLogin": "Success"},
        },
    }


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


@workflow.defn(name="BenchNoop")
class BenchNoop:
    """The bare reference for intake: a workflow that does nothing. Started, never run."""

    @workflow.run
    async def run(self) -> None:
        return None


async def bare_starts(client: Client, count: int, concurrency: int) -> Burst:
    """`client.start_workflow` of a trivial workflow, `concurrency` in flight."""
    run = new_run_id()

    async def start(i: int) -> str:
        await client.start_workflow(BenchNoop.run, id=f"noop-{run}-{i}", task_queue=NOOP_QUEUE)
        return "started"

    return await burst(range(count), concurrency, start)


async def wait_until(
    check: Callable[[], Awaitable[T]], *, timeout: float, what: str, interval: float = 0.2
) -> T:
    """Poll `check` until it returns something truthy; TimeoutError naming `what` if never."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(interval)
