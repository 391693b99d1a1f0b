"""A mapped source that cannot send headers (Splunk's stock webhook) authenticates with its
mapping's secret in the URL, on that route only (issue 11)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.harden_support import AUTH, running_app, settings_for
from tools.slack_standin import StandIn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = "splunk-path-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = StandIn(signing_secret="unused-here", bot_token="xoxb-harden-token")
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
async def client(
    temporal_env: WorkflowEnvironment,
    backend_url: str,
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("PARLEY_SPLUNK_PATH_SECRET", SECRET)
    settings = settings_for(temporal_env, backend_url, standin.base_url).model_copy(
        update={"parley_intake_mappings": str(EXAMPLES / "intake-mappings.yaml")}
    )
    async with running_app(settings) as pair:
        yield pair[1]


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
