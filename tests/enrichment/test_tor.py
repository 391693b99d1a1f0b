"""Tor exit lists of both formats, with a controlled clock: fresh, stale, absent."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.enrichment.tor import TorExitList, TorListError, detect_format, parse_exit_addresses
from parley.enrichment.tor_source import (
    TorListStore,
    load_tor_list,
    refresh_tor_list,
    write_tor_cache,
)
from tests.enrichment.loopback import loopback_server

DATA = Path(__file__).parent / "data"
EXIT_ADDRESSES = (DATA / "exit-addresses.txt").read_text()
BULK = (DATA / "torbulkexitlist.txt").read_text()
NEWEST_TEST = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)  # newest ExitAddress in the fixture
THREE_HOURS = timedelta(hours=3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _set_mtime(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_parse_exit_addresses_keeps_fingerprint_per_address() -> None:
    exits = parse_exit_addresses(EXIT_ADDRESSES)
    assert set(exits) == {
        "198.51.100.23",
        "203.0.113.45",
        "203.0.113.46",
        "2001:db8:7::1",
        "192.0.2.77",
    }
    # A relay with two exit addresses: both keep its fingerprint.
    assert (
        exits["203.0.113.45"].fingerprint
        == exits["203.0.113.46"].fingerprint
        == ("00A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3")
    )
    assert exits["203.0.113.46"].last_tested == datetime(2026, 11, 30, 3, 21, 55, tzinfo=UTC)


def test_formats_are_detected() -> None:
    assert detect_format(EXIT_ADDRESSES) == "exit-addresses"
    assert detect_format(BULK) == "bulk"
    bulk = TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="bulk")
    assert bulk.format == "bulk"
    assert set(bulk.exits) == {
        "192.0.2.77",
        "198.51.100.23",
        "203.0.113.45",
        "203.0.113.46",
        "203.0.113.99",
    }
    assert bulk.as_of == NEWEST_TEST


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n# nothing here\n",
        "<html><body>502 Bad Gateway</body></html>\n",
        EXIT_ADDRESSES
        + "ExitNode 1111111111111111111111111111111111111111\nPublished 2026-11-30 0",
        EXIT_ADDRESSES + "ExitNode 2222222222222222222222222222222222222222\n",
        "ExitAddress 198.51.100.1 2026-11-30 04:00:00\n",
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nExitAddress 198.51.100.1 yesterday\n",
        "ExitNode not-a-fingerprint\nExitAddress 198.51.100.1 2026-11-30 04:00:00\n",
        "198.51.100.1\n198.51.100.\n",
    ],
)
def test_bad_lists_are_rejected(text: str) -> None:
    with pytest.raises(TorListError):
        TorExitList.parse(text, fetched_at=NEWEST_TEST, source="test")


@pytest.mark.parametrize("text", [EXIT_ADDRESSES, BULK], ids=["exit-addresses", "bulk"])
def test_fresh_list_answers_yes_and_no(text: str) -> None:
    now = NEWEST_TEST + timedelta(minutes=30)
    tor_list = TorExitList.parse(text, fetched_at=NEWEST_TEST, source="test")
    hit = tor_list.status("203.0.113.45", now=now, max_age=THREE_HOURS)
    assert (hit.status, hit.answer, hit.stale) == ("ok", "yes", False)
    assert hit.age_seconds == 30 * 60
    assert hit.list_as_of == NEWEST_TEST
    miss = tor_list.status("198.51.100.200", now=now, max_age=THREE_HOURS)
    assert (miss.status, miss.answer) == ("ok", "no")
    assert miss.provenance is not None and miss.provenance.fetched_at == NEWEST_TEST


def test_fingerprint_and_test_time_reported() -> None:
    tor_list = TorExitList.parse(EXIT_ADDRESSES, fetched_at=NEWEST_TEST, source="test")
    hit = tor_list.status("198.51.100.23", now=NEWEST_TEST, max_age=THREE_HOURS)
    assert hit.fingerprint == "0011BD2485AD45D984EC4159C88FC066E5E3300E"
    assert hit.last_tested == datetime(2026, 11, 30, 4, 12, 45, tzinfo=UTC)


def test_stale_list_never_says_no() -> None:
    tor_list = TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="test")
    result = tor_list.status(
        "198.51.100.200", now=NEWEST_TEST + timedelta(hours=3, seconds=1), max_age=THREE_HOURS
    )
    assert (result.status, result.answer, result.stale) == ("unavailable", "unknown", True)
    assert "3.0 h old" in (result.reason or "")
    assert result.list_as_of == NEWEST_TEST


def test_stale_list_says_listed_never_yes() -> None:
    """An address the old list names is "listed" with that list's date: not "yes" today."""
    tor_list = TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="test")
    result = tor_list.status(
        "203.0.113.45", now=NEWEST_TEST + timedelta(hours=3, seconds=1), max_age=THREE_HOURS
    )
    assert (result.status, result.answer, result.stale) == ("ok", "listed", True)
    assert (result.list_as_of, result.snapshot) == (NEWEST_TEST, False)


def test_ipv6_no_carries_the_prefix_caveat() -> None:
    tor_list = TorExitList.parse(EXIT_ADDRESSES, fetched_at=NEWEST_TEST, source="test")
    assert tor_list.status("2001:db8:7::1", now=NEWEST_TEST, max_age=THREE_HOURS).answer == "yes"
    miss = tor_list.status("2001:db8:7::2", now=NEWEST_TEST, max_age=THREE_HOURS)
    assert miss.answer == "no" and "IPv6" in (miss.reason or "")


def test_absent_list_is_unknown(tmp_path: Path) -> None:
    for source in (None, str(tmp_path / "missing.txt")):
        result = TorListStore(source, max_age=THREE_HOURS, clock=Clock(NEWEST_TEST)).status(
            "198.51.100.23"
        )
        assert (result.status, result.answer) == ("unavailable", "unknown")
        assert result.reason


def test_copied_old_file_is_as_old_as_its_newest_test(tmp_path: Path) -> None:
    path = tmp_path / "exit-addresses"
    path.write_text(EXIT_ADDRESSES)  # mtime: now, but the data is from NEWEST_TEST
    clock = Clock(NEWEST_TEST + timedelta(days=2))
    _set_mtime(path, clock.now)
    store = TorListStore(str(path), max_age=THREE_HOURS, clock=clock)
    listed = store.status("198.51.100.23")
    assert listed.answer == "listed" and listed.stale and listed.list_as_of == NEWEST_TEST
    absent = store.status("198.51.100.200")
    assert absent.answer == "unknown" and absent.stale


def test_store_uses_sidecar_time_and_reloads_on_change(tmp_path: Path) -> None:
    path = tmp_path / "tor" / "exits.txt"
    fetched = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    write_tor_cache(path, BULK, TorExitList.parse(BULK, fetched_at=fetched, source="x"))
    clock = Clock(fetched + timedelta(hours=1))
    store = TorListStore(str(path), max_age=THREE_HOURS, clock=clock)
    first = store.status("203.0.113.99")
    assert (first.answer, first.list_as_of) == ("yes", fetched)
    # The refresh swaps in a newer list without 203.0.113.99.
    newer = fetched + timedelta(hours=1)
    text = "198.51.100.23\n"
    write_tor_cache(path, text, TorExitList.parse(text, fetched_at=newer, source="x"))
    second = store.status("203.0.113.99")
    assert (second.answer, second.list_as_of) == ("no", newer)


def test_sidecar_ignored_when_it_does_not_match(tmp_path: Path) -> None:
    path = tmp_path / "exits.txt"
    write_tor_cache(path, BULK, TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="x"))
    path.write_text(BULK + "192.0.2.200\n")  # edited by hand: the sidecar no longer applies
    mtime = NEWEST_TEST + timedelta(days=1)
    _set_mtime(path, mtime)
    tor_list, _ = load_tor_list(str(path))
    assert tor_list.fetched_at == mtime


def _serve(text: str) -> Callable[[str], tuple[int, dict[str, str], bytes]]:
    return lambda _path: (200, {"Content-Type": "text/plain"}, text.encode())


def test_load_from_url_and_refresh_writes_cache(tmp_path: Path) -> None:
    cache = tmp_path / "exit-addresses"
    fetched = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    with loopback_server() as server:
        server.route("/exit-addresses", _serve(EXIT_ADDRESSES))
        result = refresh_tor_list(
            f"{server.base_url}/exit-addresses",
            cache,
            timeout=2,
            min_entries=3,
            now=lambda: fetched,
        )
    assert (result.count, result.previous_count, result.format) == (5, None, "exit-addresses")
    assert cache.read_text() == EXIT_ADDRESSES
    meta = json.loads((tmp_path / "exit-addresses.meta.json").read_text())
    assert meta["count"] == 5 and meta["fetched_at"] == fetched.isoformat()
    reloaded, _ = load_tor_list(str(cache))
    assert reloaded.fetched_at == fetched and len(reloaded.exits) == 5


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("198.51.100.1\n", "minimum"),  # far too few exits
        ("<html>maintenance</html>\n", "not an IP"),  # an error page
    ],
)
def test_refresh_rejects_bad_download_and_keeps_last_good(
    tmp_path: Path, body: str, match: str
) -> None:
    cache = tmp_path / "bulk"
    write_tor_cache(cache, BULK, TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="x"))
    with loopback_server() as server:
        server.route("/bulk", _serve(body))
        with pytest.raises(TorListError, match=match):
            refresh_tor_list(f"{server.base_url}/bulk", cache, timeout=2, min_entries=2)
    assert cache.read_text() == BULK


def test_refresh_rejects_a_list_that_shrank_too_much(tmp_path: Path) -> None:
    cache = tmp_path / "bulk"
    write_tor_cache(cache, BULK, TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="x"))
    with loopback_server() as server:
        server.route("/bulk", _serve("198.51.100.23\n203.0.113.45\n"))
        with pytest.raises(TorListError, match="truncated"):
            refresh_tor_list(
                f"{server.base_url}/bulk", cache, timeout=2, min_entries=1, max_shrink=0.5
            )
    assert cache.read_text() == BULK


def test_refresh_http_error_raises_and_keeps_last_good(tmp_path: Path) -> None:
    cache = tmp_path / "bulk"
    write_tor_cache(cache, BULK, TorExitList.parse(BULK, fetched_at=NEWEST_TEST, source="x"))
    with loopback_server() as server:
        server.route("/bulk", (503, {}, b"busy"))
        with pytest.raises(OSError):
            refresh_tor_list(f"{server.base_url}/bulk", cache, timeout=2, min_entries=1)
    assert cache.read_text() == BULK


def test_url_source_failure_is_not_retried_on_every_lookup() -> None:
    clock = Clock(NEWEST_TEST)
    with loopback_server() as server:
        server.route("/bulk", (500, {}, b"oops"))
        store = TorListStore(f"{server.base_url}/bulk", max_age=THREE_HOURS, timeout=2, clock=clock)
        for _ in range(3):
            assert store.status("198.51.100.23").status == "unavailable"
        assert len(server.hits) == 1
        server.route("/bulk", _serve(BULK))
        clock.now += timedelta(minutes=2)
        assert store.status("198.51.100.23").answer == "yes"
        assert len(server.hits) == 2
