"""Show Alert Details and See Threat Intel end to end, offline (embedded DB-IP Lite data)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.service import Enricher
from parley.slack.ui import ids
from tests.e2e.conftest import Stack, new_alert
from workflows.alert_types import AlertState

ALICE = "U0ALICE"
PUBLIC_IP = "8.8.8.8"  # a well-known address the embedded data places
PRIVATE_IP = "10.0.4.12"


async def _alert(stack: Stack, **overrides: Any) -> AlertState:
    alert = new_alert(**overrides)
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    return await stack.wait_posted(alert["id"], 2)


def _copy(state: AlertState, channel: str):  # type: ignore[no-untyped-def]
    return next(c for c in state.copies if c.channel == channel)


def _replies(stack: Stack, channel: str, ts: str) -> list[dict[str, Any]]:
    return stack.standin.replies(channel, ts)


def _blob(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + message.get("text", "")


async def test_show_details_posts_three_parts_in_the_clicked_thread(fresh: Stack) -> None:
    state = await _alert(
        fresh,
        summary_attributes={"src_ip": [PUBLIC_IP], "user": ["alice"]},
        first_event={"eventName": "ConsoleLogin", "sourceIPAddress": PUBLIC_IP},
    )
    a, b = _copy(state, "C0ALERTS"), _copy(state, "C0CRIT")
    res = await fresh.standin.driver.click(ALICE, a.channel, a.ts, ids.SHOW_DETAILS)
    assert res.status == 200
    await fresh.standin.driver.click(ALICE, a.channel, a.ts, ids.SHOW_DETAILS)  # double click

    def posted() -> list[dict[str, Any]]:
        return [r for r in _replies(fresh, a.channel, a.ts) if "Alert details" in _blob(r)]

    details = (await fresh.wait_for(posted, what="details in the thread"))[0]
    blob = _blob(details)
    assert "Summary fields" in blob and "Event details" in blob and "First event" in blob
    assert "rich_text_preformatted" in blob and "ConsoleLogin" in blob
    place = Enricher(EnrichmentConfig()).locate(PUBLIC_IP)
    assert place and place in blob, (place, blob[:500])
    assert "\U0001f1e6" <= place[0] <= "\U0001f1ff"  # starts with a flag
    # Only the clicked copy's thread, and the double click posted once.
    assert [r for r in _replies(fresh, b.channel, b.ts) if "Alert details" in _blob(r)] == []
    await asyncio.sleep(1.0)
    assert len(posted()) == 1
    history = await fresh.history(state.alert.id)
    shown = [h for h in history if h["action"] == "details_shown"]
    assert len(shown) == 1 and shown[0]["actor"]["id"] == ALICE


async def test_details_post_again_once_the_thread_has_moved_on(fresh: Stack) -> None:
    saved = fresh.settings.details_dedupe_seconds
    fresh.settings.details_dedupe_seconds = 1.0
    try:
        state = await _alert(fresh)
    finally:
        fresh.settings.details_dedupe_seconds = saved
    a = _copy(state, "C0ALERTS")
    await fresh.standin.driver.click(ALICE, a.channel, a.ts, ids.SHOW_DETAILS)
    await fresh.wait_for(
        lambda: any("Alert details" in _blob(r) for r in _replies(fresh, a.channel, a.ts)),
        what="first details",
    )
    await asyncio.sleep(1.2)
    await fresh.standin.driver.click(ALICE, a.channel, a.ts, ids.SHOW_DETAILS)
    await fresh.wait_for(
        lambda: (
            len([r for r in _replies(fresh, a.channel, a.ts) if "Alert details" in _blob(r)]) == 2
        ),
        what="second details",
    )


async def test_no_threat_intel_button_without_an_ip(fresh: Stack) -> None:
    state = await _alert(fresh, summary_attributes={"user": ["alice"], "host": ["web-1"]})
    a = _copy(state, "C0ALERTS")
    message = fresh.standin.get_message(a.channel, a.ts)
    assert ids.THREAT_INTEL not in _blob(message)
    assert ids.SHOW_DETAILS in _blob(message)


async def _pick(stack: Stack, state: AlertState, ip: str) -> list[str]:
    a = _copy(state, "C0ALERTS")
    res = await stack.standin.driver.click(ALICE, a.channel, a.ts, ids.THREAT_INTEL)
    assert res.status == 200
    view = [v for v in stack.standin.views(ALICE) if v.get("callback_id") == ids.INTEL_MODAL][-1]
    block = next(b for b in view["blocks"] if b.get("block_id") == ids.INTEL_VALUE_BLOCK)
    options = [o["value"] for o in block["element"]["options"]]
    labels = [o["text"]["text"] for o in block["element"]["options"]]
    done = await stack.standin.driver.submit_view(
        ALICE, view["id"], {ids.INTEL_VALUE_BLOCK: {ids.INTEL_VALUE_ACTION: ip}}
    )
    assert done.status == 200 and not done.body
    return options + labels


async def _card(stack: Stack, state: AlertState, ip: str) -> str:
    a = _copy(state, "C0ALERTS")

    def found() -> str | None:
        for reply in _replies(stack, a.channel, a.ts):
            blob = _blob(reply)
            if ip in blob and "Alert details" not in blob:
                return blob
        return None

    return await stack.wait_for(found, what=f"the threat intel card for {ip}")


async def test_threat_intel_lists_the_ips_and_posts_a_card(fresh: Stack) -> None:
    state = await _alert(
        fresh,
        summary_attributes={"src_ip": [PUBLIC_IP, "2001:4860:4860::8888"], "dst": [PRIVATE_IP]},
    )
    listed = await _pick(fresh, state, PUBLIC_IP)
    assert {PUBLIC_IP, "2001:4860:4860::8888", PRIVATE_IP} <= set(listed)
    assert any(label.startswith("src_ip:") for label in listed)
    card = await _card(fresh, state, PUBLIC_IP)
    expected = Enricher(EnrichmentConfig()).analyse(PUBLIC_IP)
    assert expected.location and expected.location.status == "ok"
    assert expected.asn and expected.asn.status == "ok"
    assert str(expected.asn.number) in card  # ASN from the same data
    assert "Tor" in card
    history = await fresh.history(state.alert.id)
    viewed = next(h for h in history if h["action"] == "threat_intel_viewed")
    assert viewed["to_value"] == PUBLIC_IP and viewed["actor"]["id"] == ALICE


async def test_private_ip_says_so_without_a_lookup(fresh: Stack) -> None:
    state = await _alert(fresh, summary_attributes={"dst": [PRIVATE_IP]})
    await _pick(fresh, state, PRIVATE_IP)
    card = await _card(fresh, state, PRIVATE_IP)
    assert "not publicly routable" in card
    assert "RFC 1918" in card or "private" in card.lower()


async def test_failing_source_is_unavailable_while_others_answer(
    fresh: Stack, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-city.mmdb"
    broken.write_bytes(b"this is not an mmdb file")
    await fresh.stop_worker()
    fresh.start_worker(Enricher(EnrichmentConfig(city_mmdb_path=str(broken))))
    try:
        state = await _alert(fresh, summary_attributes={"src_ip": ["1.1.1.1"]})
        await _pick(fresh, state, "1.1.1.1")
        card = await _card(fresh, state, "1.1.1.1")
        assert "location unavailable" in card
        asn = Enricher(EnrichmentConfig()).analyse("1.1.1.1").asn
        assert asn is not None and str(asn.number) in card  # ASN still answers
    finally:
        await fresh.stop_worker()
        fresh.start_worker()
