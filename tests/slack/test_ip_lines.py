"""The alert message with enrichment on arrival: one line per IP, marks in the summary, only for
the destinations that asked, and always within Slack's limits (the stand-in's validator)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.domain import AlertIn, Severity, Status
from parley.enrichment.models import IpBrief, IpIntel
from parley.slack.ui.alert import render_alert
from parley.slack.ui.intel import render_ip_section
from tools.slack_standin.blockkit import (
    MSG_BLOCKS_TEXT_MAX,
    blocks_text_length,
    validate_message_blocks,
)
from workflows.alert_types import AlertState

SNAPSHOT = datetime(2026, 9, 29, tzinfo=UTC)
DBIP = "IP Geolocation by DB-IP (https://db-ip.com)"
GOOGLE = IpBrief(
    ip="8.8.8.8",
    country_code="US",
    flag="🇺🇸",
    asn=15169,
    as_org="Google LLC",
    origin="hosting",
    provider="Google",
    origin_as_of=SNAPSHOT,
    tor="unknown",
    tor_as_of=SNAPSHOT,
    tor_snapshot=True,
)
TOR = IpBrief(
    ip="185.220.101.1",
    country_code="DE",
    flag="🇩🇪",
    asn=60729,
    as_org="Stiftung Erneuerbare Freiheit",
    origin="tor",
    provider="Tor",
    origin_as_of=SNAPSHOT,
    tor="listed",
    tor_as_of=SNAPSHOT,
    tor_snapshot=True,
)
VPN = IpBrief(
    ip="193.138.218.74",
    country_code="SE",
    flag="🇸🇪",
    asn=39351,
    as_org="31173 Services AB",
    origin="vpn",
    provider="Mullvad",
    origin_as_of=SNAPSHOT,
    tor="unknown",
    tor_as_of=SNAPSHOT,
    tor_snapshot=True,
)
PRIVATE = IpBrief(ip="10.0.4.12", routable=False, scope="Private-Use (RFC 1918)", origin="reserved")


def _state(ips: list[str], briefs: list[IpBrief], omitted: int = 0, **alert: Any) -> AlertState:
    fields: dict[str, Any] = {
        "id": "a-1",
        "title": "Console login from a new country",
        "severity": Severity.HIGH,
        "rule_id": "AWS.Console.LoginFromNewCountry",
        "created_at": datetime(2026, 11, 30, 7, tzinfo=UTC),
        "summary_attributes": {"src_ip": ips, "user": ["alice"]},
    }
    fields.update(alert)
    state = AlertState(alert=AlertIn.model_validate(fields))
    state.ip_intel = IpIntel(
        briefs=briefs, omitted=omitted, attributions=[DBIP], destination_ids=["d-intel"]
    )
    return state


def _block(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any] | None:
    return next((b for b in blocks if b.get("block_id") == block_id), None)


def _within_limits(blocks: list[dict[str, Any]]) -> None:
    assert validate_message_blocks(blocks) == []
    assert blocks_text_length(blocks) <= MSG_BLOCKS_TEXT_MAX


def test_three_ips_each_show_flag_and_origin() -> None:
    state = _state([GOOGLE.ip, TOR.ip, VPN.ip], [GOOGLE, TOR, VPN])
    out = render_alert(state, "http://c", "d-intel")
    _within_limits(out.blocks)
    summary = _block(out.blocks, "summary")
    assert summary is not None
    text = summary["text"]["text"]
    # Each value carries its flag; Tor and VPN are marked where the channel sees them.
    assert "`8.8.8.8` 🇺🇸," in text
    assert "`185.220.101.1` 🇩🇪 🧅 Tor" in text
    assert "`193.138.218.74` 🇸🇪 🕶️ VPN" in text
    lines = _block(out.blocks, "ip_intel")
    assert lines is not None
    body = lines["text"]["text"].splitlines()
    assert body[1:] == [
        "`8.8.8.8` 🇺🇸 US · AS15169 Google LLC · hosting provider: Google",
        "`185.220.101.1` 🇩🇪 DE · AS60729 Stiftung Erneuerbare Freiheit"
        " · 🧅 Tor exit (snapshot of 2026-09-29)",
        "`193.138.218.74` 🇸🇪 SE · AS39351 31173 Services AB · 🕶️ VPN: Mullvad",
    ]
    sources = _block(out.blocks, "ip_intel_sources")
    assert sources is not None
    assert [e["text"] for e in sources["elements"]] == [
        DBIP,
        "Origin: iporigin ranges of 2026-09-29",
    ]
    # The lines sit right under the summary, before the buttons.
    ids = [b.get("block_id") for b in out.blocks]
    assert ids.index("ip_intel") == ids.index("summary") + 1


def test_other_destinations_get_the_plain_message() -> None:
    state = _state([GOOGLE.ip, TOR.ip], [GOOGLE, TOR])
    plain = render_alert(state, "http://c", "d-other")
    assert _block(plain.blocks, "ip_intel") is None
    assert "🧅" not in json.dumps(plain.blocks, ensure_ascii=False)
    assert render_alert(state, "http://c").blocks == plain.blocks  # no destination: plain too


def test_private_and_unmatched_addresses_say_so() -> None:
    home = IpBrief(ip="198.51.100.9", country_code="FR", flag="🇫🇷", origin="none")
    state = _state([PRIVATE.ip, home.ip], [PRIVATE, home])
    lines = _block(render_alert(state, "http://c", "d-intel").blocks, "ip_intel")
    assert lines is not None
    assert "`10.0.4.12` not publicly routable: Private-Use (RFC 1918)" in lines["text"]["text"]
    assert "`198.51.100.9` 🇫🇷 FR · no match (often a residential ISP)" in lines["text"]["text"]


def test_fresh_list_no_beats_the_old_origin_label() -> None:
    was = TOR.model_copy(
        update={"tor": "no", "tor_snapshot": False, "tor_as_of": datetime(2026, 12, 2, tzinfo=UTC)}
    )
    assert was.mark is None
    state = _state([was.ip], [was])
    out = render_alert(state, "http://c", "d-intel")
    lines = _block(out.blocks, "ip_intel")
    assert lines is not None
    assert (
        "Tor exit in the ranges of 2026-09-29, not named by the list of 2026-12-02"
        in (lines["text"]["text"])
    )
    assert "🧅" not in json.dumps(out.blocks, ensure_ascii=False)


def test_sixty_ips_stay_within_limits_and_count_the_rest() -> None:
    ips = [f"198.51.{i // 200}.{i % 200 + 1}" for i in range(60)]
    briefs = [
        GOOGLE.model_copy(update={"ip": ip, "as_org": "A Very Long Hosting Organisation Name " * 3})
        for ip in ips[:20]
    ]
    state = _state(ips, briefs, omitted=40)
    out = render_alert(state, "http://c", "d-intel")
    _within_limits(out.blocks)
    lines = _block(out.blocks, "ip_intel")
    assert lines is not None
    body = lines["text"]["text"].splitlines()
    shown = [line for line in body if line.startswith("`")]
    match = re.search(r"…and (\d+) more IP addresses not shown here", body[-1])
    assert match, body[-1]
    assert len(shown) + int(match.group(1)) == 60
    assert len(lines["text"]["text"]) <= 2500


def test_huge_alert_leaves_the_ip_lines_only_what_fits() -> None:
    ips = [f"203.0.113.{i}" for i in range(1, 61)]
    org = "A Very Long Hosting Organisation Name " * 3
    briefs = [GOOGLE.model_copy(update={"ip": ip, "as_org": org}) for ip in ips[:20]]
    state = _state(
        ips,
        briefs,
        omitted=40,
        title="T" * 1000,
        runbook="R&<>" * 5000,
        rule_name="N" * 500,
        log_type="L" * 255,
        summary_attributes={f"attr{i}": [f"v{j}" * 100 for j in range(20)] for i in range(40)}
        | {"src_ip": ips},
    )
    state.status = Status.RESOLVED
    state.resolution_comment = "C" * 3000
    out = render_alert(state, "http://c", "d-intel")
    _within_limits(out.blocks)
    lines = _block(out.blocks, "ip_intel")
    assert lines is not None and "more IP addresses not shown here" in lines["text"]["text"]


def test_hostile_data_is_escaped() -> None:
    evil = GOOGLE.model_copy(
        update={"as_org": "<!channel> <https://evil.example|click> & co", "provider": "<@U0BOB>"}
    )
    out = render_alert(_state([evil.ip], [evil]), "http://c", "d-intel")
    blob = json.dumps(out.blocks)
    assert "<!channel>" not in blob and "<https://evil" not in blob and "<@U0BOB>" not in blob
    assert "&lt;!channel&gt;" in blob


@pytest.mark.parametrize("budget", [0, 150])
def test_no_room_means_no_section(budget: int) -> None:
    assert render_ip_section(IpIntel(briefs=[GOOGLE]), budget) == []


def test_nothing_analysed_means_no_section() -> None:
    assert render_ip_section(IpIntel()) == []


def test_marks_find_values_written_differently() -> None:
    v6 = VPN.model_copy(update={"ip": "2001:db8::1"})
    state = _state(["2001:DB8:0::1", " [2001:db8::1] "], [v6])
    summary = _block(render_alert(state, "http://c", "d-intel").blocks, "summary")
    assert summary is not None
    assert summary["text"]["text"].count("🕶️ VPN") == 2
