"""The special-purpose range table: categories, RFC labels, embedded IPv4."""

from __future__ import annotations

import pytest

from parley.domain import ip_values
from parley.enrichment.ranges import classify, is_analysable, parse_ip

# (address, routable, category, rfc, cidr)
CASES = [
    ("10.1.2.3", False, "private", "RFC 1918", "10.0.0.0/8"),
    ("172.16.5.4", False, "private", "RFC 1918", "172.16.0.0/12"),
    ("192.168.1.1", False, "private", "RFC 1918", "192.168.0.0/16"),
    ("100.64.1.1", False, "shared address space (CGNAT)", "RFC 6598", "100.64.0.0/10"),
    ("100.127.255.254", False, "shared address space (CGNAT)", "RFC 6598", "100.64.0.0/10"),
    ("240.0.0.1", False, "reserved", "RFC 1112", "240.0.0.0/4"),
    ("255.255.255.255", False, "broadcast", "RFC 919", "255.255.255.255/32"),
    ("127.0.0.1", False, "loopback", "RFC 1122", "127.0.0.0/8"),
    ("127.255.0.9", False, "loopback", "RFC 1122", "127.0.0.0/8"),
    ("169.254.1.1", False, "link-local", "RFC 3927", "169.254.0.0/16"),
    ("224.0.0.1", False, "multicast", "RFC 5771", "224.0.0.0/4"),
    ("239.255.255.250", False, "multicast", "RFC 5771", "224.0.0.0/4"),
    ("192.0.2.5", False, "documentation", "RFC 5737", "192.0.2.0/24"),
    ("198.51.100.7", False, "documentation", "RFC 5737", "198.51.100.0/24"),
    ("203.0.113.200", False, "documentation", "RFC 5737", "203.0.113.0/24"),
    ("198.18.0.1", False, "benchmarking", "RFC 2544", "198.18.0.0/15"),
    ("192.0.0.9", True, "anycast", "RFC 7723", "192.0.0.9/32"),
    ("192.0.0.100", False, "protocol assignments", "RFC 6890", "192.0.0.0/24"),
    ("0.0.0.0", False, "unspecified", "RFC 1122", "0.0.0.0/32"),
    ("0.1.2.3", False, "reserved", "RFC 791", "0.0.0.0/8"),
    ("2001:db8::1", False, "documentation", "RFC 3849", "2001:db8::/32"),
    ("3fff::1", False, "documentation", "RFC 9637", "3fff::/20"),
    ("::1", False, "loopback", "RFC 4291", "::1/128"),
    ("::", False, "unspecified", "RFC 4291", "::/128"),
    ("fc00::1", False, "private", "RFC 4193", "fc00::/7"),
    ("fd12:3456::1", False, "private", "RFC 4193", "fc00::/7"),
    ("fe80::1", False, "link-local", "RFC 4291", "fe80::/10"),
    ("ff02::1", False, "multicast", "RFC 4291", "ff00::/8"),
    ("100::1", False, "discard", "RFC 6666", "100::/64"),
    ("2001:2::1", False, "benchmarking", "RFC 5180", "2001:2::/48"),
    ("8.8.8.8", True, "public", None, None),
    ("2a00:1450:4001::1", True, "public", None, None),
]


@pytest.mark.parametrize(("ip", "routable", "category", "rfc", "cidr"), CASES)
def test_table(ip: str, routable: bool, category: str, rfc: str | None, cidr: str | None) -> None:
    info = classify(ip)
    assert (info.routable, info.category, info.rfc, info.cidr) == (routable, category, rfc, cidr)


def test_labels_fix_ipwhois_mislabels() -> None:
    # ipwhois: 240/4 "Private-Use Networks, RFC 1918"; 2001:db8::/32 "Unique Local Unicast".
    assert classify("240.0.0.1").label.startswith("Reserved")
    assert classify("2001:db8::1").label == "Documentation"
    assert classify("100.64.1.1").label == "Shared Address Space"


def test_ipv4_mapped_private_classifies_embedded_address() -> None:
    info = classify("::ffff:10.0.0.1")
    assert info.routable is False
    assert info.category == "private"
    assert info.rfc == "RFC 1918"
    assert info.cidr == "10.0.0.0/8"
    assert info.embedded_ipv4 == "10.0.0.1"
    assert info.mapping == "ipv4-mapped"


def test_ipv4_mapped_public_is_looked_up_as_ipv4() -> None:
    info = classify("::ffff:8.8.4.4")
    assert (info.routable, info.category, info.embedded_ipv4) == (True, "public", "8.8.4.4")


@pytest.mark.parametrize(
    ("ip", "embedded", "routable"),
    [
        ("64:ff9b::a00:1", "10.0.0.1", False),  # NAT64 of private space
        ("64:ff9b::808:808", "8.8.8.8", True),
        ("2002:c0a8:101::1", "192.168.1.1", False),  # 6to4 of private space
        ("2002:808:808::1", "8.8.8.8", True),
    ],
)
def test_translation_prefixes_use_embedded_ipv4(ip: str, embedded: str, routable: bool) -> None:
    info = classify(ip)
    assert info.embedded_ipv4 == embedded
    assert info.routable is routable


def test_unallocated_ipv6_is_reserved() -> None:
    info = classify("4000::1")
    assert (info.routable, info.category, info.rfc) == (False, "reserved", "RFC 4291")


def test_most_specific_prefix_wins() -> None:
    assert classify("192.0.0.8").label == "IPv4 dummy address"
    assert classify("2001:1::1").routable is True  # inside the non-global 2001::/23


@pytest.mark.parametrize(
    "value", ["1.2.3.4", " 8.8.8.8 ", "[2001:db8::1]", "fe80::1%eth0", "::ffff:10.0.0.1"]
)
def test_analysable(value: str) -> None:
    assert is_analysable(value)


@pytest.mark.parametrize(
    "value", ["", "example.com", "1.2.3", "1.2.3.4:443", "300.1.1.1", "alice@example.com"]
)
def test_not_analysable(value: str) -> None:
    assert not is_analysable(value)
    with pytest.raises(ValueError):
        classify(value)


def test_zone_index_is_dropped() -> None:
    assert str(parse_ip("fe80::1%eth0")) == "fe80::1"
    assert classify("FE80::1%eth0").ip == "fe80::1"


def test_ip_values_of_alert_attributes() -> None:
    attrs = {"user": ["alice"], "src": ["198.51.100.7", " 198.51.100.7 "], "v6": ["[2001:DB8::1]"]}
    assert ip_values(attrs) == [("src", "198.51.100.7"), ("v6", "[2001:DB8::1]")]
    assert ip_values({"x": ["no ip here", "user@example.com"]}) == []
