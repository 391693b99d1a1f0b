"""The Enricher end to end on generated MMDBs and recorded Tor lists: datasets, skips,
degradation, and the per-IP single-flight cache."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.enrichment.cache import SingleFlightCache
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.embedded import NO_DATA_MESSAGE
from parley.enrichment.mmdb import GeoRecord, MmdbSource
from parley.enrichment.models import EnrichmentUnavailable, Provenance, RdapResult, ThreatIntel
from parley.enrichment.ranges import RangeInfo, classify
from parley.enrichment.service import Enricher
from parley.enrichment.tor import TorExitList
from parley.enrichment.tor_source import write_tor_cache
from tests.enrichment import layouts
from tests.enrichment.conftest import BUILD_EPOCH, MakeMmdb

DATA = Path(__file__).parent / "data"
LIST_TIME = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
NOW = LIST_TIME + timedelta(minutes=20)


def doc_routable(ip: str) -> RangeInfo:
    """Test data may only use documentation ranges, which are not routable: pretend they are."""
    info = classify(ip)
    if info.category == "documentation":
        return info.model_copy(update={"routable": True, "category": "public"})
    return info


class Counting:
    """A GeoProvider around a real MmdbSource that counts lookups and can be slowed down."""

    def __init__(self, inner: MmdbSource, delay: float = 0.0) -> None:
        self.inner = inner
        self.delay = delay
        self.calls: list[str] = []
        self._lock = threading.Lock()

    @property
    def provenance(self) -> Provenance:
        return self.inner.provenance

    def lookup(self, ip: str) -> GeoRecord | None:
        with self._lock:
            self.calls.append(ip)
        if self.delay:
            time.sleep(self.delay)  # widens the window in which a storm piles up
        return self.inner.lookup(ip)


class Broken:
    provenance = Provenance(source="broken")

    def lookup(self, ip: str) -> GeoRecord | None:
        raise RuntimeError("reader exploded")


@pytest.fixture
def tor_file(tmp_path: Path) -> Path:
    path = tmp_path / "torbulkexitlist"
    text = (DATA / "torbulkexitlist.txt").read_text()
    write_tor_cache(path, text, TorExitList.parse(text, fetched_at=LIST_TIME, source="test"))
    return path


@pytest.fixture
def config(make_mmdb: MakeMmdb, tor_file: Path) -> EnrichmentConfig:
    city = make_mmdb("GeoLite2-City.mmdb", layouts.GEOLITE2_CITY, database_type="GeoLite2-City")
    asn = make_mmdb("GeoLite2-ASN.mmdb", layouts.GEOLITE2_ASN, database_type="GeoLite2-ASN")
    return EnrichmentConfig(
        city_mmdb_path=str(city),
        asn_mmdb_path=str(asn),
        tor_list_path=str(tor_file),
        embedded_data=False,
    )


def enricher(config: EnrichmentConfig, **kwargs: object) -> Enricher:
    return Enricher(config, clock=lambda: NOW, classifier=doc_routable, **kwargs)  # type: ignore[arg-type]


def test_every_dataset_answers(config: EnrichmentConfig) -> None:
    intel = enricher(config).analyse("198.51.100.23")
    assert intel.scope.routable
    loc, asn, tor = intel.location, intel.asn, intel.tor
    assert loc is not None and asn is not None and tor is not None
    assert (loc.status, loc.display, loc.city, loc.network) == (
        "ok",
        "🇺🇸 California, USA",
        "Testville",
        "198.51.100.0/24",
    )
    assert loc.provenance is not None
    assert loc.provenance.build_date == datetime.fromtimestamp(BUILD_EPOCH, UTC)
    assert loc.provenance.attribution and "GeoLite2" in loc.provenance.attribution
    assert (asn.status, asn.number, asn.organisation) == ("ok", 64500, "Example Test Net")
    assert (tor.status, tor.answer, tor.list_as_of) == ("ok", "yes", LIST_TIME)
    assert tor.age_seconds == 20 * 60
    assert intel.rdap is None  # offline by default: left out
    assert intel.place == "🇺🇸 California, USA"


def test_locate_is_the_one_line_place(config: EnrichmentConfig) -> None:
    e = enricher(config)
    assert e.locate("198.51.100.7") == "🇺🇸 California, USA"
    assert e.locate("2001:db8::9") == "🇩🇪 Germany"
    assert e.locate("10.0.0.1") is None
    assert e.locate("not an ip") is None
    assert enricher(config.model_copy(update={"geo_enabled": False})).locate("198.51.100.7") is None


def test_single_ipinfo_file_serves_location_and_asn(make_mmdb: MakeMmdb) -> None:
    path = make_mmdb("ipinfo_lite.mmdb", layouts.IPINFO_LITE, database_type="ipinfo lite.mmdb")
    intel = enricher(EnrichmentConfig(city_mmdb_path=str(path), embedded_data=False)).analyse(
        "2001:db8::1"
    )
    assert intel.location is not None and intel.location.display == "🇩🇪 Germany"
    assert intel.asn is not None and (intel.asn.number, intel.asn.domain) == (64501, "example.org")
    assert intel.asn.provenance is not None and intel.asn.provenance.licence == "CC BY-SA 4.0"


def test_address_missing_from_data_is_ok_but_empty(config: EnrichmentConfig) -> None:
    intel = enricher(config).analyse("192.0.2.10")
    assert intel.location is not None and intel.location.status == "ok"
    assert intel.location.display is None and "not found" in (intel.location.reason or "")
    assert intel.asn is not None and intel.asn.number is None
    assert intel.tor is not None and intel.tor.answer == "no"


def test_non_routable_skips_every_lookup(config: EnrichmentConfig, make_mmdb: MakeMmdb) -> None:
    city = Counting(MmdbSource(config.city_mmdb_path or ""))
    e = Enricher(
        config.model_copy(update={"rdap_enabled": True}),
        clock=lambda: NOW,
        city_source=city,
        rdap_lookup=lambda *a, **k: pytest.fail("RDAP was called"),
    )
    for ip in ("10.0.0.1", "::ffff:10.0.0.1", "100.64.0.1", "198.51.100.7"):
        intel = e.analyse(ip)
        assert not intel.scope.routable
        for result in (intel.location, intel.asn, intel.tor, intel.rdap):
            assert result is not None and result.status == "skipped"
            assert "no lookup attempted" in (result.reason or "")
    assert e.analyse("10.0.0.1").location.reason.startswith("Private-Use (RFC 1918)")  # type: ignore[union-attr]
    assert city.calls == []


def test_ipv4_mapped_address_is_looked_up_as_ipv4(config: EnrichmentConfig) -> None:
    city = Counting(MmdbSource(config.city_mmdb_path or ""))
    intel = enricher(config, city_source=city).analyse("::ffff:198.51.100.23")
    assert city.calls == ["198.51.100.23"]
    assert intel.location is not None and intel.location.city == "Testville"
    assert intel.tor is not None and intel.tor.answer == "yes"


def test_turned_off_datasets_are_left_out(config: EnrichmentConfig) -> None:
    off = config.model_copy(update={"asn_enabled": False, "tor_enabled": False})
    intel = enricher(off).analyse("198.51.100.7")
    assert intel.asn is None and intel.tor is None and intel.rdap is None
    assert intel.location is not None and intel.location.status == "ok"


def test_failing_source_degrades_only_its_dataset(config: EnrichmentConfig) -> None:
    intel = enricher(config, city_source=Broken()).analyse("198.51.100.23")
    assert intel.location is not None and intel.location.status == "unavailable"
    assert intel.location.reason == "lookup failed (RuntimeError)"
    assert intel.asn is not None and (intel.asn.status, intel.asn.number) == ("ok", 64500)
    assert intel.tor is not None and intel.tor.answer == "yes"


def test_corrupt_file_degrades_only_its_dataset(config: EnrichmentConfig, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.mmdb"
    bad.write_bytes(b"\x00garbage" * 100)
    intel = enricher(config.model_copy(update={"asn_mmdb_path": str(bad)})).analyse("198.51.100.7")
    assert intel.asn is not None and intel.asn.status == "unavailable"
    assert "not a readable MMDB" in (intel.asn.reason or "")
    assert intel.location is not None and intel.location.city == "Testville"


def test_rdap_failure_degrades_only_rdap(config: EnrichmentConfig) -> None:
    def rdap(*_args: object, **_kwargs: object) -> None:
        raise EnrichmentUnavailable("RDAP lookup timed out after 5 s", transient=True)

    e = enricher(config.model_copy(update={"rdap_enabled": True}), rdap_lookup=rdap)
    intel = e.analyse("198.51.100.23")
    assert intel.rdap is not None and intel.rdap.status == "unavailable"
    assert intel.rdap.reason == "RDAP lookup timed out after 5 s"
    assert intel.location is not None and intel.location.status == "ok"


def test_no_data_loaded_says_so() -> None:
    e = Enricher(EnrichmentConfig(embedded_data=False), classifier=doc_routable)
    intel = e.analyse("198.51.100.7")
    assert intel.location is not None and intel.location.status == "unavailable"
    assert intel.location.reason == NO_DATA_MESSAGE
    assert "PARLEY_GEO_CITY_MMDB" in NO_DATA_MESSAGE
    assert any(NO_DATA_MESSAGE in line for line in e.sources_summary())


def test_invalid_ip_is_rejected(config: EnrichmentConfig) -> None:
    with pytest.raises(ValueError):
        enricher(config).analyse("evil.example")


def test_storm_of_threads_hits_the_reader_once(config: EnrichmentConfig) -> None:
    city = Counting(MmdbSource(config.city_mmdb_path or ""), delay=0.05)
    e = enricher(config, city_source=city)
    barrier = threading.Barrier(40)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.append(e.analyse("198.51.100.7"))

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 40
    assert city.calls == ["198.51.100.7"]
    assert all(r is results[0] for r in results)


async def test_storm_of_tasks_hits_the_reader_once(config: EnrichmentConfig) -> None:
    city = Counting(MmdbSource(config.city_mmdb_path or ""), delay=0.05)
    e = enricher(config, city_source=city)
    results = await asyncio.gather(*(e.analyse_async("198.51.100.7") for _ in range(60)))
    assert city.calls == ["198.51.100.7"]
    assert {r.location.city for r in results} == {"Testville"}  # type: ignore[union-attr]


def test_cache_expires_and_degraded_answers_expire_sooner(config: EnrichmentConfig) -> None:
    clock = [0.0]
    city = Counting(MmdbSource(config.city_mmdb_path or ""))
    cfg = config.model_copy(update={"cache_ttl_seconds": 300, "cache_failure_ttl_seconds": 10})
    e = Enricher(
        cfg,
        clock=lambda: NOW,
        classifier=doc_routable,
        city_source=city,
        monotonic=lambda: clock[0],
    )
    e.analyse("198.51.100.7")
    clock[0] = 299
    e.analyse("198.51.100.7")
    assert len(city.calls) == 1
    clock[0] = 301
    e.analyse("198.51.100.7")
    assert len(city.calls) == 2
    # Now the Tor list is missing: that answer is degraded and kept only 10 s.
    Path(cfg.tor_list_path or "").unlink()
    e.clear_cache()
    e.analyse("198.51.100.7")
    clock[0] = 312
    e.analyse("198.51.100.7")
    assert len(city.calls) == 4


def test_cache_is_bounded_and_errors_are_not_cached() -> None:
    cache: SingleFlightCache[str, int] = SingleFlightCache(ttl_seconds=60, max_entries=2)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        cache.get_or_load(key, lambda v=value: v)
    assert len(cache) == 2
    assert cache.get_or_load("a", lambda: 10) == 10  # "a" was evicted
    calls = []

    def failing() -> int:
        calls.append(1)
        raise OSError("disk gone")

    for _ in range(2):
        with pytest.raises(OSError):
            cache.get_or_load("x", failing)
    assert len(calls) == 2


def test_result_round_trips_as_json(config: EnrichmentConfig) -> None:
    """Activities hand ThreatIntel to workflows through the pydantic data converter."""
    intel = enricher(
        config.model_copy(update={"rdap_enabled": True}),
        rdap_lookup=lambda *a, **k: RdapResult(network_name="EXAMPLE"),
    ).analyse("198.51.100.23")
    assert ThreatIntel.model_validate_json(intel.model_dump_json()) == intel
