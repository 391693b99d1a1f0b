"""Property-based, for the sources' own shapes (issue 11): whatever Panther's webhook or a mapped
source sends, the answer is a 2xx or a small 4xx in the one error shape, and an accepted alert
is stored. Same machinery and fixtures as tests/api/test_properties.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from tests.api.harden_support import AUTH, running_app, settings_for
from tests.api.test_properties import DATETIMES, JSON, PROPERTY, TEXT, assert_answered
from tools.slack_standin import StandIn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PANTHER = json.loads((EXAMPLES / "intake" / "panther.json").read_text())
SPLUNK = json.loads((EXAMPLES / "intake" / "splunk.json").read_text())
PANTHER_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": TEXT,
    "createdAt": DATETIMES | TEXT,
    "severity": st.sampled_from(["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL", "high", ""]),
    "type": st.sampled_from(["RULE", "POLICY", "SCHEDULED_RULE", "RULE_ERROR", "SYSTEM_ERROR"]),
    "link": TEXT | st.just("https://x.test/a b"),
    "title": TEXT,
    "name": TEXT | st.none(),
    "alertId": TEXT | st.none(),
    "alertContext": st.dictionaries(TEXT, JSON, max_size=4),
    "description": TEXT | st.none(),
    "runbook": TEXT | st.none(),
    "tags": st.lists(TEXT, max_size=3),
    "version": TEXT | st.none(),
}


@pytest.fixture
async def client(
    temporal_env: WorkflowEnvironment, backend_url: str, standin: StandIn
) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(temporal_env, backend_url, standin.base_url).model_copy(
        update={"parley_intake_mappings": str(EXAMPLES / "intake-mappings.yaml")}
    )
    async with running_app(settings) as pair:
        yield pair[1]


def _mutated(draw: st.DrawFn, base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    body = dict(base)
    for field in draw(st.sets(st.sampled_from(sorted(values)), max_size=3)):
        body[field] = draw(values[field] if draw(st.integers(0, 3)) else JSON)
    if not draw(st.integers(0, 5)):
        del body[draw(st.sampled_from(sorted(body)))]
    if not draw(st.integers(0, 3)):
        body[draw(TEXT)] = draw(JSON)  # a field the source adds later
    return body


@st.composite
def panther_bodies(draw: st.DrawFn) -> dict[str, Any]:
    return _mutated(draw, dict(PANTHER, alertId=uuid.uuid4().hex), PANTHER_VALUES)


@st.composite
def splunk_bodies(draw: st.DrawFn) -> dict[str, Any]:
    result = _mutated(draw, SPLUNK["result"], {k: TEXT | JSON for k in SPLUNK["result"]})
    base = dict(SPLUNK, sid=uuid.uuid4().hex, result=result)
    return _mutated(draw, base, {k: TEXT | JSON for k in SPLUNK})


async def _check(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    text = json.dumps(body).encode("utf-8", "surrogatepass")
    resp = await client.post(
        path, content=text, headers=AUTH | {"Content-Type": "application/json"}
    )
    event(f"status {resp.status_code}")
    assert_answered(resp)
    if resp.status_code in (200, 201):
        alert_id = resp.json()["alert_id"]
        stored = await client.get(f"/alerts/{quote(alert_id, safe='')}", headers=AUTH)
        assert stored.status_code == 200, stored.text


@PROPERTY
@given(body=panther_bodies())
async def test_panther_intake_answers_2xx_or_4xx(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    await _check(client, "/alerts/panther", body)


@PROPERTY
@given(body=splunk_bodies())
async def test_mapped_intake_answers_2xx_or_4xx(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    await _check(client, "/alerts/in/splunk", body)


async def test_properties_are_not_vacuous(client: httpx.AsyncClient) -> None:
    for path, body in (
        ("/alerts/panther", dict(PANTHER, alertId=uuid.uuid4().hex)),
        ("/alerts/in/splunk", dict(SPLUNK, sid=uuid.uuid4().hex)),
    ):
        resp = await client.post(path, json=body, headers=AUTH)
        assert resp.status_code in (201, 202), resp.text
