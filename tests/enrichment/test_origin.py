"""Origin (hosting / VPN / CDN / crawler) and the offline Tor snapshot, from committed sample data
written in iporigin's layout and read by iporigin's own parser; then the real bundled table."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.models import IpBrief
from parley.enrichment.origin import (
    CLEAR_TERMS,
    UNRECORDED_PERMISSION,
    OriginTable,
    OriginTableError,
    bundled_table,
)
from parley.enrichment.service import Enricher
from parley.enrichment.tor import TorExitList
from parley.enrichment.tor_source import write_tor_cache
from parley.slack.ui.intel import render_card, render_fallback_text
from tests.enrichment.origin_table import read_sample, write_sample
from tests.enrichment.test_service import doc_routable

DATA = Path(__file__).parent / "data"
SNAPSHOT_DAY = datetime(2026, 9, 29, tzinfo=UTC)  # the sample's build time
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 64 days later

HOSTING, VPN, CDN, BOT = "198.51.100.7", "198.51.100.70", "198.51.100.100", "198.51.100.113"
TOR_EXIT = "203.0.113.45"  # in the sample's Tor range and in the recorded bulk list
TOR_SNAPSHOT_ONLY = "192.0.2.10"  # in the sample's Tor range, not in the recorded bulk list
UNMATCHED = "198.51.100.200"
UNRECORDED = "203.0.113.130"  # in the sample's Contabo range: permission not on record
RESERVED = "10.0.4.12"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "ranges.bin")


def make(sample: Path, clock: Clock | None = None, **overrides: object) -> Enricher:
    config = EnrichmentConfig(origin_table_path=str(sample), embedded_data=False, **overrides)  # type: ignore[arg-type]
    return Enricher(config, clock=clock or Clock(NOW), classifier=doc_routable)


def _text(blocks: list[dict[str, object]]) -> str:
    return "\n".join(str(b.get("text", "")) + str(b.get("elements", "")) for b in blocks)


# ---- the table itself ----------------------------------------------------------------------


def test_sample_reads_through_iporigins_parser(sample: Path) -> None:
    table = OriginTable.load(str(sample))
    assert table.built_at == SNAPSHOT_DAY
    assert table.label(HOSTING) == ("Hetzner", "hosting")
    assert table.label("2001:db8:1::5") == ("Hetzner", "hosting")
    assert table.label(UNMATCHED) is None
    snapshot = table.tor_snapshot()
    assert snapshot is not None and snapshot.is_snapshot and snapshot.as_of == SNAPSHOT_DAY
    # A run of two adjacent exits is both addresses; the IPv6 exit is there too.
    assert set(snapshot.exits) == {"203.0.113.45", "203.0.113.46", "192.0.2.10", "2001:db8:7::1"}


def test_labels_without_recorded_permission_answer_as_absent(sample: Path) -> None:
    table = OriginTable.load(str(sample))
    assert table.data.find(int(ipaddress.ip_address(UNRECORDED)), 4) == ("Contabo", "hosting")
    assert table.label(UNRECORDED) is None
    assert make(sample).analyse(UNRECORDED).origin.kind == "none"  # type: ignore[union-attr]


@pytest.mark.parametrize("content", [b"", b"IPORIGIN\x01", b"NOTATABLE" * 10])
def test_unreadable_table_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ranges.bin"
    path.write_bytes(content)
    with pytest.raises(OriginTableError):
        OriginTable.load(str(path))


# ---- origin on the card ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "kind", "provider", "phrase"),
    [
        (HOSTING, "hosting", "Hetzner", "hosting provider: Hetzner"),
        (VPN, "vpn", "Mullvad", "VPN: Mullvad"),
        (CDN, "cdn", "Cloudflare", "CDN: Cloudflare"),
        (BOT, "bot", "Googlebot", "declared crawler: Googlebot"),
        (UNMATCHED, "none", None, "no match (often a residential ISP)"),
    ],
)
def test_origin_answers_with_source_and_date(
    sample: Path, ip: str, kind: str, provider: str | None, phrase: str
) -> None:
    intel = make(sample).analyse(ip)
    origin = intel.origin
    assert origin is not None and origin.status == "ok"
    assert (origin.kind, origin.provider) == (kind, provider)
    assert origin.provenance is not None and origin.provenance.build_date == SNAPSHOT_DAY
    card = _text(render_card(intel))
    assert f"*Origin:* {phrase}" in card
    assert f"{sample}, ranges of 2026-09-29 (64 days old)" in card  # the source and its date
    assert phrase in render_fallback_text(intel)


def test_reserved_address_has_a_reserved_origin_and_no_lookup(sample: Path) -> None:
    intel = make(sample).analyse(RESERVED)
    assert intel.origin is not None
    assert (intel.origin.status, intel.origin.kind) == ("skipped", "reserved")
    assert "RFC 1918" in (intel.origin.reason or "")
    brief = IpBrief.of(intel)
    assert (brief.routable, brief.origin, brief.mark) == (False, "reserved", None)


def test_turning_origin_off_removes_the_line(sample: Path) -> None:
    intel = make(sample, origin_enabled=False).analyse(VPN)
    assert intel.origin is None
    card = _text(render_card(intel))
    assert "Origin" not in card and "Mullvad" not in card
    assert "VPN" not in render_fallback_text(intel)


def test_origin_enabled_is_read_from_the_environment() -> None:
    env = {"PARLEY_ORIGIN_ENABLED": "false", "PARLEY_ORIGIN_TABLE": "/data/ranges.bin"}
    config = EnrichmentConfig.from_env(env)
    assert (config.origin_enabled, config.origin_table_path) == (False, "/data/ranges.bin")
    assert EnrichmentConfig.from_env({"PARLEY_TOR_SNAPSHOT": "0"}).tor_snapshot is False


def test_broken_table_degrades_only_origin(tmp_path: Path) -> None:
    broken = tmp_path / "ranges.bin"
    broken.write_bytes(b"garbage")
    intel = make(broken).analyse(HOSTING)
    assert intel.origin is not None and intel.origin.status == "unavailable"
    assert intel.tor is not None and intel.tor.answer == "unknown"  # no snapshot either
    assert "Origin:* unavailable" in _text(render_card(intel))


# ---- the Tor snapshot -------------------------------------------------------------------------


def test_known_exit_is_listed_in_the_snapshot_with_its_date(sample: Path) -> None:
    intel = make(sample).analyse(TOR_EXIT)
    tor = intel.tor
    assert tor is not None
    assert (tor.answer, tor.snapshot, tor.stale, tor.list_as_of) == (
        "listed",
        True,
        True,
        SNAPSHOT_DAY,
    )
    card = _text(render_card(intel))
    assert "listed* as a Tor exit in the snapshot of 2026-09-29 (64 days old)" in card
    assert "exonerator.html?ip=203.0.113.45&amp;timestamp=2026-09-29" in card
    assert "Tor exit (snapshot of 2026-09-29)" in render_fallback_text(intel)
    assert IpBrief.of(intel).mark == "tor"


def test_address_absent_from_a_stale_snapshot_is_unknown_not_no(sample: Path) -> None:
    tor = make(sample).analyse(HOSTING).tor
    assert tor is not None
    assert (tor.answer, tor.snapshot) == ("unknown", True)
    assert "not in the snapshot of 2026-09-29 (64 days old), too old to say no" in (
        tor.reason or ""
    )
    assert "TOR_EXIT_LIST_SOURCE" in (tor.reason or "")  # how to get a live answer


def test_a_fresh_scheduled_list_overrides_the_snapshot(sample: Path, tmp_path: Path) -> None:
    clock = Clock(NOW)
    cache = tmp_path / "tor-exit-list.txt"  # where the hourly schedule writes (not there yet)
    enricher = make(sample, clock, tor_list_path=str(cache))
    before = enricher.analyse(TOR_SNAPSHOT_ONLY).tor
    assert before is not None and (before.answer, before.snapshot) == ("listed", True)

    text = (DATA / "torbulkexitlist.txt").read_text()
    fetched = NOW - timedelta(minutes=10)
    write_tor_cache(cache, text, TorExitList.parse(text, fetched_at=fetched, source="schedule"))
    enricher.clear_cache()
    after = enricher.analyse(TOR_SNAPSHOT_ONLY).tor
    assert after is not None
    assert (after.answer, after.snapshot, after.list_as_of) == ("no", False, fetched)
    exit_ = enricher.analyse(TOR_EXIT).tor
    assert exit_ is not None and (exit_.answer, exit_.snapshot) == ("yes", False)
    assert "Tor exit: no" in render_fallback_text(enricher.analyse(TOR_SNAPSHOT_ONLY))


def test_a_stale_list_still_newer_than_the_snapshot_decides(sample: Path, tmp_path: Path) -> None:
    cache = tmp_path / "tor-exit-list.txt"
    text = (DATA / "torbulkexitlist.txt").read_text()
    fetched = NOW - timedelta(hours=5)  # past the 3 h limit, but weeks newer than the snapshot
    write_tor_cache(cache, text, TorExitList.parse(text, fetched_at=fetched, source="schedule"))
    enricher = make(sample, tor_list_path=str(cache))
    snapshot_only = enricher.analyse(TOR_SNAPSHOT_ONLY).tor
    assert snapshot_only is not None
    assert (snapshot_only.answer, snapshot_only.list_as_of) == ("unknown", fetched)
    listed = enricher.analyse(TOR_EXIT).tor
    assert listed is not None and (listed.answer, listed.snapshot) == ("listed", False)


def test_snapshot_can_be_turned_off(sample: Path) -> None:
    tor = make(sample, tor_snapshot=False).analyse(TOR_EXIT).tor
    assert tor is not None and (tor.answer, tor.status) == ("unknown", "unavailable")
    assert "no Tor exit list configured" in (tor.reason or "")


# ---- briefs: what the alert message gets ------------------------------------------------------


def test_brief_covers_the_first_ips_and_counts_the_rest(sample: Path) -> None:
    ips = [HOSTING, VPN, TOR_EXIT, RESERVED, HOSTING, *[f"198.51.100.{i}" for i in range(1, 40)]]
    intel = make(sample).brief(ips, limit=5)
    distinct = list(dict.fromkeys(ips))
    assert [b.ip for b in intel.briefs] == distinct[:5]
    assert intel.omitted == len(distinct) - 5
    by_ip = {b.ip: b for b in intel.briefs}
    assert (by_ip[VPN].origin, by_ip[VPN].provider, by_ip[VPN].mark) == ("vpn", "Mullvad", "vpn")
    assert (by_ip[TOR_EXIT].tor, by_ip[TOR_EXIT].mark) == ("listed", "tor")
    assert (by_ip[HOSTING].origin, by_ip[HOSTING].mark) == ("hosting", None)
    assert by_ip[RESERVED].routable is False


def test_brief_counts_an_address_once_however_written(sample: Path) -> None:
    intel = make(sample).brief(["2001:DB8:1::5", "[2001:db8:1::5]", "not an ip", " 198.51.100.7 "])
    assert [b.ip for b in intel.briefs] == ["2001:db8:1::5", HOSTING]
    assert intel.omitted == 0


def test_brief_never_looks_up_rdap(sample: Path) -> None:
    calls: list[str] = []

    def rdap(ip: str, **_: object) -> object:
        calls.append(ip)
        raise AssertionError("RDAP must not run for the alert message")

    config = EnrichmentConfig(origin_table_path=str(sample), embedded_data=False, rdap_enabled=True)
    enricher = Enricher(config, clock=Clock(NOW), classifier=doc_routable, rdap_lookup=rdap)  # type: ignore[arg-type]
    assert [b.ip for b in enricher.brief([HOSTING]).briefs] == [HOSTING]
    assert calls == []


# ---- the real bundled table (pinned iporigin 1.1.2) -------------------------------------------


def test_bundled_table_uses_only_labels_with_clear_terms() -> None:
    table = bundled_table()
    providers = {provider for provider, _ in table.data.labels}
    # A release with a label nobody has reviewed fails here: read its NOTICE first.
    assert providers <= CLEAR_TERMS | UNRECORDED_PERMISSION, providers - CLEAR_TERMS
    assert table.built_at.date().isoformat() == "2026-10-05"
    for provider in sorted(UNRECORDED_PERMISSION & providers):
        index = next(i for i, (p, _) in enumerate(table.data.labels) if p == provider)
        start = next(
            s
            for s, label in zip(table.data.v4_starts, table.data.v4_labels, strict=True)
            if label == index
        )
        ip = str(ipaddress.IPv4Address(start))
        assert table.data.find(start, 4)[0] == provider
        assert table.label(ip) is None, (provider, ip)


def test_bundled_table_answers_known_networks() -> None:
    enricher = Enricher(EnrichmentConfig(embedded_data=False))
    aws = enricher.analyse("52.95.110.1").origin
    assert aws is not None and (aws.kind, aws.provider) == ("hosting", "Amazon AWS")
    hetzner = enricher.analyse("2a01:4f8::1").origin
    assert hetzner is not None and (hetzner.kind, hetzner.provider) == ("hosting", "Hetzner")
    # In the pinned snapshot of 2026-10-05 (a fact about that file, not about today).
    tor = enricher.analyse("185.220.101.1").tor
    assert tor is not None and tor.answer in ("listed", "yes")
    assert tor.list_as_of is not None and tor.list_as_of.date().isoformat() == "2026-10-05"


def test_sample_file_is_documentation_space_only() -> None:
    _, rows = read_sample()
    for version, start, end, _, _ in rows:
        make_ip = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        for value in (start, end):
            ip = make_ip(value)
            doc = (
                ipaddress.ip_network("2001:db8::/32")
                if version == 6
                else next(
                    n
                    for n in map(
                        ipaddress.ip_network, ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
                    )
                    if ip in n
                )
            )
            assert ip in doc


def test_worker_reads_the_file_the_hourly_schedule_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.settings import Settings
    from worker import enrichment_config

    monkeypatch.delenv("PARLEY_TOR_EXIT_LIST", raising=False)
    scheduled = enrichment_config(Settings(tor_exit_list_source="https://tor.example/exits"))
    assert scheduled.tor_list_path == str(Path(".data") / "tor-exit-list.txt")
    assert enrichment_config(Settings(tor_exit_list_source="")).tor_list_path is None
    monkeypatch.setenv("PARLEY_TOR_EXIT_LIST", "/srv/tor.txt")
    chosen = enrichment_config(Settings(tor_exit_list_source="https://tor.example/exits"))
    assert chosen.tor_list_path == "/srv/tor.txt"
