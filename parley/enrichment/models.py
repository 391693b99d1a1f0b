"""Result models for "See Threat Intel": one block per dataset, each with its provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from parley.enrichment.ranges import RangeInfo

DatasetStatus = Literal["ok", "unavailable", "skipped"]
# "listed": named as an exit by a list older than the freshness limit (a snapshot, say). Only a
# fresh list says "yes" or "no"; an older one can still say it once named the address.
TorAnswer = Literal["yes", "no", "unknown", "listed"]
# What kind of network an address belongs to; "none" = in no range we use (often a home line).
OriginKind = Literal["hosting", "cdn", "vpn", "tor", "bot", "reserved", "none"]


class EnrichmentUnavailable(Exception):
    """A source could not answer; its dataset shows "unavailable" with `reason`."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # True for timeouts and rate limits: worth a retry by the caller (e.g. a Temporal
        # activity's retry policy), never by sleeping here.
        self.transient = transient


class Provenance(BaseModel):
    """Where an answer came from, so the card can show its age and the attribution it owes."""

    model_config = ConfigDict(frozen=True)

    source: str
    database_type: str | None = None
    build_date: datetime | None = None
    fetched_at: datetime | None = None
    licence: str | None = None
    attribution: str | None = None


class _Dataset(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: DatasetStatus = "ok"
    reason: str | None = None
    provenance: Provenance | None = None


class LocationResult(_Dataset):
    country_code: str | None = None
    country_name: str | None = None
    region: str | None = None
    city: str | None = None
    continent_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = None
    network: str | None = None
    flag: str | None = None
    display: str | None = None


class AsnResult(_Dataset):
    number: int | None = None
    organisation: str | None = None
    domain: str | None = None
    network: str | None = None


class TorResult(_Dataset):
    answer: TorAnswer = "unknown"
    list_as_of: datetime | None = None
    age_seconds: float | None = None
    stale: bool = False
    fingerprint: str | None = None
    last_tested: datetime | None = None
    snapshot: bool = False  # the answer comes from a packaged snapshot, not the refreshed list


class OriginResult(_Dataset):
    kind: OriginKind = "none"
    provider: str | None = None


class RdapResult(_Dataset):
    network_name: str | None = None
    handle: str | None = None
    cidr: str | None = None
    start_address: str | None = None
    end_address: str | None = None
    registry: str | None = None
    org: str | None = None
    entities: list[str] = []
    country: str | None = None


class ThreatIntel(BaseModel):
    """Everything "See Threat Intel" shows for one IP. A dataset that is turned off is None."""

    model_config = ConfigDict(frozen=True)

    ip: str
    scope: RangeInfo
    analysed_at: datetime
    location: LocationResult | None = None
    asn: AsnResult | None = None
    tor: TorResult | None = None
    rdap: RdapResult | None = None
    origin: OriginResult | None = None

    @property
    def place(self) -> str | None:
        """The one-line "🇺🇸 California, USA" used in Show Alert Details."""
        return self.location.display if self.location and self.location.status == "ok" else None


Mark = Literal["tor", "vpn"]


class IpBrief(BaseModel):
    """One IP in one line of the alert message: flag, country, ASN, origin, Tor (never RDAP)."""

    model_config = ConfigDict(frozen=True)

    ip: str
    routable: bool = True
    scope: str | None = None  # why it is not routable: "Private-Use (RFC 1918)"
    country_code: str | None = None
    flag: str | None = None
    asn: int | None = None
    as_org: str | None = None
    origin: OriginKind | None = None  # None: origin turned off or unavailable
    provider: str | None = None
    origin_as_of: datetime | None = None
    tor: TorAnswer | None = None  # None: Tor turned off
    tor_as_of: datetime | None = None
    tor_snapshot: bool = False

    @property
    def mark(self) -> Mark | None:
        """What the channel should see without clicking: a Tor exit or a VPN."""
        if self.tor in ("yes", "listed"):
            return "tor"
        if self.tor is None and self.origin == "tor":  # no Tor dataset: the origin table's word
            return "tor"
        return "vpn" if self.origin == "vpn" else None

    @classmethod
    def of(cls, intel: ThreatIntel) -> IpBrief:
        scope = intel.scope
        if not scope.routable:
            where = f"{scope.label} ({scope.rfc})" if scope.rfc else scope.label
            return cls(ip=intel.ip, routable=False, scope=where, origin="reserved")
        values: dict[str, object] = {}
        loc, asn, origin, tor = intel.location, intel.asn, intel.origin, intel.tor
        if loc is not None and loc.status == "ok":
            values.update(country_code=loc.country_code, flag=loc.flag)
        if asn is not None and asn.status == "ok":
            values.update(asn=asn.number, as_org=asn.organisation)
        if origin is not None and origin.status == "ok":
            built = origin.provenance.build_date if origin.provenance else None
            values.update(origin=origin.kind, provider=origin.provider, origin_as_of=built)
        if tor is not None:
            values.update(tor=tor.answer, tor_as_of=tor.list_as_of, tor_snapshot=tor.snapshot)
        return cls(ip=intel.ip, **values)  # type: ignore[arg-type]


class IpIntel(BaseModel):
    """An alert's IPs analysed on arrival, shown in the message of the destinations that ask."""

    briefs: list[IpBrief] = []
    omitted: int = 0  # IPs of the alert left out of the analysis (over the cap)
    attributions: list[str] = []  # what the data's licences require next to it
    destination_ids: list[str] = []
