"""FastAPI application factory. The lifespan opens the database and the Temporal client, and
runs the outbox relay (api/relay.py).

`uvicorn api.app:app` serves the default app; tests build their own with `create_app(settings)`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api import alerts, slack
from api.console_form import render_change_form
from api.outbox import Outbox
from api.relay import Relay
from parley.settings import Settings, get_settings
from parley.slack.client import make_slack_client
from parley.store.db import Database, StoreUnavailable
from parley.temporal import connect

log = logging.getLogger("parley.api")
RETRY_AFTER_SECONDS = 5


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A short wait: a locked or absent database is a quick 503, not a 15 s hang.
        app.state.db = Database(settings.database_url, timeout=settings.database_timeout_seconds)
        app.state.slack = make_slack_client(
            settings.slack_bot_token, settings.slack_api_base_url, timeout=2
        )
        if settings.parley_destinations:
            from parley.store import repo

            count = await repo.seed_destinations(app.state.db, settings.parley_destinations)
            log.info("seeded %d destinations from %s", count, settings.parley_destinations)
        try:
            app.state.temporal = await connect(settings)
        except Exception as exc:  # the API still answers Slack and serves the console
            log.error("Temporal unreachable at start-up (%s); the outbox relay retries", exc)
            app.state.temporal = None
        app.state.outbox = Outbox(app)
        relay = Relay(app.state.outbox)
        relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await app.state.db.dispose()

    app = FastAPI(title="Parley", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.temporal = None

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable line per problem, plus FastAPI's structured list.
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body')}: {err.get('msg')}"
            for err in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"error": "invalid input", "problems": problems, "detail": exc.errors()},
        )

    @app.exception_handler(StoreUnavailable)
    async def _store_unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("answering 503: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"error": "the database is unavailable; nothing was changed, retry later"},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.state.console_change_form = lambda detail, nonce: render_change_form(
        detail, nonce, token_required=bool(settings.parley_api_token)
    )
    app.include_router(alerts.router)
    app.include_router(slack.router)
    _include_console(app)
    return app


def _include_console(app: FastAPI) -> None:
    from api import console, destinations

    app.include_router(console.router)
    app.include_router(destinations.router)


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.app:app` builds the app on first access, not at import time.
    if name == "app":
        return create_app()
    raise AttributeError(name)
