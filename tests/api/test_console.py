"""The console and destinations routers, mounted on a tiny app per test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from api import console, console_auth, destinations
from parley.domain import Actor, AlertIn, HistoryEntry, Severity, SlackCopy, Status
from parley.settings import Settings
from parley.store import repo
from parley.store.db import Database
from parley.store.views import AlertDetail
from tests.store.store_support import T0

AUTH = {"Authorization": "Bearer t"}
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# A browser with the API token (the console takes it like a session; sign-in: test_console_auth).
BROWSER = {"Accept": ACCEPT_HTML, "Authorization": "Bearer t"}
XSS = "<script>alert(1)</script>"
MakeAlert = Callable[..., AlertIn]


@pytest.fixture
async def app(db: Database) -> FastAPI:
    app = FastAPI()
    app.include_router(console.router)
    app.include_router(destinations.router)
    app.state.db = db
    app.state.settings = Settings(parley_api_token="t")
    console_auth.install(app, app.state.settings)
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://parley") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/alerts"),
        ("GET", "/alerts/some-id"),
        ("GET", "/destinations"),
        ("POST", "/destinations"),
        ("DELETE", "/destinations/x"),
    ],
)
async def test_token_required(client: httpx.AsyncClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "t"}):
        r = await client.request(method, path, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert "token" in r.json()["detail"]


async def test_list_and_filters(client: httpx.AsyncClient, db: Database, make_alert: MakeAlert):
    low, high = make_alert(severity=Severity.LOW), make_alert(severity=Severity.HIGH)
    for a in (low, high):
        await repo.claim_alert(db, a, "wf")
    await repo.update_alert_projection(
        db,
        high.id,
        status=Status.TRIAGED,
        assignee_id="U1",
        assignee_name="Alice",
        resolution_comment=None,
    )

    async def ids(**params: str | int) -> list[str]:
        r = await client.get("/alerts", params=params, headers=AUTH)
        assert r.status_code == 200, r.text
        return [a["alert_id"] for a in r.json()["items"]]

    assert await ids() == [high.id, low.id]
    assert await ids(status="Triaged") == [high.id]
    assert await ids(status="open") == [low.id]  # case-insensitive
    assert await ids(severity="Low") == [low.id]
    assert await ids(assignee="U1") == [high.id]
    assert await ids(status="") == [high.id, low.id]  # empty = any

    r = await client.get("/alerts", params={"limit": 1}, headers=AUTH)
    body = r.json()
    assert [a["alert_id"] for a in body["items"]] == [high.id]
    assert body["items"][0]["assignee_name"] == "Alice"
    r = await client.get(
        "/alerts", params={"limit": 1, "cursor": body["next_cursor"]}, headers=AUTH
    )
    assert [a["alert_id"] for a in r.json()["items"]] == [low.id]
    assert r.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "Closed"}, "status must be one of Open, Triaged, Resolved, Invalid"),
        ({"severity": "Urgent"}, "severity must be one of Info, Low"),
        ({"cursor": "not-a-cursor"}, "invalid cursor"),
    ],
)
async def test_list_bad_values(client: httpx.AsyncClient, params: dict[str, str], message: str):
    r = await client.get("/alerts", params=params, headers=AUTH)
    assert r.status_code == 422
    assert message in r.json()["detail"]


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
async def test_list_bad_limit(client: httpx.AsyncClient, limit: str) -> None:
    r = await client.get("/alerts", params={"limit": limit}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "limit"]


async def _full_alert(db: Database, make_alert: MakeAlert) -> AlertIn:
    alert = make_alert(
        title=f"Login from {XSS}",
        runbook="1. <b>check</b> & escalate",
        summary_attributes={"user<img src=x>": ['bob"><script>x()</script>']},
    )
    await repo.claim_alert(db, alert, "wf-detail")
    for i, (frm, to) in enumerate([("Open", "Triaged"), ("Triaged", "Resolved")]):
        await repo.record_history(
            db,
            HistoryEntry(
                alert_id=alert.id,
                key=f"k{i}",
                at=T0 + timedelta(minutes=i),
                actor=Actor(source="slack", id="U2", name="<i>mallory</i>"),
                action="status_changed",
                from_value=frm,
                to_value=to,
                comment="closing <b>now</b>" if to == "Resolved" else None,
            ),
        )
    await repo.update_alert_projection(
        db,
        alert.id,
        status=Status.RESOLVED,
        assignee_id="U1",
        assignee_name="Alice",
        resolution_comment="benign",
    )
    await repo.save_slack_copy(
        db,
        alert.id,
        SlackCopy(destination_id="d1", destination_name="soc", channel="C0SOC", ts="1.2"),
        "https://acme.slack.com/archives/C0SOC/p12",
    )
    await repo.save_slack_copy(
        db,
        alert.id,
        SlackCopy(destination_id="d2", destination_name="evil", channel="C0EVIL", ts="3.4"),
        "javascript:alert(1)",
    )
    return alert


async def test_detail_json(client: httpx.AsyncClient, db: Database, make_alert: MakeAlert):
    alert = await _full_alert(db, make_alert)
    r = await client.get(f"/alerts/{alert.id}", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["vary"] == "Accept"
    detail = AlertDetail.model_validate(r.json())
    assert detail.title == alert.title and detail.status is Status.RESOLVED
    assert [(h.from_value, h.to_value) for h in detail.history] == [
        ("Open", "Triaged"),
        ("Triaged", "Resolved"),
    ]
    assert detail.slack_copies[0].permalink == "https://acme.slack.com/archives/C0SOC/p12"

    r = await client.get("/alerts/nope", headers=AUTH)
    assert r.status_code == 404 and r.json() == {"detail": "alert nope not found"}
    # An explicit JSON preference still gets JSON (and still needs the token).
    r = await client.get(f"/alerts/{alert.id}", headers={"Accept": "application/json"})
    assert r.status_code == 401


async def test_detail_html_escapes(client: httpx.AsyncClient, db: Database, make_alert: MakeAlert):
    alert = await _full_alert(db, make_alert)
    r = await client.get(f"/alerts/{alert.id}", headers=BROWSER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<script>" not in page and "<img" not in page and "<i>mallory" not in page
    assert "Login from &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1. &lt;b&gt;check&lt;/b&gt; &amp; escalate" in page  # runbook
    assert "user&lt;img src=x&gt;" in page and "bob&#34;&gt;&lt;script&gt;" in page
    assert "closing &lt;b&gt;now&lt;/b&gt;" in page and "&lt;i&gt;mallory&lt;/i&gt;" in page
    assert 'href="https://acme.slack.com/archives/C0SOC/p12"' in page
    assert "javascript:" not in page  # an unsafe permalink is not linked
    # The timeline in words, one name for the person in every row.
    assert page.count("&lt;i&gt;mallory&lt;/i&gt; changed status Open → Triaged") == 1
    assert "&lt;i&gt;mallory&lt;/i&gt; changed status Triaged → Resolved" in page
    assert "#soc" in page and "#evil" in page  # copies by channel name
    assert "Alice" in page and "benign" in page
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]

    r = await client.get("/alerts/nope%3Cx%3E", headers=BROWSER)
    assert r.status_code == 404 and "nope&lt;x&gt; not found" in r.text


async def test_html_pages_ask_to_sign_in_first(
    client: httpx.AsyncClient, db: Database, make_alert: MakeAlert
) -> None:
    alert = await _full_alert(db, make_alert)
    for extra in ({}, {"Authorization": "Bearer wrong"}, {"Cookie": "parley_session=forged"}):
        for path in (f"/alerts/{alert.id}", "/console", f"/console/alerts/{alert.id}/live"):
            r = await client.get(path, headers={"Accept": ACCEPT_HTML, **extra})
            assert r.status_code == 401, path
            assert "alert(1)" not in r.text  # nothing leaks
            if not path.endswith("/live"):
                assert 'action="/auth/token"' in r.text and 'name="csrf"' in r.text


async def test_console_list_page(client: httpx.AsyncClient, db: Database, make_alert: MakeAlert):
    client.headers.update(BROWSER)
    alerts = [make_alert(title=f"{XSS} #{i}", severity=Severity.CRITICAL) for i in range(3)]
    alerts.append(make_alert(title="quiet", severity=Severity.INFO))
    for a in alerts:
        await repo.claim_alert(db, a, "wf")
    r = await client.get("/console")
    assert r.status_code == 200 and "<script>" not in r.text
    assert r.text.count("&lt;script&gt;alert(1)&lt;/script&gt; #") == 3
    assert f'href="/alerts/{alerts[0].id}"' in r.text

    r = await client.get("/console", params={"severity": "info"})
    assert "quiet" in r.text and "&lt;script&gt;" not in r.text
    assert "<option selected>Info</option>" in r.text

    r = await client.get("/console", params={"severity": "critical", "limit": 2})
    assert r.text.count("&lt;script&gt;alert(1)") == 2
    more = re.search(r'href="(/console\?[^"]+)">Older', r.text)
    assert more is not None
    r = await client.get(more.group(1).replace("&amp;", "&"))
    assert r.text.count("&lt;script&gt;alert(1)") == 1 and "quiet" not in r.text

    r = await client.get("/console", params={"status": "<b>bogus</b>"})
    assert r.status_code == 422 and "&lt;b&gt;bogus&lt;/b&gt;" in r.text and "<b>" not in r.text


async def test_destinations_api(client: httpx.AsyncClient) -> None:
    assert (await client.get("/destinations", headers=AUTH)).json() == []
    body = {"name": "soc", "channel": "C0SOC", "min_severity": "High"}
    r = await client.post("/destinations", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] and created["min_severity"] == "High" and created["rule_ids"] == []

    r = await client.post("/destinations", json=body | {"channel": "C0DUP"}, headers=AUTH)
    assert r.status_code == 409 and "soc" in r.json()["detail"]
    for bad in (
        {"name": "x", "channel": "#soc"},
        {"name": "", "channel": "C0X"},
        {"name": "x", "channel": "C0X", "min_severity": "Huge"},
        {"name": "x", "channel": "C0X", "unknown": 1},
    ):
        r = await client.post("/destinations", json=bad, headers=AUTH)
        assert r.status_code == 422, bad

    listed = (await client.get("/destinations", headers=AUTH)).json()
    assert listed == [created]
    r = await client.delete(f"/destinations/{created['id']}", headers=AUTH)
    assert r.status_code == 204 and r.content == b""
    r = await client.delete(f"/destinations/{created['id']}", headers=AUTH)
    assert r.status_code == 404
    assert (await client.get("/destinations", headers=AUTH)).json() == []


async def test_docs_work_offline() -> None:
    """/docs loads Swagger UI from the installed package, never from a CDN."""
    from api.app import create_app

    app = create_app(Settings(parley_insecure_dev=True))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://parley") as c:
        page = await c.get("/docs")
        assert page.status_code == 200
        scripts = re.findall(r'<script src="([^"]+)"', page.text)
        assert scripts == ["/docs-assets/swagger-ui-bundle.js"]
        assert "cdn" not in page.text.lower()
        for asset in (*scripts, "/docs-assets/swagger-ui.css"):
            r = await c.get(asset)
            assert r.status_code == 200 and len(r.content) > 10_000, asset


async def test_list_filters_sort_counts_and_open_boomerangs(
    client: httpx.AsyncClient, db: Database, make_alert: MakeAlert
) -> None:
    client.headers.update(BROWSER)
    a = make_alert(title="Root login 100%_real", rule_id="AWS.Root", rule_name="Root use")
    b = make_alert(title="Port scan", rule_id="Net.Scan")
    c = make_alert(title="Another root login", rule_id="AWS.Root", rule_name="Root use")
    for i, alert in enumerate((a, b, c)):
        alert.created_at = T0 + timedelta(minutes=i)
        await repo.claim_alert(db, alert, "wf")
    await repo.update_alert_projection(
        db, c.id, status=Status.TRIAGED, assignee_id="U1", assignee_name="Alice",
        resolution_comment=None,
    )  # fmt: skip
    for key, action in (("b1/asked", "asked"), ("b2/asked", "asked"), ("b2/answered", "answered")):
        await repo.record_history(
            db,
            HistoryEntry(
                alert_id=a.id, key=f"boomerang/{key}", at=T0, actor=Actor(source="system"),
                action=f"boomerang_{action}",
            ),
        )  # fmt: skip

    async def ids(**params: str) -> list[str]:
        r = await client.get("/alerts", params=params, headers=AUTH)
        assert r.status_code == 200, r.text
        return [x["alert_id"] for x in r.json()["items"]]

    assert await ids(rule="aws.root") == []  # ids match exactly; names case-insensitively
    assert await ids(rule="AWS.Root") == [c.id, a.id]
    assert await ids(rule="root use", sort="oldest") == [a.id, c.id]
    assert await ids(q="ROOT LOGIN") == [c.id, a.id]
    assert await ids(q="100%_") == [a.id]  # LIKE wildcards are literal
    assert await ids(q="0%") == [a.id] and await ids(q="_") == [a.id]
    assert await ids(q=b.id) == [b.id]
    r = await client.get("/alerts", params={"sort": "sideways"}, headers=AUTH)
    assert r.status_code == 422 and "sort must be newest or oldest" in r.json()["detail"]

    page = await client.get("/console", params={"rule": "AWS.Root"})
    counts = re.sub(r"\s+", " ", page.text.split('id="counts"')[1].split("</p>")[0])
    assert ">All 2<" in counts and ">Open 1<" in counts and ">Triaged 1<" in counts
    assert ">Resolved 0<" in counts
    row = page.text.split(f'data-alert="{a.id}"')[1].split("</tr>")[0]
    assert "1 open" in row  # b1 is waiting; b2 was answered
    oldest = await client.get("/console", params={"sort": "oldest"})
    assert oldest.text.index(a.id) < oldest.text.index(b.id) < oldest.text.index(c.id)
