"""Tor exit list: parse both published formats and answer yes / no / unknown with the list's age.

Formats (check.torproject.org):
- `exit-addresses` (TorDNSEL): records of `ExitNode <fingerprint>`, `Published`, `LastStatus`
  and one or more `ExitAddress <ip> <YYYY-MM-DD HH:MM:SS>` (UTC).
- `torbulkexitlist`: one IP a line.
A list older than the configured limit never says "not Tor": an address it names is "listed"
(with the list's date), any other is "unknown". A packaged snapshot is such a list.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from parley.enrichment.models import Provenance, TorResult

TorFormat = Literal["exit-addresses", "bulk", "snapshot"]
_FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")
_KEYWORD = re.compile(r"^[A-Z][A-Za-z]+$")
EXONERATOR_URL = "https://metrics.torproject.org/exonerator.html"


class TorListError(ValueError):
    """The text is not a usable Tor exit list (empty, truncated, or not a list at all)."""


@dataclass(frozen=True, slots=True)
class TorExit:
    fingerprint: str | None = None
    last_tested: datetime | None = None


def _parse_time(text: str, lineno: int) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise TorListError(f"line {lineno}: bad timestamp {text!r}") from exc


def _normalise_ip(text: str, lineno: int) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        raise TorListError(f"line {lineno}: not an IP address: {text[:60]!r}") from exc


def _meaningful(text: str) -> list[tuple[int, str]]:
    lines = ((n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1))
    return [(n, line) for n, line in lines if line and not line.startswith("#")]


def parse_exit_addresses(text: str) -> dict[str, TorExit]:
    exits: dict[str, TorExit] = {}
    fingerprint: str | None = None
    addresses_in_record = 0
    for lineno, line in _meaningful(text):
        keyword, _, rest = line.partition(" ")
        if keyword == "ExitNode":
            if fingerprint is not None and addresses_in_record == 0:
                raise TorListError(f"line {lineno}: previous ExitNode has no ExitAddress")
            fingerprint = rest.strip().upper()
            if not _FINGERPRINT.match(fingerprint):
                raise TorListError(f"line {lineno}: bad fingerprint {fingerprint[:60]!r}")
            addresses_in_record = 0
        elif keyword == "ExitAddress":
            parts = rest.split()
            if fingerprint is None or len(parts) != 3:
                raise TorListError(f"line {lineno}: malformed ExitAddress line")
            ip = _normalise_ip(parts[0], lineno)
            tested = _parse_time(f"{parts[1]} {parts[2]}", lineno)
            # Keep the fingerprint for every address of a relay (Cortex's parser loses it).
            previous = exits.get(ip)
            if previous is None or (previous.last_tested or tested) <= tested:
                exits[ip] = TorExit(fingerprint, tested)
            addresses_in_record += 1
        elif keyword in ("Published", "LastStatus"):
            _parse_time(rest.strip(), lineno)
        elif not _KEYWORD.match(keyword):
            raise TorListError(f"line {lineno}: not an exit-addresses line: {line[:60]!r}")
    if fingerprint is not None and addresses_in_record == 0:
        raise TorListError("truncated list: the last ExitNode has no ExitAddress")
    return exits


def parse_bulk(text: str) -> dict[str, TorExit]:
    return {_normalise_ip(line, n): TorExit() for n, line in _meaningful(text)}


def detect_format(text: str) -> TorFormat:
    first = next(iter(_meaningful(text)), (0, ""))[1]
    return "exit-addresses" if first.startswith("ExitNode") else "bulk"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def age_text(seconds: float | None) -> str:
    """ "20 min old", "4.0 h old", "64 days old" (whole days, as a calendar would count them)."""
    if seconds is None:
        return "age unknown"
    if seconds >= 48 * 3600:
        return f"{seconds // 86400:.0f} days old"
    return f"{_hours(seconds)} old"


@dataclass(frozen=True)
class TorExitList:
    exits: Mapping[str, TorExit]
    fetched_at: datetime
    source: str
    format: TorFormat
    licence: str | None = None

    @classmethod
    def parse(cls, text: str, *, fetched_at: datetime, source: str) -> TorExitList:
        fmt = detect_format(text)
        exits = parse_exit_addresses(text) if fmt == "exit-addresses" else parse_bulk(text)
        if not exits:
            raise TorListError("empty Tor exit list")
        return cls(exits=exits, fetched_at=fetched_at, source=source, format=fmt)

    @property
    def newest_test(self) -> datetime | None:
        tested = [e.last_tested for e in self.exits.values() if e.last_tested is not None]
        return max(tested) if tested else None

    @property
    def as_of(self) -> datetime:
        # A copied or packaged exit-addresses file is as old as its newest test, whatever
        # its fetch time says.
        newest = self.newest_test
        return min(self.fetched_at, newest) if newest else self.fetched_at

    @property
    def is_snapshot(self) -> bool:
        return self.format == "snapshot"

    def provenance(self) -> Provenance:
        if self.is_snapshot:
            return Provenance(
                source=f"Tor exit snapshot: {self.source}",
                database_type="tor-snapshot",
                build_date=self.fetched_at,
                licence=self.licence,
            )
        return Provenance(
            source=f"Tor Project exit list ({self.format}): {self.source}",
            database_type=f"tor-{self.format}",
            fetched_at=self.fetched_at,
            licence=self.licence,
        )

    def status(self, ip: str, *, now: datetime, max_age: timedelta) -> TorResult:
        key = str(ipaddress.ip_address(ip))
        age = max(0.0, (now - self.as_of).total_seconds())
        common = {
            "list_as_of": self.as_of,
            "age_seconds": age,
            "provenance": self.provenance(),
            "snapshot": self.is_snapshot,
        }
        listed = self.exits.get(key)
        if age > max_age.total_seconds():
            if listed is not None:
                # It was an exit then; whether it still is, only a fresh list can tell.
                return TorResult(
                    answer="listed",
                    stale=True,
                    fingerprint=listed.fingerprint,
                    last_tested=listed.last_tested,
                    **common,
                )
            limit = _hours(max_age.total_seconds())
            reason = (
                f"not in the snapshot of {self.as_of.date().isoformat()} ({age_text(age)}), "
                f"too old to say no (limit {limit})"
                if self.is_snapshot
                else f"Tor exit list is {_hours(age)} old (limit {limit})"
            )
            return TorResult(
                status="unavailable", answer="unknown", stale=True, reason=reason, **common
            )
        if listed is not None:
            return TorResult(
                answer="yes",
                fingerprint=listed.fingerprint,
                last_tested=listed.last_tested,
                **common,
            )
        reason = None
        if ipaddress.ip_address(key).version == 6:
            reason = "exact match only: IPv6 exits rotate within their prefixes"
        return TorResult(answer="no", reason=reason, **common)


def exonerator_link(ip: str, when: datetime) -> str:
    """ExoneraTor answers "was this IP a Tor relay on that day" from Tor's archives."""
    return f"{EXONERATOR_URL}?{urlencode({'ip': ip, 'timestamp': when.date().isoformat()})}"
