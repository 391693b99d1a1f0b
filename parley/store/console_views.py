"""Read-only queries the console's pages need beyond the REST API's: counts per status under the
list's filters, and the Boomerangs still waiting for an answer, per alert."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from parley.domain import Severity, Status
from parley.store.db import Database
from parley.store.models import AlertRow, HistoryRow
from parley.store.repo import alert_filters

# A Boomerang's history rows are keyed `boomerang/<id>/<kind>`; these kinds close it.
_CLOSING = {"answered", "expired", "cancelled", "undeliverable"}


async def status_counts(
    db: Database,
    *,
    severity: Severity | None = None,
    assignee: str | None = None,
    rule: str | None = None,
    text: str | None = None,
) -> dict[str, int]:
    """How many alerts each status has under the other filters (every status, zeros too)."""
    query = alert_filters(
        select(AlertRow.status, func.count()),
        severity=severity,
        assignee=assignee,
        rule=rule,
        text=text,
    ).group_by(AlertRow.status)
    async with db.session() as s:
        found = {status: n for status, n in await s.execute(query)}
    return {st.value: found.get(st.value, 0) for st in Status}


async def open_boomerangs(db: Database, alert_ids: list[str]) -> dict[str, int]:
    """Boomerangs asked and not yet answered, expired, cancelled or undeliverable, per alert."""
    if not alert_ids:
        return {}
    query = select(HistoryRow.alert_id, HistoryRow.key).where(
        HistoryRow.alert_id.in_(alert_ids), HistoryRow.action.like("boomerang\\_%", escape="\\")
    )
    asked: dict[str, set[str]] = defaultdict(set)
    closed: dict[str, set[str]] = defaultdict(set)
    async with db.session() as s:
        for alert_id, key in await s.execute(query):
            _, _, rest = key.partition("/")
            boomerang, _, kind = rest.rpartition("/")
            if kind == "asked":
                asked[alert_id].add(boomerang)
            elif kind in _CLOSING:
                closed[alert_id].add(boomerang)
    return {a: len(ids - closed[a]) for a, ids in asked.items() if ids - closed[a]}
