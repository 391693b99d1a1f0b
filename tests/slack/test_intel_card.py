"""The Block Kit card: datasets shown or left out, escaping, and Block Kit's size limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.enrichment.models import (
    AsnResult,
    LocationResult,
    OriginResult,
    Provenance,
    RdapResult,
    ThreatIntel,
    TorResult,
)
from parley.enrichment.ranges import classify
from parley.slack.ui.intel import clip, escape, render_card, render_fallback_text

WHEN = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
DBIP = Provenance(
    source="embedded",
    database_type="DBIP-City-Lite",
    build_date=datetime(2026, 9, 1, tzinfo=UTC),
    licence="CC BY 4.0",
    attribution="IP Geolocation by DB-IP (https://db-ip.com)",
)


def _intel(ip: str = "8.8.8.8", **datasets: Any) -> ThreatIntel:
    return ThreatIntel(ip=ip, scope=classify(ip), analysed_at=WHEN, **datasets)


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text string in the blocks."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return out


def _assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 2000 for e in block["elements"])


FULL = {
    "location": LocationResult(
        country_code="US",
        country_name="United States",
        region="California",
        city="Mountain View",
        latitude=37.42,
        longitude=-122.08,
        network="8.8.8.0/24",
        flag="🇺🇸",
        display="🇺🇸 California, USA",
        provenance=DBIP,
    ),
    "asn": AsnResult(number=15169, organisation="Google LLC", provenance=DBIP),
    "tor": TorResult(
        answer="no",
        list_as_of=WHEN,
        age_seconds=1200,
        provenance=Provenance(source="tor", fetched_at=WHEN),
    ),
    "rdap": RdapResult(
        network_name="GOOGLE",
        cidr="8.8.8.0/24",
        registry="ARIN",
        org="Google LLC",
        provenance=Provenance(source="RDAP (ARIN)"),
    ),
}


def test_full_card() -> None:
    blocks = render_card(_intel(**FULL))
    _assert_within_limits(blocks)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Threat intel: 8.8.8.8"},
    }
    text = "\n".join(_texts(blocks))
    for expected in (
        "🇺🇸 California, USA",
        "AS15169 Google LLC",
        "*Tor exit node:* no",
        "list as of 2026-11-30 05:00 UTC (20 min old)",
        "GOOGLE",
        "ARIN",
        "built 2026-09-01",
        "IP Geolocation by DB-IP (https://db-ip.com)",
    ):
        assert expected in text
    # One attribution line even though two datasets come from DB-IP.
    assert text.count("IP Geolocation by DB-IP") == 1
    assert blocks[-1]["type"] == "context"
    json.dumps(blocks)  # plain JSON, ready for chat.postMessage


def test_turned_off_datasets_are_left_out() -> None:
    blocks = render_card(_intel(location=FULL["location"]))
    text = "\n".join(_texts(blocks))
    assert "Location" in text
    assert "ASN" not in text and "Tor" not in text and "RDAP" not in text


def test_unavailable_dataset_shows_reason() -> None:
    blocks = render_card(
        _intel(asn=AsnResult(status="unavailable", reason="not a readable MMDB file: /x"))
    )
    assert "*ASN:* unavailable — not a readable MMDB file: /x" in _texts(blocks)


def test_non_routable_card_has_only_the_scope() -> None:
    skipped = "Private-Use (RFC 1918): not publicly routable, no lookup attempted"
    intel = _intel(
        "10.1.2.3",
        location=LocationResult(status="skipped", reason=skipped),
        tor=TorResult(status="skipped", reason=skipped),
    )
    blocks = render_card(intel)
    assert [b["type"] for b in blocks] == ["header", "section"]
    assert "Private-Use (RFC 1918, 10.0.0.0/8)" in blocks[1]["text"]["text"]
    assert "not publicly routable" in render_fallback_text(intel)


def test_tor_exit_links_to_exonerator() -> None:
    intel = _intel(
        "8.8.8.8",
        tor=TorResult(
            answer="yes",
            list_as_of=WHEN,
            age_seconds=60,
            fingerprint="0011BD2485AD45D984EC4159C88FC066E5E3300E",
        ),
    )
    text = "\n".join(_texts(render_card(intel)))
    assert "*Tor exit node:* *yes*" in text
    assert "exonerator.html?ip=8.8.8.8&amp;timestamp=2026-11-30|" in text
    assert "0011BD2485AD45D984EC4159C88FC066E5E3300E" in text


def test_data_is_escaped() -> None:
    hostile = "<!channel> Evil & Co <https://phish.example|click>"
    intel = _intel(
        rdap=RdapResult(
            network_name=hostile,
            org=hostile,
            provenance=Provenance(source="RDAP", attribution=hostile),
        ),
        asn=AsnResult(number=64500, organisation=hostile),
    )
    blocks = render_card(intel)
    for text in [*_texts(blocks), render_fallback_text(intel)]:
        assert "<!channel>" not in text and "<https://phish" not in text
    joined = "\n".join(_texts(blocks))
    assert "&lt;!channel&gt; Evil &amp; Co" in joined


def test_huge_values_stay_within_limits() -> None:
    big = "x&" * 5000
    intel = _intel(
        location=LocationResult(
            city=big,
            region=big,
            country_name=big,
            country_code="US",
            display=big,
            network=big,
            timezone=big,
            latitude=1.0,
            longitude=2.0,
            reason=big,
            provenance=Provenance(source=big),
        ),
        asn=AsnResult(
            number=1,
            organisation=big,
            domain=big,
            network=big,
            provenance=Provenance(source=big, attribution=big),
        ),
        tor=TorResult(answer="unknown", status="unavailable", reason=big),
        rdap=RdapResult(
            network_name=big,
            cidr=big,
            registry=big,
            org=big,
            handle=big,
            country=big,
            entities=[big] * 100,
            provenance=Provenance(source=big, attribution=big + "2"),
        ),
    )
    blocks = render_card(intel)
    _assert_within_limits(blocks)
    # Clipping never leaves half an escape sequence behind.
    for text in _texts(blocks):
        assert not text.rstrip("…").endswith(("&", "&a", "&am", "&amp"))
    assert len(render_fallback_text(intel)) <= 3000


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghij", 5, "abcd…"),
        ("ab&amp;cd", 5, "ab…"),
        ("ab&amp;cd", 8, "ab&amp;…"),
    ],
)
def test_clip(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected


def test_escape() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_fallback_text() -> None:
    text = render_fallback_text(_intel(**FULL))
    assert text == (
        "Threat intel for 8.8.8.8: 🇺🇸 California, USA · AS15169 Google LLC · "
        "Tor exit: no · RDAP: GOOGLE 8.8.8.0/24"
    )


ORIGIN_TABLE = Provenance(
    source="iporigin 1.1.2 (bundled)",
    database_type="iporigin ranges",
    build_date=datetime(2026, 10, 5, 11, 34, tzinfo=UTC),
    licence="provider feeds + CC0 lists",
)
SNAPSHOT_TOR = TorResult(
    answer="listed",
    stale=True,
    snapshot=True,
    list_as_of=datetime(2026, 10, 5, 11, 34, tzinfo=UTC),
    age_seconds=(WHEN - datetime(2026, 10, 5, 11, 34, tzinfo=UTC)).total_seconds(),
    provenance=Provenance(
        source="Tor exit snapshot: iporigin 1.1.2 (bundled)",
        database_type="tor-snapshot",
        build_date=datetime(2026, 10, 5, 11, 34, tzinfo=UTC),
        licence="CC0 1.0 (rezmoss/cloud-provider-ip-addresses)",
    ),
)


def test_origin_line_and_snapshot_tor_with_their_sources() -> None:
    intel = _intel(
        "185.220.101.1",
        location=FULL["location"],
        origin=OriginResult(kind="tor", provider="Tor", provenance=ORIGIN_TABLE),
        tor=SNAPSHOT_TOR,
    )
    blocks = render_card(intel)
    _assert_within_limits(blocks)
    text = "\n".join(_texts(blocks))
    assert (
        "*Origin:* Tor exit\n_iporigin 1.1.2 (bundled), ranges of 2026-10-05 (55 days old)_" in text
    )
    assert (
        "*Tor exit node:* *listed* as a Tor exit in the snapshot of 2026-10-05 (55 days old)"
        in (text)
    )
    assert "exonerator.html?ip=185.220.101.1&amp;timestamp=2026-10-05|" in text
    # Origin comes before Tor, and the context names each source with its date and terms.
    assert text.index("*Origin:*") < text.index("*Tor exit node:*")
    assert "Origin: iporigin ranges, built 2026-10-05, provider feeds + CC0 lists" in text
    assert "Tor: tor-snapshot, built 2026-10-05, CC0 1.0" in text
    assert "Tor exit (snapshot of 2026-10-05)" in render_fallback_text(intel)


@pytest.mark.parametrize(
    ("kind", "provider", "shown"),
    [
        ("hosting", "Hetzner", "hosting provider: Hetzner"),
        ("vpn", "ProtonVPN", "VPN: ProtonVPN"),
        ("cdn", "Fastly", "CDN: Fastly"),
        ("bot", "GPTBot", "declared crawler: GPTBot"),
        ("none", None, "no match (often a residential ISP)"),
    ],
)
def test_origin_kinds(kind: str, provider: str | None, shown: str) -> None:
    origin = OriginResult(kind=kind, provider=provider, provenance=ORIGIN_TABLE)  # type: ignore[arg-type]
    intel = _intel(origin=origin)
    assert f"*Origin:* {shown}" in "\n".join(_texts(render_card(intel)))
    assert shown in render_fallback_text(intel)


def test_origin_provider_is_escaped_and_failure_explained() -> None:
    evil = OriginResult(kind="hosting", provider="<!channel>", provenance=ORIGIN_TABLE)
    text = "\n".join(_texts(render_card(_intel(origin=evil))))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    broken = OriginResult(status="unavailable", reason="origin data unavailable: truncated")
    text = "\n".join(_texts(render_card(_intel(origin=broken))))
    assert "*Origin:* unavailable — origin data unavailable: truncated" in text
