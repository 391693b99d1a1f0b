"""IP enrichment for "See Threat Intel": location, ASN, Tor exit, scope and RDAP ownership."""

from enrichment.config import EnrichmentConfig
from enrichment.models import (
    AsnResult,
    EnrichmentUnavailable,
    LocationResult,
    Provenance,
    RdapResult,
    ThreatIntel,
    TorResult,
)
from enrichment.ranges import RangeInfo, analysable_ips, classify, is_analysable
from enrichment.service import Enricher
from enrichment.tor_source import load_tor_list, refresh_tor_list, write_tor_cache

__all__ = [
    "AsnResult",
    "Enricher",
    "EnrichmentConfig",
    "EnrichmentUnavailable",
    "LocationResult",
    "Provenance",
    "RangeInfo",
    "RdapResult",
    "ThreatIntel",
    "TorResult",
    "analysable_ips",
    "classify",
    "is_analysable",
    "load_tor_list",
    "refresh_tor_list",
    "write_tor_cache",
]
