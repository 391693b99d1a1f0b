"""Configuration of the IP enrichment datasets. Offline by default: RDAP is off."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

# Environment variable for each field (see EnrichmentConfig.from_env).
ENV_NAMES: dict[str, str] = {
    "geo_enabled": "PARLEY_GEO_ENABLED",
    "asn_enabled": "PARLEY_ASN_ENABLED",
    "tor_enabled": "PARLEY_TOR_ENABLED",
    "origin_enabled": "PARLEY_ORIGIN_ENABLED",
    "origin_table_path": "PARLEY_ORIGIN_TABLE",
    "tor_snapshot": "PARLEY_TOR_SNAPSHOT",
    "rdap_enabled": "PARLEY_RDAP_ENABLED",
    "city_mmdb_path": "PARLEY_GEO_CITY_MMDB",
    "asn_mmdb_path": "PARLEY_GEO_ASN_MMDB",
    "embedded_data": "PARLEY_GEO_EMBEDDED",
    "tor_list_path": "PARLEY_TOR_EXIT_LIST",
    "tor_max_age_seconds": "PARLEY_TOR_MAX_AGE_SECONDS",
    "tor_fetch_timeout_seconds": "PARLEY_TOR_FETCH_TIMEOUT_SECONDS",
    "rdap_bootstrap_url": "PARLEY_RDAP_BOOTSTRAP_URL",
    "rdap_timeout_seconds": "PARLEY_RDAP_TIMEOUT_SECONDS",
    "cache_ttl_seconds": "PARLEY_ENRICH_CACHE_TTL_SECONDS",
    "cache_failure_ttl_seconds": "PARLEY_ENRICH_CACHE_FAILURE_TTL_SECONDS",
    "cache_max_entries": "PARLEY_ENRICH_CACHE_MAX_ENTRIES",
    "language": "PARLEY_GEO_LANGUAGE",
}


class EnrichmentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Each dataset can be turned off; a turned-off dataset is left out of the card.
    geo_enabled: bool = True
    asn_enabled: bool = True
    tor_enabled: bool = True
    origin_enabled: bool = True
    # Online lookups: off by default because Parley's machines have no internet.
    rdap_enabled: bool = False

    # MMDB files (GeoLite2/GeoIP2, DB-IP Lite, IPinfo Lite, ip-location-db). None falls back
    # to the embedded data package when `embedded_data` is on and it is installed.
    city_mmdb_path: str | None = None
    asn_mmdb_path: str | None = None
    embedded_data: bool = True

    # The Tor exit list: the file the scheduled refresh writes, or an http(s) URL.
    tor_list_path: str | None = None
    tor_max_age_seconds: float = Field(default=3 * 3600, gt=0)
    tor_fetch_timeout_seconds: float = Field(default=15.0, gt=0)
    # The Tor exits in the origin table answer when no fresher list is there: "listed" with
    # the snapshot's date, never "no".
    tor_snapshot: bool = True

    # Origin (hosting / VPN / CDN / crawler): a range table in iporigin's format. None reads the
    # one bundled with the pinned iporigin package.
    origin_table_path: str | None = None

    # None keeps ipwhois's own RDAP bootstrap service; tests point it at a loopback server.
    rdap_bootstrap_url: str | None = None
    rdap_timeout_seconds: float = Field(default=5.0, gt=0)

    # Per-IP result cache. Answers with an unavailable dataset expire sooner.
    cache_ttl_seconds: float = Field(default=300.0, ge=0)
    cache_failure_ttl_seconds: float = Field(default=30.0, ge=0)
    cache_max_entries: int = Field(default=10_000, ge=1)

    language: str = "en"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EnrichmentConfig:
        """Read the PARLEY_* variables in ENV_NAMES; PARLEY_ENRICH_MODE=live turns RDAP on."""
        env = os.environ if environ is None else environ
        values: dict[str, str | bool] = {
            field: env[name] for field, name in ENV_NAMES.items() if env.get(name, "") != ""
        }
        mode = env.get("PARLEY_ENRICH_MODE", "").strip().lower()
        if mode and "rdap_enabled" not in values:
            if mode not in ("offline", "live"):
                raise ValueError(f"PARLEY_ENRICH_MODE must be offline or live, not {mode!r}")
            values["rdap_enabled"] = mode == "live"
        return cls.model_validate(values)
