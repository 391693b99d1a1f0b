"""Property-based: whatever arrives at intake or at the Slack interactivity endpoint, the answer
is a 2xx or a 4xx, and a 4xx is the one small error shape. Generated alerts and interaction
bodies, signed and unsigned, with odd headers, odd content types and odd encodings, go to the
whole app (real Temporal, SQLite and PostgreSQL, the Slack stand-in)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from api.errors import ErrorBody
from parley.slack.ui import ids
from tests.api.harden_support import AUTH, TOKEN, running_app, settings_for, signed
from tools.slack_standin import StandIn

EXAMPLES = 100
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # One app per test, shared by its examples on purpose: it is the thing under test.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, lone surrogates and NUL included: JSON can carry them all as \u escapes.
TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: Python's json reads and writes them
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
OFFSETS = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
DATETIMES = st.datetimes(timezones=st.none() | OFFSETS).map(lambda d: d.isoformat())
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True) | TEXT,
    "title": TEXT,
    "severity": st.sampled_from(["Info", "Low", "Medium", "High", "Critical", "high", ""]),
    "rule_id": TEXT,
    "rule_name": TEXT,
    "created_at": DATETIMES | TEXT,
    "summary_attributes": st.dictionaries(TEXT, JSON, max_size=3),
    "event_count": st.integers(min_value=-5, max_value=2**65),
    "first_event": JSON,
    "events": st.lists(JSON, max_size=3),
}
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/vnd.parley+json",
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/",
        ";;;",
        "application/json\u00e9",
    ]
)
# Header values are bytes on the wire; anything an HTTP parser lets through (no CR, LF, NUL).
HEADER_VALUES = st.binary(max_size=80).map(
    lambda b: bytes(c for c in b if c not in b"\r\n\x00").strip()
)


@pytest.fixture
async def client(
    temporal_env: WorkflowEnvironment, backend_url: str, standin: StandIn
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings_for(temporal_env, backend_url, standin.base_url)) as pair:
        yield pair[1]


def assert_answered(resp: httpx.Response, *, documented: bool = True) -> None:
    """2xx, or a small 4xx; in the one error shape on the documented API (Slack's endpoint is
    not in the schema, and Slack does not read error bodies)."""
    assert resp.status_code < 500, (resp.status_code, resp.text[:2000])
    assert len(resp.content) < 16_000, len(resp.content)
    if resp.status_code >= 400 and documented:
        ErrorBody.model_validate_json(resp.content)


# ---- intake --------------------------------------------------------------------------------


@st.composite
def alert_bodies(draw: st.DrawFn) -> bytes:
    """A good alert with some fields replaced, dropped or added, encoded one way or another."""
    alert: dict[str, Any] = {
        "id": f"p-{draw(st.uuids()).hex[:16]}",
        "title": "Console login from a new country",
        "severity": "High",
        "rule_id": "AWS.Console.LoginFromNewCountry",
        "created_at": "2026-11-30T07:00:00Z",
    }
    for field in draw(st.sets(st.sampled_from(sorted(FIELD_VALUES)), max_size=3)):
        alert[field] = draw(FIELD_VALUES[field] if draw(st.integers(0, 3)) else JSON)
    if not draw(st.integers(0, 7)):
        del alert[draw(st.sampled_from(sorted(alert)))]
    if not draw(st.integers(0, 7)):
        alert[draw(TEXT)] = draw(JSON)
    encoding = draw(st.sampled_from(["json"] * 3 + ["json-utf8"] * 3 + ["raw", "not-an-object"]))
    if encoding == "raw":
        return draw(st.binary(max_size=200))
    body: Any = alert if encoding != "not-an-object" else draw(JSON)
    text = json.dumps(body, ensure_ascii=encoding == "json")
    return text.encode("utf-8", "surrogatepass")


# Mostly the right token, so that most examples get past auth to the interesting part.
INTAKE_AUTH = st.integers(0, 9).flatmap(
    lambda n: (
        st.just(AUTH)
        if n < 7
        else st.sampled_from([{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
        | HEADER_VALUES.map(lambda v: {"Authorization": b"Bearer " + v})
    )
)
# Mostly JSON, as a real sender would.
INTAKE_CONTENT_TYPES = st.integers(0, 3).flatmap(
    lambda n: st.just("application/json") if n else CONTENT_TYPES
)


@PROPERTY
@given(body=alert_bodies(), content_type=INTAKE_CONTENT_TYPES, auth=INTAKE_AUTH)
async def test_intake_answers_2xx_or_4xx(
    client: httpx.AsyncClient, body: bytes, content_type: str | None, auth: dict[str, Any]
) -> None:
    headers: dict[str, Any] = dict(auth)
    if content_type is not None:
        headers["Content-Type"] = content_type.encode("latin-1")
    resp = await client.post("/alerts", content=body, headers=headers)
    event(f"status {resp.status_code}")  # --hypothesis-show-statistics shows the spread
    assert_answered(resp)
    if resp.status_code in (200, 201):  # accepted means stored, and readable back
        alert_id = resp.json()["alert_id"]
        stored = await client.get(f"/alerts/{quote(alert_id, safe='')}", headers=AUTH)
        assert stored.status_code == 200, stored.text


async def test_intake_property_is_not_vacuous(client: httpx.AsyncClient) -> None:
    # The generator does produce alerts the app takes, and the app does refuse bad tokens.
    good = json.dumps(
        {
            "id": "p-good",
            "title": "t",
            "severity": "Low",
            "rule_id": "r",
            "created_at": "2026-11-30T07:00:00+14:00",
        }
    ).encode()
    json_type = {"Content-Type": "application/json"}
    assert (await client.post("/alerts", content=good, headers=AUTH | json_type)).status_code in (
        200,
        201,
    )
    wrong = {"Authorization": f"Bearer {TOKEN}x"} | json_type
    assert (await client.post("/alerts", content=good, headers=wrong)).status_code == 401


# ---- interactivity -------------------------------------------------------------------------

ACTION_IDS = (
    st.sampled_from(
        [
            ids.VIEW_IN_CONSOLE,
            ids.UPDATE_STATUS,
            ids.SET_ASSIGNEE,
            ids.SHOW_DETAILS,
            ids.THREAT_INTEL,
            ids.BOOMERANG,
            ids.BOOMERANG_YES,
            ids.BOOMERANG_NO,
            ids.BOOMERANG_REPLY,
        ]
    )
    | TEXT
)
CALLBACK_IDS = (
    st.sampled_from(
        [ids.RESOLVE_MODAL, ids.INTEL_MODAL, ids.BOOMERANG_MODAL, ids.BOOMERANG_REPLY_MODAL]
    )
    | TEXT
)
USER = st.fixed_dictionaries(
    {"id": st.sampled_from(["U0ALICE", "U0BOB"]) | TEXT},
    optional={"name": TEXT | JSON, "username": TEXT, "team_id": TEXT},
)
REFS = st.builds(
    lambda alert_id: ids.AlertRef(alert_id=alert_id).dump(), st.sampled_from(["a-1", ""]) | TEXT
)
ACTION = st.fixed_dictionaries(
    {"action_id": ACTION_IDS},
    optional={
        "value": REFS | TEXT | JSON,
        "block_id": st.builds(ids.actions_block_id, TEXT, st.integers(0, 3)) | TEXT,
        "selected_option": st.fixed_dictionaries({"value": TEXT | st.just("Resolved")}) | JSON,
        "selected_user": TEXT | st.just("U0BOB"),
        "action_ts": TEXT,
    },
)
VIEW = st.fixed_dictionaries(
    {"callback_id": CALLBACK_IDS},
    optional={
        "id": TEXT,
        "private_metadata": REFS | TEXT,
        "state": st.fixed_dictionaries({"values": st.dictionaries(TEXT, JSON, max_size=3)}) | JSON,
    },
)
KIND = st.sampled_from(["block_actions", "view_submission", "view_closed"])
PAYLOAD = st.fixed_dictionaries(
    {
        "type": KIND,
        "user": USER,
        "actions": st.lists(ACTION, min_size=1, max_size=2),
        "view": VIEW,
        "trigger_id": st.just("13345224609.738474920.8088930838d88f008e0") | TEXT,
        # Loopback only: a refusal is told through response_url after the ack.
        "response_url": st.just("http://127.0.0.1:9/hook"),
    },
    optional={"channel": JSON, "container": JSON},
)


@st.composite
def interaction_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["payload"] * 6 + ["form", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=200))
    if kind == "form":
        pairs = draw(st.lists(st.tuples(TEXT, TEXT), max_size=3))
        return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()
    payload: Any = draw(PAYLOAD)
    # Now and then one part is something else entirely, or missing, or all of it is.
    odd = draw(st.sampled_from(["none", "none", "none", "replace", "drop", "all"]))
    key = draw(st.sampled_from(sorted(payload)))
    if odd == "replace":
        payload[key] = draw(JSON | TEXT)
    elif odd == "drop":
        del payload[key]
    elif odd == "all":
        payload = draw(JSON)
    text = json.dumps(payload, ensure_ascii=draw(st.booleans()))
    return b"payload=" + quote(text, errors="surrogatepass").encode()


@st.composite
def interaction_headers(draw: st.DrawFn, body: bytes) -> tuple[str, dict[str, Any]]:
    how = draw(st.sampled_from(["signed", "signed", "stale", "other-secret", "odd", "none"]))
    now = int(time.time())
    headers: dict[str, Any] = {}
    if how == "signed":
        headers = signed(body)
    elif how == "stale":
        headers = signed(body, timestamp=now - draw(st.integers(301, 10**6)))
    elif how == "other-secret":
        headers = signed(body, secret="not-the-secret")
    elif how == "odd":
        headers = signed(body)
        headers["X-Slack-Request-Timestamp"] = draw(HEADER_VALUES)
        headers["X-Slack-Signature"] = draw(HEADER_VALUES | st.just(b"v0=" + b"0" * 64))
    content_type = draw(CONTENT_TYPES)
    if content_type is not None:
        headers["Content-Type"] = content_type.encode("latin-1")
    return how, headers


@PROPERTY
@given(data=st.data())
async def test_interactions_answer_2xx_or_4xx(
    client: httpx.AsyncClient, data: st.DataObject
) -> None:
    body = data.draw(interaction_bodies(), label="body")
    how, headers = data.draw(interaction_headers(body), label="headers")
    resp = await client.post("/slack/interactions", content=body, headers=headers)
    event(f"{how}: status {resp.status_code}")
    assert_answered(resp, documented=False)
    if resp.status_code < 300:  # only Slack's own requests get past the signature
        assert how == "signed", (how, resp.status_code)
