"""No input crashes the interactivity endpoint: signed but malformed payloads get 4xx or an
ephemeral answer, never a 500, and change nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from parley.slack.ui import ids
from tests.e2e.conftest import Stack

USER = {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0PARLEY"}
CASES: list[Any] = [
    {},
    [],
    "just a string",
    {"type": "block_actions"},
    {"type": "block_actions", "user": USER, "actions": []},
    {"type": "block_actions", "user": USER, "actions": [{}]},
    {"type": "block_actions", "user": USER, "actions": [None]},
    {"type": "block_actions", "actions": [{"action_id": ids.UPDATE_STATUS}]},
    {
        "type": "block_actions",
        "user": USER,
        "actions": [{"action_id": ids.UPDATE_STATUS, "block_id": "nope", "value": "{"}],
    },
    {
        "type": "block_actions",
        "user": USER,
        "actions": [
            {
                "action_id": ids.UPDATE_STATUS,
                "block_id": ids.actions_block_id("no-such-alert", 0),
                "selected_option": {"value": "Exploded"},
            }
        ],
    },
    {
        "type": "block_actions",
        "user": USER,
        "actions": [{"action_id": ids.SET_ASSIGNEE, "value": json.dumps({"alert_id": 7})}],
    },
    {
        "type": "block_actions",
        "user": USER,
        "actions": [{"action_id": ids.BOOMERANG_YES, "value": "not json"}],
    },
    {"type": "view_submission", "user": USER},
    {"type": "view_submission", "user": USER, "view": {"callback_id": "modal.unknown"}},
    {"type": "view_submission", "user": USER, "view": {"callback_id": ids.RESOLVE_MODAL}},
    {
        "type": "view_submission",
        "user": USER,
        "view": {
            "id": "V1",
            "callback_id": ids.BOOMERANG_MODAL,
            "private_metadata": "{}",
            "state": {"values": {ids.BOOMERANG_RECIPIENT_BLOCK: []}},
        },
    },
    {
        "type": "view_submission",
        "user": USER,
        "view": {
            "id": "V2",
            "callback_id": ids.INTEL_MODAL,
            "private_metadata": ids.AlertRef(alert_id="no-such-alert").dump(),
            "state": {"values": {ids.INTEL_VALUE_BLOCK: {ids.INTEL_VALUE_ACTION: "x"}}},
        },
    },
    {"type": "shortcut", "user": USER, "callback_id": "x"},
    {"type": "view_closed", "user": USER, "view": {}},
]


@pytest.mark.parametrize("payload", CASES, ids=[str(i) for i in range(len(CASES))])
async def test_signed_malformed_payloads_never_500(fresh: Stack, payload: Any) -> None:
    if isinstance(payload, dict):  # from our app and workspace, so the handlers see it
        payload = {"api_app_id": "A0PARLEY", "team": {"id": "T0PARLEY"}, **payload}
    raw = ("payload=" + quote(json.dumps(payload))).encode()
    res = await fresh.standin.driver.send_raw(raw, fresh.standin.driver.signed_headers(raw))
    assert res.status in (200, 400), (res.status, res.body)


@pytest.mark.parametrize(
    "raw",
    [b"", b"payload=", b"payload=%7B", b"\xff\xfe", b"a=b&c=d", b"payload=1&payload=2"],
)
async def test_signed_garbage_bodies_get_400(fresh: Stack, raw: bytes) -> None:
    res = await fresh.standin.driver.send_raw(raw, fresh.standin.driver.signed_headers(raw))
    assert res.status == 400, (res.status, res.body)
