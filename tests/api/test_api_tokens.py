"""Machine API tokens on the whole app: hashed, scoped (intake / full), revocable; a refused
request changes nothing. PARLEY_API_TOKEN stays the bootstrap admin token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from parley.store.models import ApiTokenRow
from tests.api.harden_support import AUTH, new_alert, running_app, settings_for
from tools.slack_standin import StandIn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def app_client(
    temporal_env: WorkflowEnvironment, backend_url: str, standin: StandIn
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(settings_for(temporal_env, backend_url, standin.base_url)) as pair:
        yield pair


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_scoped_and_revocable_tokens(app_client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = app_client
    made = {}
    for scope in ("intake", "full"):
        r = await client.post(
            "/api-tokens", json={"name": f"{scope} bot", "scope": scope}, headers=AUTH
        )
        assert r.status_code == 201, r.text
        made[scope] = r.json()
        assert made[scope]["token"].startswith("prl_")
    intake, full = made["intake"]["token"], made["full"]["token"]

    # Only hashes are stored, and the list shows no secret.
    async with app.state.db.session() as s:
        rows = list(await s.scalars(select(ApiTokenRow)))
    assert len(rows) == 2 and all(
        intake not in str(vars(r)) and full not in str(vars(r)) for r in rows
    )
    listed = (await client.get("/api-tokens", headers=AUTH)).json()
    assert {t["scope"] for t in listed} == {"intake", "full"} and all(
        "token" not in t for t in listed
    )

    # intake: sends alerts, and nothing else.
    alert = new_alert()
    r = await client.post("/alerts", json=alert, headers=bearer(intake))
    assert r.status_code in (201, 202), r.text
    # Panther's webhook takes the intake token too: a SIEM never needs the admin one.
    panther = json.loads((ROOT / "examples" / "intake" / "panther.json").read_text())
    panther["alertId"] = f"scoped-{alert['id']}"
    r = await client.post("/alerts/panther", json=panther, headers=bearer(intake))
    assert r.status_code in (201, 202), r.text
    for method, path, body in (
        ("GET", "/alerts", None),
        ("POST", f"/alerts/{alert['id']}/status", {"status": "Invalid", "user": "x"}),
        ("POST", "/destinations", {"name": "x", "channel": "C0X"}),
        ("POST", "/api-tokens", {"name": "more", "scope": "full"}),
    ):
        r = await client.request(method, path, json=body, headers=bearer(intake))
        assert r.status_code == 403, (path, r.text)
    detail = (await client.get(f"/alerts/{alert['id']}", headers=AUTH)).json()
    assert detail["status"] == "Open"
    assert not any(q["kind"] == "signal" for q in detail["queued_items"])
    assert (await client.get("/destinations", headers=AUTH)).json() == []

    # full: the REST API, but it cannot mint tokens.
    assert (await client.get("/alerts", headers=bearer(full))).status_code == 200
    r = await client.post(
        "/api-tokens", json={"name": "more", "scope": "full"}, headers=bearer(full)
    )
    assert r.status_code == 403
    assert len((await client.get("/api-tokens", headers=AUTH)).json()) == 2

    # Revoked, unknown or missing tokens: 401, and nothing is taken.
    r = await client.delete(f"/api-tokens/{made['intake']['id']}", headers=AUTH)
    assert r.status_code == 204
    assert (
        await client.delete(f"/api-tokens/{made['intake']['id']}", headers=AUTH)
    ).status_code == 404
    late = new_alert()
    for headers in (bearer(intake), bearer("prl_unknown"), {}):
        r = await client.post("/alerts", json=late, headers=headers)
        assert r.status_code == 401, r.text
    assert (await client.get(f"/alerts/{late['id']}", headers=AUTH)).status_code == 404
    listed = (await client.get("/api-tokens", headers=AUTH)).json()
    assert next(t for t in listed if t["scope"] == "intake")["revoked_at"] is not None
