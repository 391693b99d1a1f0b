"""The alert lifecycle end to end: intake → Slack copies → clicks → every copy and the console."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from parley.domain import Status
from parley.slack.ui import ids
from tests.e2e.conftest import Stack, new_alert

ALICE = "U0ALICE"
BOB = "U0BOB"


def _our_messages(stack: Stack, channel: str, alert_id: str) -> list[dict[str, Any]]:
    """Top-level messages in `channel` that Parley posted for this alert (by message metadata)."""
    found = []
    for msg in stack.standin.messages(channel):
        payload = (msg.get("metadata") or {}).get("event_payload") or {}
        if payload.get("alert") == alert_id:
            found.append(msg)
    return found


def _text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + message.get("text", "")


def _action_ids(message: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            out += [e["action_id"] for e in block["elements"]]
    return out


async def _posted(stack: Stack, alert: dict[str, Any], copies: int = 2):
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    return await stack.wait_posted(alert["id"], copies)


async def test_alert_goes_once_to_each_matching_channel(fresh: Stack) -> None:
    alert = new_alert(severity="High")
    state = await _posted(fresh, alert)

    assert {c.channel for c in state.copies} == {"C0ALERTS", "C0CRIT"}
    for channel in ("C0ALERTS", "C0CRIT"):
        msgs = _our_messages(fresh, channel, alert["id"])
        assert len(msgs) == 1, msgs
        assert _action_ids(msgs[0]) == [
            ids.VIEW_IN_CONSOLE, ids.SET_ASSIGNEE, ids.UPDATE_STATUS,
            ids.SHOW_DETAILS, ids.THREAT_INTEL, ids.BOOMERANG,
        ]  # fmt: skip
        assert alert["title"] in _text_of(msgs[0])
        meta = msgs[0]["metadata"]["event_payload"]
        dest = next(c.destination_id for c in state.copies if c.channel == channel)
        assert (meta["alert"], meta["destination"]) == (alert["id"], dest)
    # C0PRIV only takes Kubernetes alerts.
    assert _our_messages(fresh, "C0PRIV", alert["id"]) == []

    again = await fresh.post_alert(alert)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    await asyncio.sleep(1.0)
    for channel in ("C0ALERTS", "C0CRIT"):
        assert len(_our_messages(fresh, channel, alert["id"])) == 1

    history = await fresh.history(alert["id"])
    assert history[0]["action"] == "created"

    async def permalinks() -> list[str]:
        resp = await fresh.http.get(f"/alerts/{alert['id']}", headers=fresh.auth())
        links = [c.get("permalink") for c in resp.json()["slack_copies"]]
        return [link for link in links if link] if len(links) == 2 else []

    links = await fresh.wait_for(permalinks, what="permalinks in the console")
    assert all("/archives/" in link for link in links)


async def test_low_severity_skips_the_critical_channel(fresh: Stack) -> None:
    alert = new_alert(severity="Low")
    state = await _posted(fresh, alert, copies=1)
    assert [c.channel for c in state.copies] == ["C0ALERTS"]
    assert _our_messages(fresh, "C0CRIT", alert["id"]) == []


async def test_status_change_updates_every_copy_and_threads(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    first = next(c for c in state.copies if c.channel == "C0ALERTS")

    res = await fresh.standin.driver.click(
        ALICE, first.channel, first.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    assert res.status == 200
    assert res.elapsed < 3.0

    async def rerendered() -> bool:
        st = await fresh.state(alert["id"])
        if st.status is not Status.TRIAGED:
            return False
        for copy in st.copies:
            msg = fresh.standin.get_message(copy.channel, copy.ts)
            if "Triaged" not in _text_of(msg):
                return False
            replies = fresh.standin.replies(copy.channel, copy.ts)
            if not any(f"<@{ALICE}> changed status Open → Triaged" in r["text"] for r in replies):
                return False
        return True

    await fresh.wait_for(rerendered, what="both copies re-rendered with a thread reply")
    history = await fresh.history(alert["id"])
    change = [h for h in history if h["action"] == "status_changed"]
    assert len(change) == 1
    assert change[0]["actor"]["id"] == ALICE and change[0]["actor"]["source"] == "slack"
    assert (change[0]["from_value"], change[0]["to_value"]) == ("Open", "Triaged")


async def test_same_status_again_records_and_posts_nothing(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    await fresh.wait_for(
        lambda: len(fresh.standin.replies(copy.channel, copy.ts)) == 1, what="first reply"
    )
    updates_before = len(fresh.standin.calls("chat.update"))
    await fresh.standin.driver.click(
        BOB, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    await asyncio.sleep(1.5)
    assert len(fresh.standin.replies(copy.channel, copy.ts)) == 1
    history = await fresh.history(alert["id"])
    assert len([h for h in history if h["action"] == "status_changed"]) == 1
    mine = [
        c
        for c in fresh.standin.calls("chat.update")[updates_before:]
        if (c.get("args") or {}).get("ts") in {x.ts for x in state.copies}
    ]
    assert mine == []


async def test_set_assignee_from_slack(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    copy = next(c for c in state.copies if c.channel == "C0CRIT")
    res = await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user=BOB
    )
    assert res.status == 200

    async def assigned() -> bool:
        st = await fresh.state(alert["id"])
        if st.assignee_id != BOB:
            return False
        return all(
            f"<@{BOB}>" in _text_of(fresh.standin.get_message(c.channel, c.ts))
            and any("changed assignee" in r["text"] for r in fresh.standin.replies(c.channel, c.ts))
            for c in st.copies
        )

    await fresh.wait_for(assigned, what="assignee shown in both copies")
    history = await fresh.history(alert["id"])
    entry = next(h for h in history if h["action"] == "assignee_changed")
    assert entry["actor"]["id"] == ALICE
    assert entry["to_value"]  # the assignee's display name, resolved via users.info
    st = await fresh.state(alert["id"])
    assert st.assignee_name and st.assignee_name != BOB


async def test_resolve_asks_for_a_comment_in_a_modal(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    res = await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Resolved"
    )
    assert res.status == 200
    views = [v for v in fresh.standin.views(ALICE) if v.get("callback_id") == ids.RESOLVE_MODAL]
    assert views, "the resolve modal was not opened"
    view = views[-1]

    empty = await fresh.standin.driver.submit_view(
        ALICE,
        view["id"],
        # Slack's client refuses to submit an empty required field; blanks still get through.
        {ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: "   "}},
    )
    assert empty.status == 200
    assert empty.body["response_action"] == "errors"
    assert ids.RESOLVE_COMMENT_BLOCK in empty.body["errors"]
    await asyncio.sleep(0.5)
    assert (await fresh.state(alert["id"])).status is Status.OPEN

    done = await fresh.standin.driver.submit_view(
        ALICE,
        view["id"],
        {ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: "Known VPN egress in Lisbon"}},
    )
    assert done.status == 200 and not done.body

    async def resolved() -> bool:
        st = await fresh.state(alert["id"])
        return st.status is Status.RESOLVED and all(
            any("Known VPN egress" in r["text"] for r in fresh.standin.replies(c.channel, c.ts))
            for c in st.copies
        )

    await fresh.wait_for(resolved, what="resolution in both threads")
    history = await fresh.history(alert["id"])
    entry = next(h for h in history if h["action"] == "status_changed")
    assert entry["to_value"] == "Resolved"
    assert entry["comment"] == "Known VPN egress in Lisbon"


async def test_forged_or_stale_signatures_get_401_and_change_nothing(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    standin = fresh.standin
    ok = await standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged",
        timestamp_offset=-360,
    )  # fmt: skip
    assert ok.status == 401
    body = json.dumps({"type": "block_actions"}).encode()
    forged = await standin.driver.send_raw(
        b"payload=" + body,
        {
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert forged.status == 401
    await asyncio.sleep(1.0)
    assert (await fresh.state(alert["id"])).status is Status.OPEN
    assert [h for h in await fresh.history(alert["id"]) if h["action"] != "created"] == []


async def test_alert_text_is_escaped_for_slack(fresh: Stack) -> None:
    alert = new_alert(
        title="<!channel> urgent <https://evil.example|click> & more",
        runbook="see <@U0BOB>",
        summary_attributes={"host": ["<!here>"]},
    )
    state = await _posted(fresh, alert)
    for call in fresh.standin.calls("chat.postMessage"):
        args = call.get("args") or {}
        if args.get("channel") != state.copies[0].channel:
            continue
        raw = json.dumps(args)
        if "urgent" not in raw:
            continue
        assert "<!channel>" not in raw and "<!here>" not in raw
        assert "<https://evil" not in raw and "<@U0BOB>" not in raw
        assert "&lt;!channel&gt;" in raw
        break
    else:
        raise AssertionError("the alert was not posted")


async def test_unknown_alert_and_action_answer_without_500(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    # Terminate the workflow: clicks on its message now refer to an alert Temporal forgot.
    await fresh.client.get_workflow_handle(f"alert-{alert['id']}").terminate("test")
    res = await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    assert res.status == 200

    async def told() -> bool:
        return any(
            "no longer open" in (p.get("text") or "") for p in fresh.standin.response_url_posts()
        )

    await fresh.wait_for(told, what="an ephemeral explanation")
    garbage = await fresh.standin.driver.send_raw(b"payload=%7Bnot-json", {})
    assert garbage.status in (400, 401)


async def test_clicks_answered_while_worker_is_down_then_applied_once(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    await fresh.stop_worker()
    try:
        res = await fresh.standin.driver.click(
            ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
        )
        assert res.status == 200
        assert res.elapsed < 3.0, res.elapsed
        await asyncio.sleep(1.0)
        assert len(fresh.standin.replies(copy.channel, copy.ts)) == 0
    finally:
        fresh.start_worker()

    async def applied() -> bool:
        st = await fresh.state(alert["id"])
        return st.status is Status.TRIAGED and all(
            len(fresh.standin.replies(c.channel, c.ts)) == 1 for c in st.copies
        )

    await fresh.wait_for(applied, timeout=30, what="the click applied after the restart")
    await asyncio.sleep(1.0)
    history = await fresh.history(alert["id"])
    assert len([h for h in history if h["action"] == "status_changed"]) == 1


async def test_post_survives_429_and_a_dropped_connection_exactly_once(fresh: Stack) -> None:
    fresh.standin.inject_fault("chat.postMessage", status=429, retry_after=1, times=1)
    fresh.standin.inject_fault("chat.postMessage", drop=True, after_effect=True, times=1)
    alert = new_alert()
    resp = await fresh.post_alert(alert)
    assert resp.status_code == 201
    await fresh.wait_posted(alert["id"], 2)
    await asyncio.sleep(1.0)
    for channel in ("C0ALERTS", "C0CRIT"):
        assert len(_our_messages(fresh, channel, alert["id"])) == 1, channel


async def test_a_change_retries_only_the_copy_slack_held_back(fresh: Stack) -> None:
    """One change, two copies, one 429 on a thread reply: the retry redoes only that copy, and
    needs no look-up in Slack (a 429 is a definite "not posted")."""
    alert = new_alert()
    state = await _posted(fresh, alert)
    first = len(fresh.standin.journal())
    fresh.standin.inject_fault("chat.postMessage", status=429, retry_after=1, times=1)
    copy = state.copies[0]
    await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )

    async def replied() -> bool:
        st = await fresh.state(alert["id"])
        return all(len(fresh.standin.replies(c.channel, c.ts)) == 1 for c in st.copies)

    await fresh.wait_for(replied, timeout=30, what="a reply in both threads")
    await asyncio.sleep(1.0)
    calls = fresh.standin.journal()[first:]
    posts = [c for c in calls if c["method"] == "chat.postMessage"]
    assert [c["status"] for c in posts].count(429) == 1
    assert [c["status"] for c in posts].count(200) == 2  # one reply per thread, none twice
    assert [c for c in calls if c["method"] == "conversations.replies"] == []
    # The copy whose reply went through was not re-rendered again by the retry.
    assert len([c for c in calls if c["method"] == "chat.update"]) == 3


async def test_deleted_message_is_posted_again_on_update(fresh: Stack) -> None:
    alert = new_alert()
    state = await _posted(fresh, alert)
    gone = next(c for c in state.copies if c.channel == "C0CRIT")
    fresh.standin.delete_message(gone.channel, gone.ts)
    other = next(c for c in state.copies if c.channel == "C0ALERTS")
    await fresh.standin.driver.click(
        ALICE, other.channel, other.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )

    async def reposted() -> Any:
        st = await fresh.state(alert["id"])
        copy = next(c for c in st.copies if c.channel == "C0CRIT")
        return copy.ts != gone.ts and st.status is Status.TRIAGED and copy

    copy = await fresh.wait_for(reposted, what="a new copy in C0CRIT")
    assert "Triaged" in _text_of(fresh.standin.get_message(copy.channel, copy.ts))

    async def recorded() -> bool:
        return any(h["action"] == "message_reposted" for h in await fresh.history(alert["id"]))

    await fresh.wait_for(recorded, what="the repost in the history")


async def test_dead_channel_is_recorded_as_delivery_failure(fresh: Stack) -> None:
    from parley.domain import DestinationIn
    from parley.store import repo

    dest = await repo.create_destination(
        fresh.db, DestinationIn(name="nobot", channel="C0NOBOT", rule_ids=["Only.This.Rule"])
    )
    try:
        alert = new_alert(rule_id="Only.This.Rule", severity="Medium")
        state = await _posted(fresh, alert, copies=2)
        failed = next(c for c in state.copies if c.channel == "C0NOBOT")
        assert failed.failed == "not_in_channel"

        async def recorded() -> bool:
            return any(
                h["action"] == "delivery_failed" and "not_in_channel" in (h["comment"] or "")
                for h in await fresh.history(alert["id"])
            )

        await fresh.wait_for(recorded, what="the delivery failure in the history")
    finally:
        await repo.delete_destination(fresh.db, dest.id)


async def test_console_change_flows_back_to_every_copy(fresh: Stack) -> None:
    alert = new_alert()
    await _posted(fresh, alert)
    resp = await fresh.http.post(
        f"/alerts/{alert['id']}/status",
        json={"status": "Invalid", "user": "carol@console"},
        headers=fresh.auth(),
    )
    assert resp.status_code == 202, resp.text

    async def shown() -> bool:
        st = await fresh.state(alert["id"])
        return st.status is Status.INVALID and all(
            "Invalid" in _text_of(fresh.standin.get_message(c.channel, c.ts))
            and any("carol@console" in r["text"] for r in fresh.standin.replies(c.channel, c.ts))
            for c in st.copies
        )

    await fresh.wait_for(shown, what="console change in Slack")
    history = await fresh.history(alert["id"])
    entry = next(h for h in history if h["action"] == "status_changed")
    assert entry["actor"]["source"] == "console"
    refused = await fresh.http.post(
        f"/alerts/{alert['id']}/status",
        json={"status": "Resolved", "user": "carol@console"},
        headers=fresh.auth(),
    )
    assert refused.status_code == 422


async def test_intake_validates_and_requires_a_token(fresh: Stack) -> None:
    bad = new_alert(severity="Apocalyptic")
    resp = await fresh.post_alert(bad)
    assert resp.status_code == 422
    assert any("severity" in p for p in resp.json()["problems"])
    missing = new_alert()
    del missing["title"]
    assert (await fresh.post_alert(missing)).status_code == 422
    no_token = await fresh.http.post("/alerts", json=new_alert())
    assert no_token.status_code == 401
    huge = new_alert(events=[{"blob": "x" * 10_000}] * 40)
    too_big = await fresh.post_alert(huge)
    assert too_big.status_code == 413 and "bytes" in too_big.json()["detail"]
    # Nothing was claimed: the same id, made smaller, is a new alert.
    huge["events"] = []
    assert (await fresh.post_alert(huge)).status_code == 201


async def test_search_attributes_find_the_alert(fresh: Stack) -> None:
    import subprocess

    from tools.devstack import temporal_binary

    alert = new_alert(rule_id="Rule.For.Search")
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )

    def listed() -> bool:
        out = subprocess.run(
            [
                temporal_binary(), "workflow", "list",
                "--address", fresh.settings.temporal_address,
                "--query", "AlertStatus='Triaged' AND AlertRuleId='Rule.For.Search'",
                "-o", "json",
            ],
            capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
        return f"alert-{alert['id']}" in out.stdout

    await fresh.wait_for(lambda: asyncio.to_thread(listed), what="temporal workflow list")
    desc = await fresh.client.get_workflow_handle(f"alert-{alert['id']}").describe()
    summary = await desc.static_summary()
    assert summary and alert["title"] in summary


async def test_console_page_shows_history_and_a_change_form(fresh: Stack) -> None:
    alert = new_alert(title="<script>alert(1)</script> login")
    state = await _posted(fresh, alert)
    copy = state.copies[0]
    await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    await fresh.wait_for(
        lambda: len(fresh.standin.replies(copy.channel, copy.ts)) == 1, what="the change"
    )
    page = await fresh.http.get(
        f"/alerts/{alert['id']}",
        headers={
            "Accept": "text/html",
            "Authorization": f"Bearer {fresh.settings.parley_api_token}",
        },
    )
    assert page.status_code == 200
    html = page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "changed status Open → Triaged" in html  # the timeline, in words
    # The API token is an admin: the change forms, each with the session's CSRF token.
    assert 'id="status-form"' in html and 'name="csrf"' in html and "Your name" not in html
    nonce = page.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in html


async def test_a_burst_into_one_channel_is_paced_across_workers(fresh: Stack) -> None:
    """Slack's real pace (~1 message a second per channel, short bursts): two workers share the
    channel's slots through the store, so Slack never has to refuse a post: no 429, no loss, no
    twin."""
    from worker import build_worker

    alerts = [new_alert(severity="Low") for _ in range(8)]  # Low: only #security-alerts
    real_pace = {
        "slack_channel_posts_per_second": 1.0,
        "slack_channel_post_burst": 2,
        "slack_workspace_posts_per_second": 4.0,
        "slack_workspace_post_burst": 20,
    }
    saved_settings, saved_scale = fresh.settings, fresh.standin.rate_limit_scale
    await fresh.stop_worker()
    fresh.settings = saved_settings.model_copy(update=real_pace)
    fresh.standin.rate_limit_scale = 1.0
    await asyncio.sleep(3.5)  # the stand-in's bucket for the channel refills at its real pace
    before = len(fresh.standin.calls("chat.postMessage"))
    # Another worker process, as far as Temporal can tell: its own connection.
    other_client = await Client.connect(
        fresh.settings.temporal_address, data_converter=pydantic_data_converter
    )
    second = build_worker(other_client, fresh.settings, fresh.db, enricher=fresh.enricher)
    second_task = asyncio.get_running_loop().create_task(second.run())
    fresh.start_worker()
    try:
        for alert in alerts:
            assert (await fresh.post_alert(alert)).status_code == 201
        for alert in alerts:
            await fresh.wait_for(
                lambda a=alert: len(_our_messages(fresh, "C0ALERTS", a["id"])) == 1,
                timeout=60,
                what=f"{alert['id']} posted",
            )
    finally:
        fresh.standin.rate_limit_scale = saved_scale
        await second.shutdown()
        await second_task
        await fresh.stop_worker()
        fresh.settings = saved_settings
        fresh.start_worker()
    posts = fresh.standin.calls("chat.postMessage")[before:]
    assert [c for c in posts if c["status"] == 429] == []
    assert len([c for c in posts if c["status"] == 200]) >= len(alerts)
    await asyncio.sleep(1.0)
    for alert in alerts:
        assert len(_our_messages(fresh, "C0ALERTS", alert["id"])) == 1


async def _started(stack: Stack, alert_id: str) -> bool:
    from temporalio.service import RPCError

    try:
        await stack.client.get_workflow_handle(f"alert-{alert_id}").describe()
    except RPCError:
        return False
    return True


async def test_alert_accepted_while_temporal_was_down_starts_from_the_outbox(
    fresh: Stack,
) -> None:
    from tools.devstack import ApiServer

    # The same app and database, but its Temporal address answers nothing.
    cut_off = ApiServer(fresh.settings.model_copy(update={"temporal_address": "127.0.0.1:9"}))
    url = await asyncio.to_thread(cut_off.start)
    alert = new_alert()
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            down = await http.post("/alerts", json=alert, headers=fresh.auth())
        assert down.status_code == 202, down.text
        assert (down.json()["queued"], down.json()["duplicate"]) == (True, False)
        # The healthy API (another replica on the same database) relays the queued start.
        await fresh.wait_for(lambda: _started(fresh, alert["id"]), what="the queued start")
        await fresh.wait_posted(alert["id"], 2)
    finally:
        await asyncio.to_thread(cut_off.stop)
    again = await fresh.post_alert(alert)
    assert again.status_code == 200, again.text
    assert (again.json()["duplicate"], again.json()["queued"]) == (True, False)


async def test_server_errors_after_slack_accepted_still_post_once(fresh: Stack) -> None:
    # Slack stored the message but answered 500; later an update meets a 503.
    fresh.standin.inject_fault("chat.postMessage", status=500, after_effect=True, times=1)
    alert = new_alert()
    state = await _posted(fresh, alert)
    fresh.standin.inject_fault("chat.update", status=503, times=1)
    copy = state.copies[0]
    await fresh.standin.driver.click(
        ALICE, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )

    async def shown() -> bool:
        st = await fresh.state(alert["id"])
        return all(
            "Triaged" in _text_of(fresh.standin.get_message(c.channel, c.ts))
            and len(fresh.standin.replies(c.channel, c.ts)) == 1
            for c in st.copies
        )

    await fresh.wait_for(shown, timeout=30, what="the change despite a 503")
    for channel in ("C0ALERTS", "C0CRIT"):
        assert len(_our_messages(fresh, channel, alert["id"])) == 1, channel
