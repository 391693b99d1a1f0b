"""Threat-intel activities: analyse one IP, place a few IPs, brief an alert's IPs for its
message on arrival, refresh the Tor exit list.

The Enricher degrades a failing source to "unavailable" for its dataset on its own, so these
activities fail only when something is wrong with the worker itself.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import activity

from parley.enrichment.models import IpIntel, ThreatIntel
from parley.enrichment.service import Enricher
from parley.enrichment.tor_source import TorRefreshResult, refresh_tor_list


class TorRefreshInput(BaseModel):
    source: str  # a file path or an http(s) URL of Tor's exit list
    cache_path: str


class EnrichmentActivities:
    def __init__(self, enricher: Enricher) -> None:
        self.enricher = enricher

    @activity.defn(name="enrich.analyse")
    async def analyse(self, ip: str) -> ThreatIntel:
        return await self.enricher.analyse_async(ip)

    @activity.defn(name="enrich.locate")
    async def locate(self, ips: list[str]) -> dict[str, str]:
        """One-line places for Show Alert Details; IPs without one are left out."""
        places = await asyncio.gather(*(asyncio.to_thread(self.enricher.locate, ip) for ip in ips))
        return {ip: place for ip, place in zip(ips, places, strict=True) if place}

    @activity.defn(name="enrich.brief")
    async def brief(self, ips: list[str]) -> IpIntel:
        """One line's worth per IP (offline datasets only) for the alert message."""
        return await asyncio.to_thread(self.enricher.brief, ips)

    @activity.defn(name="enrich.refresh_tor")
    async def refresh_tor(self, inp: TorRefreshInput) -> TorRefreshResult:
        result = await asyncio.to_thread(refresh_tor_list, inp.source, inp.cache_path)
        activity.logger.info("Tor exit list: %d exits from %s", result.count, inp.source)
        return result

    def all(self) -> list[object]:
        return [self.analyse, self.locate, self.brief, self.refresh_tor]
