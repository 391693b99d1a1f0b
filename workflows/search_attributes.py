"""Search attributes shown and filterable in the Temporal UI. Registered by the dev server."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

ALERT_STATUS = SearchAttributeKey.for_keyword("AlertStatus")
ALERT_SEVERITY = SearchAttributeKey.for_keyword("AlertSeverity")
ALERT_ASSIGNEE = SearchAttributeKey.for_keyword("AlertAssignee")
ALERT_RULE_ID = SearchAttributeKey.for_keyword("AlertRuleId")

ALL = (ALERT_STATUS, ALERT_SEVERITY, ALERT_ASSIGNEE, ALERT_RULE_ID)


def dev_server_args() -> list[str]:
    """`--search-attribute Name=Keyword` pairs for `temporal server start-dev`."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


def at_start(status: str, severity: str, rule_id: str) -> TypedSearchAttributes:
    """What intake sets when it starts an alert's workflow, so the UI can filter at once."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(ALERT_STATUS, status),
            SearchAttributePair(ALERT_SEVERITY, severity),
            SearchAttributePair(ALERT_RULE_ID, rule_id),
        ]
    )
