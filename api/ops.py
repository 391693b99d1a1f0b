"""Operating the API: /healthz (alive), /readyz (can serve), /metrics (Prometheus), and the
middleware that measures every request.

The middleware is plain ASGI (no BaseHTTPMiddleware): it only wraps `send` to see the status,
and reads the matched route template from the scope after routing, so a label is
`/alerts/{alert_id}`, never an alert id.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley import metrics
from parley.health import readiness

router = APIRouter(include_in_schema=False)
SLACK_PATH = "/slack/interactions"
# Every route an alert arrives by (its own shape, Panther's webhook, a named mapping).
INTAKE_ROUTES = {"/alerts", "/alerts/panther", "/alerts/in/{name}", "/alerts/in/{name}/{secret}"}


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        template = str(getattr(route, "path", "") or "<unmatched>")
        method = str(scope.get("method", ""))
        metrics.HTTP_REQUESTS.labels(method, template, str(status)).inc()
        metrics.HTTP_SECONDS.labels(method, template).observe(seconds)
        if template == SLACK_PATH:
            metrics.SLACK_ACK_SECONDS.observe(seconds)
        elif template in INTAKE_ROUTES and method == "POST":
            metrics.INTAKE.labels(metrics.intake_outcome(status)).inc()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP (a liveness probe: restart it if not)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, response: Response) -> dict[str, Any]:
    """Database reachable with its schema at head, and Temporal reachable (a readiness probe:
    send no traffic while 503). Clicks and alerts are still taken while not ready (the outbox
    queues them), so this is for load balancers and deploys, not a kill switch."""
    from api.deps import temporal_client

    client = await temporal_client(request.app)
    ready, checks = await readiness(request.app.state.db, client)
    response.status_code = 200 if ready else 503
    return {"status": "ready" if ready else "not ready", "checks": checks}


@router.get("/metrics")
async def prometheus() -> Response:
    return Response(generate_latest(metrics.API), media_type=CONTENT_TYPE_LATEST)
