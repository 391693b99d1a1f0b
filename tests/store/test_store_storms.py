"""Storms in the store, on SQLite and PostgreSQL: intake's count, the storm records and what the
console reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from parley.domain import AlertIn, Destination, Severity, Status
from parley.store import repo, storms
from parley.store.db import Database
from parley.store.models import AlertRow, StormRow

MakeAlert = Callable[..., AlertIn]
RULE = "Okta.Login"
ALL = Destination(id="all", name="security", channel="C0ALERTS")
CRIT = Destination(id="crit", name="critical", channel="C0CRIT", min_severity=Severity.HIGH)
K8S = Destination(id="k8s", name="k8s", channel="C0K8S", log_types=["Kubernetes.Audit"])
HIGH_TOO = Destination(id="hi", name="everything", channel="C0ALL", storm_includes_high=True)
DESTINATIONS = [ALL, CRIT, K8S, HIGH_TOO]


@pytest.fixture
async def sdb(db: Database) -> Database:
    async with db.session() as s:
        await s.execute(delete(StormRow))
    return db


def _now() -> datetime:
    return datetime.now(UTC)


async def _claim(db: Database, make_alert: MakeAlert, n: int, **fields: object) -> list[AlertIn]:
    alerts = [make_alert(**{"rule_id": RULE, **fields}) for _ in range(n)]
    for a in alerts:
        assert await repo.claim_alert(db, a, f"alert-{a.id}")
    return alerts


async def _storming(db: Database, alert: AlertIn, threshold: int = 3) -> list[str]:
    since = _now() - timedelta(minutes=10)
    return await storms.storm_destinations(
        db, alert, DESTINATIONS, threshold=threshold, since=since
    )


async def _record(db: Database, storm_id: str, dest: Destination = ALL, **changes: object) -> None:
    fields: dict[str, object] = {
        "storm_id": storm_id,
        "workflow_id": f"storm-{dest.channel}-{RULE}",
        "destination": dest,
        "rule_id": RULE,
        "rule_name": "Okta login",
        "started_at": _now() - timedelta(minutes=1),
        "last_at": _now(),
        "ended_at": None,
        "member_count": 0,
        "counts": {},
        "members": [],
    }
    fields.update(changes)
    await storms.record_storm(db, **fields)  # type: ignore[arg-type]


async def test_past_the_threshold_of_its_rule_a_destination_storms(
    sdb: Database, make_alert: MakeAlert
) -> None:
    *_, third = await _claim(sdb, make_alert, 3, severity=Severity.LOW)
    await _claim(sdb, make_alert, 5, severity=Severity.LOW, rule_id="Other.Rule")
    assert await _storming(sdb, third) == []  # three is the threshold, not past it
    (fourth,) = await _claim(sdb, make_alert, 1, severity=Severity.LOW)
    # CRIT takes no Low alerts and K8S no CloudTrail ones: neither counts them.
    assert await _storming(sdb, fourth) == ["all", "hi"]
    assert await _storming(sdb, fourth, threshold=4) == []
    assert await _storming(sdb, fourth, threshold=0) == []  # storms off
    # High alerts post on their own, unless the destination takes them into the storm.
    (high,) = await _claim(sdb, make_alert, 1, severity=Severity.HIGH)
    assert await _storming(sdb, high) == ["hi"]


async def test_only_alerts_received_within_the_window_count(
    sdb: Database, make_alert: MakeAlert
) -> None:
    alerts = await _claim(sdb, make_alert, 4, severity=Severity.LOW)
    async with sdb.session() as s:
        await s.execute(
            update(AlertRow)
            .where(AlertRow.alert_id.in_([a.id for a in alerts[:2]]))
            .values(received_at=_now() - timedelta(hours=1))
        )
    assert await _storming(sdb, alerts[-1]) == []


async def test_an_open_storm_keeps_its_channel_until_it_ends(
    sdb: Database, make_alert: MakeAlert
) -> None:
    (alert,) = await _claim(sdb, make_alert, 1, severity=Severity.LOW)
    await _record(sdb, "s-open")
    assert await _storming(sdb, alert) == ["all"]
    await _record(sdb, "s-open", ended_at=_now())
    assert await _storming(sdb, alert) == []
    # A storm whose workflow died without ending does not hold the channel forever.
    await _record(sdb, "s-stale", last_at=_now() - timedelta(hours=2))
    assert await _storming(sdb, alert) == []


async def test_records_are_idempotent_and_the_console_reads_them(
    sdb: Database, make_alert: MakeAlert
) -> None:
    a, b, c = await _claim(sdb, make_alert, 3, severity=Severity.MEDIUM)
    t = _now()
    members = [
        (a.id, t, True),
        (b.id, t + timedelta(seconds=1), False),
        ("never-claimed", t, False),
    ]
    await _record(sdb, "s1", member_count=2, counts={"Medium": 2}, members=members)
    await _record(sdb, "s1", member_count=2, counts={"Medium": 2}, members=members)  # a retry
    await _record(sdb, "s1", digest_ts="1700.1", permalink="https://slack.test/p1")
    # A lead-in that was digested after all; a write without the digest's ts keeps it.
    await _record(
        sdb,
        "s1",
        member_count=3,
        counts={"Medium": 3},
        members=[(a.id, t, False), (c.id, t, False)],
    )
    await repo.update_alert_projection(
        sdb,
        b.id,
        status=Status.RESOLVED,
        assignee_id=None,
        assignee_name="",
        resolution_comment="x",
    )
    detail = await storms.get_storm(sdb, "s1")
    assert detail is not None
    assert (detail.member_count, detail.counts, detail.permalink) == (
        3,
        {"Medium": 3},
        "https://slack.test/p1",
    )
    assert {m.alert_id: m.posted for m in detail.members} == {a.id: False, b.id: False, c.id: False}
    assert detail.members[0].alert_id == b.id  # newest first
    assert next(m for m in detail.members if m.alert_id == b.id).status is Status.RESOLVED
    await _record(sdb, "s0", started_at=_now() - timedelta(hours=1), members=[(a.id, t, False)])
    assert [s.storm_id for s in await storms.list_storms(sdb)] == ["s1", "s0"]
    assert [s.storm_id for s in await storms.storms_of_alert(sdb, a.id)] == ["s1", "s0"]
    assert await storms.storms_of_alert(sdb, "never-claimed") == []
    assert await storms.get_storm(sdb, "nope") is None
    with pytest.raises(ValueError):
        await storms.list_storms(sdb, limit=0)


async def test_lead_in_is_the_rules_earlier_alerts_the_destination_took(
    sdb: Database, make_alert: MakeAlert
) -> None:
    low = await _claim(sdb, make_alert, 3, severity=Severity.LOW)
    (high,) = await _claim(sdb, make_alert, 1, severity=Severity.HIGH)
    (other_log,) = await _claim(sdb, make_alert, 1, severity=Severity.LOW, log_type="Okta.System")
    (in_other_storm,) = await _claim(sdb, make_alert, 1, severity=Severity.LOW)
    await _record(sdb, "earlier", members=[(in_other_storm.id, _now(), False)])
    since, until = _now() - timedelta(minutes=10), _now() + timedelta(seconds=1)

    async def ids(dest: Destination) -> list[str]:
        found = await storms.lead_in(sdb, dest, RULE, storm_id="s2", since=since, until=until)
        return [alert_id for alert_id, *_ in found]

    assert await ids(ALL) == [a.id for a in low] + [other_log.id]
    # The earlier storm was in C0ALERTS: other channels' lead-ins may include its alerts.
    everything = [a.id for a in low] + [high.id, other_log.id, in_other_storm.id]
    assert await ids(HIGH_TOO) == everything
    okta_only = Destination(id="x", name="x", channel="C0X", log_types=["Okta.System"])
    assert await ids(okta_only) == [other_log.id]
    found = await storms.lead_in(sdb, ALL, RULE, storm_id="s2", since=until, until=until)
    assert found == []
