"""Timeouts and retries for the activities the workflows run, in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from parley.slack.errors import PERMANENT

SLACK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=0,  # bounded by schedule_to_close: a Slack outage must not lose the alert
    non_retryable_error_types=[PERMANENT],
)
SLACK_OPTS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "schedule_to_close_timeout": timedelta(days=3),
    "retry_policy": SLACK_RETRY,
}
# A Boomerang DM that could not be delivered within a day is reported as undeliverable.
DM_OPTS: dict[str, Any] = {**SLACK_OPTS, "schedule_to_close_timeout": timedelta(days=1)}
DB_OPTS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=20),
    "schedule_to_close_timeout": timedelta(days=3),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
}
# The store write of one change, as a local activity: one marker event instead of three events
# per write. It retries (with backoff timers past the task timeout) until the store answers.
LOCAL_DB_OPTS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=20),
    "schedule_to_close_timeout": timedelta(days=3),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
}
ENRICH_OPTS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=20),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
}
# Nice-to-have calls (permalinks, display names, notes to a user) give up quickly instead of
# blocking a change.
BEST_EFFORT_OPTS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(maximum_attempts=3),
}
