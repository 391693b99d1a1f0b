"""Logging for every Parley process: one line per event, text for people or JSON for a pipeline.

JSON lines come from python-json-logger (a maintained formatter: escaping, exceptions, extra
fields). A filter adds `alert_id` and `workflow_id` to a line about an alert: from the Temporal
activity or workflow that logs it, or from `bind_alert()` in the API's request handling.
Library chatter (Alembic's per-migration INFO lines, httpx per-request lines) stays below the
level at which it would drown Parley's own lines.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Loggers that say nothing an operator needs at INFO.
QUIET = {"alembic": logging.WARNING, "httpx": logging.WARNING, "aiosqlite": logging.WARNING}
ALERT_PREFIX = "alert-"
# Libraries' deprecation notices about their own internals, which no setting of ours can fix
# (Authlib's Starlette client imports its own deprecated httpx module).
QUIET_WARNINGS = (r"The httpx module is deprecated",)

_alert: contextvars.ContextVar[str | None] = contextvars.ContextVar("parley_alert", default=None)


def bind_alert(alert_id: str) -> None:
    """Tag the rest of this task's log lines (an API request) with the alert they are about."""
    _alert.set(alert_id)


def _temporal_ids() -> tuple[str | None, str | None]:
    """(alert id, workflow id) of the activity or workflow running on this thread, if any."""
    from temporalio import activity, workflow

    workflow_id: str | None = None
    if activity.in_activity():
        workflow_id = activity.info().workflow_id
    else:
        try:
            workflow_id = workflow.info().workflow_id
        except Exception:  # not in a workflow
            workflow_id = None
    if not workflow_id:
        return None, None
    # alert-<id>, and a Boomerang's alert-<id>-boomerang-<n>, belong to alert <id>.
    alert = workflow_id.removeprefix(ALERT_PREFIX) if workflow_id.startswith(ALERT_PREFIX) else None
    if alert and "-boomerang-" in alert:
        alert = alert.rsplit("-boomerang-", 1)[0]
    return alert, workflow_id


class AlertContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        alert, workflow_id = _temporal_ids()
        alert = getattr(record, "alert_id", None) or alert or _alert.get()
        if alert:
            record.alert_id = alert
            if not workflow_id:
                workflow_id = f"{ALERT_PREFIX}{alert}"
        if workflow_id and not getattr(record, "workflow_id", None):
            record.workflow_id = workflow_id
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Replace the root logger's handlers with one in the configured format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings.parley_log_format))
    handler.addFilter(AlertContext())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.parley_log_level.upper())
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(max(level, root.level))
    try:  # Authlib installs an "always" filter when first imported; ours must come after it
        import authlib.deprecate  # noqa: F401
    except ImportError:
        pass
    for message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    # The SDK's activity/workflow adapters append their context dict to every message; in JSON
    # the fields carry it instead (alert_id and workflow_id come from the filter above).
    if settings.parley_log_format == "json":
        from temporalio import activity, workflow

        activity.logger.activity_info_on_message = False
        workflow.logger.workflow_info_on_message = False
    return handler
