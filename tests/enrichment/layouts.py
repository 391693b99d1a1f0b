"""Invented records in each supported MMDB layout, on documentation ranges only.

Shapes follow the vendors' published schemas; values (Testville, AS64500...) are made up so
every assertion is explicit. AS64496-AS64511 are the documentation ASNs (RFC 5398).
"""

from __future__ import annotations

from typing import Any

GEOLITE2_CITY: dict[str, dict[str, Any]] = {
    "198.51.100.0/24": {
        "city": {"geoname_id": 1000001, "names": {"en": "Testville", "de": "Teststadt"}},
        "continent": {"code": "NA", "geoname_id": 6255149, "names": {"en": "North America"}},
        "country": {
            "geoname_id": 6252001,
            "iso_code": "US",
            "names": {"en": "United States", "de": "Vereinigte Staaten"},
        },
        "location": {
            "accuracy_radius": 1000,
            "latitude": 37.5,
            "longitude": -122.25,
            "time_zone": "America/Los_Angeles",
        },
        "postal": {"code": "94000"},
        # The registrant's country must never be shown as the location.
        "registered_country": {"geoname_id": 2963597, "iso_code": "IE", "names": {"en": "Ireland"}},
        "subdivisions": [
            {
                "geoname_id": 5332921,
                "iso_code": "CA",
                "names": {"en": "California", "de": "Kalifornien"},
            },
            {"iso_code": "XX", "names": {"en": "Second Level"}},
        ],
    },
    "2001:db8::/32": {
        "continent": {"code": "EU", "names": {"en": "Europe"}},
        "country": {"iso_code": "DE", "names": {"en": "Germany"}},
    },
    # Only a registered country: no location at all.
    "203.0.113.0/24": {"registered_country": {"iso_code": "IE", "names": {"en": "Ireland"}}},
}

GEOLITE2_ASN: dict[str, dict[str, Any]] = {
    "198.51.100.0/24": {
        "autonomous_system_number": 64500,
        "autonomous_system_organization": "Example Test Net",
    },
    "2001:db8::/32": {
        "autonomous_system_number": 64501,
        "autonomous_system_organization": "Example v6 Net",
    },
}

DBIP_CITY: dict[str, dict[str, Any]] = {
    "198.51.100.0/25": {
        "city": {"names": {"en": "Exampleton"}},
        "continent": {"code": "EU", "geoname_id": 6255148, "names": {"en": "Europe"}},
        "country": {
            "geoname_id": 2635167,
            "is_in_european_union": False,
            "iso_code": "GB",
            "names": {"en": "United Kingdom", "fr": "Royaume-Uni"},
        },
        "location": {"latitude": 51.5, "longitude": -0.125},
        "subdivisions": [{"names": {"en": "England"}}],
    },
}

DBIP_ASN: dict[str, dict[str, Any]] = {
    "198.51.100.0/25": {
        "autonomous_system_number": 64502,
        "autonomous_system_organization": "DB-IP Example AS",
    },
}

IPINFO_LITE: dict[str, dict[str, Any]] = {
    "198.51.100.0/24": {
        "asn": "AS64500",
        "as_name": "Example Test Net",
        "as_domain": "example.net",
        "continent": "North America",
        "continent_code": "NA",
        "country": "United States",
        "country_code": "US",
    },
    "2001:db8::/32": {
        "asn": "AS64501",
        "as_name": "Example v6 Net",
        "as_domain": "example.org",
        "continent": "Europe",
        "continent_code": "EU",
        "country": "Germany",
        "country_code": "DE",
    },
}

# IPinfo's older free "country_asn" schema: `country` is the code there.
IPINFO_COUNTRY_ASN: dict[str, dict[str, Any]] = {
    "203.0.113.0/24": {
        "start_ip": "203.0.113.0",
        "end_ip": "203.0.113.255",
        "country": "JP",
        "country_name": "Japan",
        "continent": "AS",
        "continent_name": "Asia",
        "asn": "AS64503",
        "as_name": "Example JP Net",
        "as_domain": "example.jp",
    },
}

# sapics ip-location-db dbip-city MMDB: flat.
SAPICS_CITY: dict[str, dict[str, Any]] = {
    "203.0.113.0/24": {
        "country_code": "AU",
        "state1": "New South Wales",
        "state2": "",
        "city": "Sampleburg",
        "postcode": "2000",
        "latitude": -33.75,
        "longitude": 151.25,
        "timezone": "Australia/Sydney",
    },
}

SAPICS_ASN: dict[str, dict[str, Any]] = {
    "203.0.113.0/24": {
        "autonomous_system_number": 64504,
        "autonomous_system_organization": "EXAMPLE-IPTOASN",
    },
}
