"""Issue 12: /readyz goes not-ready while Temporal or the database is stopped, and ready again
after. Real outages: a Temporal dev server process killed and started again on its port, and
PostgreSQL cut off by closing the TCP proxy the API reaches it through (the shared server itself
stays up for the other tests)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from parley.settings import Settings
from parley.store.db import migrate
from tests.ops.tcp_proxy import TcpProxy
from tests.ports import restartable_port
from tests.store.store_support import fresh_pg_database
from tools.devstack import ApiServer, temporal_binary


class DevServer:
    """A Temporal dev server process that a test may stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = restartable_port()
        self.http_port = restartable_port()
        self.metrics_port = restartable_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                temporal_binary(), "server", "start-dev", "--headless",
                "--ip", "127.0.0.1", "--port", str(self.port),
                "--http-port", str(self.http_port), "--metrics-port", str(self.metrics_port),
                "--log-level", "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("Temporal dev server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


@pytest.fixture
def dev_server() -> Iterator[DevServer]:
    server = DevServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings(database_url: str, temporal_address: str) -> Settings:
    return Settings(
        database_url=database_url,
        temporal_address=temporal_address,
        parley_insecure_dev=True,
        slack_api_base_url="http://127.0.0.1:9/api/",
        database_timeout_seconds=1.0,
    )


async def readyz(http: httpx.AsyncClient, want: int, timeout: float = 30.0) -> dict[str, str]:
    """Poll /readyz until it answers `want`; its checks."""
    deadline = time.monotonic() + timeout
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        last = await http.get("/readyz")
        if last.status_code == want:
            return dict(last.json()["checks"])
        await asyncio.sleep(0.3)
    raise AssertionError(f"/readyz never answered {want}: {last and last.text}")


async def test_readyz_follows_temporal(dev_server: DevServer, tmp_path: Path) -> None:
    server = ApiServer(settings(f"sqlite:///{tmp_path / 'parley.db'}", dev_server.address))
    url = await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            assert await readyz(http, 200) == {"database": "ok", "schema": "ok", "temporal": "ok"}
            assert (await http.get("/healthz")).status_code == 200

            await asyncio.to_thread(dev_server.stop)
            checks = await readyz(http, 503)
            assert checks["temporal"] != "ok" and checks["database"] == "ok", checks
            assert (await http.get("/healthz")).status_code == 200  # alive, just not ready

            await asyncio.to_thread(dev_server.start)
            assert (await readyz(http, 200, timeout=60))["temporal"] == "ok"
    finally:
        await asyncio.to_thread(server.stop)


async def test_readyz_follows_the_database(temporal_env: WorkflowEnvironment) -> None:
    async with fresh_pg_database() as pg_url:
        migrate(pg_url)
        proxy = TcpProxy(("127.0.0.1", 5432))
        proxy.start()
        proxied = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        assert proxied != pg_url
        temporal = temporal_env.client.service_client.config.target_host
        server = ApiServer(settings(proxied, temporal))
        url = await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                assert (await readyz(http, 200))["database"] == "ok"

                proxy.stop()
                checks = await readyz(http, 503)
                assert checks["database"] != "ok" and checks["temporal"] == "ok", checks

                proxy.start()
                assert await readyz(http, 200) == {
                    "database": "ok",
                    "schema": "ok",
                    "temporal": "ok",
                }
        finally:
            await asyncio.to_thread(server.stop)
            proxy.stop()


async def test_api_started_while_the_database_is_down_migrates_once_it_is_back(
    temporal_env: WorkflowEnvironment,
) -> None:
    """A process supervisor may start the API before PostgreSQL: it serves (503s, /readyz says
    why) and brings the fresh database's schema to head, and seeds, as soon as it answers."""
    async with fresh_pg_database() as pg_url:
        proxy = TcpProxy(("127.0.0.1", 5432))
        proxy.start()
        proxy.stop()  # the port is chosen; nothing answers on it yet
        proxied = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        temporal = temporal_env.client.service_client.config.target_host
        ROOT = Path(__file__).resolve().parents[2]
        server = ApiServer(
            settings(proxied, temporal).model_copy(
                update={"parley_destinations": str(ROOT / "examples" / "destinations.yaml")}
            )
        )
        url = await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                assert (await readyz(http, 503))["database"] != "ok"
                proxy.start()
                assert await readyz(http, 200) == {
                    "database": "ok",
                    "schema": "ok",
                    "temporal": "ok",
                }

                async def seeded() -> list[str]:
                    return [d["name"] for d in (await http.get("/destinations")).json()]

                deadline = time.monotonic() + 30
                while "security-alerts" not in await seeded():
                    assert time.monotonic() < deadline, await seeded()
                    await asyncio.sleep(0.3)
        finally:
            await asyncio.to_thread(server.stop)
            proxy.stop()
