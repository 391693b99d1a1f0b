"""Waits for the README's walk-through: Parley answers within seconds, not instantly.

Standard library only, so the README can run it with any `python3`:

    python3 tools/walkthrough.py message CHANNEL MATCH   # ts of the newest message for MATCH
    python3 tools/walkthrough.py reply CHANNEL TS TEXT   # until a reply in TS's thread has TEXT
    python3 tools/walkthrough.py view USER CALLBACK_ID   # id of USER's newest open modal

MATCH is an alert id (the message's Parley metadata) or text the message shows. Each waits up
to WALKTHROUGH_TIMEOUT seconds (60) on the stand-in at PARLEY_STANDIN_PORT (3100), prints what
it found, and exits 1 with a reason if it never shows up.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

STANDIN = f"http://127.0.0.1:{os.environ.get('PARLEY_STANDIN_PORT', '3100')}"
TIMEOUT = float(os.environ.get("WALKTHROUGH_TIMEOUT", "60"))


def get(path: str, **params: str) -> Any:
    url = f"{STANDIN}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def shows(message: dict[str, Any], match: str) -> bool:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    if payload.get("alert") == match:
        return True
    return match in message.get("text", "") + json.dumps(message.get("blocks") or [])


def message(channel: str, match: str) -> str | None:
    found = [m for m in get("/_stub/messages", channel=channel)["messages"] if shows(m, match)]
    return str(found[-1]["ts"]) if found else None


def reply(channel: str, ts: str, text: str) -> str | None:
    for msg in get("/_stub/messages", channel=channel)["messages"]:
        if msg["ts"] == ts:
            hits = [r for r in msg.get("replies", []) if text in r.get("text", "")]
            return str(hits[-1]["ts"]) if hits else None
    return None


def view(user: str, callback_id: str) -> str | None:
    found = [v for v in get("/_stub/views", user=user)["views"] if v["callback_id"] == callback_id]
    return str(found[-1]["id"]) if found else None


COMMANDS: dict[str, Callable[..., str | None]] = {"message": message, "reply": reply, "view": view}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = COMMANDS[argv[0]], argv[1:]
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            found = command(*args)
        except OSError:  # the stack is still starting
            found = None
        if found:
            print(found)
            return 0
        if time.monotonic() > deadline:
            print(f"walkthrough: no {argv[0]} for {args} after {TIMEOUT:.0f}s", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
