"""Enrichment test fixtures: a loopback-only network guard and MMDB files made at test time.

The guard records every attempt to resolve or connect to anything but 127.0.0.0/8 or ::1 and
fails the test afterwards, even when the code under test swallowed the error (ipwhois turns
any exception into HTTPLookupError, which would otherwise look like a proper "unavailable").
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mmdb_writer
import netaddr
import pytest

# ipwhois and urllib honour proxy variables: loopback must never go through a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    def __init__(self) -> None:
        self.violations: list[str] = []

    def check(self, what: str, host: Any) -> None:
        if not _is_loopback(host):
            self.violations.append(f"{what} {host!r}")
            raise ConnectionRefusedError(f"test network guard: {what} {host!r} is not loopback")


_GUARD = NetworkGuard()


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection

    def _inet(sock: socket.socket) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6)

    def connect(self: socket.socket, address: Any) -> Any:
        if _inet(self):
            _GUARD.check("connect to", address[0])
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if _inet(self):
            _GUARD.check("connect to", address[0])
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            _GUARD.check("resolve", host)
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        _GUARD.check("connect to", address[0])
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    _GUARD.violations.clear()
    yield _GUARD
    violations = list(_GUARD.violations)
    _GUARD.violations.clear()
    if violations:
        pytest.fail(f"test tried to reach a non-loopback host: {violations}")


# -- MMDB files made at test time (documentation ranges only) ----------------------------------

BUILD_EPOCH = 1_780_000_000  # 2026-05-28T20:26:40Z: a fixed, recognisable build date

MakeMmdb = Callable[..., Path]


@pytest.fixture
def make_mmdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeMmdb:
    """Write an MMDB with mmdb-writer and return its path; read back by the real reader."""

    def make(
        name: str,
        records: Mapping[str, dict[str, Any]],
        *,
        database_type: str,
        ip_version: int = 6,
        description: str = "test data",
        build_epoch: int = BUILD_EPOCH,
        languages: list[str] | None = None,
    ) -> Path:
        # mmdb-writer stamps build_epoch with time.time(); pin it so tests can assert it.
        monkeypatch.setattr(mmdb_writer, "time", SimpleNamespace(time=lambda: build_epoch))
        writer = mmdb_writer.MMDBWriter(
            ip_version=ip_version,
            database_type=database_type,
            languages=languages or ["en"],
            description={"en": description},
            ipv4_compatible=ip_version == 6,
        )
        for cidr, record in records.items():
            writer.insert_network(netaddr.IPSet([cidr]), record)
        path = tmp_path / name
        writer.to_db_file(str(path))
        return path

    return make
