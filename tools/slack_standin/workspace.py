"""The stand-in's mutable state: channels, messages, threads, DMs and ephemerals.

Every method assumes the caller holds `lock` (API handlers run under it on the server
thread; the StandIn's readers and the driver take it from other threads).
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .api_common import TS_RE, ApiError
from .seed import Channel, User, load_seed
from .views_state import ViewStore


@dataclass
class Trigger:
    user: str
    issued_at: float
    used: bool = False
    view_id: str | None = None  # set when the interaction came from a modal


@dataclass
class ResponseUrl:
    channel: str
    message_ts: str | None
    user: str
    issued_at: float
    thread_ts: str | None = None
    uses: int = 0


class Workspace:
    def __init__(self, seed_path: str | Path | None, trigger_ttl_seconds: float) -> None:
        self.lock = threading.RLock()
        self.seed_path = seed_path
        self.trigger_ttl_seconds = trigger_ttl_seconds
        self.clock_offset = 0.0
        # Bumped by every reload, so requests still in flight across a reset can be discarded.
        self.generation = 0
        self.reload()

    # ----- lifecycle -------------------------------------------------------------------
    def reload(self) -> None:
        seed = load_seed(self.seed_path)
        self.generation += 1
        self.team = seed.team
        self.bot = seed.bot
        self.users: dict[str, User] = seed.users
        self.channels: dict[str, Channel] = seed.channels
        self.verification_token = seed.verification_token
        self.dm_by_user: dict[str, str] = {}
        self.top: dict[str, list[dict[str, Any]]] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.index: dict[tuple[str, str], dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_url_posts: list[dict[str, Any]] = []
        self.views = ViewStore()
        self.homes: dict[str, dict[str, Any]] = {}  # user id → published Home view (issue 13)
        self.files: dict[str, dict[str, Any]] = {}  # file id → files v2 upload (api_files.py)
        self.journal: list[dict[str, Any]] = []
        self.clock_offset = 0.0
        self._last_ts_micros = 0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_ts(self) -> str:
        # "<epoch>.<6 digits>", strictly increasing across the workspace (so per channel too).
        micros = max(int(self.now() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # ----- users and channels -----------------------------------------------------------
    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's DM with a user; the id is stable but not derivable from the user id."""
        cid = self.dm_by_user.get(user_id)
        if cid is None:
            digest = hashlib.sha1(f"{self.team.id}:{user_id}".encode()).hexdigest()
            cid = "D" + digest[:10].upper()
            self.channels[cid] = Channel(
                id=cid,
                name="directmessage",
                is_private=True,
                members={self.bot.user_id, user_id},
                is_im=True,
                im_user=user_id,
            )
            self.dm_by_user[user_id] = cid
        return self.channels[cid]

    def check_dm_target(self, user_id: str, missing: str) -> None:
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(missing)
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        if user.deleted:
            raise ApiError("user_disabled")

    def visible_channel(self, channel_id: str) -> Channel:
        """A channel the bot can see; private channels it is not in look nonexistent."""
        ch = self.channels.get(channel_id)
        if ch is None or (ch.is_private and self.bot.user_id not in ch.members):
            raise ApiError("channel_not_found")
        return ch

    def postable_channel(self, channel_arg: str) -> Channel:
        """chat.postMessage's channel rules: U… opens the DM, membership, archive."""
        if channel_arg.startswith(("U", "W")):
            self.check_dm_target(channel_arg, "channel_not_found")
            return self.dm_channel(channel_arg)
        by_name = {c.name: c.id for c in self.channels.values() if not c.is_im}
        # chat.postMessage also takes a channel name ("#security-alerts" or "security-alerts").
        channel_id = by_name.get(channel_arg.removeprefix("#"), channel_arg)
        ch = self.visible_channel(channel_id)
        if ch.is_archived:
            raise ApiError("is_archived")
        if self.bot.user_id not in ch.members:
            raise ApiError("not_in_channel")
        return ch

    # ----- messages ----------------------------------------------------------------------
    def find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return self.index.get((channel_id, ts))

    def _bot_message(self, text: str, blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "user": self.bot.user_id,
            "type": "message",
            "ts": "",
            "bot_id": self.bot.bot_id,
            "app_id": self.bot.app_id,
            "text": text,
            "team": self.team.id,
            "bot_profile": {
                "id": self.bot.bot_id,
                "app_id": self.bot.app_id,
                "name": self.bot.name,
                "deleted": False,
                "team_id": self.team.id,
            },
        }
        if blocks:
            msg["blocks"] = blocks
        return msg

    def thread_parent_ts(self, channel_id: str, thread_ts: str) -> str:
        if not TS_RE.match(thread_ts):
            raise ApiError("invalid_thread_ts", [f"[ERROR] {thread_ts} is not a valid thread_ts"])
        target = self.find(channel_id, thread_ts)
        # Slack threads a reply to a reply under the original parent.
        if target is not None and target.get("thread_ts") and target["thread_ts"] != thread_ts:
            return str(target["thread_ts"])
        return thread_ts

    def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        *,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        metadata: dict[str, Any] | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        if user is None:
            msg = self._bot_message(text, blocks)
        else:
            # A human's message: no bot_id, so the app may not edit it.
            msg = {"user": user, "type": "message", "ts": "", "text": text, "team": self.team.id}
        ts = self.next_ts()
        msg["ts"] = ts
        if metadata is not None:
            msg["metadata"] = metadata
        if thread_ts is None:
            self.top.setdefault(channel_id, []).append(msg)
        else:
            parent_ts = self.thread_parent_ts(channel_id, thread_ts)
            msg["thread_ts"] = parent_ts
            parent = self.find(channel_id, parent_ts)
            if parent is not None:
                msg["parent_user_id"] = parent.get("user")
                self._note_reply(parent, msg)
            # A missing parent is not an error in Slack: the reply is stored but shows nowhere
            # (python-slack-sdk#840), so it is kept as an orphan thread here.
            self.threads.setdefault((channel_id, parent_ts), []).append(msg)
            if reply_broadcast:
                msg["subtype"] = "thread_broadcast"
                self.top.setdefault(channel_id, []).append(msg)
        self.index[(channel_id, ts)] = msg
        return msg

    def _note_reply(self, parent: dict[str, Any], reply: dict[str, Any]) -> None:
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
        users = list(parent.get("reply_users", []))
        if reply["user"] not in users:
            users.append(reply["user"])
        parent["reply_users"] = users
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = reply["ts"]

    def delete(self, channel_id: str, ts: str) -> bool:
        msg = self.index.pop((channel_id, ts), None)
        if msg is None:
            return False
        top = self.top.get(channel_id, [])
        if msg in top:
            pos = top.index(msg)
            if msg.get("reply_count"):
                # A parent with replies leaves a tombstone in history, as in Slack.
                top[pos] = {
                    "type": "message",
                    "subtype": "tombstone",
                    "text": "This message was deleted.",
                    "user": "USLACKBOT",
                    "hidden": True,
                    "ts": ts,
                    "thread_ts": ts,
                    "reply_count": msg["reply_count"],
                }
            else:
                top.pop(pos)
        if msg.get("thread_ts") and msg["thread_ts"] != ts:
            replies = self.threads.get((channel_id, msg["thread_ts"]), [])
            if msg in replies:
                replies.remove(msg)
                self._recount_replies(channel_id, msg["thread_ts"], replies)
        return True

    def _recount_replies(
        self, channel_id: str, parent_ts: str, replies: list[dict[str, Any]]
    ) -> None:
        """After a reply is deleted the parent shows what is left, as in Slack."""
        top = self.top.get(channel_id, [])
        parent = self.find(channel_id, parent_ts) or next(
            (m for m in top if m["ts"] == parent_ts and m.get("subtype") == "tombstone"), None
        )
        if parent is None:
            return
        if not replies:
            if parent.get("subtype") == "tombstone":
                top.remove(parent)  # nothing is left to show under a deleted parent
                return
            # A plain message again.
            for name in ("thread_ts", "reply_count", "reply_users", "reply_users_count"):
                parent.pop(name, None)
            parent.pop("latest_reply", None)
            return
        parent["reply_count"] = len(replies)
        if parent.get("subtype") == "tombstone":
            return
        users = list(dict.fromkeys(str(r["user"]) for r in replies))
        parent["reply_users"] = users
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = replies[-1]["ts"]

    def top_level(self, channel_id: str) -> list[dict[str, Any]]:
        return list(self.top.get(channel_id, []))

    def thread(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        return list(self.threads.get((channel_id, thread_ts), []))

    def add_ephemeral(
        self,
        channel_id: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        eph: dict[str, Any] = {
            "type": "message",
            "channel": channel_id,
            "user": user,
            "ts": self.next_ts(),
            "text": text,
            "bot_id": self.bot.bot_id,
        }
        if blocks:
            eph["blocks"] = blocks
        if thread_ts:
            eph["thread_ts"] = thread_ts
        self.ephemerals.append(eph)
        return eph

    # ----- triggers and response URLs ---------------------------------------------------
    def add_trigger(self, trigger_id: str, user: str, view_id: str | None) -> None:
        self.triggers[trigger_id] = Trigger(user=user, issued_at=self.now(), view_id=view_id)

    def consume_trigger(self, trigger_id: str | None) -> Trigger:
        trig = self.triggers.get(trigger_id or "")
        if trig is None:
            raise ApiError("invalid_arguments", ["invalid `trigger_id`"])
        if trig.used or self.now() - trig.issued_at > self.trigger_ttl_seconds:
            raise ApiError("expired_trigger_id")
        trig.used = True
        return trig

    def snapshot(self, obj: Any) -> Any:
        return copy.deepcopy(obj)
