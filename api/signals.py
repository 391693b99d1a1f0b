"""The one way the API reaches a workflow: a typed signal, durable once the server accepts it.

Slack clicks and console changes both come through here (see workflows/alert.py for why signals
and not updates). A failure is a `Refusal`: Slack handlers tell the user, REST routes answer
4xx/5xx.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.service import RPCError, RPCStatusCode

from api.deps import temporal_client
from workflows.alert_types import alert_workflow_id

log = logging.getLogger("parley.api")

SIGNAL_TIMEOUT = timedelta(seconds=2)  # leaves a second of Slack's 3 s for everything else
BOOMERANG_CLOSED = "Thanks, but this question was already answered or has expired."


class Refusal(Exception):
    """Something the person should be told; nothing was changed."""

    def __init__(self, message: str, *, gone: bool = False, unavailable: bool = False) -> None:
        super().__init__(message)
        self.gone = gone  # the workflow is unknown or finished
        self.unavailable = unavailable  # Temporal did not take it: worth a retry


def alert_gone(alert_id: str) -> str:
    return f"Alert {alert_id} is no longer open in Parley (unknown or past retention)."


async def send_signal(
    app: Any, workflow_id: str, signal: Callable[..., Any], arg: Any, *, gone: str
) -> None:
    """Signal `workflow_id` with a typed reference (`AlertWorkflow.set_status`, …)."""
    client = await temporal_client(app)
    if client is None:
        raise Refusal(
            "Parley could not reach its workflow engine; nothing was changed.", unavailable=True
        )
    try:
        await client.get_workflow_handle(workflow_id).signal(
            signal, arg, rpc_timeout=SIGNAL_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refusal(gone, gone=True) from exc
        log.warning("signal to %s failed: %s", workflow_id, exc)
        raise Refusal(
            "Parley could not record that just now; please try again.", unavailable=True
        ) from exc


async def signal_alert(app: Any, alert_id: str, signal: Callable[..., Any], arg: Any) -> None:
    """Signal the alert's workflow; an alert Temporal no longer has is refused as gone."""
    await send_signal(app, alert_workflow_id(alert_id), signal, arg, gone=alert_gone(alert_id))


async def signal_boomerang(
    app: Any, boomerang_id: str, signal: Callable[..., Any], arg: Any
) -> None:
    await send_signal(app, boomerang_id, signal, arg, gone=BOOMERANG_CLOSED)
