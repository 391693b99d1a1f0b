"""Start the API and the worker as two processes on one fresh database, in a given order.

Run by tests/ops/test_start_order.py: `python -m tests.ops.start_race ROUNDS URL...` (one URL
per round, every database empty). Each round forks two children from this pre-imported process
(a fork costs milliseconds; a fresh interpreter would cost seconds per round on this machine):
one runs the API's real start-up (create_app's lifespan: schema, destination seeding, Temporal,
outbox relay), the other the worker's (worker.open_store), the second a few milliseconds after
the first, alternating which goes first. Prints one JSON line per round.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import traceback
from pathlib import Path

from sqlalchemy import func, select

from api.app import create_app
from parley.settings import Settings
from parley.store.db import Database, current_revision, head_revision
from parley.store.models import DestinationRow
from worker import open_store

ROOT = Path(__file__).resolve().parents[2]


def settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        temporal_address=os.environ["RACE_TEMPORAL_ADDRESS"],
        parley_insecure_dev=True,
        parley_destinations=str(ROOT / "examples" / "destinations.yaml"),
        slack_api_base_url="http://127.0.0.1:9/api/",
        parley_schema_wait_seconds=60,
    )


async def api_start(url: str) -> None:
    app = create_app(settings(url))
    async with app.router.lifespan_context(app):
        async with app.state.db.session() as s:
            seeded = (await s.execute(select(func.count()).select_from(DestinationRow))).scalar()
        assert seeded, "the API started but seeded no destinations"


async def worker_start(url: str) -> None:
    db = await open_store(settings(url))
    try:
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


def child(role: str, url: str) -> None:
    code = 0
    try:
        asyncio.run(api_start(url) if role == "api" else worker_start(url))
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no atexit handlers of the parent in a forked child


def fork(role: str, url: str) -> int:
    pid = os.fork()
    if pid == 0:
        child(role, url)
    return pid


async def check(url: str) -> tuple[str | None, int]:
    db = Database(url)
    try:
        async with db.session() as s:
            seeded = (await s.execute(select(func.count()).select_from(DestinationRow))).scalar()
        return await current_revision(db), int(seeded or 0)
    finally:
        await db.dispose()


def main() -> None:
    urls = sys.argv[1:]
    head = head_revision()
    for n, url in enumerate(urls):
        order = ("api", "worker") if n % 2 == 0 else ("worker", "api")
        started = time.monotonic()
        first = fork(order[0], url)
        time.sleep(random.uniform(0.0, 0.03))
        second = fork(order[1], url)
        codes = {
            order[0]: os.waitstatus_to_exitcode(os.waitpid(first, 0)[1]),
            order[1]: os.waitstatus_to_exitcode(os.waitpid(second, 0)[1]),
        }
        revision, seeded = asyncio.run(check(url))
        print(
            json.dumps(
                {
                    "round": n,
                    "order": list(order),
                    "exit": codes,
                    "at_head": revision == head,
                    "destinations": seeded,
                    "seconds": round(time.monotonic() - started, 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
