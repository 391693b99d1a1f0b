"""The worker fills the people directory from its store writes: the real HistoryActivities.write,
the real slack-sdk client against the stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from activities.history import HistoryActivities, ProjectionRequest, StoreWrite
from activities.people import PeopleDirectory
from parley.domain import SYSTEM, Actor, AlertIn, HistoryEntry, Status
from parley.slack.client import make_slack_client
from parley.store import people, repo
from parley.store.db import Database
from tools.slack_standin import StandIn

TOKEN = "xoxb-standin-token"
BOB = Actor(source="slack", id="U0BOB", name="bob")  # the username an interaction carries


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = StandIn(rate_limit_scale=100.0).start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset()


def writer(
    standin: StandIn,
    db: Database,
    max_age: timedelta = timedelta(days=1),
    timeout_seconds: float = 2.0,
) -> HistoryActivities:
    """The worker's store write with its people directory (as worker.py builds them)."""
    client = make_slack_client(TOKEN, standin.base_url, timeout=5.0)
    directory = PeopleDirectory(db, client, max_age=max_age, timeout_seconds=timeout_seconds)
    return HistoryActivities(db, people=directory)


def lookups(standin: StandIn, user: str) -> int:
    return sum(1 for c in standin.calls("users.info") if c["args"].get("user") == user)


async def change(
    w: HistoryActivities,
    alert: AlertIn,
    key: str,
    actor: Actor = BOB,
    projection: ProjectionRequest | None = None,
    **values: str,
) -> None:
    entry = HistoryEntry(
        alert_id=alert.id,
        key=key,
        at=datetime.now(UTC),
        actor=actor,
        action=values.pop("action", "status_changed"),
        **values,
    )
    await w.write(StoreWrite(alert_id=alert.id, entries=[entry], projection=projection))


async def test_slack_actors_are_named_once_a_day(
    standin: StandIn, db: Database, make_alert: Callable[..., AlertIn]
) -> None:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    w = writer(standin, db)
    await change(w, alert, "s1", from_value="Open", to_value="Triaged")
    assert await people.names(db, ["U0BOB"]) == {"U0BOB": "Bob Brown"}  # users.info's real name
    assert lookups(standin, "U0BOB") == 1
    await change(w, alert, "s2", from_value="Triaged", to_value="Open")
    assert lookups(standin, "U0BOB") == 1  # fresh in the directory: Slack is not asked again
    # Parley's own rows name nobody from Slack.
    await change(w, alert, "s3", actor=SYSTEM, action="message_reposted")
    assert len(standin.calls("users.info")) == 1

    # Older than the allowed age: looked up again, and a rename in Slack reaches the directory.
    with standin.workspace.lock:
        standin.workspace.users["U0BOB"].real_name = "Robert Brown"
    stale = writer(standin, db, max_age=timedelta(0))
    await change(stale, alert, "s4", from_value="Open", to_value="Triaged")
    assert lookups(standin, "U0BOB") == 2
    assert await people.names(db, ["U0BOB"]) == {"U0BOB": "Robert Brown"}
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None and [h.key for h in detail.history] == ["s1", "s2", "s3", "s4"]


async def test_assignees_the_workflow_resolved_and_boomerang_people(
    standin: StandIn, db: Database, make_alert: Callable[..., AlertIn]
) -> None:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    w = writer(standin, db)
    # The workflow resolved Carol (users.info, slack.user_name) when Bob assigned her: that name
    # is saved as it is; only Bob, the clicker, needs a lookup.
    assigned = ProjectionRequest(
        alert_id=alert.id,
        status=Status.OPEN,
        assignee_id="U0CAROL",
        assignee_name="Carol C. (resolved)",
        resolution_comment=None,
    )
    await change(
        w, alert, "a1", action="assignee_changed", to_value="Carol C. (resolved)",
        projection=assigned,
    )  # fmt: skip
    assert await people.names(db, ["U0BOB", "U0CAROL"]) == {
        "U0BOB": "Bob Brown",
        "U0CAROL": "Carol C. (resolved)",
    }
    assert lookups(standin, "U0CAROL") == 0 and lookups(standin, "U0BOB") == 1

    # A Boomerang row names its asker and the person asked by id.
    asked = Actor(source="console", id="U0ALICE", name="Alice Anders")
    await change(
        w, alert, "b1", actor=asked, action="boomerang_asked", from_value="U0ALICE",
        to_value="U0DAVE",
    )  # fmt: skip
    assert (await people.names(db, ["U0ALICE", "U0DAVE"])) == {
        "U0ALICE": "Alice Anders",
        "U0DAVE": "Dave Doe",  # deactivated, still named
    }


async def test_a_slow_or_failing_slack_never_fails_the_write(
    standin: StandIn, db: Database, make_alert: Callable[..., AlertIn]
) -> None:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    w = writer(standin, db, timeout_seconds=0.3)

    # Slack holds users.info for 5 s: the write returns without its answer (the stand-in
    # journals a call only once it answers), the row is there, the name is not.
    standin.inject_fault("users.info", delay=2.0)
    await change(w, alert, "slow", from_value="Open", to_value="Triaged")
    assert lookups(standin, "U0BOB") == 0
    assert await people.names(db, ["U0BOB"]) == {}
    for _ in range(100):  # the call was made all the same: Slack answers it later
        if lookups(standin, "U0BOB"):
            break
        await asyncio.sleep(0.1)
    assert lookups(standin, "U0BOB") == 1

    # Rate limited, then an unknown user: logged, the writes go through all the same.
    standin.reset()
    standin.inject_fault("users.info", status=429, retry_after=30)
    fresh = writer(standin, db)
    await change(fresh, alert, "limited", from_value="Triaged", to_value="Open")
    ghost = Actor(source="slack", id="U0GHOST", name="ghost")
    await change(fresh, alert, "ghost", actor=ghost, from_value="Open", to_value="Triaged")
    assert await people.names(db, ["U0BOB", "U0GHOST"]) == {}
    # A failed lookup waits a minute before the next try, not every change.
    await change(fresh, alert, "again", from_value="Triaged", to_value="Open")
    assert lookups(standin, "U0BOB") == 1 and lookups(standin, "U0GHOST") == 1
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None
    assert [h.key for h in detail.history] == ["slow", "limited", "ghost", "again"]

    # Once Slack answers again (a later worker, or a minute on), the name arrives.
    await change(writer(standin, db), alert, "back", from_value="Open", to_value="Triaged")
    assert await people.names(db, ["U0BOB"]) == {"U0BOB": "Bob Brown"}
