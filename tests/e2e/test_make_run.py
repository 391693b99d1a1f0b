"""The README's quick start: the stack `make run` starts, an alert by curl, a click by the driver.

Runs tools/devstack.py (what `make run` runs after installing) on spare ports and a temporary data
folder, so it never collides with a developer's own stack or the test session's dev server.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def _boomerang_click_through(standin: str, ts: str) -> None:
    """The README's Boomerang walk-through: ask Bob from the alert, Bob answers in his DM."""
    click = {"user": "U0ALICE", "channel": "C0ALERTS", "ts": ts, "action_id": "alert.boomerang"}
    assert httpx.post(f"{standin}/_stub/click", json=click, timeout=10).json()["status"] == 200
    views = httpx.get(f"{standin}/_stub/views", params={"user": "U0ALICE"}).json()["views"]
    view = next(v for v in views if v["callback_id"] == "modal.boomerang")
    submitted = httpx.post(
        f"{standin}/_stub/submit",
        json={
            "user": "U0ALICE",
            "view_id": view["id"],
            "values": {
                "boomerang_recipient": {"user": "U0BOB"},
                "boomerang_question": {"text": "Was this login you?"},
                "boomerang_share": {"share": ["share_event"]},
            },
        },
        timeout=10,
    ).json()
    assert submitted["status"] == 200 and not submitted["body"], submitted
    dm = httpx.post(
        f"{standin}/api/conversations.open",
        data={"users": "U0BOB"},
        headers={"Authorization": "Bearer xoxb-standin-token"},
    ).json()["channel"]["id"]

    def question() -> str | None:
        msgs = httpx.get(f"{standin}/_stub/messages", params={"channel": dm}).json()["messages"]
        asked = [m for m in msgs if "Was this login you?" in json.dumps(m.get("blocks"))]
        return asked[-1]["ts"] if asked else None

    dm_ts = _wait(question, 60, "the Boomerang DM")
    answer = {"user": "U0BOB", "channel": dm, "ts": dm_ts, "action_id": "boomerang.yes"}
    assert httpx.post(f"{standin}/_stub/click", json=answer, timeout=10).json()["status"] == 200

    def answered() -> bool:
        msgs = httpx.get(f"{standin}/_stub/messages", params={"channel": "C0ALERTS"}).json()
        msg = next(m for m in msgs["messages"] if m["ts"] == ts)
        return any("<@U0BOB> answered" in r["text"] for r in msg.get("replies", []))

    _wait(answered, 60, "the answer in the alert's thread")


@pytest.mark.slow
@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_make_run_stack_takes_an_alert_and_a_click(tmp_path: Path, socket_mode: bool) -> None:
    ports = {name: _free_port() for name in ("api", "standin", "temporal", "ui")}
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEMPORAL_", "DATABASE"))
    }
    env.update(
        PARLEY_DATA_DIR=str(tmp_path / "data"),
        PARLEY_API_PORT=str(ports["api"]),
        PARLEY_STANDIN_PORT=str(ports["standin"]),
        PARLEY_TEMPORAL_PORT=str(ports["temporal"]),
        PARLEY_TEMPORAL_UI_PORT=str(ports["ui"]),
        PYTHONUNBUFFERED="1",
    )
    env.pop("PARLEY_API_TOKEN", None)
    env.pop("PARLEY_SOCKET_MODE", None)
    if socket_mode:  # the README's `PARLEY_SOCKET_MODE=1 make run`
        env["PARLEY_SOCKET_MODE"] = "1"
    log = (tmp_path / "stack.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.devstack"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{ports['api']}"
    standin = f"http://127.0.0.1:{ports['standin']}"
    try:
        _wait(
            lambda: "Parley is running" in (tmp_path / "stack.log").read_text(),
            90,
            "the stack to print its URLs",
        )
        printed = (tmp_path / "stack.log").read_text()
        assert f"http://127.0.0.1:{ports['ui']}" in printed and standin in printed

        # The README's curl: the sample alert, no token needed locally.
        alert = json.loads((ROOT / "examples" / "alert.json").read_text())
        resp = httpx.post(f"{api}/alerts", json=alert, timeout=10)
        assert resp.status_code in (200, 201), resp.text

        def posted() -> str | None:
            msgs = httpx.get(f"{standin}/_stub/messages", params={"channel": "C0ALERTS"}).json()
            ours = [m for m in msgs["messages"] if alert["title"] in m.get("text", "")]
            return ours[-1]["ts"] if ours else None

        ts = _wait(posted, 60, "the alert in #security-alerts")
        click = httpx.post(
            f"{standin}/_stub/click",
            json={
                "user": "U0ALICE",
                "channel": "C0ALERTS",
                "ts": ts,
                "action_id": "alert.update_status",
                "selected_option": "Triaged",
            },
            timeout=10,
        )
        assert click.status_code == 200, click.text
        assert click.json()["status"] == 200

        def replied() -> bool:
            msgs = httpx.get(f"{standin}/_stub/messages", params={"channel": "C0ALERTS"}).json()
            msg = next(m for m in msgs["messages"] if m["ts"] == ts)
            return any("changed status Open → Triaged" in r["text"] for r in msg.get("replies", []))

        _wait(replied, 60, "the thread reply")
        _boomerang_click_through(standin, ts)
        page = _signed_in_page(api, f"/alerts/{alert['id']}", "U0CAROL")  # a viewer
        assert page.status_code == 200 and "Triaged" in page.text
        assert "Carol Chen" in page.text and 'id="status-form"' not in page.text
        # Over the socket, or over the request URL: the stand-in says which carried the clicks.
        opened = httpx.get(f"{standin}/_stub/calls", params={"method": "apps.connections.open"})
        assert bool(opened.json()["calls"]) is socket_mode
        assert ("Socket Mode" in printed) is socket_mode
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        log.close()
    # Ctrl-C stops everything it started.
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
