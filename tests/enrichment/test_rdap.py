"""ipwhois RDAP against a loopback server with recorded answers, including a 429 and a timeout.

The addresses are public ones (ipwhois refuses reserved space before any request), but every
request goes to 127.0.0.1: the network guard in conftest.py fails the test otherwise.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import ipwhois.rdap
import pytest

from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.models import EnrichmentUnavailable
from parley.enrichment.rdap import lookup_rdap
from parley.enrichment.service import Enricher
from tests.enrichment.loopback import Loopback, loopback_server

DATA = Path(__file__).parent / "data"
RDAP_JSON = {"Content-Type": "application/rdap+json"}
ARIN_IP, RIPE_IP = "74.125.225.229", "193.0.6.139"
LIMITED_IP, HUNG_IP, NOTICE_IP, BROKEN_IP, UNKNOWN_IP = (
    "8.8.4.4",
    "9.9.9.9",
    "1.0.0.1",
    "4.4.4.4",
    "5.5.5.5",
)


@pytest.fixture
def rdap_server() -> Iterator[Loopback]:
    arin = (DATA / f"rdap_arin_{ARIN_IP}.json").read_bytes()
    ripe = (DATA / f"rdap_ripe_{RIPE_IP}.json").read_bytes()
    notice = (DATA / "rdap_rate_limit_notice.json").read_bytes()
    with loopback_server() as server:
        # Like the real bootstrap service: redirect to the registry's own RDAP server.
        server.route(
            f"/bootstrap/ip/{ARIN_IP}",
            (302, {"Location": f"{server.base_url}/arin/registry/ip/{ARIN_IP}"}, b""),
        )
        server.route(f"/arin/registry/ip/{ARIN_IP}", (200, RDAP_JSON, arin))
        server.route(f"/bootstrap/ip/{RIPE_IP}", (200, RDAP_JSON, ripe))
        server.route(
            f"/bootstrap/ip/{LIMITED_IP}",
            (429, {"Retry-After": "120", **RDAP_JSON}, b'{"errorCode": 429}'),
        )
        server.route(f"/bootstrap/ip/{HUNG_IP}", None)
        server.route(f"/bootstrap/ip/{NOTICE_IP}", (200, RDAP_JSON, notice))
        server.route(f"/bootstrap/ip/{BROKEN_IP}", (500, {}, b"internal error"))
        yield server


def _bootstrap(server: Loopback) -> str:
    return f"{server.base_url}/bootstrap"


def test_arin_answer_through_bootstrap_redirect(rdap_server: Loopback) -> None:
    result = lookup_rdap(ARIN_IP, bootstrap_url=_bootstrap(rdap_server), timeout=2)
    assert (result.status, result.network_name, result.cidr) == ("ok", "GOOGLE", "74.125.0.0/16")
    assert (result.handle, result.registry, result.org) == (
        "NET-74-125-0-0-1",
        "ARIN",
        "Google LLC",
    )
    assert result.entities == ["GOGL"]
    assert (result.start_address, result.end_address) == ("74.125.0.0", "74.125.255.255")
    assert rdap_server.hits == [f"/bootstrap/ip/{ARIN_IP}", f"/arin/registry/ip/{ARIN_IP}"]
    assert result.provenance is not None and result.provenance.source == "RDAP (ARIN)"


def test_ripe_answer_picks_the_registrant_org(rdap_server: Loopback) -> None:
    result = lookup_rdap(RIPE_IP, bootstrap_url=_bootstrap(rdap_server), timeout=2)
    assert (result.network_name, result.cidr, result.country) == ("RIPE-NCC", "193.0.0.0/21", "NL")
    assert result.registry == "RIPE NCC"
    assert result.org == "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"
    # root_ent_check=False: no extra /entity/ requests for entities without a vCard.
    assert rdap_server.hits == [f"/bootstrap/ip/{RIPE_IP}"]


def test_http_429_is_unavailable_at_once(rdap_server: Loopback) -> None:
    started = time.monotonic()
    with pytest.raises(EnrichmentUnavailable, match="rate-limiting") as caught:
        lookup_rdap(LIMITED_IP, bootstrap_url=_bootstrap(rdap_server), timeout=2)
    assert time.monotonic() - started < 1.0  # ipwhois would sleep 120 s by default
    assert caught.value.transient
    assert rdap_server.hits == [f"/bootstrap/ip/{LIMITED_IP}"]  # and no retry


def test_rate_limit_notice_is_unavailable_at_once(rdap_server: Loopback) -> None:
    started = time.monotonic()
    with pytest.raises(EnrichmentUnavailable, match="rate-limiting"):
        lookup_rdap(NOTICE_IP, bootstrap_url=_bootstrap(rdap_server), timeout=2)
    assert time.monotonic() - started < 1.0
    assert len(rdap_server.hits) == 1


def test_timeout_is_unavailable_quickly(rdap_server: Loopback) -> None:
    started = time.monotonic()
    with pytest.raises(EnrichmentUnavailable, match=r"timed out after 0\.3 s") as caught:
        lookup_rdap(HUNG_IP, bootstrap_url=_bootstrap(rdap_server), timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert caught.value.transient
    assert len(rdap_server.hits) == 1


@pytest.mark.parametrize(
    ("ip", "match", "transient"),
    [
        (UNKNOWN_IP, "HTTP 404", False),
        (BROKEN_IP, "HTTP 500", True),
        ("10.0.0.1", "no RDAP for this address", False),
    ],
)
def test_other_failures(rdap_server: Loopback, ip: str, match: str, transient: bool) -> None:
    with pytest.raises(EnrichmentUnavailable, match=match) as caught:
        lookup_rdap(ip, bootstrap_url=_bootstrap(rdap_server), timeout=2)
    assert caught.value.transient is transient


def test_connection_refused_is_unavailable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(EnrichmentUnavailable, match="unreachable") as caught:
        lookup_rdap(ARIN_IP, bootstrap_url=f"http://127.0.0.1:{port}/bootstrap", timeout=1)
    assert caught.value.transient


def test_bootstrap_url_is_per_call_and_the_global_is_untouched() -> None:
    before = ipwhois.rdap.BOOTSTRAP_URL
    arin = (DATA / f"rdap_arin_{ARIN_IP}.json").read_bytes()
    ripe = (DATA / f"rdap_ripe_{RIPE_IP}.json").read_bytes()
    with loopback_server() as one, loopback_server() as two:
        one.route("/bootstrap/ip/*", (200, RDAP_JSON, arin))
        two.route("/bootstrap/ip/*", (200, RDAP_JSON, ripe))
        names: dict[str, list[str | None]] = {"one": [], "two": []}

        def run(label: str, server: Loopback) -> None:
            for _ in range(5):
                names[label].append(
                    lookup_rdap(ARIN_IP, bootstrap_url=_bootstrap(server), timeout=2).network_name
                )

        threads = [
            threading.Thread(target=run, args=("one", one)),
            threading.Thread(target=run, args=("two", two)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert names == {"one": ["GOOGLE"] * 5, "two": ["RIPE-NCC"] * 5}
    assert ipwhois.rdap.BOOTSTRAP_URL == before


def test_enricher_rdap_online_with_other_sources_missing(rdap_server: Loopback) -> None:
    config = EnrichmentConfig(
        rdap_enabled=True,
        rdap_bootstrap_url=_bootstrap(rdap_server),
        rdap_timeout_seconds=2,
        embedded_data=False,
    )
    intel = Enricher(config).analyse(ARIN_IP)
    assert intel.rdap is not None and intel.rdap.status == "ok"
    assert intel.rdap.network_name == "GOOGLE"
    assert intel.location is not None and intel.location.status == "unavailable"
    assert "no geolocation data loaded" in (intel.location.reason or "")
    assert intel.tor is not None and intel.tor.answer == "unknown"


def test_enricher_rdap_429_degrades_only_rdap(rdap_server: Loopback) -> None:
    config = EnrichmentConfig(
        rdap_enabled=True,
        rdap_bootstrap_url=_bootstrap(rdap_server),
        embedded_data=False,
        geo_enabled=False,
        asn_enabled=False,
        tor_enabled=False,
    )
    intel = Enricher(config).analyse(LIMITED_IP)
    assert intel.rdap is not None and intel.rdap.status == "unavailable"
    assert "429" in (intel.rdap.reason or "")
    assert (intel.location, intel.asn, intel.tor) == (None, None, None)


def test_rdap_off_by_default_sends_nothing(rdap_server: Loopback) -> None:
    intel = Enricher(EnrichmentConfig(embedded_data=False)).analyse(ARIN_IP)
    assert intel.rdap is None
    assert rdap_server.hits == []
