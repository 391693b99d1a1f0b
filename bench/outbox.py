"""The outbox (issue 9): what it costs with Temporal up, and what people see while it is away.

Prints figures; asserts nothing. `python bench/outbox.py [--db sqlite|postgresql] [--n N]`.

1. Cost of the fast path, in-process: a bare signal vs. the same signal through the outbox
   (insert, signal, delete).
2. Over HTTP with Temporal up: click ack, intake answer.
3. Temporal stopped: click acks (the first one pays the fast path's budget), intake answers.
4. Temporal started again: time until the outbox is empty and every queued click is applied.
5. The database locked by another connection: time to the intake's 503.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.outbox import Outbox
from parley.domain import Actor, DestinationIn, Status
from parley.settings import Settings
from parley.slack.ui import ids
from parley.store import repo
from parley.store.db import Database, migrate
from parley.store.models import OutboxRow
from tools.devstack import ApiServer, dev_server_options
from tools.slack_standin import StandIn
from worker import build_worker
from workflows.alert import AlertWorkflow
from workflows.alert_types import AlertState, StatusChange

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<40} n={len(ms):<4} p50={pct(ms, 50):7.1f} ms  p95={pct(ms, 95):7.1f} ms  "
        f"max={max(ms):7.1f} ms  mean={statistics.mean(ms):7.1f} ms"
    )


def alert(i: int) -> dict:
    return {
        "id": f"bench-{uuid.uuid4().hex[:10]}-{i}",
        "title": f"Bench alert {i}",
        "severity": "High",
        "rule_id": "Bench.Rule",
        "created_at": "2026-11-30T07:00:00Z",
    }


async def database(kind: str, tmp: Path, cleanup: AsyncExitStack) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    name = f"parley_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    cleanup.push_async_callback(drop)
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def run(kind: str, n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def start_temporal() -> WorkflowEnvironment:
        return await WorkflowEnvironment.start_local(
            port=port, dev_server_database_filename=str(tmp / "t.db"), **dev_server_options()
        )

    async with AsyncExitStack() as cleanup:
        env = await start_temporal()
        temporal = {"env": env}  # stopped last, after the worker (it is restarted mid-run)

        async def stop_temporal() -> None:
            await temporal["env"].shutdown()

        cleanup.push_async_callback(stop_temporal)
        standin = StandIn(signing_secret="bench", bot_token="xoxb-bench", rate_limit_scale=100.0)
        standin.start()
        cleanup.callback(standin.stop)
        settings = Settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench",
            slack_api_base_url=standin.base_url,
            temporal_address=f"127.0.0.1:{port}",
            temporal_task_queue=f"bench-{uuid.uuid4().hex[:6]}",
            database_url=await database(kind, tmp, cleanup),
        )
        migrate(settings.database_url)
        db = Database(settings.database_url)
        cleanup.push_async_callback(db.dispose)
        for name, channel in (("a", "C0ALERTS"), ("b", "C0CRIT")):
            await repo.create_destination(db, DestinationIn(name=name, channel=channel))
        client = await Client.connect(
            settings.temporal_address, data_converter=pydantic_data_converter
        )
        server = ApiServer(settings)
        api_url = await asyncio.to_thread(server.start)
        cleanup.push_async_callback(asyncio.to_thread, server.stop)
        standin.interactivity_url = f"{api_url}/slack/interactions"
        worker = build_worker(client, settings, db)
        worker_task = asyncio.create_task(worker.run())

        async def stop_worker() -> None:
            await worker.shutdown()
            await worker_task

        cleanup.push_async_callback(stop_worker)
        http = await cleanup.enter_async_context(httpx.AsyncClient(base_url=api_url, timeout=30))

        async def posted(body: dict) -> AlertState:
            handle = client.get_workflow_handle(f"alert-{body['id']}")
            while True:
                try:
                    st = await handle.query(AlertWorkflow.state)
                    if len([c for c in st.copies if c.ts]) == 2:
                        return st
                except Exception:
                    pass
                await asyncio.sleep(0.02)

        # 2. Over HTTP, Temporal up (intake first: its alerts are the click targets).
        intake_up, states = [], []
        for i in range(n):
            body = alert(i)
            t0 = time.perf_counter()
            resp = await http.post("/alerts", json=body)
            intake_up.append(time.perf_counter() - t0)
            assert resp.status_code == 201, resp.text
            states.append(await posted(body))
        acks_up = []
        for st in states:
            copy = st.copies[0]
            res = await standin.driver.click(
                "U0ALICE", copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
            )
            acks_up.append(res.elapsed)

        # 1. The fast path's cost, in-process, on the same alerts.
        app = SimpleNamespace(
            state=SimpleNamespace(db=Database(settings.database_url), settings=settings)
        )
        app.state.temporal = client
        outbox = Outbox(app)
        bare, through = [], []
        actor = Actor(source="console", id="bench", name="bench")
        for i, st in enumerate(states * 2):
            change = StatusChange(status=Status.OPEN, actor=actor, key=f"bench-{uuid.uuid4()}")
            handle = client.get_workflow_handle(f"alert-{st.alert.id}")
            t0 = time.perf_counter()
            if i % 2:
                await handle.signal(AlertWorkflow.set_status, change)
                bare.append(time.perf_counter() - t0)
            else:
                await outbox.submit_signal(
                    workflow_id=f"alert-{st.alert.id}",
                    alert_id=st.alert.id,
                    signal=AlertWorkflow.set_status,
                    arg=change,
                    summary="bench",
                )
                through.append(time.perf_counter() - t0)
        await app.state.db.dispose()

        # 3. Temporal stopped.
        await env.shutdown()
        acks_down, intake_down = [], []
        for st in states:
            copy = st.copies[0]
            res = await standin.driver.click(
                "U0BOB", copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user="U0CAROL"
            )
            acks_down.append(res.elapsed)
        for i in range(n):
            t0 = time.perf_counter()
            resp = await http.post("/alerts", json=alert(1000 + i))
            intake_down.append(time.perf_counter() - t0)
            assert resp.status_code == 202, resp.text
        await asyncio.sleep(10)  # the relay's backoff reaches its ceiling

        # 4. Temporal back.
        temporal["env"] = await start_temporal()
        t0 = time.perf_counter()
        while True:
            async with db.session() as s:
                left = (await s.execute(select(func.count()).select_from(OutboxRow))).scalar()
            if not left:
                break
            await asyncio.sleep(0.05)
        emptied = time.perf_counter() - t0
        for st in states:
            handle = client.get_workflow_handle(f"alert-{st.alert.id}")
            while (await handle.query(AlertWorkflow.state)).assignee_id != "U0CAROL":
                await asyncio.sleep(0.05)
        applied = time.perf_counter() - t0

        # 5. The database locked (SQLite: a writer holds it; PostgreSQL: LOCK TABLE).
        locked = []
        if kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(str(tmp / "bench.db"), isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
        else:
            pg = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
            tx = pg.transaction()
            await tx.start()
            await pg.execute("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE")
        for i in range(3):
            t0 = time.perf_counter()
            resp = await http.post("/alerts", json=alert(2000 + i))
            locked.append(time.perf_counter() - t0)
            assert resp.status_code == 503, resp.text
        if kind == "sqlite":
            conn.execute("ROLLBACK")
            conn.close()
        else:
            await tx.rollback()
            await pg.close()

        print(f"Parley outbox, {kind}, n={n}, 2-core machine shared with other work")
        print(line("bare signal (in-process)", bare))
        print(line("signal through the outbox (in-process)", through))
        print(line("intake, Temporal up (201)", intake_up))
        print(line("click ack, Temporal up", acks_up))
        print(line("click ack, Temporal stopped", acks_down))
        print(f"{'  of which the first':<40} {acks_down[0] * 1000:7.1f} ms")
        print(line("intake, Temporal stopped (202)", intake_down))
        print(
            f"{'Temporal back -> outbox empty':<40} {emptied * 1000:7.1f} ms "
            f"({len(states) + n} items)"
        )
        print(f"{'Temporal back -> every click applied':<40} {applied * 1000:7.1f} ms")
        print(line("intake, database locked (503)", locked))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.db, args.n))
