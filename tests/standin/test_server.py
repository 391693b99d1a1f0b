"""Lifecycle, the /_stub control endpoints, the HTML view and the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn, default_workspace_path

ROOT = Path(__file__).resolve().parents[2]


def test_default_workspace_path_ships() -> None:
    path = default_workspace_path()
    assert path.name == "default_workspace.yaml" and path.is_file()


def test_import_starts_nothing() -> None:
    code = (
        "import threading, tools.slack_standin, tools.slack_standin.__main__;"
        "assert [t.name for t in threading.enumerate()] == ['MainThread']"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=30)


def test_start_stop_and_sync_client_from_blocking_code() -> None:
    standin = StandIn(port=0)
    with pytest.raises(RuntimeError):
        _ = standin.base_url
    with standin:
        assert standin.base_url.startswith("http://127.0.0.1:") and standin.base_url.endswith(
            "/api/"
        )
        # Blocking test code (the sync WebClient) works because the server has its own thread.
        resp = WebClient(token="xoxb-standin-token", base_url=standin.base_url).auth_test()
        assert resp["ok"] is True
        url = standin.url
    with pytest.raises(OSError):
        import urllib.request

        urllib.request.urlopen(f"{url}/", timeout=2)


async def test_state_reads_are_thread_safe(client: AsyncWebClient, standin: StandIn) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                for m in standin.messages("C0ALERTS"):
                    assert m["ts"]
                standin.journal()
            except BaseException as exc:  # surfaced below
                errors.append(exc)
                return

    t = threading.Thread(target=reader)
    t.start()
    try:
        await asyncio.gather(
            *(client.chat_postMessage(channel="C0ALERTS", text=f"m{i}") for i in range(30))
        )
    finally:
        stop.set()
        t.join()
    assert errors == [] and len(standin.messages("C0ALERTS")) == 30


async def test_stub_endpoints(client: AsyncWebClient, standin: StandIn) -> None:
    ts = (await client.chat_postMessage(channel="C0ALERTS", text="parent"))["ts"]
    await client.chat_postMessage(channel="C0ALERTS", text="child", thread_ts=ts)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{standin.url}/_stub/messages", params={"channel": "C0ALERTS"}) as r:
            data = await r.json()
        assert [m["text"] for m in data["messages"]] == ["parent"]
        assert [m["text"] for m in data["messages"][0]["replies"]] == ["child"]
        async with http.get(f"{standin.url}/_stub/calls") as r:
            calls = (await r.json())["calls"]
        assert [c["method"] for c in calls] == ["chat.postMessage", "chat.postMessage"]
        async with http.get(f"{standin.url}/_stub/calls", params={"method": "auth.test"}) as r:
            assert (await r.json())["calls"] == []
        async with http.post(f"{standin.url}/_stub/reset") as r:
            assert r.status == 200
    assert standin.messages("C0ALERTS") == [] and standin.journal() == []


async def test_html_view_and_permalink_page(
    client: AsyncWebClient, standin: StandIn, post_alert: Any
) -> None:
    ts = await post_alert()
    await client.chat_postMessage(channel="C0ALERTS", text="<b>reply</b>", thread_ts=ts)
    link = (await client.chat_getPermalink(channel="C0ALERTS", message_ts=ts))["permalink"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{standin.url}/") as r:
            page = await r.text()
            assert r.status == 200 and r.content_type == "text/html"
        async with http.get(link) as r:
            thread_page = await r.text()
            assert r.status == 200
        async with http.get(f"{standin.url}/archives/C0ALERTS/p1000000000000001") as r:
            assert r.status == 404
    assert "#security-alerts" in page and "Impossible travel" in page
    assert "&lt;b&gt;reply&lt;/b&gt;" in page and "<b>reply</b>" not in page
    assert "Ack" in thread_page and "&lt;b&gt;reply" in thread_page


def test_command_line(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.slack_standin",
            "--port",
            "0",
            "--no-rate-limits",
            "--bot-token",
            "xoxb-cli",
            "--interactivity-url",
            "http://127.0.0.1:9/slack",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/")
        resp = WebClient(token="xoxb-cli", base_url=base_url).auth_test()
        assert resp["bot_id"] == "B0PARLEY"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
