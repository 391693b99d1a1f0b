"""Slack errors become the typed failures that Temporal's retry and the workflow act on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from temporalio.exceptions import ApplicationError

from parley.slack.errors import (
    PERMANENT,
    RATE_LIMITED,
    TRANSIENT,
    InvalidBlocks,
    MessageGone,
    permanent_code,
    raise_for_slack,
)


def _error(data: dict[str, Any], status: int = 200, headers: dict[str, Any] | None = None):
    resp = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="http://x/api/chat.postMessage",
        req_args={},
        data=data,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", resp)


def test_429_waits_for_retry_after_through_temporal() -> None:
    with pytest.raises(ApplicationError) as info:
        raise_for_slack(_error({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "7"}))
    assert info.value.type == RATE_LIMITED
    assert info.value.next_retry_delay == timedelta(seconds=7)
    assert not info.value.non_retryable


@pytest.mark.parametrize(
    "code", ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth"]
)
def test_dead_channels_and_auth_are_not_retried(code: str) -> None:
    with pytest.raises(ApplicationError) as info:
        raise_for_slack(_error({"ok": False, "error": code}))
    assert info.value.type == PERMANENT and info.value.non_retryable
    assert permanent_code(info.value) == code


def test_message_gone_and_invalid_blocks_are_their_own_types() -> None:
    with pytest.raises(MessageGone):
        raise_for_slack(_error({"ok": False, "error": "message_not_found"}))
    with pytest.raises(InvalidBlocks) as info:
        raise_for_slack(
            _error(
                {
                    "ok": False,
                    "error": "invalid_blocks",
                    "response_metadata": {
                        "messages": ["[ERROR] too long [json-pointer:/blocks/0]"]
                    },
                }
            )
        )
    assert info.value.messages == ["[ERROR] too long [json-pointer:/blocks/0]"]


def test_server_errors_are_retried() -> None:
    with pytest.raises(ApplicationError) as info:
        raise_for_slack(_error({"ok": False, "error": "internal_error"}, 503))
    assert info.value.type == TRANSIENT and not info.value.non_retryable
    assert permanent_code(info.value) is None
