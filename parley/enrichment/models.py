"""Result models for "See Threat Intel": one block per dataset, each with its provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from parley.enrichment.ranges import RangeInfo

DatasetStatus = Literal["ok", "unavailable", "skipped"]
TorAnswer = Literal["yes", "no", "unknown"]


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

    @property
    def place(self) -> str | None:
        """The one-line "🇺🇸 California, USA" used in Show Alert Details."""
        return self.location.display if self.location and self.location.status == "ok" else None
