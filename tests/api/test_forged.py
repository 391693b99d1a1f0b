"""Signed interactions Parley must still refuse: another app or workspace (403), and modal
submissions whose private_metadata Parley did not sign (a field error, nothing sent on).

The app is the real one from create_app; every request is signed with the configured secret, so
only the checks under test can refuse it. tests/e2e/test_safe_defaults.py shows end to end that
such requests change nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import BaseModel

from api.app import create_app
from api.slack_common import FORM_NOT_OURS
from parley.settings import Settings
from parley.slack.ui import ids
from tools.slack_standin.driver import sign
from tools.slack_standin.seed import load_seed

SEED = load_seed(None)
APP, TEAM = SEED.bot.app_id, SEED.team.id
SECRET = "test-signing-secret"
KEY = "test-secret-key-that-signs-modal-metadata"
ALICE = {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": TEAM}
ALERT = ids.AlertRef(alert_id="a-1", channel="C0ALERTS", message_ts="1700000000.000100")
QUESTION = ids.BoomerangRef(boomerang_id="alert-a-1-boomerang-1", recipient_id="U0ALICE")
STORM = ids.StormRef(storm_id="s-1", workflow_id="storm-C0ALERTS-R1", status="Resolved")


def _settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "parley_api_token": "test-api-token",
        "parley_secret_key": KEY,
        "slack_app_id": APP,
        "slack_team_id": TEAM,
        "temporal_address": "127.0.0.1:1",  # nothing here may reach Temporal
    }
    return Settings(**{**base, **changes})


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://parley") as client:
        yield client


@pytest.fixture
async def slack() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(_settings()):
        yield client


async def _send(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    body = ("payload=" + quote(json.dumps(payload))).encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(SECRET, ts, body),
    }
    return await client.post("/slack/interactions", content=body, headers=headers)


def _interaction(kind: str, **fields: Any) -> dict[str, Any]:
    """The envelope Slack puts around every interaction (see tools/slack_standin/payloads.py)."""
    return {
        "type": kind,
        "user": ALICE,
        "api_app_id": APP,
        "token": SEED.verification_token,
        "team": {"id": TEAM, "domain": SEED.team.domain},
        "enterprise": None,
        "is_enterprise_install": False,
        **fields,
    }


def _submission(callback_id: str, metadata: Any, values: dict[str, Any]) -> dict[str, Any]:
    view = {
        "id": "V0FORGED",
        "team_id": TEAM,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "state": {"values": values},
        "app_id": APP,
        "hash": "1700000000.abcdef",
    }
    return _interaction("view_submission", trigger_id="1.2.abc", view=view)


def _click() -> dict[str, Any]:
    action = {
        "type": "static_select",
        "action_id": ids.UPDATE_STATUS,
        "block_id": ids.actions_block_id("a-1", 0),
        "selected_option": {"text": {"type": "plain_text", "text": "Triaged"}, "value": "Triaged"},
        "action_ts": "1700000001.000200",
    }
    return _interaction(
        "block_actions",
        trigger_id="1.2.abc",
        container={"type": "message", "message_ts": ALERT.message_ts, "channel_id": "C0ALERTS"},
        channel={"id": "C0ALERTS", "name": "security-alerts"},
        response_url="http://127.0.0.1:1/response",
        actions=[action],
    )


# ---- app and workspace --------------------------------------------------------------------


def _foreign(payload: dict[str, Any], where: str) -> dict[str, Any]:
    """The payload as another app or workspace would send it, signed all the same."""
    if where == "other app":
        return {**payload, "api_app_id": "A0OTHERAPP"}
    if where == "no app id":
        return {k: v for k, v in payload.items() if k != "api_app_id"}
    if where == "other team":
        return {**payload, "team": {"id": "T0OTHER", "domain": "elsewhere"}}
    if where == "no team":
        return {**payload, "team": None, "user": {**ALICE, "team_id": "T0OTHER"}}
    if where == "team not an object":
        return {**payload, "team": ["T0PARLEY"]}
    assert where == "modal of another app"
    return {**payload, "view": {**payload["view"], "app_id": "A0OTHERAPP"}}


FOREIGN = ["other app", "no app id", "other team", "no team", "team not an object"]


@pytest.mark.parametrize("where", FOREIGN)
async def test_click_from_another_app_or_workspace_is_refused(
    slack: httpx.AsyncClient, where: str
) -> None:
    resp = await _send(slack, _foreign(_click(), where))
    assert resp.status_code == 403, resp.text
    assert "another Slack" in resp.json()["detail"]


@pytest.mark.parametrize("where", [*FOREIGN, "modal of another app"])
async def test_submission_from_another_app_or_workspace_is_refused(
    slack: httpx.AsyncClient, where: str
) -> None:
    metadata = ids.ModalMetadata(KEY).seal(ids.RESOLVE_MODAL, ALERT)
    values = {ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: {"value": "done"}}}
    resp = await _send(slack, _foreign(_submission(ids.RESOLVE_MODAL, metadata, values), where))
    assert resp.status_code == 403, resp.text


async def test_our_app_and_workspace_get_through(slack: httpx.AsyncClient) -> None:
    closed = _interaction("view_closed", view={"id": "V1", "app_id": APP}, is_cleared=False)
    assert (await _send(slack, closed)).status_code == 200
    org_wide = {**closed, "team": None}  # an org-wide install names the team on the user only
    assert (await _send(slack, org_wide)).status_code == 200


async def test_unconfigured_app_and_team_are_not_checked() -> None:
    closed = _interaction("view_closed", view={"id": "V1"}, is_cleared=False)
    foreign = {**closed, "api_app_id": "A0OTHERAPP", "team": {"id": "T0OTHER"}}
    async for client in _client(_settings(slack_app_id="", slack_team_id="")):
        assert (await _send(client, foreign)).status_code == 200


# ---- private_metadata ---------------------------------------------------------------------

MODALS: list[tuple[str, BaseModel, str, dict[str, Any], str]] = [
    # callback id, what Parley signs, the block that shows errors, blank inputs, their error
    (
        ids.RESOLVE_MODAL,
        ALERT,
        ids.RESOLVE_COMMENT_BLOCK,
        {ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: {"value": " "}}},
        "Say how",
    ),
    (ids.INTEL_MODAL, ALERT, ids.INTEL_VALUE_BLOCK, {}, "Pick a value"),
    (ids.BOOMERANG_MODAL, ALERT, ids.BOOMERANG_QUESTION_BLOCK, {}, "Pick who"),
    (ids.BOOMERANG_REPLY_MODAL, QUESTION, ids.BOOMERANG_REPLY_BLOCK, {}, "Write your answer"),
    (ids.STORM_BULK_MODAL, STORM, ids.STORM_COMMENT_BLOCK, {}, "Say why"),
]
FILLED: dict[str, dict[str, Any]] = {
    ids.RESOLVE_MODAL: {
        ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: {"value": "false positive"}}
    },
    ids.INTEL_MODAL: {
        ids.INTEL_VALUE_BLOCK: {ids.INTEL_VALUE_ACTION: {"selected_option": {"value": "1.1.1.1"}}}
    },
    ids.BOOMERANG_MODAL: {
        ids.BOOMERANG_RECIPIENT_BLOCK: {ids.BOOMERANG_RECIPIENT_ACTION: {"selected_user": "U0BOB"}},
        ids.BOOMERANG_QUESTION_BLOCK: {ids.BOOMERANG_QUESTION_ACTION: {"value": "Was it you?"}},
    },
    ids.BOOMERANG_REPLY_MODAL: {
        ids.BOOMERANG_REPLY_BLOCK: {ids.BOOMERANG_REPLY_ACTION: {"value": "yes, me"}}
    },
    ids.STORM_BULK_MODAL: {ids.STORM_COMMENT_BLOCK: {ids.STORM_COMMENT_ACTION: {"value": "noise"}}},
}


def _forgeries(callback_id: str, ref: BaseModel) -> dict[str, Any]:
    mint = ids.ModalMetadata(KEY)
    body, _, signature = mint.seal(callback_id, ref).rpartition(".")
    first_field = next(iter(type(ref).model_fields))
    other_body = mint.seal(callback_id, ref.model_copy(update={first_field: "forged"}))
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_modal = ids.RESOLVE_MODAL if callback_id != ids.RESOLVE_MODAL else ids.INTEL_MODAL
    return {
        "unsigned json": ref.model_dump_json(),  # what Parley accepted before
        "missing": None,
        "empty": "",
        "not a string": ref.model_dump(),
        "another key": ids.ModalMetadata("another-key-" + "x" * 32).seal(callback_id, ref),
        "another modal": mint.seal(other_modal, ref),
        "signature cut": body,
        "signature altered": f"{body}.{flipped}",
        "payload swapped": f"{other_body.rpartition('.')[0]}.{signature}",
    }


@pytest.mark.parametrize(
    ("callback_id", "ref", "block"),
    [(m[0], m[1], m[2]) for m in MODALS],
    ids=[m[0] for m in MODALS],
)
async def test_forged_private_metadata_gets_a_field_error(
    slack: httpx.AsyncClient, callback_id: str, ref: BaseModel, block: str
) -> None:
    for name, metadata in _forgeries(callback_id, ref).items():
        resp = await _send(slack, _submission(callback_id, metadata, FILLED[callback_id]))
        assert resp.status_code == 200, (name, resp.text)
        assert resp.json() == {
            "response_action": "errors",
            "errors": {block: FORM_NOT_OURS},
        }, name


@pytest.mark.parametrize(
    ("callback_id", "ref", "block", "blank", "error"), MODALS, ids=[m[0] for m in MODALS]
)
async def test_metadata_parley_signed_passes_the_check(
    slack: httpx.AsyncClient,
    callback_id: str,
    ref: BaseModel,
    block: str,
    blank: dict[str, Any],
    error: str,
) -> None:
    """With genuine metadata the handler goes on to judge the inputs (blank here, so it stops
    there, before Slack or Temporal)."""
    metadata = ids.ModalMetadata(KEY).seal(callback_id, ref)
    resp = await _send(slack, _submission(callback_id, metadata, blank))
    assert resp.status_code == 200, resp.text
    errors = resp.json()["errors"]
    assert FORM_NOT_OURS not in errors.values()
    assert any(error in message for message in errors.values()), errors


def test_the_signed_metadata_fits_slack_and_carries_the_whole_ref() -> None:
    long_ref = ids.AlertRef(alert_id="a" * 128, channel="C" + "0" * 20, message_ts="1" * 20)
    sealed = ids.ModalMetadata(KEY).seal(ids.RESOLVE_MODAL, long_ref)
    assert len(sealed) <= 3000  # Slack's private_metadata limit
    assert ids.ModalMetadata(KEY).unseal(ids.RESOLVE_MODAL, sealed, ids.AlertRef) == long_ref
