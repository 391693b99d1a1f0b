"""Enrichment on arrival end to end: intake over HTTP, the workflow, the bundled offline data
(DB-IP Lite, iporigin) and the stand-in's Block Kit checks, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from parley.domain import DestinationIn
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.service import Enricher
from parley.slack.ui.intel import EMOJI, ip_marks
from parley.store import repo
from tests.e2e.conftest import Stack, new_alert
from tools.slack_standin.blockkit import MSG_BLOCKS_TEXT_MAX, blocks_text_length

LOG_TYPE = "Intel.OnArrival"  # only this test's alerts reach the destination below
CHANNEL = "C0PRIV"
# A Google resolver (hosting), an exit in the pinned Tor snapshot, a private address.
IPS = ["8.8.8.8", "185.220.101.1", "10.0.4.12"]


@pytest.fixture
async def intel_stack(fresh: Stack) -> Stack:
    names = {d.name for d in await repo.list_destinations(fresh.db)}
    if "intel-on-arrival" not in names:
        await repo.create_destination(
            fresh.db,
            DestinationIn(
                name="intel-on-arrival",
                channel=CHANNEL,
                log_types=[LOG_TYPE],
                enrich_on_arrival=True,
            ),
        )
    return fresh


def _ours(stack: Stack, channel: str, alert_id: str) -> list[dict[str, Any]]:
    return [m for m in stack.standin.messages(channel) if alert_id in json.dumps(m)]


def _block(message: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in message.get("blocks", []) if b.get("block_id") == block_id), None)


async def _post(stack: Stack, ips: list[str]) -> str:
    alert = new_alert(
        severity="Medium",  # not the critical channel: security-alerts and ours
        log_type=LOG_TYPE,
        summary_attributes={"src_ip": ips, "user": ["alice"]},
    )
    resp = await stack.post_alert(alert)
    assert resp.status_code == 201, resp.text
    await stack.wait_posted(alert["id"], 2)
    return str(alert["id"])


async def test_three_ips_arrive_with_flag_and_origin(intel_stack: Stack) -> None:
    alert_id = await _post(intel_stack, IPS)
    (message,) = _ours(intel_stack, CHANNEL, alert_id)  # one message, nothing posted after it
    summary, lines = _block(message, "summary"), _block(message, "ip_intel")
    assert summary is not None and lines is not None
    expected = Enricher(EnrichmentConfig()).brief(IPS)  # the same bundled data the worker read
    marks = ip_marks(expected)
    text = summary["text"]["text"]
    for brief in expected.briefs:
        if brief.ip in marks:
            assert f"`{brief.ip}` {marks[brief.ip]}" in text, (brief.ip, text)
    google, tor, private = expected.briefs
    assert google.flag and google.origin == "hosting" and google.provider == "Google"
    assert tor.flag and tor.mark == "tor" and tor.tor_snapshot
    assert not private.routable and private.mark is None
    body = lines["text"]["text"]
    assert f"`8.8.8.8` {google.flag} {google.country_code} · AS{google.asn}" in body
    assert "hosting provider: Google" in body
    assert f"{EMOJI['tor']} Tor exit (snapshot of 2026-10-05)" in body
    assert "`10.0.4.12` not publicly routable: Private-Use (RFC 1918)" in body
    assert "🧅 Tor" in text  # the channel sees it without clicking
    sources = _block(message, "ip_intel_sources")
    assert sources is not None and "DB-IP" in json.dumps(sources)
    # The destination without the option got the plain message.
    (plain,) = _ours(intel_stack, "C0ALERTS", alert_id)
    assert _block(plain, "ip_intel") is None and "🧅" not in json.dumps(plain, ensure_ascii=False)
    state = await intel_stack.state(alert_id)
    assert state.ip_intel is not None and len(state.ip_intel.briefs) == 3


async def test_sixty_ips_stay_within_limits_and_say_how_many_were_left_out(
    intel_stack: Stack,
) -> None:
    ips = [f"8.8.{i // 250}.{i % 250 + 1}" for i in range(60)]
    alert_id = await _post(intel_stack, ips)
    (message,) = _ours(intel_stack, CHANNEL, alert_id)  # the stand-in accepted it: valid blocks
    assert blocks_text_length(message["blocks"]) <= MSG_BLOCKS_TEXT_MAX
    lines = _block(message, "ip_intel")
    assert lines is not None
    body = lines["text"]["text"].splitlines()
    shown = [line for line in body if line.startswith("`")]
    match = re.search(r"…and (\d+) more IP addresses not shown here", body[-1])
    assert match and len(shown) + int(match.group(1)) == 60, body[-1]
    state = await intel_stack.state(alert_id)
    assert state.ip_intel is not None
    assert (len(state.ip_intel.briefs), state.ip_intel.omitted) == (20, 40)
