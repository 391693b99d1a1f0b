"""Keep the stand-in's workspace across restarts (`--state-file`, used by `make run`).

Slack keeps its messages when Parley restarts, so the local stack must too: otherwise every
alert's Slack links 404 after a restart and nothing shows until the alert's next change. The
choice (over Parley re-posting missing copies at start) keeps Parley's behaviour the same as
against real Slack, where a message that exists is never posted again.

What is kept: channel histories, threads, the bot's DM channels, modal views (open ones stay
open, as in a Slack client), and the `ts` clock (so new messages sort after old ones). What is
not: trigger ids and response URLs (they expire within seconds and minutes in Slack too),
ephemerals (Slack drops them on reload), the request journal and injected faults.

Saved as JSON, atomically (write a temporary file, then rename), every `interval` seconds when
something changed and once more at stop. Self-contained: the rest of the stand-in does not know
this module exists.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from .views_state import ViewRecord, ViewStore
from .workspace import Workspace

log = logging.getLogger("slack_standin.persist")
VERSION = 1


def snapshot(ws: Workspace) -> dict[str, Any]:
    """The durable part of the workspace as plain JSON data (call with ws.lock held)."""
    return {
        "version": VERSION,
        "team": ws.team.id,
        "last_ts_micros": ws._last_ts_micros,
        "dm_users": sorted(ws.dm_by_user),
        "top": ws.top,
        "threads": [[ch, ts, msgs] for (ch, ts), msgs in ws.threads.items()],
        "views": [
            {"view": r.view, "user": r.user, "open": r.open, "errors": r.errors}
            for r in ws.views.records.values()
        ],
        "view_stacks": ws.views.stacks,
    }


def restore(ws: Workspace, data: dict[str, Any]) -> None:
    """Put a snapshot back into a freshly seeded workspace (call with ws.lock held)."""
    if data.get("version") != VERSION or data.get("team") != ws.team.id:
        raise ValueError("state file is from another version or workspace")
    for user in data.get("dm_users", []):
        if user in ws.users:
            ws.dm_channel(user)  # DM ids are derived from team and user: the same again
    ws.threads = {(ch, ts): msgs for ch, ts, msgs in data.get("threads", [])}
    ws.top = {ch: msgs for ch, msgs in data.get("top", {}).items()}
    # One object per message, as the live workspace has it: a thread_broadcast reply is the
    # same dict in its thread and in the channel, and an edit must show in both.
    ws.index = {}
    for (ch, _parent), msgs in ws.threads.items():
        for msg in msgs:
            ws.index[(ch, msg["ts"])] = msg
    for ch, msgs in ws.top.items():
        for pos, msg in enumerate(msgs):
            if msg.get("subtype") == "tombstone":
                continue  # a deleted parent's placeholder: not a message
            known = ws.index.get((ch, msg["ts"]))
            if known is not None:
                msgs[pos] = known
            else:
                ws.index[(ch, msg["ts"])] = msg
    ws.views = ViewStore()
    for rec in data.get("views", []):
        ws.views.records[rec["view"]["id"]] = ViewRecord(
            view=rec["view"], user=rec["user"], open=rec["open"], errors=rec.get("errors")
        )
    ws.views.stacks = {u: list(ids) for u, ids in data.get("view_stacks", {}).items()}
    ws._last_ts_micros = max(ws._last_ts_micros, int(data.get("last_ts_micros", 0)))


class Persistence:
    def __init__(self, workspace: Workspace, path: str | Path, interval: float = 1.0) -> None:
        self.workspace = workspace
        self.path = Path(path)
        self.interval = interval
        self._last = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> bool:
        """Restore the saved workspace, if there is one; False when starting fresh."""
        if not self.path.exists():
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            with self.workspace.lock:
                restore(self.workspace, data)
        except (ValueError, KeyError, TypeError) as exc:
            # Never refuse to start over a bad file: keep it aside and start fresh.
            aside = self.path.with_suffix(".unreadable")
            self.path.replace(aside)
            log.warning("stand-in state %s unreadable (%s); kept as %s", self.path, exc, aside)
            with self.workspace.lock:
                self.workspace.reload()
            return False
        with self.workspace.lock:
            self._last = json.dumps(snapshot(self.workspace), sort_keys=True)
        return True

    def save(self) -> bool:
        """Write the workspace if it changed since the last save; True if written."""
        with self.workspace.lock:
            text = json.dumps(snapshot(self.workspace), sort_keys=True)
        if text == self._last:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)
        self._last = text
        return True

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.save()
                except OSError as exc:  # a full disk must not stop the stand-in
                    log.warning("could not save stand-in state: %s", exc)

        self._thread = threading.Thread(target=run, name="standin-persist", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.save()
