"""The outbox relay: delivers what the API queued (api/outbox.py) to Temporal, in order.

Decisions (issue 9)

- Where it runs: one background task per API process, started and stopped by the lifespan
  (api/app.py). It wakes when a request queues something, and polls every
  `outbox_poll_seconds` for what a crashed request left behind.
- Order: it takes workflows whose oldest queued row is available, oldest first, and sends each
  workflow's rows in id order (the order of acceptance), stopping at the first failure; a row a
  request is still delivering itself (held) stops its workflow too. Different workflows go side
  by side (`RELAY_CONCURRENCY`), which drains a backlog of starts after an outage sooner.
- Several replicas: on PostgreSQL each API replica runs a relay; a per-workflow advisory lock
  (`pg_try_advisory_xact_lock`) lets one of them at a time deliver a workflow's rows, the others
  skip it. Without it every replica would send every row (the workflow dedupes them, so the
  order would hold, but Temporal would get each one N times). SQLite serves one process.
- Temporal back: while it is away the relay probes its health endpoint (no SDK retries: it
  fails at once while nothing listens, where a signal retries for ~10 s), with backoff from
  0.25 s up to `outbox_max_backoff_seconds`; the first success delivers the queue and resumes the
  requests' fast path.
- A row that can never be delivered (its workflow is gone, Temporal rejects it) is dropped with
  a log line and a note to the person via its response_url; a row that fails for another reason
  (a bug) backs off on its own without blocking other workflows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from temporalio.service import RPCError

from api.deps import temporal_client
from api.outbox import Gone, Outbox, Rejected, Unavailable, spawn
from parley.settings import Settings
from parley.slack.client import send_ephemeral
from parley.store import outbox as store
from parley.store.db import Database, StoreUnavailable
from parley.store.models import utcnow

log = logging.getLogger("parley.outbox")

RELAY_TIMEOUT = 5.0  # s per call to Temporal
RELAY_CONCURRENCY = 4  # workflows delivered at once (PostgreSQL: two connections each)
FIRST_BACKOFF = 0.25  # s


class Relay:
    """The API process's relay: one background task, started and stopped by the lifespan."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._task: asyncio.Task[None] | None = None

    @property
    def db(self) -> Database:
        return self.outbox.db

    @property
    def settings(self) -> Settings:
        return self.outbox.settings

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            wakeable = True
            wait = self.settings.outbox_poll_seconds
            try:
                await self.relay_once()
                failures = 0
            except (Unavailable, StoreUnavailable) as exc:
                failures += 1
                wakeable = False  # back off even if requests keep queueing
                wait = min(
                    self.settings.outbox_max_backoff_seconds, FIRST_BACKOFF * 2 ** (failures - 1)
                )
                log.debug("outbox relay: %s; next try in %.2f s", exc, wait)
            except Exception:
                log.exception("outbox relay cycle failed")
            if wakeable:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
                # arrives as the event fires, and stop() would then wait for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self.outbox.wakeup.wait()
            else:
                await asyncio.sleep(wait)

    async def relay_once(self) -> None:
        """One pass: deliver every ready workflow's queue. Raises Unavailable if Temporal is."""
        self.outbox.wakeup.clear()  # a wake-up during this pass asks for another pass
        if not self.outbox.temporal_up:
            await self._probe()
        # Workflows side by side (a backlog of starts after an outage), each one's rows in order.
        limit = asyncio.Semaphore(RELAY_CONCURRENCY)

        async def relay(workflow_id: str) -> None:
            async with limit:
                await self._relay_workflow(workflow_id)

        ready = await store.ready_workflows(self.db)
        outcomes = await asyncio.gather(*(relay(w) for w in ready), return_exceptions=True)
        errors = [e for e in outcomes if isinstance(e, BaseException)]
        for error in errors:  # Temporal or the database away first: the caller backs off
            if isinstance(error, (Unavailable, StoreUnavailable)):
                raise error
        if errors:
            raise errors[0]

    async def _probe(self) -> None:
        client = await temporal_client(self.outbox.app)  # connects if start-up could not
        if client is None:
            raise Unavailable("cannot connect to Temporal")
        try:
            serving = await client.service_client.check_health(timeout=timedelta(seconds=2))
        except RPCError as exc:
            raise Unavailable(f"Temporal health check: {exc}") from exc
        if not serving:
            raise Unavailable("Temporal is up but its workflow service is not serving")
        self.outbox.noticed_up()

    async def _relay_workflow(self, workflow_id: str) -> None:
        async with store.workflow_lock(self.db, workflow_id) as mine:
            if not mine:
                return  # another replica's relay is delivering this workflow
            for item in await store.queued_for_workflow(self.db, workflow_id):
                if item.available_at > utcnow():
                    return  # a request is delivering it itself, or it is backing off
                try:
                    await self.outbox.deliver(item, RELAY_TIMEOUT)
                except Unavailable as exc:
                    self.outbox.noticed_down(exc)
                    await store.retry_later(self.db, item.id, str(exc))
                    raise
                except Gone:
                    log.info("outbox item %s: %s is gone; dropped", item.id, workflow_id)
                    self._tell(item, "what it was for is no longer open in Parley")
                except Rejected as exc:
                    log.error("outbox item %s rejected for good, dropped: %s", item.id, exc)
                    self._tell(item, "Parley could not process it")
                except StoreUnavailable:
                    raise
                except Exception as exc:
                    log.exception("outbox item %s failed", item.id)
                    after = min(
                        self.settings.outbox_max_backoff_seconds, FIRST_BACKOFF * 2**item.attempts
                    )
                    await store.retry_later(self.db, item.id, repr(exc), after=after)
                    return
                await store.finish(self.db, item.id)

    def _tell(self, item: store.OutboxItem, why: str) -> None:
        if item.response_url:
            text = f"Parley could not apply your queued change ({item.summary}): {why}."
            spawn(_send_note(item.response_url, text))


async def _send_note(response_url: str, text: str) -> None:
    try:
        await send_ephemeral(response_url, text, timeout=5)
    except Exception as exc:  # the person simply sees nothing; the log says why
        log.warning("response_url post failed: %s", exc)
