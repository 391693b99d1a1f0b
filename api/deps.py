"""FastAPI dependencies shared by the routers: settings, database, Temporal client, auth."""

from __future__ import annotations

import asyncio
import hmac
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request, status

if TYPE_CHECKING:
    from parley.settings import Settings
    from parley.store.db import Database


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


async def temporal_client(app: Any) -> Any | None:
    """The app's Temporal client, connecting now if start-up could not."""
    if app.state.temporal is None:
        from parley.temporal import connect

        try:
            app.state.temporal = await asyncio.wait_for(connect(app.state.settings), 2.0)
        except Exception:
            return None
    return app.state.temporal


async def get_temporal(request: Request) -> Any:
    client = await temporal_client(request.app)
    if client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Temporal is not reachable")
    return client


TOKEN_COOKIE = "parley_token"


def token_ok(request: Request, allow_cookie: bool = False) -> bool:
    """The bearer token (or, for the HTML console, the cookie its login sets) is right."""
    expected = request.app.state.settings.parley_api_token
    if not expected:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected):
        return True
    cookie = request.cookies.get(TOKEN_COOKIE, "") if allow_cookie else ""
    return bool(cookie) and hmac.compare_digest(cookie, expected)


def require_token(request: Request) -> None:
    """Bearer-token check for the REST API (PARLEY_API_TOKEN). Empty token = auth off (dev)."""
    if not token_ok(request):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong bearer token (PARLEY_API_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )
