"""The worker's own small HTTP server (PARLEY_WORKER_HTTP_ADDRESS): /healthz, /readyz, /metrics.

aiohttp, which Parley already depends on (slack-sdk's async client), on the worker's event
loop: /healthz answering at all shows the loop is not stuck. /metrics serves Parley's worker
counters; the two gauges read Temporal visibility at scrape time, so they hold across restarts
and are the same on every worker (aggregate them with max, not sum).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from temporalio.client import Client

from parley import metrics
from parley.health import readiness
from parley.store.db import Database

log = logging.getLogger("parley.worker")
COUNT_TIMEOUT_SECONDS = 2.0
OPEN_BOOMERANGS = 'WorkflowType="BoomerangWorkflow" AND ExecutionStatus="Running"'
OPEN_STORMS = 'WorkflowType="StormWorkflow" AND ExecutionStatus="Running"'


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "0.0.0.0", int(port)


class WorkerHttp:
    def __init__(self, db: Database, client: Client, address: str) -> None:
        self.db = db
        self.client = client
        self.host, self.port = split_address(address)
        self.stopping = False
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def start(self) -> int:
        """Serve; returns the bound port (0 in the address picks a free one)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else self.port
        log.info("worker health and metrics on http://%s:%d", self.host, bound)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "stopping" if self.stopping else "ok"})

    async def readyz(self, _: web.Request) -> web.Response:
        ready, checks = await readiness(self.db, self.client)
        ready = ready and not self.stopping
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(self, _: web.Request) -> web.Response:
        await self._refresh_gauges()
        body = generate_latest(metrics.WORKER)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _refresh_gauges(self) -> None:
        for gauge, query in (
            (metrics.BOOMERANGS_OPEN, OPEN_BOOMERANGS),
            (metrics.STORMS_OPEN, OPEN_STORMS),
        ):
            try:
                found = await asyncio.wait_for(
                    self.client.count_workflows(query), COUNT_TIMEOUT_SECONDS
                )
            except Exception as exc:  # Temporal away: keep the last value, say why once
                log.debug("could not count open workflows (%s)", exc)
                continue
            gauge.set(found.count)
