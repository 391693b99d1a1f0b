"""Classify an IP address against the IANA special-purpose registries.

We keep our own table instead of `ipwhois.utils.ipv4_is_defined` (which calls 240/4 "RFC 1918",
2001:db8::/32 "Unique Local" and misses 100.64/10) or bare `ipaddress.is_global`, whose
tables change between Python releases. The most specific matching prefix wins.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RangeInfo(BaseModel):
    """Where an address sits in the address space, and whether lookups make sense for it."""

    model_config = ConfigDict(frozen=True)

    ip: str
    version: int
    routable: bool
    category: str
    label: str
    rfc: str | None = None
    cidr: str | None = None
    # Set for ::ffff:a.b.c.d, NAT64, 6to4 and Teredo: the IPv4 address the lookups should use.
    embedded_ipv4: str | None = None
    mapping: str | None = None


@dataclass(frozen=True, slots=True)
class _Range:
    network: Network
    category: str
    label: str
    rfc: str | None
    routable: bool


def _r(cidr: str, category: str, label: str, rfc: str | None, routable: bool = False) -> _Range:
    return _Range(ipaddress.ip_network(cidr), category, label, rfc, routable)


# IANA IPv4 Special-Purpose Address Registry, plus multicast and the old class E.
_V4_TABLE: tuple[_Range, ...] = (
    _r("0.0.0.0/8", "reserved", '"This network"', "RFC 791"),
    _r("0.0.0.0/32", "unspecified", '"This host on this network"', "RFC 1122"),
    _r("10.0.0.0/8", "private", "Private-Use", "RFC 1918"),
    _r("100.64.0.0/10", "shared address space (CGNAT)", "Shared Address Space", "RFC 6598"),
    _r("127.0.0.0/8", "loopback", "Loopback", "RFC 1122"),
    _r("169.254.0.0/16", "link-local", "Link Local", "RFC 3927"),
    _r("172.16.0.0/12", "private", "Private-Use", "RFC 1918"),
    _r("192.0.0.0/24", "protocol assignments", "IETF Protocol Assignments", "RFC 6890"),
    _r("192.0.0.0/29", "protocol assignments", "IPv4 Service Continuity Prefix", "RFC 7335"),
    _r("192.0.0.8/32", "protocol assignments", "IPv4 dummy address", "RFC 7600"),
    _r("192.0.0.9/32", "anycast", "Port Control Protocol Anycast", "RFC 7723", True),
    _r("192.0.0.10/32", "anycast", "Traversal Using Relays around NAT Anycast", "RFC 8155", True),
    _r("192.0.0.170/31", "protocol assignments", "NAT64/DNS64 Discovery", "RFC 8880"),
    _r("192.0.2.0/24", "documentation", "Documentation (TEST-NET-1)", "RFC 5737"),
    _r("192.31.196.0/24", "anycast", "AS112-v4", "RFC 7535", True),
    _r("192.52.193.0/24", "anycast", "Automatic Multicast Tunneling", "RFC 7450", True),
    _r("192.88.99.0/24", "reserved", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    _r("192.168.0.0/16", "private", "Private-Use", "RFC 1918"),
    _r("192.175.48.0/24", "anycast", "Direct Delegation AS112 Service", "RFC 7534", True),
    _r("198.18.0.0/15", "benchmarking", "Benchmarking", "RFC 2544"),
    _r("198.51.100.0/24", "documentation", "Documentation (TEST-NET-2)", "RFC 5737"),
    _r("203.0.113.0/24", "documentation", "Documentation (TEST-NET-3)", "RFC 5737"),
    _r("224.0.0.0/4", "multicast", "Multicast", "RFC 5771"),
    _r("240.0.0.0/4", "reserved", "Reserved (former Class E)", "RFC 1112"),
    _r("255.255.255.255/32", "broadcast", "Limited Broadcast", "RFC 919"),
)

# IANA IPv6 Special-Purpose Address Registry. Space outside 2000::/3 that no row names is
# "Reserved by IETF" (RFC 4291) and handled in code below.
_V6_TABLE: tuple[_Range, ...] = (
    _r("::/128", "unspecified", "Unspecified Address", "RFC 4291"),
    _r("::1/128", "loopback", "Loopback Address", "RFC 4291"),
    _r("::ffff:0:0/96", "ipv4-mapped", "IPv4-mapped Address", "RFC 4291"),
    _r("64:ff9b::/96", "translation", "IPv4-IPv6 Translation (NAT64)", "RFC 6052", True),
    _r("64:ff9b:1::/48", "translation", "Local-Use IPv4/IPv6 Translation", "RFC 8215"),
    _r("100::/64", "discard", "Discard-Only Address Block", "RFC 6666"),
    _r("100:0:0:1::/64", "documentation", "Dummy IPv6 Prefix", "RFC 9780"),
    _r("2001::/23", "protocol assignments", "IETF Protocol Assignments", "RFC 2928"),
    _r("2001::/32", "tunnel", "Teredo", "RFC 4380"),
    _r("2001:1::1/128", "anycast", "Port Control Protocol Anycast", "RFC 7723", True),
    _r("2001:1::2/128", "anycast", "TURN Anycast", "RFC 8155", True),
    _r(
        "2001:1::3/128", "anycast", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True
    ),
    _r("2001:2::/48", "benchmarking", "Benchmarking", "RFC 5180"),
    _r("2001:3::/32", "anycast", "Automatic Multicast Tunneling", "RFC 7450", True),
    _r("2001:4:112::/48", "anycast", "AS112-v6", "RFC 7535", True),
    _r("2001:10::/28", "reserved", "Deprecated (previously ORCHID)", "RFC 4843"),
    _r("2001:20::/28", "protocol assignments", "ORCHIDv2", "RFC 7343", True),
    _r(
        "2001:30::/28",
        "protocol assignments",
        "Drone Remote ID Protocol Entity Tags",
        "RFC 9374",
        True,
    ),
    _r("2001:db8::/32", "documentation", "Documentation", "RFC 3849"),
    _r("2002::/16", "tunnel", "6to4", "RFC 3056"),
    _r("2620:4f:8000::/48", "anycast", "Direct Delegation AS112 Service", "RFC 7534", True),
    _r("3fff::/20", "documentation", "Documentation", "RFC 9637"),
    _r("5f00::/16", "reserved", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    _r("fc00::/7", "private", "Unique-Local", "RFC 4193"),
    _r("fe80::/10", "link-local", "Link-Local Unicast", "RFC 4291"),
    _r("fec0::/10", "reserved", "Deprecated site-local", "RFC 3879"),
    _r("ff00::/8", "multicast", "Multicast", "RFC 4291"),
)

_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")


def parse_ip(value: str) -> IPAddress | None:
    """Parse an IP address as it might appear in an alert; None when it is not one."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        # A zone index ("%eth0") only means something on the host that logged it.
        address = ipaddress.IPv6Address(text.split("%", 1)[0])
    return address


def is_analysable(value: str) -> bool:
    """True when "See Threat Intel" can do something with this attribute value."""
    return parse_ip(value) is not None


def _best_match(address: IPAddress) -> _Range | None:
    table = _V4_TABLE if address.version == 4 else _V6_TABLE
    best: _Range | None = None
    for entry in table:
        if address in entry.network and (
            best is None or entry.network.prefixlen > best.network.prefixlen
        ):
            best = entry
    return best


def _embedded_ipv4(address: ipaddress.IPv6Address, entry: _Range) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if entry.label.startswith("IPv4-IPv6 Translation"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's public address, de-obfuscated
    return None


@lru_cache(maxsize=4096)
def classify(ip: str) -> RangeInfo:
    """Classify `ip`; raises ValueError when it is not an IP address."""
    address = parse_ip(ip)
    if address is None:
        raise ValueError(f"not an IP address: {ip!r}")
    text = str(address)
    entry = _best_match(address)
    if entry is None:
        if address.version == 6 and address not in _GLOBAL_UNICAST_V6:
            return RangeInfo(
                ip=text,
                version=6,
                routable=False,
                category="reserved",
                label="Reserved by IETF",
                rfc="RFC 4291",
            )
        return RangeInfo(
            ip=text,
            version=address.version,
            routable=True,
            category="public",
            label="Global unicast",
        )
    base = RangeInfo(
        ip=text,
        version=address.version,
        routable=entry.routable,
        category=entry.category,
        label=entry.label,
        rfc=entry.rfc,
        cidr=str(entry.network),
    )
    if not isinstance(address, ipaddress.IPv6Address):
        return base
    inner = _embedded_ipv4(address, entry)
    if inner is None:
        return base
    # The embedded IPv4 decides: ::ffff:10.0.0.1 is as private as 10.0.0.1.
    embedded = classify(str(inner))
    mapping = "ipv4-mapped" if entry.category == "ipv4-mapped" else entry.label
    return RangeInfo(
        ip=text,
        version=6,
        routable=embedded.routable,
        category=embedded.category,
        label=f"{mapping} form of {inner}: {embedded.label}",
        rfc=embedded.rfc if not embedded.routable else entry.rfc,
        cidr=embedded.cidr if not embedded.routable else str(entry.network),
        embedded_ipv4=str(inner),
        mapping=mapping,
    )
