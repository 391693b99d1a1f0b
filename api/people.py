"""Slack user ids shown as people's names on the console's pages.

Slack's interaction payloads carry a username (`bob`), while Parley resolves assignees with
users.info (`Bob Brown`); without this the timeline would name one person two ways. The pages
resolve every Slack id they show the way the worker resolves assignees (profile.real_name, then
real_name, then name), cached, each lookup bounded by a short timeout: a slow or absent Slack
leaves the id or the name the history carries, never a page that hangs.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("parley.console.people")
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
TTL_SECONDS = 3600.0
LOOKUP_TIMEOUT_SECONDS = 1.0
MAX_CACHED = 5000
RETRY_SECONDS = 60.0


async def display_names(app: Any, ids: Iterable[str]) -> dict[str, str]:
    """Names for the Slack user ids among `ids` that Slack told us (now or within the TTL)."""
    cache: dict[str, tuple[float, str]] = app.state.__dict__.setdefault("people_cache", {})
    wanted = {i for i in ids if i and SLACK_USER.match(i)}
    now = time.monotonic()
    missing = [i for i in wanted if i not in cache or now - cache[i][0] > TTL_SECONDS]
    slack = getattr(app.state, "slack", None)
    if missing and slack is not None:
        found = await asyncio.gather(*(_lookup(slack, i) for i in missing))
        if len(cache) > MAX_CACHED:
            cache.clear()
        for user_id, name in zip(missing, found, strict=True):
            # A failed lookup is tried again after a minute, not on every poll of a page.
            cache[user_id] = (now, name) if name else (now - TTL_SECONDS + RETRY_SECONDS, "")
    return {i: cache[i][1] for i in wanted if i in cache and cache[i][1]}


async def _lookup(slack: Any, user_id: str) -> str | None:
    try:
        data = await asyncio.wait_for(slack.users_info(user=user_id), LOOKUP_TIMEOUT_SECONDS)
    except Exception as exc:
        log.info("users.info %s for the console failed: %s", user_id, exc)
        return None
    user = data.get("user") or {}
    profile = user.get("profile") or {}
    return str(profile.get("real_name") or user.get("real_name") or user.get("name") or "")
