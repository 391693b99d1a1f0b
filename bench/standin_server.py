"""The Slack stand-in as its own process, with a light view of its journal for benchmarks.

`python -m bench.standin_server --journal-port J [stand-in flags]` runs
`tools.slack_standin.StandIn` as `python -m tools.slack_standin` does (same flags), and serves on
a second loopback port `GET /journal?method=M&since=I`: the journal's entries from index I,
reduced to what the benchmarks read (method, HTTP status, time, channel, ts, thread_ts, the
metadata's alert id). `/_stub/calls` returns whole entries, blocks and results included; at a
storm's size (a 200-message conversations.history result per retry) that is gigabytes.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from aiohttp import web

from bench.slack import metadata_of
from tools.slack_standin import StandIn
from tools.slack_standin.__main__ import from_args, parse_args


def light(entry: dict[str, Any]) -> dict[str, Any]:
    args = entry.get("args") or {}
    result = entry.get("result") if isinstance(entry.get("result"), dict) else {}
    assert isinstance(result, dict)
    return {
        "method": entry.get("method"),
        "status": entry.get("status"),
        "ok": bool(result.get("ok")),
        "time": entry.get("time"),
        "channel": result.get("channel") or args.get("channel"),
        "ts": args.get("ts") or result.get("ts"),
        "thread_ts": args.get("thread_ts"),
        "alert": metadata_of(args).get("alert"),
    }


def journal_app(standin: StandIn) -> web.Application:
    async def journal(request: web.Request) -> web.Response:
        method = request.query.get("method")
        since = int(request.query.get("since", "0"))
        ws = standin.workspace
        with ws.lock:  # the API handlers append under this lock; read a consistent slice
            entries = ws.journal[since:]
            total = len(ws.journal)
            calls = [light(e) for e in entries if method is None or e.get("method") == method]
        return web.json_response({"next": total, "calls": calls})

    app = web.Application()
    app.router.add_get("/journal", journal)
    return app


async def serve(journal_port: int, standin: StandIn) -> None:
    runner = web.AppRunner(journal_app(standin), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, standin.host, journal_port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(standin.base_url, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--journal-port", type=int, required=True)
    known, rest = ours.parse_known_args()
    standin = from_args(parse_args(rest))
    standin.start()
    try:
        asyncio.run(serve(known.journal_port, standin))
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
