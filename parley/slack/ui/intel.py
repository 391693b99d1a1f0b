"""Render a ThreatIntel as Slack Block Kit blocks plus a plain-text fallback (pure functions).

Every string that comes from data is escaped (&, <, >) so an RDAP org name cannot inject a
mention or a link, and clipped to Block Kit's limits: section text 3000, each of at most ten
fields 2000, header 150, context at most ten elements. Turned-off datasets (None) are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.enrichment.models import (
    AsnResult,
    LocationResult,
    Provenance,
    RdapResult,
    ThreatIntel,
    TorResult,
)
from parley.enrichment.tor import exonerator_link
from parley.slack.ui.text import clip, escape

MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCKS = 50
MAX_FALLBACK = 3000

Block = dict[str, Any]
__all__ = ["clip", "escape", "render_card", "render_fallback_text"]


def _mrkdwn(text: str, limit: int) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def _section(text: str, fields: list[tuple[str, str | int | None]] | None = None) -> Block:
    block: Block = {"type": "section", "text": _mrkdwn(text, MAX_SECTION_TEXT)}
    shown = [(k, v) for k, v in (fields or []) if v not in (None, "")]
    if shown:
        block["fields"] = [
            _mrkdwn(f"*{k}*\n{escape(str(v))}", MAX_FIELD_TEXT) for k, v in shown[:MAX_FIELDS]
        ]
    return block


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown time"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "age unknown"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min old"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h old"
    return f"{seconds / 86400:.0f} days old"


def _problem(title: str, result: Any) -> Block:
    word = "unavailable" if result.status == "unavailable" else "not looked up"
    return _section(f"*{title}:* {word} — {escape(result.reason or 'no reason given')}")


def _location(loc: LocationResult) -> Block:
    if loc.status != "ok":
        return _problem("Location", loc)
    if loc.display is None:
        return _section(f"*Location:* not found — {escape(loc.reason or 'no entry')}")
    coords = (
        f"{loc.latitude:.3f}, {loc.longitude:.3f}"
        if loc.latitude is not None and loc.longitude is not None
        else None
    )
    country = " ".join(
        p for p in (loc.country_name, f"({loc.country_code})" if loc.country_code else None) if p
    )
    return _section(
        f"*Location:* {escape(loc.display)}",
        [
            ("City", loc.city),
            ("Region", loc.region),
            ("Country", country),
            ("Network", loc.network),
            ("Coordinates (approx.)", coords),
            ("Time zone", loc.timezone),
        ],
    )


def _asn(asn: AsnResult) -> Block:
    if asn.status != "ok":
        return _problem("ASN", asn)
    if asn.number is None:
        return _section(f"*ASN:* not found — {escape(asn.reason or 'no entry')}")
    org = f" {escape(asn.organisation)}" if asn.organisation else ""
    return _section(
        f"*ASN:* AS{asn.number}{org}", [("Network", asn.network), ("Domain", asn.domain)]
    )


def _tor(tor: TorResult, ip: str) -> Block:
    as_of = (
        f"list as of {_when(tor.list_as_of)} ({_age(tor.age_seconds)})"
        if tor.list_as_of
        else "no list"
    )
    answer = {"yes": "*yes*", "no": "no", "unknown": "unknown"}[tor.answer]
    if tor.status == "skipped":
        return _problem("Tor exit node", tor)
    text = f"*Tor exit node:* {answer} — {as_of}"
    if tor.reason:
        text += f"\n{escape(tor.reason)}"
    if tor.answer == "yes" and tor.list_as_of:
        text += f"\n<{escape(exonerator_link(ip, tor.list_as_of))}|Check the history in ExoneraTor>"
    return _section(
        text,
        [
            ("Relay fingerprint", tor.fingerprint),
            ("Last tested", _when(tor.last_tested) if tor.last_tested else None),
        ],
    )


def _rdap(rdap: RdapResult) -> Block:
    if rdap.status != "ok":
        return _problem("RDAP ownership", rdap)
    return _section(
        "*RDAP ownership*",
        [
            ("Network name", rdap.network_name),
            ("CIDR", rdap.cidr),
            ("Registry", rdap.registry),
            ("Organisation", rdap.org),
            ("Handle", rdap.handle),
            ("Country (registrant)", rdap.country),
            ("Entities", ", ".join(rdap.entities[:20]) or None),
        ],
    )


def _provenance_line(title: str, p: Provenance) -> str:
    parts = [p.database_type or p.source]
    if p.build_date:
        parts.append(f"built {p.build_date.date().isoformat()}")
    if p.fetched_at:
        parts.append(f"fetched {_when(p.fetched_at)}")
    if p.licence:
        parts.append(p.licence)
    return f"{title}: " + ", ".join(parts)


def _context(intel: ThreatIntel) -> Block | None:
    lines: list[str] = []
    attributions: list[str] = []
    for title, result in (
        ("Location", intel.location),
        ("ASN", intel.asn),
        ("Tor", intel.tor),
        ("RDAP", intel.rdap),
    ):
        if result is None or result.provenance is None:
            continue
        lines.append(_provenance_line(title, result.provenance))
        attribution = result.provenance.attribution
        if attribution and attribution not in attributions:
            attributions.append(attribution)
    texts = [escape(t) for t in lines + attributions][:MAX_CONTEXT_ELEMENTS]
    if not texts:
        return None
    return {"type": "context", "elements": [_mrkdwn(t, MAX_FIELD_TEXT) for t in texts]}


def _scope(intel: ThreatIntel) -> Block:
    scope = intel.scope
    where = ", ".join(p for p in (scope.rfc, scope.cidr) if p)
    detail = f"{escape(scope.label)}" + (f" ({escape(where)})" if where else "")
    if not scope.routable:
        return _section(f"*Not publicly routable:* {detail}. No lookup attempted.")
    text = f"*Scope:* {scope.category} — {detail}"
    if scope.embedded_ipv4:
        text += f"\nLooked up as {escape(scope.embedded_ipv4)}."
    return _section(text)


def render_card(intel: ThreatIntel) -> list[Block]:
    """The "See Threat Intel" message blocks."""
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(f"Threat intel: {intel.ip}", MAX_HEADER)},
        },
        _scope(intel),
    ]
    if intel.scope.routable:
        if intel.location is not None:
            blocks.append(_location(intel.location))
        if intel.asn is not None:
            blocks.append(_asn(intel.asn))
        if intel.tor is not None:
            blocks.append(_tor(intel.tor, intel.scope.embedded_ipv4 or intel.ip))
        if intel.rdap is not None:
            blocks.append(_rdap(intel.rdap))
    context = _context(intel)
    if context is not None:
        blocks.append(context)
    return blocks[:MAX_BLOCKS]


def render_fallback_text(intel: ThreatIntel) -> str:
    """The notification / screen-reader text sent alongside the blocks."""
    if not intel.scope.routable:
        text = f"Threat intel for {intel.ip}: not publicly routable ({intel.scope.label})"
        return clip(escape(text), MAX_FALLBACK)
    parts: list[str] = []
    if intel.location is not None:
        parts.append(intel.place or f"location {intel.location.status}")
    if intel.asn is not None:
        asn = intel.asn
        parts.append(
            f"AS{asn.number} {asn.organisation or ''}".strip()
            if asn.status == "ok" and asn.number is not None
            else f"ASN {asn.status}"
        )
    if intel.tor is not None:
        parts.append(f"Tor exit: {intel.tor.answer}")
    if intel.rdap is not None:
        rdap = intel.rdap
        parts.append(
            f"RDAP: {rdap.network_name or '?'} {rdap.cidr or ''}".strip()
            if rdap.status == "ok"
            else f"RDAP {rdap.status}"
        )
    return clip(escape(f"Threat intel for {intel.ip}: " + " · ".join(parts)), MAX_FALLBACK)
