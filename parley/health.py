"""Readiness: can this process do its job right now? Shared by the API's /readyz and the worker's.

Ready means the database answers, its schema is at the code's head revision, and Temporal's
frontend answers a health check. Each check is bounded, so a dead dependency makes /readyz
answer 503 quickly instead of hanging the prober.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import Client

from parley.store.db import Database, current_revision, head_revision

CHECK_TIMEOUT_SECONDS = 2.0


async def _database(db: Database) -> dict[str, Any]:
    revision = await asyncio.wait_for(current_revision(db), CHECK_TIMEOUT_SECONDS)
    head = head_revision()
    if revision != head:
        return {"database": "ok", "schema": f"at {revision}, waiting for {head}"}
    return {"database": "ok", "schema": "ok"}


async def _temporal(client: Client | None) -> str:
    if client is None:
        return "not connected"
    ok = await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS))
    return "ok" if ok else "not serving"


async def readiness(db: Database, client: Client | None) -> tuple[bool, dict[str, str]]:
    """(ready, one word or short reason per dependency)."""
    checks: dict[str, str] = {}
    try:
        checks.update(await _database(db))
    except Exception as exc:  # any failure is "not ready", with the reason shown
        checks.update(database=_reason(exc), schema="unknown")
    try:
        checks["temporal"] = await _temporal(client)
    except Exception as exc:
        checks["temporal"] = _reason(exc)
    return all(v == "ok" for v in checks.values()), checks


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    first = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:200]
