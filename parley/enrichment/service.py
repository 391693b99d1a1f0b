"""The Enricher: "See Threat Intel" for one IP, dataset by dataset, cached per IP.

Each dataset degrades on its own: a failing source gives that dataset status "unavailable"
with a reason and leaves the others alone. Non-routable addresses skip every lookup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from parley.enrichment.cache import SingleFlightCache
from parley.enrichment.config import EnrichmentConfig
from parley.enrichment.embedded import NO_DATA_MESSAGE, load_embedded
from parley.enrichment.flags import flag_emoji, place_label
from parley.enrichment.mmdb import GeoProvider, GeoRecord, MmdbSource
from parley.enrichment.models import (
    AsnResult,
    EnrichmentUnavailable,
    IpBrief,
    IpIntel,
    LocationResult,
    OriginResult,
    Provenance,
    RdapResult,
    ThreatIntel,
    TorResult,
)
from parley.enrichment.origin import OriginTable, OriginTableError, bundled_table
from parley.enrichment.ranges import RangeInfo, classify, parse_ip
from parley.enrichment.rdap import lookup_rdap
from parley.enrichment.tor import TorExitList
from parley.enrichment.tor_source import TorListStore

log = logging.getLogger(__name__)

RdapLookup = Callable[..., RdapResult]
# IPs analysed for the alert message on arrival; See Threat Intel covers the rest, one by one.
MAX_BRIEF_IPS = 20

__all__ = ["Enricher", "EnrichmentConfig", "ThreatIntel"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Enricher:
    """Thread-safe; one instance per process. Readers are opened once and reused."""

    def __init__(
        self,
        config: EnrichmentConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        city_source: GeoProvider | None = None,
        asn_source: GeoProvider | None = None,
        rdap_lookup: RdapLookup = lookup_rdap,
        classifier: Callable[[str], RangeInfo] = classify,
    ) -> None:
        self.config = config or EnrichmentConfig()
        # Tests swap the classifier so documentation ranges (the only ones test data may use)
        # count as routable.
        self._classify = classifier
        self._clock = clock
        self._rdap_lookup = rdap_lookup
        self._injected = (city_source, asn_source)
        self._chains: tuple[list[GeoProvider], list[GeoProvider]] | None = None
        self._chains_lock = threading.Lock()
        # The origin table (and the Tor snapshot in it) is parsed on first use, once.
        self._origin: OriginTable | OriginTableError | None = None
        self._tor_snapshot: TorExitList | None = None
        self._origin_lock = threading.Lock()
        self._tor = TorListStore(
            self.config.tor_list_path,
            max_age=timedelta(seconds=self.config.tor_max_age_seconds),
            timeout=self.config.tor_fetch_timeout_seconds,
            clock=clock,
            snapshot=self._snapshot if self.config.tor_snapshot else None,
        )
        self._cache: SingleFlightCache[str, ThreatIntel] = SingleFlightCache(
            ttl_seconds=self.config.cache_ttl_seconds,
            max_entries=self.config.cache_max_entries,
            ttl_for=self._ttl_for,
            monotonic=monotonic,
        )
        self._offline_cache: SingleFlightCache[str, ThreatIntel] = SingleFlightCache(
            ttl_seconds=self.config.cache_ttl_seconds,
            max_entries=self.config.cache_max_entries,
            ttl_for=self._ttl_for,
            monotonic=monotonic,
        )
        self._place_cache: SingleFlightCache[str, str | None] = SingleFlightCache(
            ttl_seconds=self.config.cache_ttl_seconds,
            max_entries=self.config.cache_max_entries,
            ttl_for=lambda place: (
                self.config.cache_ttl_seconds if place else self.config.cache_failure_ttl_seconds
            ),
            monotonic=monotonic,
        )

    # -- sources ---------------------------------------------------------------------------

    def _provider_chains(self) -> tuple[list[GeoProvider], list[GeoProvider]]:
        """(location providers, ASN providers), most specific first, built once.

        Explicit files come first, for both datasets (an IPinfo Lite file answers location
        and ASN); the embedded DB-IP Lite data comes last.
        """
        with self._chains_lock:
            if self._chains is None:
                cfg = self.config
                city, asn = self._injected
                if city is None and cfg.city_mmdb_path:
                    city = MmdbSource(cfg.city_mmdb_path, language=cfg.language)
                if asn is None and cfg.asn_mmdb_path:
                    asn = MmdbSource(cfg.asn_mmdb_path, language=cfg.language)
                loc_chain = [p for p in (city, asn) if p is not None]
                asn_chain = [p for p in (asn, city) if p is not None]
                if cfg.embedded_data and (city is None or asn is None):
                    embedded = load_embedded()
                    if embedded is not None:
                        if city is None and embedded.city is not None:
                            loc_chain.append(embedded.city)
                        if asn is None and embedded.asn is not None:
                            asn_chain.append(embedded.asn)
                self._chains = (loc_chain, asn_chain)
            return self._chains

    def _first(
        self, chain: list[GeoProvider], ip: str, wanted: Callable[[GeoRecord], bool]
    ) -> tuple[GeoRecord | None, Provenance | None]:
        """The first provider's record that has the wanted data; (None, provenance) when the
        data has no entry. Raises EnrichmentUnavailable when a provider failed and none of the
        others had the answer: a fallback's miss does not prove the failed one had nothing."""
        errors: list[str] = []
        miss: Provenance | None = None
        for provider in chain:
            try:
                record = provider.lookup(ip)
                provenance = provider.provenance
            except EnrichmentUnavailable as exc:
                errors.append(exc.reason)
                continue
            except Exception as exc:  # a broken reader must not take the card down
                log.warning("geo provider failed for %s", ip, exc_info=True)
                errors.append(f"lookup failed ({type(exc).__name__})")
                continue
            if record is not None and wanted(record):
                return record, provenance
            miss = miss or provenance
        if errors:
            raise EnrichmentUnavailable("; ".join(errors))
        if miss is None:
            raise EnrichmentUnavailable(NO_DATA_MESSAGE)
        return None, miss

    def sources_summary(self) -> list[str]:
        """One line per loaded source (or the no-data message), for startup logs."""
        loc_chain, asn_chain = self._provider_chains()
        lines: list[str] = []
        for name, chain in (("location", loc_chain), ("ASN", asn_chain)):
            if not chain:
                lines.append(f"{name}: {NO_DATA_MESSAGE}")
            for provider in chain:
                try:
                    p = provider.provenance
                except EnrichmentUnavailable as exc:
                    lines.append(f"{name}: unavailable ({exc.reason})")
                    continue
                built = p.build_date.date().isoformat() if p.build_date else "unknown date"
                lines.append(f"{name}: {p.database_type} built {built} from {p.source}")
        if self.config.origin_enabled or self.config.tor_snapshot:
            # Parses the table now, so the first alert does not wait for it.
            try:
                table = self._origin_table()
            except EnrichmentUnavailable as exc:
                lines.append(f"origin: {exc.reason}")
            else:
                built = table.built_at.date().isoformat()
                exits = len(self._tor_snapshot.exits) if self._tor_snapshot else 0
                lines.append(f"origin: ranges built {built} from {table.source}, {exits} Tor exits")
        return lines

    def _origin_table(self) -> OriginTable:
        with self._origin_lock:
            if self._origin is None:
                path = self.config.origin_table_path
                try:
                    self._origin = OriginTable.load(path) if path else bundled_table()
                except OriginTableError as exc:
                    log.warning("origin table unusable: %s", exc)
                    self._origin = exc  # remembered: no re-read on every lookup
                if isinstance(self._origin, OriginTable):
                    self._tor_snapshot = self._origin.tor_snapshot()
            if isinstance(self._origin, OriginTableError):
                raise EnrichmentUnavailable(f"origin data unavailable: {self._origin}")
            return self._origin

    def _snapshot(self) -> TorExitList | None:
        try:
            self._origin_table()
        except EnrichmentUnavailable:
            return None
        return self._tor_snapshot

    # -- datasets --------------------------------------------------------------------------

    def _location(self, ip: str) -> LocationResult:
        record, provenance = self._first(self._provider_chains()[0], ip, lambda r: r.has_location)
        if record is None:
            return LocationResult(
                reason="address not found in the geolocation data", provenance=provenance
            )
        return LocationResult(
            provenance=provenance,
            country_code=record.country_code,
            country_name=record.country_name,
            region=record.region,
            city=record.city,
            continent_code=record.continent_code,
            latitude=record.latitude,
            longitude=record.longitude,
            timezone=record.timezone,
            network=record.network,
            flag=flag_emoji(record.country_code),
            display=place_label(
                record.city, record.region, record.country_code, record.country_name
            ),
        )

    def _asn(self, ip: str) -> AsnResult:
        record, provenance = self._first(self._provider_chains()[1], ip, lambda r: r.has_asn)
        if record is None:
            return AsnResult(reason="address not found in the ASN data", provenance=provenance)
        return AsnResult(
            provenance=provenance,
            number=record.asn,
            organisation=record.as_org,
            domain=record.as_domain,
            network=record.network,
        )

    def _rdap(self, ip: str) -> RdapResult:
        return self._rdap_lookup(
            ip,
            bootstrap_url=self.config.rdap_bootstrap_url,
            timeout=self.config.rdap_timeout_seconds,
            now=self._clock(),
        )

    @staticmethod
    def _guard(kind: type[Any], fetch: Callable[[], Any]) -> Any:
        """Run one dataset; any failure becomes that dataset's "unavailable"."""
        try:
            return fetch()
        except EnrichmentUnavailable as exc:
            return kind(status="unavailable", reason=exc.reason)
        except Exception as exc:
            log.warning("%s lookup failed", kind.__name__, exc_info=True)
            return kind(status="unavailable", reason=f"lookup failed ({type(exc).__name__})")

    def _analyse_uncached(self, scope: RangeInfo, *, with_rdap: bool = True) -> ThreatIntel:
        cfg = self.config
        enabled = {
            "location": (cfg.geo_enabled, LocationResult),
            "asn": (cfg.asn_enabled, AsnResult),
            "tor": (cfg.tor_enabled, TorResult),
            "rdap": (cfg.rdap_enabled and with_rdap, RdapResult),
            "origin": (cfg.origin_enabled, OriginResult),
        }
        if not scope.routable:
            where = f"{scope.label} ({scope.rfc})" if scope.rfc else scope.label
            reason = f"{where}: not publicly routable, no lookup attempted"
            results = {
                name: kind(status="skipped", reason=reason)
                for name, (on, kind) in enabled.items()
                if on
            }
            if "origin" in results:
                results["origin"] = OriginResult(status="skipped", kind="reserved", reason=reason)
            return ThreatIntel(ip=scope.ip, scope=scope, analysed_at=self._clock(), **results)
        ip = scope.embedded_ipv4 or scope.ip
        fetchers: dict[str, Callable[[], Any]] = {
            "location": lambda: self._location(ip),
            "asn": lambda: self._asn(ip),
            "tor": lambda: self._tor.status(ip),
            "rdap": lambda: self._rdap(ip),
            "origin": lambda: self._origin_table().origin(ip),
        }
        results = {
            name: self._guard(kind, fetchers[name]) for name, (on, kind) in enabled.items() if on
        }
        return ThreatIntel(ip=scope.ip, scope=scope, analysed_at=self._clock(), **results)

    def _ttl_for(self, intel: ThreatIntel) -> float:
        datasets = (intel.location, intel.asn, intel.tor, intel.rdap, intel.origin)
        degraded = any(d is not None and d.status == "unavailable" for d in datasets)
        return self.config.cache_failure_ttl_seconds if degraded else self.config.cache_ttl_seconds

    # -- public API --------------------------------------------------------------------------

    def analyse(self, ip: str) -> ThreatIntel:
        """Threat intel for `ip` (raises ValueError if it is not an IP). Blocking when RDAP
        is on: async callers use analyse_async."""
        scope = self._classify(ip)
        return self._cache.get_or_load(scope.ip, lambda: self._analyse_uncached(scope))

    async def analyse_async(self, ip: str) -> ThreatIntel:
        scope = self._classify(ip)
        return await self._cache.aget_or_load(scope.ip, lambda: self._analyse_uncached(scope))

    def _analyse_offline(self, ip: str) -> ThreatIntel:
        """As analyse, without RDAP: what the alert message may wait for."""
        if not self.config.rdap_enabled:
            return self.analyse(ip)
        scope = self._classify(ip)
        return self._offline_cache.get_or_load(
            scope.ip, lambda: self._analyse_uncached(scope, with_rdap=False)
        )

    def brief(self, ips: list[str], limit: int = MAX_BRIEF_IPS) -> IpIntel:
        """One line's worth for each of the first `limit` distinct IPs (never RDAP, so never the
        network), and how many were left out."""
        # One line per address, however it was written ("2001:DB8::1", "[2001:db8::1]").
        parsed = (parse_ip(ip) for ip in ips)
        distinct = list(dict.fromkeys(str(a) for a in parsed if a is not None))
        briefs: list[IpBrief] = []
        attributions: list[str] = []
        for ip in distinct[:limit]:
            intel = self._analyse_offline(ip)
            briefs.append(IpBrief.of(intel))
            for result in (intel.location, intel.asn, intel.origin, intel.tor):
                owed = result.provenance.attribution if result and result.provenance else None
                if owed and owed not in attributions:
                    attributions.append(owed)
        return IpIntel(
            briefs=briefs,
            omitted=max(0, len(distinct) - limit),
            attributions=attributions,
        )

    def locate(self, ip: str) -> str | None:
        """The one-line place ("🇺🇸 California, USA") for Show Alert Details, or None."""
        if not self.config.geo_enabled:
            return None
        try:
            scope = self._classify(ip)
        except ValueError:
            return None
        if not scope.routable:
            return None

        def load() -> str | None:
            result = self._guard(
                LocationResult, lambda: self._location(scope.embedded_ipv4 or scope.ip)
            )
            return result.display if result.status == "ok" else None

        return self._place_cache.get_or_load(scope.ip, load)

    def clear_cache(self) -> None:
        self._cache.clear()
        self._offline_cache.clear()
        self._place_cache.clear()
