"""Issue 9, "bad input never answers 500": one test per finding, against the whole app (real
Temporal, SQLite and PostgreSQL, the Slack stand-in). Each refusal must be a clear 4xx in the
one error shape, small, and must change nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.errors import KINDS
from tests.api.harden_support import AUTH, new_alert, running_app, settings_for, signed
from tools.slack_standin import StandIn

MB = 1024 * 1024


@pytest.fixture
async def app_client(
    temporal_env: WorkflowEnvironment, backend_url: str, standin: StandIn
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(settings_for(temporal_env, backend_url, standin.base_url)) as pair:
        yield pair


@pytest.fixture
def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


def assert_error(resp: httpx.Response, status: int, *words: str) -> dict:
    """The one error shape: `error` and `detail` strings, `problems` lines, nothing echoed."""
    assert resp.status_code == status, (resp.status_code, resp.text[:2000])
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["error"] == KINDS[status]  # stable across Python versions, one per status
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["problems"], list)
    assert all(isinstance(p, str) for p in body["problems"])
    text = (body["detail"] + " ".join(body["problems"])).lower()
    for word in words:
        assert word.lower() in text, (word, body)
    assert "input" not in json.dumps(body.get("errors", [])), body
    return body


async def assert_not_stored(client: httpx.AsyncClient, alert_id: str) -> None:
    resp = await client.get(f"/alerts/{alert_id}", headers=AUTH)
    assert resp.status_code == 404, resp.text


# ---- intake ----------------------------------------------------------------------------------


async def test_intake_accepts_a_good_alert(client: httpx.AsyncClient) -> None:
    # The control: the same fixture takes a good alert, so the refusals below mean something.
    alert = new_alert()
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    assert resp.status_code == 201, resp.text
    assert (await client.get(f"/alerts/{alert['id']}", headers=AUTH)).status_code == 200


async def test_intake_created_at_without_timezone_is_422(client: httpx.AsyncClient) -> None:
    alert = new_alert(created_at="2026-11-30T07:00:00")
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    assert_error(resp, 422, "created_at", "timezone")
    await assert_not_stored(client, alert["id"])


@pytest.mark.parametrize(
    "created_at", ["0001-01-01T00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]
)
async def test_intake_created_at_outside_utc_range_is_422(
    client: httpx.AsyncClient, created_at: str
) -> None:
    # Year 1 at +14:00 is year 0 in UTC; every store and Temporal work in UTC.
    alert = new_alert(created_at=created_at)
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    if created_at.endswith("Z"):  # the earliest UTC instant itself is fine
        assert resp.status_code == 201, resp.text
        return
    assert_error(resp, 422, "created_at")
    await assert_not_stored(client, alert["id"])


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
async def test_intake_needs_a_json_content_type(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    alert = new_alert()
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    resp = await client.post("/alerts", content=json.dumps(alert).encode(), headers=headers)
    assert_error(resp, 415, "application/json")
    await assert_not_stored(client, alert["id"])


@pytest.mark.parametrize(
    ("where", "raw"),
    [
        ("title", '"title": "login \\ud800 from"'),
        ("first_event", '"first_event": {"user": "\\udfff"}'),
        ("events", '"events": [{"k\\ud83d": 1}]'),
    ],
)
async def test_intake_lone_surrogate_is_422(
    client: httpx.AsyncClient, where: str, raw: str
) -> None:
    alert = new_alert()
    body = json.dumps(alert)[:-1] + ", " + raw + "}"
    if where == "title":
        body = body.replace('"title": "Console login from a new country", ', "")
    resp = await client.post(
        "/alerts", content=body.encode(), headers=AUTH | {"Content-Type": "application/json"}
    )
    assert_error(resp, 422, where)
    await assert_not_stored(client, alert["id"])


async def test_intake_a_good_surrogate_pair_is_fine(client: httpx.AsyncClient) -> None:
    alert = new_alert()
    body = json.dumps(alert)[:-1] + ', "first_event": {"user": "\\ud83d\\ude00"}}'
    resp = await client.post(
        "/alerts", content=body.encode(), headers=AUTH | {"Content-Type": "application/json"}
    )
    assert resp.status_code == 201, resp.text


async def test_intake_surrogate_bytes_are_refused(client: httpx.AsyncClient) -> None:
    # UTF-8-encoded surrogates (CESU-8) are not UTF-8; Python's json module would let them in.
    alert = new_alert()
    body = json.dumps(alert).encode().replace(b"new country", b"new \xed\xa0\x80 country")
    resp = await client.post(
        "/alerts", content=body, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert 400 <= resp.status_code < 500, resp.text
    assert_error(resp, resp.status_code)
    await assert_not_stored(client, alert["id"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "login\u0000from"), ("first_event", {"k": "a\u0000b"}), ("rule_name", "\u0000")],
)
async def test_intake_nul_is_422(client: httpx.AsyncClient, field: str, value: object) -> None:
    # PostgreSQL text cannot hold U+0000 (a 500 there); refused alike on every backend.
    alert = new_alert(**{field: value})
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    assert_error(resp, 422, field, "U+0000")
    await assert_not_stored(client, alert["id"])


async def test_intake_nesting_deeper_than_stores_go_is_422(client: httpx.AsyncClient) -> None:
    # pydantic's serializer (store payload, Temporal) gives up near 255 levels: a 500 before.
    deep: object = "leaf"
    for _ in range(300):
        deep = [deep]
    alert = new_alert(first_event={"deep": deep})
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    assert_error(resp, 422, "first_event", "nested deeper")
    await assert_not_stored(client, alert["id"])


async def test_destinations_needs_a_json_content_type(client: httpx.AsyncClient) -> None:
    body = json.dumps({"name": "plain", "channel": "C0PLAIN"}).encode()
    resp = await client.post(
        "/destinations", content=body, headers=AUTH | {"Content-Type": "text/plain"}
    )
    assert_error(resp, 415, "application/json")
    listed = await client.get("/destinations", headers=AUTH)
    assert "plain" not in [d["name"] for d in listed.json()]


async def test_a_channel_id_longer_than_the_store_keeps_is_422(client: httpx.AsyncClient) -> None:
    """Found by Schemathesis on PostgreSQL: a 36-character channel id answered 500 there (the
    column holds 32) and was silently kept whole on SQLite."""
    body = {"name": "too-long", "channel": "C" + "A" * 35}
    resp = await client.post("/destinations", json=body, headers=AUTH)
    assert_error(resp, 422, "channel")
    listed = await client.get("/destinations", headers=AUTH)
    assert "too-long" not in [d["name"] for d in listed.json()]


@pytest.mark.parametrize(
    ("method", "url", "where"),
    [
        ("GET", "/alerts/a%00b", "alert_id"),
        ("GET", "/alerts?assignee=%00", "assignee"),
        ("GET", "/console?assignee=x%00", "assignee"),
        ("DELETE", "/destinations/%00", "destination_id"),
        ("POST", "/alerts/%00/assignee", "alert_id"),
    ],
)
async def test_nul_in_the_url_is_422(
    client: httpx.AsyncClient, method: str, url: str, where: str
) -> None:
    # PostgreSQL refuses U+0000 even in a lookup (a 500); refused alike on every backend.
    body = {"assignee_id": None, "user": "carol"} if method == "POST" else None
    resp = await client.request(method, url, headers=AUTH, json=body)
    assert_error(resp, 422, where, "U+0000")


@pytest.mark.parametrize(
    ("url", "form", "where"),
    [
        ("/console/alerts/a%00b/status", {"status": "Triaged"}, "alert_id"),
        ("/console/alerts/a%00b/assignee", {"assignee_id": "U0ALICE"}, "alert_id"),
        ("/console/admin/tokens/tok%00x/revoke", {}, "token_id"),
        ("/console/admin/tokens", {"name": "a\x00b", "scope": "full"}, "name"),
    ],
)
async def test_nul_in_a_console_form_post_is_422(
    client: httpx.AsyncClient, url: str, form: dict[str, str], where: str
) -> None:
    """The review found these answering 500 on PostgreSQL (the REST routes were checked)."""
    resp = await client.post(url, headers=AUTH, data=form)
    assert_error(resp, 422, where, "U+0000")


# ---- before authentication -------------------------------------------------------------------

INTERACTION = b"payload=" + quote(json.dumps({"type": "view_closed", "view": {}})).encode()


async def test_interaction_control_is_accepted(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/slack/interactions", content=INTERACTION, headers=signed(INTERACTION)
    )
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("timestamp", ["soon", "", "1e9", "٣", "9" * 5000, " 1 ", "-"])
async def test_slack_non_numeric_timestamp_is_401(
    client: httpx.AsyncClient, timestamp: str
) -> None:
    headers = signed(INTERACTION)
    headers["X-Slack-Request-Timestamp"] = timestamp
    resp = await client.post(
        "/slack/interactions",
        content=INTERACTION,
        headers={k: v.encode() for k, v in headers.items()},
    )
    assert_error(resp, 401)


@pytest.mark.parametrize("signature", ["v0=é", "v0=" + "ä" * 64, "v0=\u00ff" * 3])
async def test_slack_non_ascii_signature_is_401(client: httpx.AsyncClient, signature: str) -> None:
    headers = {k: v.encode() for k, v in signed(INTERACTION).items()}
    headers["X-Slack-Signature"] = signature.encode("latin-1")
    resp = await client.post("/slack/interactions", content=INTERACTION, headers=headers)
    assert_error(resp, 401)


@pytest.mark.parametrize("path", ["/alerts", "/destinations"])
async def test_non_ascii_bearer_token_is_401(client: httpx.AsyncClient, path: str) -> None:
    for token in ("é", "harden-api-tokén", "\u00ff" * 40):
        headers = {"Authorization": b"Bearer " + token.encode("latin-1")}
        resp = await client.get(path, headers=headers)
        assert_error(resp, 401, "token")
        assert resp.headers["www-authenticate"] == "Bearer"


async def test_non_ascii_cookie_gets_the_login_page(client: httpx.AsyncClient) -> None:
    cookie = {"Cookie": "parley_session=tok\u00e9n".encode("latin-1"), "Accept": b"text/html"}
    console = await client.get("/console", headers=cookie)
    assert console.status_code == 401 and "Enter the API token" in console.text
    page = await client.get("/alerts/some-id", headers=cookie)
    assert page.status_code == 401 and "Enter the API token" in page.text


# ---- size cap on /slack/interactions ---------------------------------------------------------


class CountingBody:
    """A request body streamed in chunks, counting how much of it the app asked for."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"payload=" if self.sent == self.chunk else b"x" * self.chunk


async def test_interactions_refuse_a_huge_streamed_body_early(client: httpx.AsyncClient) -> None:
    body = CountingBody(20 * MB)
    headers = signed(b"whatever") | {"Transfer-Encoding": "chunked"}
    resp = await client.post("/slack/interactions", content=body, headers=headers)
    assert_error(resp, 413)
    assert body.sent <= 2 * MB, f"read {body.sent} bytes of a 20 MB body before refusing"


async def test_interactions_refuse_a_huge_content_length_up_front(
    client: httpx.AsyncClient,
) -> None:
    body = CountingBody(20 * MB)
    headers = signed(b"whatever") | {"Content-Length": str(20 * MB)}
    resp = await client.post("/slack/interactions", content=body, headers=headers)
    assert_error(resp, 413)
    assert body.sent == 0, f"read {body.sent} bytes despite a 20 MB Content-Length"


async def test_interactions_take_a_large_real_payload(client: httpx.AsyncClient) -> None:
    # A view near Slack's 250 kB cap, percent-encoded, stays under the limit.
    view = {"id": "V1", "blocks": [{"type": "section", "text": "é" * 2900}] * 40}
    payload = json.dumps({"type": "view_closed", "view": view}, ensure_ascii=False)
    raw = b"payload=" + quote(payload).encode()
    assert len(raw) > 500_000
    resp = await client.post("/slack/interactions", content=raw, headers=signed(raw))
    assert resp.status_code == 200, resp.text


# ---- no echo, bounded answers ----------------------------------------------------------------


async def test_422_does_not_echo_the_input(client: httpx.AsyncClient) -> None:
    big = "A" * 300_000
    alert = new_alert(severity=big, summary_attributes={big: {"nested": True}})
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    body = assert_error(resp, 422, "severity", "summary_attributes")
    assert len(resp.content) < 8_000, len(resp.content)
    assert "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in resp.text
    assert "input" not in body


async def test_many_problems_are_capped(client: httpx.AsyncClient) -> None:
    alert = new_alert(summary_attributes={f"k{i}": {"x": 1} for i in range(5_000)})
    resp = await client.post("/alerts", json=alert, headers=AUTH)
    body = assert_error(resp, 422, "summary_attributes")
    assert len(body["problems"]) <= 25
    assert "more" in body["problems"][-1]
    assert len(resp.content) < 8_000, len(resp.content)


async def test_http_errors_are_bounded(client: httpx.AsyncClient) -> None:
    resp = await client.get("/alerts", params={"status": "S" * 6_000}, headers=AUTH)
    assert_error(resp, 422, "status must be one of")
    assert len(resp.content) < 4_000, len(resp.content)


async def test_every_error_has_one_shape(client: httpx.AsyncClient) -> None:
    # A validation error, a refusal raised by a route, auth, not found, wrong method.
    cases = [
        (await client.post("/alerts", json={}, headers=AUTH), 422),
        (
            await client.post(
                "/alerts/nope/status", json={"status": "Resolved", "user": "u"}, headers=AUTH
            ),
            422,
        ),
        (await client.get("/alerts"), 401),
        (await client.get("/alerts/no-such-alert", headers=AUTH), 404),
        (await client.delete("/destinations/none", headers=AUTH), 404),
        (await client.put("/alerts", headers=AUTH), 405),
        (await client.get("/no/such/route"), 404),
    ]
    for resp, status in cases:
        assert_error(resp, status)


def test_a_rest_callers_free_text_name_never_passes_for_a_slack_user() -> None:
    """The review: `"user": "U0ALICE"` in a REST body was taken as Alice closing the alert."""
    from api.alerts import _console_actor
    from parley.domain import Actor
    from workflows.alert_effects import AlertEffects

    assert AlertEffects.slack_person(_console_actor("U0ALICE")) is None
    signed_in = Actor(source="console", id="U0ALICE", name="Alice")  # a console session's actor
    assert AlertEffects.slack_person(signed_in) == "U0ALICE"
