"""Alerts from where they are born (issue 11), end to end through the API, Temporal and the
stand-in, on SQLite and PostgreSQL: Panther's webhook as documented, the shipped mappings with
their samples, and an alert that grows."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from parley.slack.ui import ids
from tests.e2e.conftest import EXAMPLES, GROWTH_WINDOW, Stack, new_alert
from workflows.alert_types import AlertState

ALICE = "U0ALICE"


def _sample(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "intake" / name).read_text())


def _panther(**changes: Any) -> dict[str, Any]:
    payload = _sample("panther.json")
    payload["alertId"] = uuid.uuid4().hex
    payload.update(changes)
    return payload


def _blob(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + message.get("text", "")


def _elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    return next(b for b in message["blocks"] if b["type"] == "actions")["elements"]


async def _post(stack: Stack, path: str, payload: dict[str, Any]) -> Any:
    return await stack.http.post(path, json=payload, headers=stack.auth())


async def _intel_options(stack: Stack, state: AlertState) -> list[str]:
    copy = next(c for c in state.copies if c.channel == "C0ALERTS")
    res = await stack.standin.driver.click(ALICE, copy.channel, copy.ts, ids.THREAT_INTEL)
    assert res.status == 200
    view = [v for v in stack.standin.views(ALICE) if v.get("callback_id") == ids.INTEL_MODAL][-1]
    block = next(b for b in view["blocks"] if b.get("block_id") == ids.INTEL_VALUE_BLOCK)
    return [o["value"] for o in block["element"]["options"]]


async def test_panther_payloads_as_documented(fresh: Stack) -> None:
    rule = _panther(
        severity="HIGH",
        alertContext={
            "actor": "alice@example.com",
            "client": {"ip": "198.51.100.23"},
            "peers": [{"ip": "203.0.113.7"}, {"ip": "2001:db8::7"}],
        },
        futureField="Panther added this later",  # unknown fields are kept, not refused
    )
    policy = _panther(  # no alertId: the id comes from the detection and its time
        id=f"AWS.S3.Public.{uuid.uuid4().hex[:8]}",
        severity="CRITICAL",
        type="POLICY",
        alertId=None,
        alertContext={},
        tags=[],
        name=None,
    )
    error = _panther(severity="INFO", type="RULE_ERROR", title="New rule error: X", alertContext={})
    answers = [await _post(fresh, "/alerts/panther", p) for p in (rule, policy, error)]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    ids_ = [a.json()["alert_id"] for a in answers]
    assert ids_[0] == rule["alertId"] and ids_[1].startswith("panther-")

    state = await fresh.wait_posted(ids_[0], 2)  # High: both channels
    for copy in state.copies:
        message = fresh.standin.get_message(copy.channel, copy.ts)
        elements = _elements(message)
        assert [e["action_id"] for e in elements[:2]] == [ids.VIEW_IN_CONSOLE, ids.VIEW_IN_SOURCE]
        assert (elements[1]["text"]["text"], elements[1]["url"]) == (
            "View in Panther",
            rule["link"],
        )
        blob = _blob(message)
        assert "*client.ip*: `198.51.100.23`" in blob and "peers.ip" in blob
        assert rule["description"] in blob and "`Okta` `Initial Access`" in blob
    assert {"198.51.100.23", "203.0.113.7", "2001:db8::7"} <= set(
        await _intel_options(fresh, state)
    )
    # A link button: Slack opens the URL and tells Parley, which only acknowledges.
    first = state.copies[0]
    click = await fresh.standin.driver.click(ALICE, first.channel, first.ts, ids.VIEW_IN_SOURCE)
    assert click.status == 200
    # The whole payload, unknown field included, is kept for Show Alert Details and the console.
    assert state.alert.raw == rule
    detail = (await fresh.http.get(f"/alerts/{ids_[0]}", headers=fresh.auth())).json()
    assert (detail["description"], detail["tags"]) == (rule["description"], rule["tags"])
    assert detail["raw"]["futureField"] == "Panther added this later"
    page = await fresh.http.get(
        f"/alerts/{ids_[0]}", headers=fresh.auth() | {"Accept": "text/html"}
    )
    assert f'<a href="{rule["link"]}" rel="noopener noreferrer">View in Panther</a>' in page.text
    assert rule["description"] in page.text and "<code>Initial Access</code>" in page.text
    assert "Panther added this later" in page.text
    for alert_id, copies in ((ids_[1], 2), (ids_[2], 1)):  # Critical: both; Info: one
        st = await fresh.wait_posted(alert_id, copies)
        assert all(c.ts and not c.failed for c in st.copies)

    missing = {k: v for k, v in rule.items() if k != "createdAt"}
    bad = await _post(fresh, "/alerts/panther", missing)
    assert bad.status_code == 422 and bad.json()["problems"] == ["createdAt: Field required"]
    unauthorised = await fresh.http.post("/alerts/panther", json=_panther())
    assert unauthorised.status_code == 401


async def test_panther_retried_ten_times_at_once_is_one_alert(fresh: Stack) -> None:
    payload = _panther(severity="HIGH")
    answers = await asyncio.gather(*(_post(fresh, "/alerts/panther", payload) for _ in range(10)))
    codes = sorted(a.status_code for a in answers)
    assert all(200 <= c < 300 for c in codes), [a.text for a in answers]
    assert codes.count(201) == 1 and codes.count(200) == 9
    assert all(
        a.json()["duplicate"] and not a.json()["updated"] for a in answers if a.status_code == 200
    )
    alert_id = payload["alertId"]
    state = await fresh.wait_posted(alert_id, 2)
    await asyncio.sleep(1.0)
    for copy in state.copies:
        mine = [
            m for m in fresh.standin.messages(copy.channel)
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("alert") == alert_id
        ]  # fmt: skip
        assert len(mine) == 1
    runs = [w async for w in fresh.client.list_workflows(f"WorkflowId = 'alert-{alert_id}'")]
    assert len(runs) == 1


async def test_shipped_mappings_with_their_samples(fresh: Stack) -> None:
    elastic = _sample("elastic-security.json")
    elastic["alert_id"] = uuid.uuid4().hex
    splunk = _sample("splunk.json")
    splunk["sid"] = f"scheduler__admin__search__{uuid.uuid4().hex}"
    for name, payload, label, ip in (
        ("elastic", elastic, "View in Elastic Security", "198.51.100.23"),
        ("splunk", splunk, "View in Splunk", "203.0.113.77"),
    ):
        answer = await _post(fresh, f"/alerts/in/{name}", payload)
        assert answer.status_code == 201, answer.text
        state = await fresh.wait_posted(answer.json()["alert_id"], 2)  # both are High
        message = fresh.standin.get_message(state.copies[0].channel, state.copies[0].ts)
        assert _elements(message)[1]["text"]["text"] == label
        assert ip in await _intel_options(fresh, state)
        assert state.alert.raw == payload

    invalid = dict(splunk, result={k: v for k, v in splunk["result"].items() if k != "_time"})
    answer = await _post(fresh, "/alerts/in/splunk", invalid)
    assert answer.status_code == 422
    body = answer.json()
    assert "mapping 'splunk'" in body["detail"] and "created_at" in body["detail"]
    assert body["errors"][0]["loc"] == ["mapping", "splunk", "created_at"]
    unknown = await _post(fresh, "/alerts/in/nosuch", splunk)
    assert unknown.status_code == 404


async def test_an_alert_that_grows(fresh: Stack) -> None:
    alert = new_alert(severity="High", event_count=3)
    assert (await fresh.post_alert(alert)).status_code == 201
    state = await fresh.wait_posted(alert["id"], 2)
    same = await fresh.post_alert(alert)
    assert same.status_code == 200 and same.json()["updated"] is False  # a plain duplicate
    for count in (12, 57):
        grown = await fresh.post_alert(dict(alert, event_count=count))
        assert grown.status_code == 200 and grown.json()["updated"] is True
    await asyncio.sleep(GROWTH_WINDOW + 1.5)  # the window closes with one line in each thread
    grown = await fresh.post_alert(dict(alert, event_count=80))
    assert grown.json()["event_count"] == 80

    def lines(copy: Any) -> list[str]:
        replies = fresh.standin.replies(copy.channel, copy.ts)
        return [r["text"] for r in replies if "more event" in r["text"]]

    async def done() -> bool:
        for copy in state.copies:
            message = fresh.standin.get_message(copy.channel, copy.ts)
            if "*Events*\\n80 since" not in _blob(message) or len(lines(copy)) < 2:
                return False
        return True

    await fresh.wait_for(done, timeout=30, what="80 events in every copy, 2 lines per thread")
    await asyncio.sleep(GROWTH_WINDOW + 0.5)
    for copy in state.copies:
        assert [t.split(" ", 1)[1] for t in lines(copy)] == [
            "54 more events (57 in all)",
            "23 more events (80 in all)",
        ]
        ours = [
            m for m in fresh.standin.messages(copy.channel)
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("alert") == alert["id"]
        ]  # fmt: skip
        assert len(ours) == 1
    history = await fresh.history(alert["id"])
    grew = [(h["from_value"], h["to_value"]) for h in history if h["action"] == "events_added"]
    assert grew == [("3", "12"), ("12", "57"), ("57", "80")]

    # Closed: the update is recorded, and (the destinations' default) does not reopen it.
    resolved = await fresh.http.post(
        f"/alerts/{alert['id']}/status",
        json={"status": "Resolved", "comment": "benign", "user": "carol"},
        headers=fresh.auth(),
    )
    assert resolved.status_code == 202
    await fresh.wait_for(
        lambda: _status_is(fresh, alert["id"], "Resolved"), what="the alert resolved"
    )
    assert (await fresh.post_alert(dict(alert, event_count=90))).json()["updated"] is True

    async def recorded() -> list[dict[str, Any]]:
        history = await fresh.history(alert["id"])
        return [h for h in history if h["action"] == "events_added" and h["to_value"] == "90"]

    row = (await fresh.wait_for(recorded, what="the closed alert's update in its history"))[0]
    assert "not reopened" in row["comment"]
    assert (await fresh.state(alert["id"])).status.value == "Resolved"


async def _status_is(stack: Stack, alert_id: str, status: str) -> bool:
    return (await stack.state(alert_id)).status.value == status
