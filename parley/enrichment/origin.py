"""Network origin (hosting / VPN / CDN / crawler / Tor) from the range table of the pinned
`iporigin` package, and the offline Tor exit snapshot taken from the same table.

iporigin 1.1.2 (MIT code) bundles `ranges.bin`: disjoint IPv4/IPv6 ranges, each labelled
(provider, kind), built 2026-10-05 from three tiers of sources (its NOTICE). We use the providers'
own feeds and the two CC0 lists, and none of the ranges that rest on permissions its NOTICE calls
unrecorded: those labels answer as if absent (see README.md, "Licences"). We read the table with
iporigin's own parser (`iporigin._data._Dataset`) so that a table rebuilt with its build script
(`PARLEY_ORIGIN_TABLE`) reads the same way; its `online` module, the only one with network code,
is never imported.
"""

from __future__ import annotations

import importlib.metadata
import ipaddress
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from parley.enrichment.models import OriginKind, OriginResult, Provenance
from parley.enrichment.tor import TorExit, TorExitList

log = logging.getLogger(__name__)

DISTRIBUTION = "iporigin"
PINNED_VERSION = "1.1.2"
SOURCE_LICENCE = "provider feeds + CC0 lists"
TOR_LICENCE = "CC0 1.0 (rezmoss/cloud-provider-ip-addresses)"

# The labels we use, read off iporigin 1.1.2's NOTICE and tools/sources.py: the operators' own
# feeds, and the two CC0 lists (rezmoss/cloud-provider-ip-addresses, lord-alfred/ipranges). An
# allow-list, so that a label a later release adds is left out until someone reads its terms.
PROVIDER_FEEDS: frozenset[str] = frozenset(
    {
        "Amazon AWS",
        "Google",
        "Google Cloud",
        "Microsoft Azure",
        "DigitalOcean",
        "Linode",
        "Vultr",
        "Oracle Cloud",
        "GitHub",
        "Cloudflare",
        "Fastly",
    }
)
CC0_LISTS: frozenset[str] = frozenset(
    {
        "Hetzner",
        "OVHcloud",
        "Scaleway",
        "Alibaba Cloud",
        "Leaseweb",
        "UpCloud",
        "IBM Cloud",
        "Huawei Cloud",
        "Tencent Cloud",
        "Rackspace",
        "Gcore",
        "Mullvad",
        "ProtonVPN",
        "Apple Private Relay",
        "Tor",
        "Googlebot",
        "Bingbot",
        "GPTBot",
        "ClaudeBot",
        "PerplexityBot",
        "DuckDuckBot",
        "Amazonbot",
        "Applebot",
        "Common Crawl",
        "Internet Archive",
        "OpenAI",
        "Perplexity AI",
        "DuckAssistBot",
        "Apple Intelligence Proxy",
        "Meta",
    }
)
CLEAR_TERMS: frozenset[str] = PROVIDER_FEEDS | CC0_LISTS
# Left out: labels whose ranges come, wholly or in part, from the two repositories iporigin uses
# "with the maintainer's permission" while its NOTICE says the evidence is "to be added"
# (123jjck/cdn-ip-ranges, SecOps-Institute/Akamai-ASN-and-IPs-List). Akamai mixes a CC0 list
# with the SecOps one under one label, and the merged table cannot tell them apart.
UNRECORDED_PERMISSION: frozenset[str] = frozenset(
    {
        "Cogent",
        "DataCamp",
        "Contabo",
        "Vercel",
        "CDN77",
        "GleSYS",
        "Scalaxy",
        "GTHost",
        "Melbicom",
        "BuyVM",
        "BunnyCDN",
        "Akamai",
    }
)
_KINDS: dict[str, OriginKind] = {
    "hosting": "hosting",
    "cdn": "cdn",
    "vpn": "vpn",
    "tor": "tor",
    "bot": "bot",
}
# A Tor "range" in the table is a run of adjacent exit addresses; anything wider is not a list
# of exits, and expanding it would only cost memory.
_MAX_TOR_RUN = 1024


class OriginTableError(RuntimeError):
    """The table is missing, unreadable, or not in a format the pinned parser understands."""


def _bundled_path() -> Path:
    try:
        from iporigin._data import DATA_FILE
    except ImportError as exc:
        raise OriginTableError("the iporigin package is not installed") from exc
    return Path(DATA_FILE)


def _parse(blob: bytes) -> Any:
    try:
        from iporigin._data import DatasetError, _Dataset
    except ImportError as exc:
        raise OriginTableError("the iporigin package is not installed") from exc
    try:
        return _Dataset(blob)
    except DatasetError as exc:
        raise OriginTableError(str(exc)) from exc
    except Exception as exc:  # a truncated or foreign file: struct errors and the like
        raise OriginTableError(f"not a readable iporigin table ({type(exc).__name__})") from exc


@dataclass(frozen=True)
class OriginTable:
    """One loaded table: a lookup by address, its build date, and where it came from."""

    data: Any  # iporigin's parsed dataset: labels, v4/v6 start, end and label columns
    built_at: datetime
    source: str

    @classmethod
    def load(cls, path: str | None = None) -> OriginTable:
        """The table at `path`, or the one bundled with the installed iporigin."""
        if path is None:
            file = _bundled_path()
            try:
                version = importlib.metadata.version(DISTRIBUTION)
            except importlib.metadata.PackageNotFoundError:
                version = "unknown version"
            if version != PINNED_VERSION:
                log.warning("%s %s installed, %s expected", DISTRIBUTION, version, PINNED_VERSION)
            source = f"{DISTRIBUTION} {version} (bundled)"
        else:
            file, source = Path(path), path
        try:
            blob = file.read_bytes()
        except OSError as exc:
            raise OriginTableError(f"cannot read {file}: {exc.strerror or exc}") from exc
        data = _parse(blob)
        return cls(data=data, built_at=datetime.fromtimestamp(data.built_at, UTC), source=source)

    @cached_property
    def provenance(self) -> Provenance:
        return Provenance(
            source=self.source,
            database_type="iporigin ranges",
            build_date=self.built_at,
            licence=SOURCE_LICENCE,
        )

    def label(self, ip: str) -> tuple[str, OriginKind] | None:
        """(provider, kind) for a routable address; None when no usable range holds it."""
        address = ipaddress.ip_address(ip)
        found = self.data.find(int(address), address.version)
        if found is None:
            return None
        provider, kind = found
        if provider not in CLEAR_TERMS or kind not in _KINDS:
            return None  # as if absent: we do not use what we may not
        return provider, _KINDS[kind]

    def origin(self, ip: str) -> OriginResult:
        found = self.label(ip)
        if found is None:
            return OriginResult(kind="none", provenance=self.provenance)
        provider, kind = found
        return OriginResult(kind=kind, provider=provider, provenance=self.provenance)

    def tor_snapshot(self) -> TorExitList | None:
        """The table's Tor exits as a list as old as the table; None if it has none."""
        data = self.data
        tor_labels = {
            i
            for i, (provider, kind) in enumerate(data.labels)
            if kind == "tor" and provider in CLEAR_TERMS
        }
        exits: dict[str, TorExit] = {}
        columns = (
            (data.v4_starts, data.v4_ends, data.v4_labels, ipaddress.IPv4Address),
            (data.v6_starts, data.v6_ends, data.v6_labels, ipaddress.IPv6Address),
        )
        for starts, ends, labels, make in columns:
            for start, end, label in zip(starts, ends, labels, strict=True):
                if label not in tor_labels:
                    continue
                if end - start >= _MAX_TOR_RUN:
                    log.warning("Tor range of %d addresses skipped", end - start + 1)
                    continue
                for value in range(start, end + 1):
                    exits[str(make(value))] = TorExit()
        if not exits:
            return None
        return TorExitList(
            exits=exits,
            fetched_at=self.built_at,
            source=self.source,
            format="snapshot",
            licence=TOR_LICENCE,
        )


@cache
def bundled_table() -> OriginTable:
    """The installed package's table, parsed once per process (about half a second)."""
    return OriginTable.load()
