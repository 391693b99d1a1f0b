"""Storms in the API: the console's storm pages and JSON, and digest modals Parley must refuse
even when their metadata is genuinely signed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from api import console, console_storms
from api.slack_common import FORM_NOT_OURS
from parley.domain import AlertIn, Destination, Severity
from parley.settings import Settings
from parley.slack.ui import ids
from parley.store import repo, storms
from parley.store.db import Database
from parley.store.models import StormRow
from tests.api.test_forged import KEY, _client, _send, _settings, _submission

AUTH = {"Authorization": "Bearer t"}
BROWSER = {"Accept": "text/html", "Authorization": "Bearer t"}
XSS = "<script>alert(1)</script>"
DEST = Destination(id="d1", name="security", channel="C0ALERTS")


@pytest.fixture
async def app(db: Database) -> FastAPI:
    async with db.session() as s:
        await s.execute(delete(StormRow))
    app = FastAPI()
    app.include_router(console.router)
    app.include_router(console_storms.router)
    app.state.db = db
    app.state.settings = Settings(parley_api_token="t")
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://parley") as c:
        yield c


async def _storm(db: Database, make_alert: Callable[..., AlertIn]) -> list[AlertIn]:
    alerts = [make_alert(title=f"{XSS} {i}", severity=Severity.LOW) for i in range(3)]
    for a in alerts:
        await repo.claim_alert(db, a, f"alert-{a.id}")
    t = datetime.now(UTC)
    await storms.record_storm(
        db,
        storm_id="s1",
        workflow_id="storm-C0ALERTS-rule.login",
        destination=DEST,
        rule_id="rule.login",
        rule_name=XSS,
        started_at=t - timedelta(minutes=5),
        last_at=t,
        ended_at=None,
        member_count=3,
        counts={"Low": 3},
        members=[(a.id, t + timedelta(seconds=i), i == 0) for i, a in enumerate(alerts)],
        permalink="javascript:alert(1)",
    )
    return alerts


@pytest.mark.parametrize("path", ["/storms", "/storms/s1"])
async def test_storm_json_needs_the_token(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401
    page = await client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 401 and 'action="/auth/token"' in page.text


async def test_storms_as_json(
    client: httpx.AsyncClient, db: Database, make_alert: Callable[..., AlertIn]
) -> None:
    alerts = await _storm(db, make_alert)
    listed = (await client.get("/storms", headers=AUTH)).json()
    assert [(s["storm_id"], s["member_count"], s["ended_at"]) for s in listed] == [("s1", 3, None)]
    detail = (await client.get("/storms/s1", headers=AUTH)).json()
    assert [m["alert_id"] for m in detail["members"]] == [a.id for a in reversed(alerts)]
    assert [m["posted"] for m in detail["members"]] == [False, False, True]
    missing = await client.get("/storms/nope", headers=AUTH)
    assert missing.status_code == 404
    assert (await client.get("/storms?limit=0", headers=AUTH)).status_code == 422


async def test_storm_pages_escape_and_link(
    client: httpx.AsyncClient, db: Database, make_alert: Callable[..., AlertIn]
) -> None:
    alerts = await _storm(db, make_alert)
    listing = await client.get("/storms", headers=BROWSER)
    assert listing.status_code == 200
    assert 'href="/storms/s1"' in listing.text and "open" in listing.text
    page = await client.get("/storms/s1", headers=BROWSER)
    assert page.status_code == 200
    for html in (listing.text, page.text):
        assert XSS not in html and "&lt;script&gt;" in html
    assert all(f'href="/alerts/{a.id}"' in page.text for a in alerts)
    assert "javascript:" not in page.text  # only http(s) links
    assert "posted on its own" in page.text and "in the digest" in page.text
    alert_page = await client.get(f"/alerts/{alerts[1].id}", headers=BROWSER)
    assert 'id="storms"' in alert_page.text and 'href="/storms/s1"' in alert_page.text
    assert (await client.get("/storms/nope", headers=BROWSER)).status_code == 404


@pytest.fixture
async def slack() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(_settings()):
        yield client


@pytest.mark.parametrize(
    "ref",
    [
        # Signed by Parley, but not something a digest's modal ever carries.
        ids.StormRef(storm_id="s1", workflow_id="alert-a-1", status="Resolved"),
        ids.StormRef(storm_id="s1", workflow_id="storm-C0ALERTS-R", status="Open"),
        ids.StormRef(storm_id="s1", workflow_id="storm-C0ALERTS-R"),
    ],
    ids=["not a storm", "not a bulk status", "no status"],
)
async def test_a_bulk_form_for_anything_but_a_storm_is_refused(
    slack: httpx.AsyncClient, ref: ids.StormRef
) -> None:
    metadata = ids.ModalMetadata(KEY).seal(ids.STORM_BULK_MODAL, ref)
    values = {ids.STORM_COMMENT_BLOCK: {ids.STORM_COMMENT_ACTION: {"value": "noise"}}}
    resp = await _send(slack, _submission(ids.STORM_BULK_MODAL, metadata, values))
    assert resp.json() == {
        "response_action": "errors",
        "errors": {ids.STORM_COMMENT_BLOCK: FORM_NOT_OURS},
    }
