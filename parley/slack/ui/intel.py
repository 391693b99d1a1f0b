"""Render a ThreatIntel as Slack Block Kit blocks plus a plain-text fallback (pure functions),
and an alert's IPs analysed on arrival as compact lines for the alert message.

Every string that comes from data is escaped (&, <, >) so an RDAP org name cannot inject a
mention or a link, and clipped to Block Kit's limits: section text 3000, each of at most ten
fields 2000, header 150, context at most ten elements. Turned-off datasets (None) are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.enrichment.models import (
    AsnResult,
    IpBrief,
    IpIntel,
    LocationResult,
    Mark,
    OriginKind,
    OriginResult,
    Provenance,
    RdapResult,
    ThreatIntel,
    TorAnswer,
    TorResult,
)
from parley.enrichment.tor import age_text, exonerator_link
from parley.slack.ui.text import clip, escape

MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCKS = 50
MAX_FALLBACK = 3000

Block = dict[str, Any]
__all__ = [
    "clip",
    "escape",
    "ip_marks",
    "render_card",
    "render_fallback_text",
    "render_ip_section",
]

ORIGIN_WORDS: dict[OriginKind, str] = {
    "hosting": "hosting provider",
    "cdn": "CDN",
    "vpn": "VPN",
    "tor": "Tor exit",
    "bot": "declared crawler",
    "reserved": "private or reserved address",
    "none": "no match (often a residential ISP)",
}
EMOJI: dict[Mark, str] = {"tor": "🧅", "vpn": "🕶️"}
MARKS: dict[Mark, str] = {"tor": "🧅 Tor", "vpn": "🕶️ VPN"}  # in the message's summary


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


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def origin_phrase(kind: OriginKind, provider: str | None) -> str:
    """ "hosting provider: Hetzner", "VPN: Mullvad", "no match (often a residential ISP)"."""
    word = ORIGIN_WORDS[kind]
    return f"{word}: {provider}" if provider and kind not in ("tor", "reserved", "none") else word


def tor_phrase(answer: TorAnswer, as_of: datetime | None, snapshot: bool) -> str:
    """The short Tor answer: "Tor exit (snapshot of 2026-09-29)", "not a Tor exit", …"""
    if answer == "listed":
        kind = "snapshot" if snapshot else "list"
        return f"Tor exit ({kind} of {_day(as_of)})" if as_of else "Tor exit (old list)"
    return f"Tor exit: {answer}"


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
    if tor.status == "skipped":
        return _problem("Tor exit node", tor)
    if tor.list_as_of is None:
        source = "no list"
    elif tor.snapshot:
        source = f"snapshot of {_day(tor.list_as_of)} ({age_text(tor.age_seconds)})"
    else:
        source = f"list as of {_when(tor.list_as_of)} ({age_text(tor.age_seconds)})"
    if tor.answer == "listed":
        # Named by a list too old to say "yes" today: say which list, and how old it is.
        text = f"*Tor exit node:* *listed* as a Tor exit in the {source}"
    else:
        answer = {"yes": "*yes*", "no": "no", "unknown": "unknown"}[tor.answer]
        text = f"*Tor exit node:* {answer} — {source}"
    if tor.reason:
        text += f"\n{escape(tor.reason)}"
    if tor.answer in ("yes", "listed") and tor.list_as_of:
        text += f"\n<{escape(exonerator_link(ip, tor.list_as_of))}|Check the history in ExoneraTor>"
    return _section(
        text,
        [
            ("Relay fingerprint", tor.fingerprint),
            ("Last tested", _when(tor.last_tested) if tor.last_tested else None),
        ],
    )


def _origin(origin: OriginResult, analysed_at: datetime) -> Block:
    if origin.status != "ok":
        return _problem("Origin", origin)
    text = f"*Origin:* {escape(origin_phrase(origin.kind, origin.provider))}"
    p = origin.provenance
    if p is not None:
        dated = ""
        if p.build_date:
            age = age_text((analysed_at - p.build_date).total_seconds())
            dated = f", ranges of {_day(p.build_date)} ({age})"
        text += f"\n_{escape(p.source)}{dated}_"
    return _section(text)


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
        ("Origin", intel.origin),
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
        if intel.origin is not None:
            blocks.append(_origin(intel.origin, intel.analysed_at))
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
    if intel.origin is not None:
        origin = intel.origin
        parts.append(
            origin_phrase(origin.kind, origin.provider)
            if origin.status == "ok"
            else f"origin {origin.status}"
        )
    if intel.tor is not None:
        tor = intel.tor
        parts.append(tor_phrase(tor.answer, tor.list_as_of, tor.snapshot))
    if intel.rdap is not None:
        rdap = intel.rdap
        parts.append(
            f"RDAP: {rdap.network_name or '?'} {rdap.cidr or ''}".strip()
            if rdap.status == "ok"
            else f"RDAP {rdap.status}"
        )
    return clip(escape(f"Threat intel for {intel.ip}: " + " · ".join(parts)), MAX_FALLBACK)


# ---- the alert message: one line per IP analysed on arrival ----------------------------------

IP_SECTION_MAX = 2500  # of a section's 3000, leaving the rest of the message room
_MIN_USEFUL_BUDGET = 200


def ip_marks(intel: IpIntel) -> dict[str, str]:
    """IP → what its value gets in the message's summary: flag, and 🧅 Tor / 🕶️ VPN."""
    marks: dict[str, str] = {}
    for brief in intel.briefs:
        parts = [brief.flag or ""]
        if brief.mark:
            parts.append(MARKS[brief.mark])
        text = " ".join(p for p in parts if p)
        if text:
            marks[brief.ip] = text
    return marks


def _tor_part(brief: IpBrief) -> str | None:
    if brief.tor in ("yes", "listed"):
        return f"{EMOJI['tor']} {tor_phrase(brief.tor, brief.tor_as_of, brief.tor_snapshot)}"
    if brief.origin != "tor":
        return None
    ranges = f"ranges of {_day(brief.origin_as_of)}" if brief.origin_as_of else "origin ranges"
    if brief.tor is None:  # Tor turned off: the origin table's word, with its date
        return f"{EMOJI['tor']} Tor exit ({ranges})"
    # A fresher list did not name it: both facts, with their dates.
    later = f"the list of {_day(brief.tor_as_of)}" if brief.tor_as_of else "the current list"
    return f"Tor exit in the {ranges}, not named by {later}"


def brief_line(brief: IpBrief) -> str:
    """ "`185.220.101.1` 🇩🇪 DE · AS60729 Stiftung Erneuerbare Freiheit · 🧅 Tor exit (…)"."""
    ip = f"`{escape(brief.ip)}`"
    if not brief.routable:
        return f"{ip} not publicly routable: {escape(brief.scope or 'reserved')}"
    parts = [" ".join(p for p in (brief.flag, brief.country_code) if p) or "location unknown"]
    if brief.asn is not None:
        org = f" {escape(clip(brief.as_org, 60))}" if brief.as_org else ""
        parts.append(f"AS{brief.asn}{org}")
    if brief.origin is not None and brief.origin != "tor":
        phrase = escape(origin_phrase(brief.origin, brief.provider))
        parts.append(f"{EMOJI['vpn']} {phrase}" if brief.mark == "vpn" else phrase)
    tor = _tor_part(brief)
    if tor:
        parts.append(tor)
    return f"{ip} " + " · ".join(parts)


def text_length(blocks: list[Block]) -> int:
    """Characters of text in blocks, as Slack counts them against a message's total."""
    total = 0

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                total += len(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return total


def render_ip_section(intel: IpIntel, budget: int = IP_SECTION_MAX) -> list[Block]:
    """The alert message's per-IP lines and the attribution they owe, in at most `budget`
    characters of text; the lines that do not fit are counted, never cut in half."""
    budget = min(budget, IP_SECTION_MAX)
    if budget < _MIN_USEFUL_BUDGET or not (intel.briefs or intel.omitted):
        return []
    context = [escape(a) for a in intel.attributions]
    dates = sorted({_day(b.origin_as_of) for b in intel.briefs if b.origin_as_of})
    if dates:
        context.append("Origin: iporigin ranges of " + ", ".join(dates))
    context = context[:MAX_CONTEXT_ELEMENTS]
    room = budget - sum(len(c) for c in context) - 80  # 80: the "…more" line
    head = "*IP addresses*"
    lines: list[str] = []
    used = len(head)
    for brief in intel.briefs:
        line = brief_line(brief)
        if used + 1 + len(line) > room:
            break
        lines.append(line)
        used += 1 + len(line)
    left_out = len(intel.briefs) - len(lines) + intel.omitted
    if left_out:
        lines.append(
            f"_…and {left_out} more IP address{'es' if left_out > 1 else ''} not shown here: "
            "See Threat Intel looks up each one_"
        )
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": "ip_intel",
            "text": _mrkdwn("\n".join([head, *lines]), MAX_SECTION_TEXT),
        }
    ]
    if context:
        blocks.append(
            {
                "type": "context",
                "block_id": "ip_intel_sources",
                "elements": [_mrkdwn(c, MAX_FIELD_TEXT) for c in context],
            }
        )
    return blocks
