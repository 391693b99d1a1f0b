"""FastAPI application factory. The lifespan opens the database and the Temporal client, and
runs the outbox relay (api/relay.py).

`uvicorn api.app:app` serves the default app; tests build their own with `create_app(settings)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from fastapi import Depends, FastAPI, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from api import alerts, errors, ops, slack
from api.body_limit import BodyLimit
from api.deps import require_token, storable_form, storable_input
from api.outbox import Outbox
from api.relay import Relay
from parley import tracing
from parley.intake.mapping import load_mappings
from parley.logs import configure_logging
from parley.settings import Settings, check_production_safety, get_settings
from parley.slack.client import make_slack_client
from parley.store.db import Database, StoreUnavailable, prepare_schema, unavailable
from parley.temporal import connect

log = logging.getLogger("parley.api")
RETRY_AFTER_SECONDS = 5
STORE_RETRY_SECONDS = 2.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production_safety(settings)  # no public secrets, no open API outside a local stack

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A short wait: a locked or absent database is a quick 503, not a 15 s hang.
        app.state.db = Database(settings.database_url, timeout=settings.database_timeout_seconds)
        app.state.slack = make_slack_client(
            settings.slack_bot_token, settings.slack_api_base_url, timeout=2
        )
        store_ready = await _prepare_store(app.state.db, settings)
        try:
            app.state.temporal = await connect(
                settings, interceptors=tracing.set_up(settings, "parley-api")
            )
        except Exception as exc:  # the API still answers Slack and serves the console
            log.error("Temporal unreachable at start-up (%s); the outbox relay retries", exc)
            app.state.temporal = None
        app.state.outbox = Outbox(app)
        relay = Relay(app.state.outbox)
        if store_ready is None:
            relay.start()
        else:  # the outbox table may not exist yet: relay once the store is ready
            store_ready.add_done_callback(
                lambda t: relay.start() if not t.cancelled() and t.exception() is None else None
            )
        socket = None
        if settings.slack_app_token:  # Socket Mode (issue 13): no public URL needed
            from api.socket_mode import SocketModeListener

            socket = SocketModeListener(app, settings)
            socket.start()
        try:
            yield
        finally:
            if store_ready is not None:
                store_ready.cancel()
            if socket is not None:
                await socket.stop()
            await relay.stop()
            await app.state.db.dispose()

    # /docs is served from the installed swagger-ui-bundle (api/docs.py): FastAPI's default
    # loads Swagger UI from a CDN, a blank page offline.
    app = FastAPI(title="Parley", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    # A mappings file that cannot be used stops start-up here, saying where and why.
    app.state.mappings = load_mappings(settings.parley_intake_mappings)
    app.state.temporal = None

    app.add_middleware(
        BodyLimit,
        default=json_body_limit(settings),
        per_path={
            "/slack/interactions": slack.MAX_BODY_BYTES,
            "/slack/events": slack.MAX_BODY_BYTES,
        },
    )
    # Every error answer has one shape (api/errors.py), whichever layer refused the request.
    app.add_exception_handler(RequestValidationError, errors.on_validation_error)
    app.add_exception_handler(HTTPException, errors.on_http_error)
    app.add_exception_handler(Exception, errors.on_crash)

    @app.exception_handler(StoreUnavailable)
    async def _store_unavailable(_: object, exc: StoreUnavailable) -> Response:
        log.warning("answering 503: %s", exc)
        return errors.error_response(
            503,
            "the database is unavailable; nothing was changed, retry later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    # Outermost, so it times everything, including the body limit's refusals.
    app.add_middleware(ops.RequestMetrics)
    app.include_router(ops.router)
    tracing.instrument_app(settings, app)

    app.include_router(
        alerts.router,
        # The token first (FastAPI runs a dependency once per request), then the body checks.
        dependencies=[Depends(require_token), Depends(storable_input)],
        responses=errors.responses(400, 401, 413, 415, 422, 503),
    )
    app.include_router(
        alerts.secret_router,
        dependencies=[Depends(storable_input)],
        responses=errors.responses(400, 413, 415, 422, 503),
    )
    app.include_router(slack.router)
    _include_console(app)

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        return errors.document_errors(default_openapi())

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _prepare_store(db: Database, settings: Settings) -> asyncio.Task[None] | None:
    """Schema at head (never after the worker: migrate under the database's lock, or wait for a
    migration job), then the destinations seeded. A database that is down does not stop the
    API (it answers 503 and still takes clicks through Temporal, and /readyz says why): the
    same steps are retried in the background until it is back. Returns that task, or None
    when the store was ready at once."""

    async def prepare() -> None:
        await prepare_schema(
            db, settings.parley_migrate_on_start, settings.parley_schema_wait_seconds
        )
        if settings.parley_destinations:
            from parley.store import repo

            count = await repo.seed_destinations(db, settings.parley_destinations)
            log.info("seeded %d destinations from %s", count, settings.parley_destinations)

    async def retry() -> None:
        while True:
            await asyncio.sleep(STORE_RETRY_SECONDS)
            try:
                await prepare()
            except Exception as exc:
                if not unavailable(exc):
                    raise
                continue
            log.warning("database reachable again: schema at head")
            return

    try:
        await prepare()
    except Exception as exc:
        if not unavailable(exc):
            raise
        log.error("database unavailable at start-up (%s); retrying in the background", exc)
        return asyncio.get_running_loop().create_task(retry(), name="parley-prepare-store")
    return None


def json_body_limit(settings: Settings) -> int:
    """Bytes a JSON request body may have: the largest alert, pretty-printed or \\u-escaped."""
    return max(4 * settings.max_alert_bytes, 64 * 1024)


def _include_console(app: FastAPI) -> None:
    from api import (
        api_tokens,
        console,
        console_admin,
        console_auth,
        console_changes,
        console_storms,
        destinations,
        docs,
    )

    # Its HTML pages check the token themselves (a sign-in page, not a 401).
    app.include_router(console.router, dependencies=[Depends(storable_input)])
    app.include_router(console_storms.router, dependencies=[Depends(storable_input)])
    app.include_router(destinations.router)
    app.include_router(api_tokens.router)
    # Sessions, Sign in with Slack (OIDC) and roles; the change forms post form data, checked
    # by the session's CSRF token (api/console_auth.py).
    console_auth.install(app, app.state.settings)
    app.include_router(console_changes.router, dependencies=[Depends(storable_form)])
    app.include_router(console_admin.router, dependencies=[Depends(storable_form)])
    docs.install(app)


@lru_cache(maxsize=1)
def _served_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings)  # the served process's logging; tests keep their own
    return create_app(settings)


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.app:app` builds the app on first access (once), not at import time.
    if name == "app":
        return _served_app()
    raise AttributeError(name)
