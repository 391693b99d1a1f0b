"""Exactly-once Slack posting under ambiguous failures: the real activities, the real slack-sdk
client and the stand-in, with Temporal's attempt, heartbeat and timing set per test."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.slack import (
    METADATA_EVENT,
    DmRequest,
    PostAlertRequest,
    SlackActivities,
    ThreadReplyRequest,
    UpdateCopyRequest,
)
from parley.domain import Actor, AlertIn, Destination, Severity, SlackCopy
from parley.slack.client import make_slack_client
from parley.slack.errors import AMBIGUOUS, TRANSIENT
from tools.slack_standin import StandIn
from workflows.alert_types import AlertState
from workflows.boomerang_types import BoomerangDelays, BoomerangInput

TOKEN = "xoxb-standin-token"
TIMEOUT = 1.0  # the client's; a request may land up to 2 s after it was sent
DEST = Destination(id="d1", name="security-alerts", channel="C0ALERTS")


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = StandIn(rate_limit_scale=100.0).start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset()


@pytest.fixture
def slack(standin: StandIn) -> SlackActivities:
    return SlackActivities(make_slack_client(TOKEN, standin.base_url, timeout=TIMEOUT))


@pytest.fixture
def client(standin: StandIn) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[])


class Attempt(ActivityEnvironment):
    """One activity attempt as Temporal would start it; records its heartbeats."""

    def __init__(
        self,
        number: int = 1,
        heartbeat: float | None = None,
        started_ago: float = 0.0,
        budget: float = 30.0,
    ) -> None:
        super().__init__()
        now = datetime.now(UTC)
        self.info = dataclasses.replace(
            self.info,
            attempt=number,
            heartbeat_details=[heartbeat] if heartbeat is not None else [],
            scheduled_time=now - timedelta(minutes=1),
            current_attempt_scheduled_time=now,
            started_time=now - timedelta(seconds=started_ago),
            start_to_close_timeout=timedelta(seconds=budget),
        )
        self.beats: list[Any] = []
        # Each beat's "until": when the attempt's writes may still land (0 when none may).
        self.on_heartbeat = lambda *details: self.beats.extend(
            d["until"] if isinstance(d, dict) else d for d in details
        )


def alert_request() -> PostAlertRequest:
    alert = AlertIn(
        id=f"a-{uuid.uuid4().hex[:8]}",
        title="Impossible travel",
        severity=Severity.HIGH,
        rule_id="Okta.ImpossibleTravel",
        created_at=datetime(2026, 11, 30, 7, tzinfo=UTC),
    )
    return PostAlertRequest(
        state=AlertState(alert=alert), destination=DEST, console_base_url="http://console.test"
    )


def alert_key(req: PostAlertRequest) -> str:
    return f"alert/{req.state.alert.id}/{DEST.id}"


async def seed(
    client: AsyncWebClient, channel: str, key: str, count: int, thread_ts: str | None = None
) -> list[str]:
    """Messages with Parley's metadata key, as earlier attempts would have left them."""
    meta = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
    return [
        (
            await client.chat_postMessage(
                channel=channel, text=f"copy {n}", metadata=meta, thread_ts=thread_ts
            )
        )["ts"]
        for n in range(count)
    ]


def ambiguous_delay(err: ApplicationError) -> float:
    assert err.type == AMBIGUOUS and not err.non_retryable, err
    assert err.next_retry_delay is not None
    return err.next_retry_delay.total_seconds()


async def test_first_attempt_posts_without_looking_and_notes_when_it_sent(
    slack: SlackActivities, standin: StandIn
) -> None:
    attempt = Attempt()
    before = time.time()
    copy = await attempt.run(slack.post_alert, req := alert_request())
    assert [m["ts"] for m in standin.messages("C0ALERTS")] == [copy.ts]
    assert copy.healed == [] and copy.as_copy() == SlackCopy(
        destination_id="d1", destination_name="security-alerts", channel="C0ALERTS", ts=copy.ts
    )
    assert standin.calls("conversations.history") == []
    meta = standin.messages("C0ALERTS")[0]["metadata"]
    assert meta["event_payload"]["key"] == alert_key(req)
    # Until when this post may land, for a retry after a crash: sent + 2 × the client timeout;
    # then, answered, nothing is in flight and a retry need not wait.
    [until, answered] = attempt.beats
    assert before + 2 * TIMEOUT <= until <= time.time() + 2 * TIMEOUT
    assert answered == 0


async def test_a_post_that_timed_out_is_looked_for_only_once_it_cannot_land(
    slack: SlackActivities, standin: StandIn
) -> None:
    """The issue's case: Slack takes longer than the client waits, and applies the post anyway."""
    standin.inject_fault("chat.postMessage", delay=TIMEOUT + 0.4)
    req = alert_request()
    first = Attempt()
    with pytest.raises(ApplicationError) as info:
        await first.run(slack.post_alert, req)
    wait = ambiguous_delay(info.value)
    assert 1.0 <= wait <= 2 * TIMEOUT
    # A retry that comes sooner (after a crash, without that delay) waits too, asking nothing.
    [until] = first.beats
    with pytest.raises(ApplicationError) as early:
        await Attempt(2, heartbeat=until).run(slack.post_alert, req)
    assert 0 < ambiguous_delay(early.value) <= wait
    assert standin.calls("conversations.history") == []
    await asyncio.sleep(max(until - time.time(), 0))
    copy = await Attempt(3, heartbeat=until).run(slack.post_alert, req)
    # The slow post landed and is used; nothing was posted twice.
    assert [m["ts"] for m in standin.messages("C0ALERTS")] == [copy.ts]
    assert len(standin.calls("chat.postMessage")) == 1 and copy.healed == []


@pytest.mark.parametrize(
    "fault",
    [{"drop": True}, {"status": 500}, {"status": 503}],
    ids=["dropped-connection", "500", "503"],
)
async def test_no_answer_after_slack_took_the_post_is_waited_out(
    slack: SlackActivities, standin: StandIn, fault: dict[str, Any]
) -> None:
    standin.inject_fault("chat.postMessage", after_effect=True, **fault)
    req = alert_request()
    first = Attempt()
    with pytest.raises(ApplicationError) as info:
        await first.run(slack.post_alert, req)
    ambiguous_delay(info.value)
    await asyncio.sleep(max(first.beats[-1] - time.time(), 0))
    copy = await Attempt(2, heartbeat=first.beats[-1]).run(slack.post_alert, req)
    assert [m["ts"] for m in standin.messages("C0ALERTS")] == [copy.ts]
    assert len(standin.calls("chat.postMessage")) == 1


async def test_a_refused_post_is_retried_without_waiting(
    slack: SlackActivities, standin: StandIn
) -> None:
    standin.inject_fault("chat.postMessage", error="internal_error")
    attempt = Attempt()
    with pytest.raises(ApplicationError) as info:
        await attempt.run(slack.post_alert, alert_request())
    assert info.value.type == TRANSIENT and info.value.next_retry_delay is None
    assert standin.messages("C0ALERTS") == []
    assert attempt.beats[-1] == 0  # refused: the retry has nothing to wait for


async def test_no_post_starts_that_the_attempt_could_not_see_through(
    slack: SlackActivities, standin: StandIn
) -> None:
    # 1.5 s left of 30: a post could time out after start_to_close, unreported.
    with pytest.raises(ApplicationError) as info:
        await Attempt(started_ago=28.5, budget=30).run(slack.post_alert, alert_request())
    assert info.value.type == TRANSIENT
    assert standin.calls("chat.postMessage") == []


async def test_retry_keeps_the_earliest_alert_copy_and_deletes_the_later(
    slack: SlackActivities, standin: StandIn, client: AsyncWebClient
) -> None:
    req = alert_request()
    first, later = await seed(client, "C0ALERTS", alert_key(req), 2)
    copy = await Attempt(2).run(slack.post_alert, req)
    assert (copy.ts, copy.healed) == (first, [later])
    assert [m["ts"] for m in standin.messages("C0ALERTS")] == [first]
    assert len(standin.calls("chat.postMessage")) == 2  # the two seeded, nothing new


async def test_retry_keeps_the_earliest_thread_reply_and_deletes_the_later(
    slack: SlackActivities, standin: StandIn, client: AsyncWebClient
) -> None:
    parent = (await client.chat_postMessage(channel="C0ALERTS", text="the alert"))["ts"]
    key = "reply/a1/d1/r1"
    first, later = await seed(client, "C0ALERTS", key, 2, thread_ts=parent)
    req = ThreadReplyRequest(
        alert_id="a1",
        target=SlackCopy(destination_id="d1", channel="C0ALERTS", ts=parent),
        key=key,
        text="Triaged by alice",
    )
    reply = await Attempt(2).run(slack.thread_reply, req)
    assert (reply.ts, reply.healed) == (first, [later])
    assert [m["ts"] for m in standin.replies("C0ALERTS", parent)] == [first]
    assert standin.messages("C0ALERTS")[0]["reply_count"] == 1


async def test_a_reply_retry_under_a_deleted_parent_gives_up_quietly(
    slack: SlackActivities, standin: StandIn, client: AsyncWebClient
) -> None:
    # Slack answers thread_not_found once the parent is gone; retrying would never end.
    parent = (await client.chat_postMessage(channel="C0ALERTS", text="the alert"))["ts"]
    standin.delete_message("C0ALERTS", parent)
    req = ThreadReplyRequest(
        alert_id="a1",
        target=SlackCopy(destination_id="d1", channel="C0ALERTS", ts=parent),
        key="reply/a1/d1/r1",
        text="Triaged by alice",
    )
    reply = await Attempt(2).run(slack.thread_reply, req)
    assert reply.ts == "" and reply.healed == []
    assert len(standin.calls("chat.postMessage")) == 1  # only the parent


async def test_retry_keeps_the_earliest_boomerang_dm_and_deletes_the_later(
    slack: SlackActivities, standin: StandIn, client: AsyncWebClient
) -> None:
    key = "alert-a1-boomerang-1/dm"
    first, later = await seed(client, "U0BOB", key, 2)
    req = DmRequest(
        user_id="U0BOB",
        key=key,
        boomerang=BoomerangInput(
            boomerang_id="alert-a1-boomerang-1",
            alert_id="a1",
            alert_title="Impossible travel",
            alert_severity=Severity.HIGH,
            console_url="http://console.test/alerts/a1",
            asker=Actor(source="slack", id="U0ALICE"),
            recipient_id="U0BOB",
            question="Was this you?",
            delays=BoomerangDelays(),
        ),
    )
    dm = await Attempt(2).run(slack.boomerang_dm, req)
    channel = standin.dm_channel_id("U0BOB")
    assert (dm.channel, dm.ts, dm.healed) == (channel, first, [later])
    assert [m["ts"] for m in standin.messages(channel)] == [first]


async def test_a_retry_deletes_its_own_post_when_the_earlier_one_lands_meanwhile(
    standin: StandIn, client: AsyncWebClient
) -> None:
    """The earlier request lands after the retry looked but before it checked: first one wins."""
    slack = SlackActivities(make_slack_client(TOKEN, standin.base_url, timeout=3.0))
    req = alert_request()
    meta = {"event_type": METADATA_EVENT, "event_payload": {"key": alert_key(req)}}
    standin.inject_fault("chat.postMessage", delay=1.0)  # the earlier attempt's request
    standin.inject_fault("chat.postMessage", delay=2.0)  # this retry's
    earlier = asyncio.create_task(
        client.chat_postMessage(channel="C0ALERTS", text="earlier", metadata=meta)
    )
    await asyncio.sleep(0.1)
    copy = await Attempt(2).run(slack.post_alert, req)
    landed = (await earlier)["ts"]
    assert (copy.ts, len(copy.healed)) == (landed, 1)
    assert [m["ts"] for m in standin.messages("C0ALERTS")] == [landed]
    assert copy.healed[0] == standin.calls("chat.postMessage")[-1]["result"]["ts"]


async def test_retry_finds_its_message_behind_more_than_a_page_of_chatter(
    slack: SlackActivities, standin: StandIn, client: AsyncWebClient
) -> None:
    req = alert_request()
    [ts] = await seed(client, "C0ALERTS", alert_key(req), 1)
    for n in range(250):
        standin.add_user_message("C0ALERTS", "U0ALICE", f"chatter {n}")
    copy = await Attempt(2).run(slack.post_alert, req)
    assert copy.ts == ts and copy.healed == []
    assert len(standin.calls("chat.postMessage")) == 1
    assert len(standin.calls("conversations.history")) >= 2  # it had to turn the page


async def test_an_update_that_timed_out_is_retried_once_it_cannot_land(
    slack: SlackActivities, standin: StandIn, client: AsyncWebClient
) -> None:
    # A late re-render landing after a newer one would show an older state.
    req = alert_request()
    [ts] = await seed(client, "C0ALERTS", alert_key(req), 1)
    standin.inject_fault("chat.update", delay=TIMEOUT + 0.4)
    target = SlackCopy(destination_id="d1", channel="C0ALERTS", ts=ts)
    update = UpdateCopyRequest(state=req.state, target=target, console_base_url="http://c.test")
    with pytest.raises(ApplicationError) as info:
        await Attempt().run(slack.update_alert, update)
    ambiguous_delay(info.value)
