"""Slack errors become the typed failures that Temporal's retry and the workflow act on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from temporalio.exceptions import ApplicationError

from parley.slack.errors import (
    AMBIGUOUS,
    PERMANENT,
    RATE_LIMITED,
    TRANSIENT,
    InvalidBlocks,
    MessageGone,
    is_ambiguous,
    permanent_code,
    raise_ambiguous,
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
    ("header", "seconds"), [("inf", 1.0), ("nan", 1.0), ("-5", 0.0), ("1e9", 3600.0)]
)
def test_a_retry_after_no_timer_can_hold_falls_back(header: str, seconds: float) -> None:
    with pytest.raises(ApplicationError) as info:
        raise_for_slack(_error({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": header}))
    assert info.value.next_retry_delay == timedelta(seconds=seconds)


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


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError(),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("cut short"),
        _error({}, 500),
        _error({"ok": False, "error": "internal_error"}, 503),
    ],
    ids=["timeout", "disconnected", "cut-short", "500-html", "503"],
)
def test_no_answer_or_a_5xx_leaves_a_write_ambiguous(exc: BaseException) -> None:
    assert is_ambiguous(exc)


@pytest.mark.parametrize(
    "exc",
    [
        _error({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "1"}),
        _error({"ok": False, "error": "internal_error"}),
        _error({"ok": False, "error": "channel_not_found"}),
        aiohttp.ClientConnectorError(None, OSError(111, "refused")),  # type: ignore[arg-type]
        ValueError("ours"),
    ],
    ids=["429", "ok-false", "refused-code", "never-connected", "not-slack"],
)
def test_an_answer_or_no_connection_is_not_ambiguous(exc: BaseException) -> None:
    assert not is_ambiguous(exc)


def test_ambiguous_write_is_retried_after_the_wait_through_temporal() -> None:
    cause = TimeoutError()
    with pytest.raises(ApplicationError) as info:
        raise_ambiguous("chat_postMessage", 12.5, cause)
    assert info.value.type == AMBIGUOUS and not info.value.non_retryable
    assert info.value.next_retry_delay == timedelta(seconds=12.5)
    assert info.value.__cause__ is cause
    assert permanent_code(info.value) is None
