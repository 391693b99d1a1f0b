"""The benchmark harness: its journal view, its figures, and one benchmark run end to end.

Benchmarks assert nothing about speed; these tests check that what they read and print is right
(which call belongs to which alert, when a message changed) and that a run starts the stack as
processes, prints its figures and leaves nothing behind.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from bench.report import pct, spread
from bench.slack import StandInClient, alert_posts, first_update, slack_floor
from bench.standin_server import journal_app
from tools.slack_standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-bench-test"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = StandIn(bot_token=TOKEN, rate_limits=False).start()
    yield s
    s.stop()


@pytest_asyncio.fixture
async def stub(standin: StandIn) -> AsyncIterator[StandInClient]:
    standin.reset()
    server = TestServer(journal_app(standin), host="127.0.0.1")
    await server.start_server()
    client = StandInClient(standin.url, str(server.make_url("")).rstrip("/"))
    yield client
    await client.close()
    await server.close()


def parley_metadata(alert_id: str, key: str) -> dict[str, object]:
    # The shape activities/slack.py gives every message it posts.
    return {"event_type": "parley_message", "event_payload": {"key": key, "alert": alert_id}}


async def test_journal_tells_which_post_is_an_alert_and_when_its_message_changed(
    standin: StandIn, stub: StandInClient
) -> None:
    slack = AsyncWebClient(token=TOKEN, base_url=standin.base_url)
    post = await slack.chat_postMessage(
        channel="C0ALERTS", text="alert", metadata=parley_metadata("a-1", "alert/a-1/d")
    )
    await slack.chat_postMessage(
        channel="C0ALERTS",
        text="reply",
        thread_ts=post["ts"],
        metadata=parley_metadata("a-1", "reply/a-1/d/r1"),
    )
    await slack.chat_postMessage(channel="C0ALERTS", text="someone else's message")
    await slack.chat_update(channel="C0ALERTS", ts=post["ts"], text="alert, triaged")

    posts = alert_posts(await stub.calls("chat.postMessage"))
    assert [(p.alert_id, p.channel, p.ts) for p in posts] == [("a-1", "C0ALERTS", post["ts"])]
    updates = await stub.calls("chat.update")
    changed = first_update(updates, "C0ALERTS", post["ts"], after=posts[0].at)
    assert changed is not None and changed >= posts[0].at
    assert first_update(updates, "C0ALERTS", post["ts"], after=changed + 1) is None
    assert first_update(updates, "C0CRIT", post["ts"], after=0) is None


async def test_journal_is_read_incrementally_and_counts_rate_limited_calls(
    standin: StandIn, stub: StandInClient
) -> None:
    slack = AsyncWebClient(token=TOKEN, base_url=standin.base_url)
    await slack.chat_postMessage(channel="C0ALERTS", text="one")
    assert len(await stub.calls(None)) == 1
    standin.inject_fault("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(Exception, match="ratelimited"):
        await slack.chat_postMessage(channel="C0ALERTS", text="two")
    await slack.chat_postMessage(channel="C0ALERTS", text="three")
    calls = await stub.calls(None)
    assert [c.status for c in calls] == [200, 429, 200]
    assert [c.method for c in await stub.calls("chat.postMessage")] == ["chat.postMessage"] * 3


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 51)]
    assert pct(values, 99) == 50.0  # of 50 clicks, p99 is the slowest
    assert pct(values, 50) == 25.0
    assert pct([0.2], 99) == 0.2
    assert math.isnan(pct([], 50))
    assert spread([0.010, 0.020, 0.300]) == "20 ms / 300 ms"


@pytest.mark.slow
def test_history_events_benchmark_runs_the_stack_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEMPORAL_"))}
    env["TMPDIR"] = str(tmp_path)  # the run's folder (logs, databases) goes here
    run = subprocess.run(
        [sys.executable, "-m", "bench.history_events"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    row = re.search(r"^post to 2 \+ triage \+ resolve\s+(\d+) events\s+<= 40", run.stdout, re.M)
    assert row, run.stdout
    steps = re.findall(r"^step: .*?\s+(\d+) events", run.stdout, re.M)
    assert len(steps) == 5 and all(int(n) > 0 for n in steps), run.stdout
    assert int(row.group(1)) < sum(int(n) for n in steps)
    assert list(tmp_path.glob("parley-bench-*")) == []  # its folder is gone
    # ...and so are its processes: every one of them had that folder in its environment.
    assert processes_mentioning(str(tmp_path)) == []


def processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_slack_floor_for_one_channel_is_a_post_a_second_after_the_burst() -> None:
    assert slack_floor(3) == 0.0  # the burst
    assert slack_floor(100) == 97.0  # ~1/s per channel binds before 300/min per workspace
    assert slack_floor(1000) == 997.0
