"""The README's walk-through, run verbatim on a fresh `make run`, with the restart it describes.

The ```sh blocks under "### Walk-through" are copied out of README.md and fed, unchanged, to one
bash process (so `$TS` carries from block to block, as in a reader's terminal). Where the README
says to stop `make run` and start it again, the test sends the stack Ctrl-C and starts it again
on the same data folder. tools/devstack.py (what `make run` runs after installing) gets spare
ports and a temporary data folder, so it never collides with a developer's own stack.
"""

from __future__ import annotations

import html
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ports import restartable_port

ROOT = Path(__file__).resolve().parents[2]
RESTART = "start it again"


def walkthrough() -> tuple[list[str], int]:
    """The walk-through's sh blocks, and the index of the first block after the restart."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Walk-through", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"```sh\n(.*?)```", section, flags=re.S)
    # re.split alternates prose, block, prose, block, …
    blocks = parts[1::2]
    prose_before = parts[0::2]
    restart = next(i for i, text in enumerate(prose_before) if RESTART in text)
    return blocks, restart




class Shell:
    """One bash, like a reader's second terminal; every block must succeed (`set -e`)."""

    MARK = "__block_done__"

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.run("set -eo pipefail", timeout=10)

    def run(self, block: str, timeout: float = 120) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{block}\necho {self.MARK}\n".encode())
        self.proc.stdin.flush()
        out = b""
        deadline = time.monotonic() + timeout
        while self.MARK.encode() not in out:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            chunk = self.proc.stdout.read1(65536) if ready else b""
            if not chunk:
                raise AssertionError(f"block failed or hung:\n{block}\n--- output ---\n{out!r}")
            out += chunk
        return out.decode().split(self.MARK)[0]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


class MakeRun:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tools.devstack"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            printed = self.log.read_bytes()[offset:].decode(errors="replace")
            if "Ctrl-C stops everything" in printed:
                return printed
            assert self.proc.poll() is None, f"make run exited:\n{printed}"
            time.sleep(0.3)
        raise AssertionError("make run never printed its banner")

    def stop(self) -> str:
        """Ctrl-C, as a reader would; what it printed while stopping."""
        assert self.proc is not None
        offset = self.log.stat().st_size
        self.proc.send_signal(signal.SIGINT)
        try:
            assert self.proc.wait(timeout=60) == 0
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return self.log.read_bytes()[offset:].decode(errors="replace")


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: restartable_port() for name in ("api", "standin", "temporal", "ui", "worker")}


@pytest.fixture(params=[False, True], ids=["http", "socket-mode"])
def socket_mode(request: pytest.FixtureRequest) -> bool:
    """Both transports: request URLs, and the README's `PARLEY_SOCKET_MODE=1 make run`."""
    return bool(request.param)


@pytest.fixture
def make_run(tmp_path: Path, ports: dict[str, int], socket_mode: bool) -> Iterator[MakeRun]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEMPORAL_", "DATABASE"))
    }
    env.update(
        PARLEY_DATA_DIR=str(tmp_path / "data"),
        PARLEY_API_PORT=str(ports["api"]),
        PARLEY_STANDIN_PORT=str(ports["standin"]),
        PARLEY_TEMPORAL_PORT=str(ports["temporal"]),
        PARLEY_TEMPORAL_UI_PORT=str(ports["ui"]),
        PARLEY_WORKER_PORT=str(ports["worker"]),
        PYTHONUNBUFFERED="1",
    )
    for name in (
        "PARLEY_API_TOKEN",
        "PARLEY_LOG_LEVEL",
        "PARLEY_WORKER_HTTP_ADDRESS",
        "PARLEY_SOCKET_MODE",
    ):
        env.pop(name, None)
    if socket_mode:
        env["PARLEY_SOCKET_MODE"] = "1"
    stack = MakeRun(env, tmp_path / "stack.log")
    try:
        yield stack
    finally:
        if stack.proc is not None and stack.proc.poll() is None:
            stack.proc.send_signal(signal.SIGINT)
            try:
                stack.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.proc.kill()


def _quiet(printed: str) -> list[str]:
    """Lines other than the banner: there should be none (no licence warnings, no alembic
    lines, no Temporal chatter, no dial errors)."""
    banner = printed.split("Parley is running:", 1)
    noise = banner[0].strip().splitlines()
    return [line for line in noise if line.strip()]


@pytest.mark.slow
def test_readme_walkthrough_runs_verbatim_across_a_restart(
    make_run: MakeRun, ports: dict[str, int], socket_mode: bool
) -> None:
    blocks, restart = walkthrough()
    assert len(blocks) >= 4 and 0 < restart < len(blocks), (len(blocks), restart)

    printed = make_run.start()
    assert _quiet(printed) == [], printed
    assert f"http://127.0.0.1:{ports['ui']}" in printed
    assert "Sample alerts  3 posted" in printed
    shell = Shell(make_run.env)
    try:
        for block in blocks[:restart]:
            shell.run(block)
        stopping = make_run.stop()
        assert "dial" not in stopping and "Traceback" not in stopping, stopping
        again = make_run.start()
        assert _quiet(again) == [] and "Sample alerts" not in again, again  # first start only
        for block in blocks[restart:]:
            shell.run(block)
    finally:
        shell.close()

    api = f"http://127.0.0.1:{ports['api']}"
    alert = json.loads((ROOT / "examples" / "alert.json").read_text())
    detail = httpx.get(f"{api}/alerts/{alert['id']}", timeout=10).json()
    assert detail["status"] == "Triaged", detail
    actions = [h["action"] for h in detail["history"]]
    assert "status_changed" in actions and any("boomerang" in a for a in actions), actions
    page = _signed_in_page(api, f"/alerts/{alert['id']}", "U0CAROL")  # a viewer
    assert page.status_code == 200 and "Triaged" in page.text
    assert "Carol Chen" in page.text and 'id="status-form"' not in page.text

    # The sample alerts went through enrichment on arrival: flags and ASNs, not only ranges.
    standin = f"http://127.0.0.1:{ports['standin']}"
    msgs = httpx.get(f"{standin}/_stub/messages", params={"channel": "C0ALERTS"}).json()
    guardduty = next(
        m for m in msgs["messages"] if "sample-guardduty-tor-caller" in json.dumps(m["metadata"])
    )
    shown = json.dumps(guardduty["blocks"], ensure_ascii=False)
    assert "🇩🇪" in shown and "AS60729" in shown, shown

    # Over the socket, or over the request URL: the stand-in says which carried the clicks.
    opened = httpx.get(f"{standin}/_stub/calls", params={"method": "apps.connections.open"})
    assert bool(opened.json()["calls"]) is socket_mode
    assert ("Socket Mode" in printed) is socket_mode

    stopped = make_run.stop()
    assert "dial" not in stopped and "Traceback" not in stopped, stopped
    for port in ports.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def _signed_in_page(api: str, path: str, user: str) -> httpx.Response:
    """Sign in with Slack on `make run`'s stand-in, as a browser would, and open `path`."""
    with httpx.Client(base_url=api, timeout=10) as browser:
        login = browser.get("/auth/login", params={"next": path})
        assert login.status_code == 302, login.text
        page = httpx.get(login.headers["location"], timeout=10)
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
        )
        fields = {k: html.unescape(v) for k, v in fields.items()}
        back = httpx.post(
            str(page.url.copy_with(query=None)), data=fields | {"user": user}, timeout=10
        )
        assert back.status_code == 302, back.text
        done = browser.get(back.headers["location"].removeprefix(api))
        assert done.status_code == 303 and done.headers["location"] == path, done.text
        return browser.get(path, headers={"Accept": "text/html"})
