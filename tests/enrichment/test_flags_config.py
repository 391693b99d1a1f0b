"""Flag emoji, the one-line place label, and configuration from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.flags import flag_emoji, place_label


@pytest.mark.parametrize(
    ("code", "flag"),
    [
        ("US", "\U0001f1fa\U0001f1f8"),
        ("gb", "\U0001f1ec\U0001f1e7"),
        ("DE", "\U0001f1e9\U0001f1ea"),
    ],
)
def test_flag_from_iso_code(code: str, flag: str) -> None:
    assert flag_emoji(code) == flag


@pytest.mark.parametrize("code", [None, "", "U", "USA", "1A", "ÄB"])
def test_no_flag_for_non_codes(code: str | None) -> None:
    assert flag_emoji(code) is None


@pytest.mark.parametrize(
    ("args", "label"),
    [
        (("Mountain View", "California", "US", "United States"), "🇺🇸 California, USA"),
        (("London", "England", "GB", "United Kingdom"), "🇬🇧 England, UK"),
        (("Testville", None, "FR", "France"), "🇫🇷 Testville, France"),
        (("Singapore", "Singapore", "SG", "Singapore"), "🇸🇬 Singapore"),
        ((None, None, "JP", "Japan"), "🇯🇵 Japan"),
        ((None, None, "ZZ", None), "\U0001f1ff\U0001f1ff ZZ"),  # any two letters
        ((None, None, "1Z", None), "1Z"),
        ((None, None, None, None), None),
    ],
)
def test_place_label(args: tuple[str | None, ...], label: str | None) -> None:
    assert place_label(*args) == label


def test_defaults_are_offline() -> None:
    config = EnrichmentConfig()
    assert config.rdap_enabled is False
    assert (config.geo_enabled, config.asn_enabled, config.tor_enabled) == (True, True, True)


def test_from_env() -> None:
    config = EnrichmentConfig.from_env(
        {
            "PARLEY_GEO_CITY_MMDB": "/data/city.mmdb",
            "PARLEY_GEO_ASN_MMDB": "/data/asn.mmdb",
            "PARLEY_TOR_EXIT_LIST": "/data/tor.txt",
            "PARLEY_TOR_MAX_AGE_SECONDS": "600",
            "PARLEY_ASN_ENABLED": "false",
            "PARLEY_ENRICH_MODE": "live",
            "PARLEY_RDAP_BOOTSTRAP_URL": "http://127.0.0.1:9/bootstrap",
            "PARLEY_GEO_EMBEDDED": "",  # empty means "not set"
        }
    )
    assert config.city_mmdb_path == "/data/city.mmdb"
    assert config.asn_mmdb_path == "/data/asn.mmdb"
    assert config.tor_list_path == "/data/tor.txt"
    assert config.tor_max_age_seconds == 600
    assert config.asn_enabled is False
    assert config.rdap_enabled is True
    assert config.embedded_data is True


def test_explicit_rdap_flag_beats_mode() -> None:
    config = EnrichmentConfig.from_env({"PARLEY_ENRICH_MODE": "live", "PARLEY_RDAP_ENABLED": "0"})
    assert config.rdap_enabled is False


def test_bad_values_are_rejected() -> None:
    with pytest.raises(ValueError):
        EnrichmentConfig.from_env({"PARLEY_ENRICH_MODE": "sometimes"})
    with pytest.raises(ValidationError):
        EnrichmentConfig.from_env({"PARLEY_TOR_MAX_AGE_SECONDS": "-1"})
    with pytest.raises(ValidationError):
        EnrichmentConfig(tor_max_age=5)  # type: ignore[call-arg]
