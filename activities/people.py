"""The people directory, kept by the worker: who a Slack user id is, for the console.

Slack's interaction payloads carry a username (`bob`), while assignees are resolved with
users.info (`Bob Brown`); the console names every id from this directory so one person has one
name. It is filled from the store write of each change (HistoryActivities.write, a local
activity), so it needs no workflow command of its own: the Slack people that change's rows name,
when missing or older than `max_age`, are looked up with users.info through the worker's Slack
client and its typed errors, and names the workflow already resolved (the assignee) are saved
as they are. It is a nicety: a slow or absent Slack is given `timeout_seconds`, then logged and
left for a later write; it never fails or holds up the write for longer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from parley.slack.errors import raise_for_slack
from parley.slack.ui.text import SLACK_USER_ID
from parley.slack.users import display_name
from parley.store import people
from parley.store.db import Database

if TYPE_CHECKING:
    from activities.history import StoreWrite

log = logging.getLogger("parley.people")
MAX_AGE = timedelta(days=1)
TIMEOUT_SECONDS = 2.0
# A failed lookup is tried again after this long, not on every change while Slack is away.
RETRY_SECONDS = 60.0
MAX_LOOKUPS = 10  # per write; a change names two or three people
MAX_REMEMBERED_FAILURES = 5000


def slack_people(write: StoreWrite) -> tuple[set[str], dict[str, str]]:
    """The Slack user ids a write's rows show, and the names it already carries for some:
    the assignee a change just set was resolved by the workflow (users.info) a moment ago."""
    ids: set[str] = set()
    known: dict[str, str] = {}
    for e in write.entries:
        if e.actor.source == "slack":
            ids.add(e.actor.id)
        if e.action.startswith("boomerang_"):  # the asker and the one asked, as ids
            ids.update(v for v in (e.from_value, e.to_value) if v)
    p = write.projection
    if p and p.assignee_id:
        ids.add(p.assignee_id)
        newly_set = any(
            e.action == "assignee_changed" and e.to_value == p.assignee_name for e in write.entries
        )
        if newly_set and p.assignee_name and p.assignee_name != p.assignee_id:
            known[p.assignee_id] = p.assignee_name
    ids = {i for i in ids if SLACK_USER_ID.fullmatch(i)}
    return ids, {k: v for k, v in known.items() if k in ids}


class PeopleDirectory:
    def __init__(
        self,
        db: Database,
        client: AsyncWebClient,
        *,
        max_age: timedelta = MAX_AGE,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self.db = db
        self.client = client
        self.max_age = max_age
        self.timeout_seconds = timeout_seconds
        self._failed: dict[str, float] = {}  # id -> monotonic time of its last failed lookup

    async def note(self, write: StoreWrite) -> None:
        """Bring the directory up to date for the people this write names. Never raises."""
        ids, known = slack_people(write)
        if not ids:
            return
        try:
            await self.refresh(ids, known)
        except Exception as exc:  # the history is written; names only make it read better
            log.warning("people directory not updated for %s: %s", sorted(ids), exc)

    async def refresh(self, ids: Iterable[str], known: dict[str, str] | None = None) -> None:
        now = datetime.now(UTC)
        known = dict(known or {})
        if known:
            await people.save(self.db, known, now)
        fresh = await people.fresh_since(self.db, ids, now - self.max_age)
        clock = time.monotonic()
        stale = sorted(
            i
            for i in set(ids) - fresh - set(known)
            if clock - self._failed.get(i, -RETRY_SECONDS) >= RETRY_SECONDS
        )[:MAX_LOOKUPS]
        if not stale:
            return
        found = await self._look_up(stale)
        await people.save(self.db, found, datetime.now(UTC))

    async def _look_up(self, user_ids: list[str]) -> dict[str, str]:
        """users.info for each id at once, within `timeout_seconds` for all of them."""
        tasks = {asyncio.ensure_future(self._user(i)): i for i in user_ids}
        done, pending = await asyncio.wait(tasks, timeout=self.timeout_seconds)
        for task in pending:
            task.cancel()
            log.warning("users.info %s: no answer in %.1fs", tasks[task], self.timeout_seconds)
        await asyncio.gather(*pending, return_exceptions=True)
        found: dict[str, str] = {}
        for task in done:
            name = task.result()
            if name:
                found[tasks[task]] = name
        failed = set(user_ids) - set(found)
        if len(self._failed) > MAX_REMEMBERED_FAILURES:
            self._failed.clear()
        now = time.monotonic()
        self._failed.update({i: now for i in failed})
        for i in found:
            self._failed.pop(i, None)
        return found

    async def _user(self, user_id: str) -> str:
        """The user's display name, or "" (logged) when Slack refuses or fails."""
        try:
            try:
                resp = await self.client.users_info(user=user_id)
            except SlackApiError as exc:
                raise_for_slack(exc)  # the typed failure the Slack activities see
        except Exception as exc:
            log.warning("users.info %s for the people directory failed: %r", user_id, exc)
            return ""
        return display_name(resp.data if isinstance(resp.data, dict) else {})
