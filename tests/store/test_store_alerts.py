"""Alert writes (claim, history, projection, Slack copies) and reads (list, detail)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from parley.domain import Actor, AlertIn, HistoryEntry, Severity, SlackCopy, Status
from parley.store import repo
from parley.store.db import Database
from tests.store.store_support import T0

SLACK = Actor(source="slack", id="U123", name="alice")
MakeAlert = Callable[..., AlertIn]


def entry(alert_id: str, key: str, minutes: int = 0, **kw: Any) -> HistoryEntry:
    kw.setdefault("action", "status")
    at = T0 + timedelta(minutes=minutes)
    return HistoryEntry(alert_id=alert_id, key=key, at=at, actor=SLACK, **kw)


async def test_claim_alert_once(db: Database, make_alert: MakeAlert) -> None:
    alert = make_alert()
    assert await repo.claim_alert(db, alert, "wf-a") is True
    assert await repo.claim_alert(db, alert, "wf-b") is False
    assert await repo.alert_workflow_id(db, alert.id) == "wf-a"  # first claim wins
    assert await repo.alert_workflow_id(db, "nope") is None
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None
    assert (detail.status, detail.assignee_id, detail.workflow_id) == (Status.OPEN, None, "wf-a")
    assert detail.created_at == alert.created_at
    assert detail.summary_attributes == alert.summary_attributes
    assert detail.runbook == alert.runbook


async def test_concurrent_claims_exactly_one_wins(
    db: Database, backend_url: str, make_alert: MakeAlert
) -> None:
    alert = make_alert()
    # A second Database stands in for another worker process with its own pool.
    other = Database(backend_url)
    try:
        results = await asyncio.gather(
            *(repo.claim_alert(d, alert, f"wf-{i}") for i, d in enumerate([db, other] * 6))
        )
    finally:
        await other.dispose()
    assert sorted(results) == [False] * 11 + [True]


async def test_record_history_idempotent_and_ordered(db: Database, make_alert: MakeAlert) -> None:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    late = entry(alert.id, "k2", 5, from_value="Triaged", to_value="Resolved", comment="done")
    early = entry(alert.id, "k1", 1, from_value="Open", to_value="Triaged")
    assert await repo.record_history(db, late) is True
    assert await repo.record_history(db, early) is True
    assert await repo.record_history(db, early) is False  # a retried activity
    changed = early.model_copy(update={"comment": "retry with other text"})
    assert await repo.record_history(db, changed) is False  # the key decides, not the content
    # The same key on another alert is a different row.
    other = make_alert()
    await repo.claim_alert(db, other, "wf2")
    assert await repo.record_history(db, entry(other.id, "k1")) is True

    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None
    assert [h.key for h in detail.history] == ["k1", "k2"]  # oldest first
    h1, h2 = detail.history
    assert (h1.from_value, h1.to_value, h1.comment) == ("Open", "Triaged", None)
    assert (h2.comment, h2.actor) == ("done", SLACK)
    assert h2.at == T0 + timedelta(minutes=5) and h2.at.tzinfo is not None


async def test_history_for_unknown_alert_raises(db: Database) -> None:
    with pytest.raises(repo.AlertNotFound):
        await repo.record_history(db, entry("ghost", "k"))
    with pytest.raises(repo.AlertNotFound):
        await repo.update_alert_projection(
            db,
            "ghost",
            status=Status.OPEN,
            assignee_id=None,
            assignee_name="",
            resolution_comment=None,
        )


async def test_update_projection(db: Database, make_alert: MakeAlert) -> None:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    before = await repo.get_alert_detail(db, alert.id)
    assert before is not None
    await repo.update_alert_projection(
        db,
        alert.id,
        status=Status.RESOLVED,
        assignee_id="U9",
        assignee_name="Bob",
        resolution_comment="false positive",
    )
    after = await repo.get_alert_detail(db, alert.id)
    assert after is not None
    assert (after.status, after.assignee_id, after.assignee_name, after.resolution_comment) == (
        Status.RESOLVED,
        "U9",
        "Bob",
        "false positive",
    )
    assert after.updated_at >= before.updated_at
    await repo.update_alert_projection(
        db,
        alert.id,
        status=Status.OPEN,
        assignee_id=None,
        assignee_name="",
        resolution_comment=None,
    )
    reopened = await repo.get_alert_detail(db, alert.id)
    assert reopened is not None
    assert (reopened.status, reopened.assignee_id, reopened.resolution_comment) == (
        Status.OPEN,
        None,
        None,
    )


async def test_slack_copies_upsert(db: Database, make_alert: MakeAlert) -> None:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    link = "https://example.slack.com/archives/C1/p1"
    await repo.save_slack_copy(
        db, alert.id, SlackCopy(destination_id="d1", destination_name="SOC", channel="C1"), None
    )
    await repo.save_slack_copy(
        db,
        alert.id,
        SlackCopy(destination_id="d1", channel="C1", ts="1.1", destination_name="SOC"),
        link,
    )
    # A retry whose permalink lookup failed keeps the known link for the same message.
    await repo.save_slack_copy(
        db,
        alert.id,
        SlackCopy(destination_id="d1", channel="C1", ts="1.1", destination_name="SOC"),
        None,
    )
    await repo.save_slack_copy(
        db,
        alert.id,
        SlackCopy(destination_id="d2", channel="C2", failed="channel_not_found"),
        None,
    )
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None
    got = [(c.destination_id, c.ts, c.permalink, c.failed) for c in detail.slack_copies]
    assert got == [("d1", "1.1", link, None), ("d2", None, None, "channel_not_found")]
    # A new message (different ts) must not inherit the old message's link.
    await repo.save_slack_copy(
        db, alert.id, SlackCopy(destination_id="d1", channel="C1", ts="2.2"), None
    )
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None
    assert (detail.slack_copies[0].ts, detail.slack_copies[0].permalink) == ("2.2", None)
    with pytest.raises(repo.AlertNotFound):
        await repo.save_slack_copy(db, "ghost", SlackCopy(destination_id="d", channel="C1"), None)


async def test_detail_unknown_is_none(db: Database) -> None:
    assert await repo.get_alert_detail(db, "missing") is None


async def _seed_list(db: Database, make_alert: MakeAlert) -> list[AlertIn]:
    alerts = [
        make_alert(severity=sev)
        for sev in [Severity.LOW, Severity.HIGH, Severity.CRITICAL, Severity.HIGH, Severity.LOW]
    ]
    for a in alerts:
        await repo.claim_alert(db, a, f"wf-{a.id}")
    await repo.update_alert_projection(
        db,
        alerts[1].id,
        status=Status.TRIAGED,
        assignee_id="U1",
        assignee_name="Alice",
        resolution_comment=None,
    )
    await repo.update_alert_projection(
        db,
        alerts[3].id,
        status=Status.TRIAGED,
        assignee_id="U2",
        assignee_name="Bob",
        resolution_comment=None,
    )
    return alerts


async def test_list_filters(db: Database, make_alert: MakeAlert) -> None:
    alerts = await _seed_list(db, make_alert)
    ids = [a.id for a in alerts]

    async def listed(**kw: Any) -> list[str]:
        return [a.alert_id for a in (await repo.list_alerts(db, **kw)).items]

    assert await listed() == ids[::-1]  # newest first
    assert await listed(status=Status.TRIAGED) == [ids[3], ids[1]]
    assert await listed(status=Status.OPEN) == [ids[4], ids[2], ids[0]]
    assert await listed(severity=Severity.HIGH) == [ids[3], ids[1]]
    assert await listed(severity=Severity.LOW, status=Status.OPEN) == [ids[4], ids[0]]
    assert await listed(assignee="U1") == [ids[1]]
    assert await listed(assignee="bob") == [ids[3]]  # by name, case-insensitive
    assert await listed(assignee="nobody") == []
    assert await listed(status=Status.RESOLVED) == []
    item = (await repo.list_alerts(db, assignee="U2")).items[0]
    assert (item.status, item.severity, item.assignee_name) == (
        Status.TRIAGED,
        Severity.HIGH,
        "Bob",
    )


async def test_keyset_pagination(db: Database, make_alert: MakeAlert) -> None:
    # Equal timestamps too: the alert id breaks ties, so no row is skipped or repeated.
    same = T0 + timedelta(days=1)
    alerts = [make_alert() for _ in range(5)] + [make_alert(created_at=same) for _ in range(4)]
    for a in alerts:
        await repo.claim_alert(db, a, "wf")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await repo.list_alerts(db, limit=2, cursor=cursor)
        pages += 1
        seen += [a.alert_id for a in page.items]
        assert len(page.items) <= 2
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 5
    assert sorted(seen) == sorted(a.id for a in alerts) and len(seen) == len(set(seen))
    keys = [(a.created_at, a.id) for a in alerts]
    assert seen == [k[1] for k in sorted(keys, reverse=True)]
    # A filter applies across pages too.
    page = await repo.list_alerts(db, severity=Severity.HIGH, limit=len(alerts))
    assert page.next_cursor is None and len(page.items) == len(alerts)


async def test_list_rejects_bad_input(db: Database) -> None:
    for bad in ("garbage", "e30", "WyJ4IiwgMV0"):  # not base64 JSON / {} / ["x", 1]
        with pytest.raises(ValueError, match="cursor"):
            await repo.list_alerts(db, cursor=bad)
    for limit in (0, 201):
        with pytest.raises(ValueError, match="limit"):
            await repo.list_alerts(db, limit=limit)
