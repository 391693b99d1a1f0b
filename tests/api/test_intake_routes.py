"""Intake routes of issue 11 on the app alone (no worker): a mapped source that cannot send
headers authenticates with its mapping's secret in the URL, on that route only; an alert that
grows after its workflow has ended is still recorded in its history."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from tests.api.harden_support import AUTH, new_alert, running_app, settings_for
from tools.slack_standin import StandIn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = "splunk-path-secret-0123456789abcdef"


@pytest.fixture
async def app_and_client(
    temporal_env: WorkflowEnvironment,
    backend_url: str,
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    monkeypatch.setenv("PARLEY_SPLUNK_PATH_SECRET", SECRET)
    settings = settings_for(temporal_env, backend_url, standin.base_url).model_copy(
        update={"parley_intake_mappings": str(EXAMPLES / "intake-mappings.yaml")}
    )
    async with running_app(settings) as pair:
        yield pair


@pytest.fixture
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


def _splunk() -> dict:
    payload = json.loads((EXAMPLES / "intake" / "splunk.json").read_text())
    payload["sid"] = f"scheduler__{uuid.uuid4().hex}"
    return payload


async def test_the_secret_url_stands_in_for_the_bearer_token(client: httpx.AsyncClient) -> None:
    ok = await client.post(f"/alerts/in/splunk/{SECRET}", json=_splunk())
    assert ok.status_code in (201, 202), ok.text
    assert ok.json()["alert_id"].startswith("splunk-scheduler__")
    wrong = await client.post(f"/alerts/in/splunk/{SECRET[:-1]}x", json=_splunk())
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    # Only mappings that name a secret take one; the bearer routes still want the token.
    elastic = await client.post(f"/alerts/in/elastic/{SECRET}", json=_splunk())
    assert elastic.status_code == 404
    no_token = await client.post("/alerts/in/splunk", json=_splunk())
    assert no_token.status_code == 401
    with_token = await client.post("/alerts/in/splunk", json=_splunk(), headers=AUTH)
    assert with_token.status_code in (201, 202)


async def test_growth_after_the_workflow_ended_is_recorded(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    alert: dict[str, Any] = {
        "id": f"g-{uuid.uuid4().hex[:12]}",
        "title": "Brute force",
        "severity": "High",
        "rule_id": "r",
        "created_at": "2026-11-30T07:00:00Z",
        "event_count": 3,
    }
    created = await client.post("/alerts", json=alert, headers=AUTH)
    assert created.status_code == 201, created.text
    handle = app.state.temporal.get_workflow_handle(created.json()["workflow_id"])
    await handle.terminate("past retention, say")
    grown = await client.post("/alerts", json=dict(alert, event_count=9), headers=AUTH)
    assert grown.status_code == 200
    assert (grown.json()["updated"], grown.json()["event_count"]) == (True, 9)
    detail = (await client.get(f"/alerts/{alert['id']}", headers=AUTH)).json()
    rows = [h for h in detail["history"] if h["action"] == "events_added"]
    assert [(h["from_value"], h["to_value"]) for h in rows] == [("3", "9")]
    assert "after the alert's workflow ended" in rows[0]["comment"]
    assert detail["event_count"] == 9
    again = await client.post("/alerts", json=dict(alert, event_count=9), headers=AUTH)
    assert again.json()["updated"] is False  # the same payload again changes nothing


async def test_a_destination_that_reopens_on_growth_says_so_in_the_signal(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    rule = f"reopen.{uuid.uuid4().hex[:8]}"
    made = await client.post(
        "/destinations",
        json={"name": rule, "channel": "C0REOPEN", "rule_ids": [rule], "reopen_on_growth": True},
        headers=AUTH,
    )
    assert made.status_code == 201, made.text
    assert made.json()["reopen_on_growth"] is True

    async def grow_signals(rule_id: str) -> list[dict[str, Any]]:
        alert = {
            "id": f"r-{uuid.uuid4().hex[:12]}",
            "title": "t",
            "severity": "Low",
            "rule_id": rule_id,
            "created_at": "2026-11-30T07:00:00Z",
        }
        first = await client.post("/alerts", json=alert, headers=AUTH)
        assert first.status_code == 201
        grown = await client.post("/alerts", json=dict(alert, event_count=4), headers=AUTH)
        assert grown.json()["updated"] is True
        handle = app.state.temporal.get_workflow_handle(first.json()["workflow_id"])
        signals = []
        async for event in handle.fetch_history_events():
            attrs = event.workflow_execution_signaled_event_attributes
            if event.HasField("workflow_execution_signaled_event_attributes"):
                assert attrs.signal_name == "grow"
                signals.append(json.loads(attrs.input.payloads[0].data))
        await handle.terminate("done")
        return signals

    [reopening] = await grow_signals(rule)
    assert (reopening["event_count"], reopening["reopen"]) == (4, True)
    [quiet] = await grow_signals("some.other.rule")  # none of its destinations reopens
    assert quiet["reopen"] is False


async def test_a_growth_nobody_could_be_told_of_is_undone_so_the_retry_counts(
    app_and_client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review found a growth lost for good: the store took it, the signal could be neither
    queued nor sent (503), and the sender's retry was then a plain duplicate."""
    import api.signals as signals
    from parley.store.db import StoreUnavailable

    app, client = app_and_client
    alert = new_alert(event_count=1)
    assert (await client.post("/alerts", json=alert, headers=AUTH)).status_code == 201
    grown = alert | {"event_count": 5}

    async def database_blip(**_: Any) -> None:
        raise StoreUnavailable("simulated: database locked")

    async def temporal_slow(*_: Any, **__: Any) -> None:
        raise signals.Refusal("Parley could not record that now; try again.", unavailable=True)

    with monkeypatch.context() as m:
        m.setattr(app.state.outbox, "submit_signal", database_blip)
        m.setattr(signals, "_send_directly", temporal_slow)
        r = await client.post("/alerts", json=grown, headers=AUTH)
        assert r.status_code == 503, r.text
    r = await client.post("/alerts", json=grown, headers=AUTH)
    assert r.status_code in (200, 202), r.text
    assert r.json()["updated"] is True and r.json()["event_count"] == 5
