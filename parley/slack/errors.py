"""Slack Web API failures mapped to typed exceptions, in one place.

Activities call `raise_for_slack(exc)` on every SlackApiError. Temporal's retry then does the
waiting: a 429 becomes an ApplicationError with `next_retry_delay` = Retry-After, so no activity
sleeps; permanent errors are non-retryable so a dead channel is recorded instead of retried forever.
A write whose outcome is unknown (timeout, dropped connection, 5xx) is `ambiguous`: Slack may still
apply it, so its retry waits, the same way, until it can no longer be in flight.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import NoReturn

import aiohttp
from slack_sdk.errors import SlackApiError
from temporalio.exceptions import ApplicationError

RATE_LIMITED = "SlackRateLimited"
PERMANENT = "SlackPermanent"
TRANSIENT = "SlackTransient"
PACED = "SlackPaced"  # Parley held a post back itself, before Slack had to refuse it
AMBIGUOUS = "SlackAmbiguous"

# The channel or the app is unusable until a human fixes something: retrying will not help.
PERMANENT_CODES = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "no_permission",
        "restricted_action",
        "user_not_found",
        "users_not_found",
        "user_not_in_channel",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_arguments",
        "no_text",
        "msg_too_long",
        # files v2 and views.publish (issue 13): a retry cannot change these answers.
        "missing_argument",
        "alt_txt_too_large",
        "file_upload_size_restricted",
        "file_uploads_disabled",
        "storage_limit_reached",
        "file_not_found",
        "posting_to_channel_denied",
        "access_denied",
        "channels_limit_exceeded",
        "not_enabled",
        "view_too_large",
    }
)
# The message we want to change (or the thread we read) is gone, or the message is not ours.
MESSAGE_GONE_CODES = frozenset(
    {
        "message_not_found",
        "thread_not_found",
        "cant_update_message",
        "cant_delete_message",
        "edit_window_closed",
    }
)


class MessageGone(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InvalidBlocks(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages) or "invalid_blocks")
        self.messages = messages


def error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown_error")
    return "unknown_error"


MAX_RETRY_AFTER = 3600.0  # s; Slack's own are seconds to a minute


def retry_after_seconds(exc: SlackApiError, default: float = 1.0) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value if not isinstance(value, list) else value[0])
            except (TypeError, ValueError):
                return default
            # "inf" or "nan" would make a retry delay no timer can hold.
            return min(max(0.0, seconds), MAX_RETRY_AFTER) if math.isfinite(seconds) else default
    return default


def is_ambiguous(exc: BaseException) -> bool:
    """True when Slack may have applied a request we got no answer for.

    A timeout or a dropped connection leaves the request with Slack, which keeps working on it
    after the client gave up; a 5xx may come from a proxy while the backend carries on. A refused
    connection never delivered the request, and an `ok:false` or 429 answer means not applied.
    """
    if isinstance(exc, SlackApiError):
        return int(getattr(exc.response, "status_code", 200) or 200) >= 500
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False
    return isinstance(exc, TimeoutError | aiohttp.ClientError)


def raise_ambiguous(what: str, wait_seconds: float, exc: BaseException | None = None) -> NoReturn:
    """Retry once `what` can no longer land, through Temporal's retry rather than a sleep."""
    cause = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
    raise ApplicationError(
        f"Slack may still apply {what}{cause}; retrying in {wait_seconds:.1f}s, when it cannot",
        what,
        type=AMBIGUOUS,
        next_retry_delay=timedelta(seconds=wait_seconds),
    ) from exc


def raise_for_slack(exc: SlackApiError) -> NoReturn:
    """Re-raise a SlackApiError as the typed failure Temporal and the workflow act on."""
    status = getattr(exc.response, "status_code", 200)
    code = error_code(exc)
    if status == 429 or code in ("ratelimited", "rate_limited"):
        delay = retry_after_seconds(exc)
        raise ApplicationError(
            f"Slack rate limit, retry after {delay:g}s",
            code,
            type=RATE_LIMITED,
            next_retry_delay=timedelta(seconds=delay),
        ) from exc
    if code in MESSAGE_GONE_CODES:
        raise MessageGone(code) from exc
    if code == "invalid_blocks":
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        messages = (data.get("response_metadata") or {}).get("messages") or []
        raise InvalidBlocks([str(m) for m in messages]) from exc
    if code in PERMANENT_CODES:
        raise ApplicationError(
            f"Slack refused: {code}", code, type=PERMANENT, non_retryable=True
        ) from exc
    raise ApplicationError(f"Slack error {status}: {code}", code, type=TRANSIENT) from exc


def permanent_code(err: BaseException) -> str | None:
    """The Slack error code of a permanent failure seen by a workflow, else None."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type == PERMANENT:
            return str(cause.details[0]) if cause.details else "unknown_error"
        cause = cause.__cause__
    return None
