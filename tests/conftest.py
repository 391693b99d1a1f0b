"""Fixtures shared by every test package: a loopback-only network, and the real Temporal dev
server once per session."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tools.devstack import dev_server_options

_violations: list[str] = []

pytest_plugins = ["tests.databases"]


def _loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return host is None
    if host.lower() in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _guarded(name: str, real: Any, host_of: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        host = host_of(*args)
        if not _loopback(host):
            _violations.append(f"{name} {host!r}")
            raise ConnectionRefusedError(f"tests may only reach loopback, not {host!r}")
        return real(*args, **kwargs)

    return wrapper


@pytest.fixture(scope="session", autouse=True)
def loopback_only() -> Iterator[None]:
    """No test may open a connection outside 127.0.0.0/8 or ::1 (threads and asyncio included;
    the Temporal client's Rust core is outside Python and only dials the local dev server)."""
    inet = (socket.AF_INET, socket.AF_INET6)
    with pytest.MonkeyPatch.context() as mp:
        for meth in ("connect", "connect_ex"):
            real = getattr(socket.socket, meth)
            mp.setattr(
                socket.socket,
                meth,
                _guarded(
                    meth,
                    real,
                    lambda sock, address, *_: address[0] if sock.family in inet else "localhost",
                ),
            )
        mp.setattr(
            socket, "getaddrinfo", _guarded("resolve", socket.getaddrinfo, lambda host, *_: host)
        )
        yield


@pytest.fixture(autouse=True)
def _no_foreign_connections() -> Iterator[None]:
    before = len(_violations)
    yield
    assert _violations[before:] == [], f"a test tried to leave loopback: {_violations[before:]}"


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    # Low enough that a test can reach continue-as-new with a few dozen changes.
    env = await WorkflowEnvironment.start_local(
        **dev_server_options("limit.historyCount.suggestContinueAsNew=300")
    )
    try:
        yield env
    finally:
        await env.shutdown()
