"""The outbox: what the API accepts for Temporal is in the console database before anyone is told
"accepted", and reaches Temporal in the order it was accepted, once Temporal can take it.

Decisions (issue 9: Temporal or the database away)

- Every accepted item goes through the outbox: an alert's start (queued in the same transaction
  that claims the alert id), and every signal (Slack clicks and modals, console changes). Writing
  only what a direct call failed to deliver would let a later click overtake an earlier one that
  is still being retried, and would leave a window (call sent, row not yet written) in which a
  crash loses the item. The cost with Temporal up is an insert and a delete, a few milliseconds.
- The request then delivers its own item at once (the fast path) when it may: the last call to
  Temporal succeeded, and nothing of that workflow is queued ahead. While it tries, the row is
  held from the relay (`HOLD`); the try is bounded by a budget: `CLICK_BUDGET` for signals, which
  Slack must see acknowledged within 3 s, `INTAKE_BUDGET` for starts. Otherwise the item waits.
- The relay (api/relay.py) delivers the rest, in order, when Temporal is back.
- Temporal's absence is noticed on the first failed or timed-out call. From then on requests
  queue without trying, acknowledged in milliseconds, until the relay finds Temporal back.
- Delivery is at least once (a call may succeed and its row's delete fail), which is safe:
  signals carry idempotency keys that the workflows dedupe, and a start uses the workflow id with
  USE_EXISTING / REJECT_DUPLICATE (a closed alert's id raises WorkflowAlreadyStartedError, which
  counts as delivered). No signal-with-start: it would start a second run of a closed alert.
- What people see: a Slack user gets an ephemeral "queued" note (api/signals.py), intake and the
  console's change routes answer 202 with `queued: true`, and the console lists what is queued.
  A queued change whose workflow turns out to be gone is told via its response_url.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.client import Client
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import storms
from parley.domain import AlertIn, Destination, Status
from parley.settings import Settings
from parley.store import outbox as store
from parley.store import repo
from parley.store.db import Database, StoreUnavailable
from workflows import search_attributes as sa
from workflows.alert import AlertWorkflow
from workflows.alert_types import (
    AlertGrowth,
    AlertWorkflowInput,
    AssigneeChange,
    BoomerangAsk,
    DetailsRequest,
    IntelRequest,
    StatusChange,
)
from workflows.boomerang import BoomerangWorkflow
from workflows.boomerang_types import BoomerangAnswer, BoomerangDelays
from workflows.storm import StormWorkflow
from workflows.storm_types import BulkChange, StormPlan

log = logging.getLogger("parley.outbox")

CLICK_BUDGET = 0.5  # s; a click's ack must leave well inside Slack's 3 s, even the first one
INTAKE_BUDGET = 3.0  # s; a start takes 25-90 ms when Temporal is up
HOLD = 30.0  # s the relay leaves a request's own item alone (covers a crash mid-try)

# Signals the API may queue, by a name stored with the row; delivery calls the typed reference.
_SIGNALS: list[tuple[Callable[..., Any], type[BaseModel]]] = [
    (AlertWorkflow.set_status, StatusChange),
    (AlertWorkflow.set_assignee, AssigneeChange),
    (AlertWorkflow.ask_boomerang, BoomerangAsk),
    (AlertWorkflow.show_details, DetailsRequest),
    (AlertWorkflow.threat_intel, IntelRequest),
    (AlertWorkflow.grow, AlertGrowth),  # issue 11: the same alert again with more events
    (BoomerangWorkflow.answer, BoomerangAnswer),
    (StormWorkflow.bulk_change, BulkChange),
]


def signal_name(signal: Callable[..., Any]) -> str:
    """`AlertWorkflow.set_status`: unique across workflows, stable across releases."""
    return signal.__qualname__


SIGNALS: dict[str, tuple[Callable[..., Any], type[BaseModel]]] = {
    signal_name(ref): (ref, model) for ref, model in _SIGNALS
}


class Unavailable(Exception):
    """Temporal did not take the item now (down, slow, not connected): it stays queued."""


class Gone(Exception):
    """The signal's workflow does not exist (unknown, finished, past retention)."""


class Rejected(Exception):
    """Temporal (or the item's own data) refuses this item for good; retrying cannot help."""


@dataclass(frozen=True)
class Accepted:
    item_id: int
    queued: bool  # True: waiting in the outbox; False: Temporal has it


_background: set[asyncio.Task[None]] = set()


def spawn(coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` after the answer has gone (a note to Slack, a relay wake-up)."""
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


def alert_start_kwargs(
    settings: Settings,
    alert: AlertIn,
    destinations: list[Destination],
    storm: StormPlan | None = None,
) -> dict[str, Any]:
    """Everything `start_workflow(AlertWorkflow.run, …)` needs besides the id."""
    return {
        "arg": AlertWorkflowInput(
            alert=alert,
            destinations=destinations,
            console_base_url=settings.console_base_url,
            retention_seconds=settings.alert_retention_seconds,
            details_dedupe_seconds=settings.details_dedupe_seconds,
            growth_line_seconds=settings.alert_growth_line_seconds,
            storm=storm,
            boomerang_delays=BoomerangDelays(
                remind_after_seconds=settings.boomerang_remind_after_seconds,
                escalate_after_seconds=settings.boomerang_escalate_after_seconds,
                expire_after_seconds=settings.boomerang_expire_after_seconds,
            ),
        ),
        "task_queue": settings.temporal_task_queue,
        # The store's unique key dedupes for ever; these cover the retention period.
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "search_attributes": sa.at_start(Status.OPEN.value, alert.severity.value, alert.rule_id),
        "static_summary": alert.title[:200],  # the UI's summary is the alert's title
    }


class Outbox:
    """The API process's side of the outbox: queue, deliver at once if possible, relay the rest."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._down = False  # the last call to Temporal failed: queue without trying
        self.wakeup = asyncio.Event()  # the relay (api/relay.py) waits on it

    @property
    def db(self) -> Database:
        return self.app.state.db

    @property
    def settings(self) -> Settings:
        return self.app.state.settings

    @property
    def temporal_up(self) -> bool:
        """What the last call said; the fast path only tries when it said yes."""
        return not self._down and self.app.state.temporal is not None

    # ---- requests ------------------------------------------------------------------------------

    async def accept_alert(
        self, alert: AlertIn, workflow_id: str, destinations: list[Destination]
    ) -> Accepted | None:
        """Claim the alert and queue its start (one transaction), then try to start it.

        None for a duplicate. Raises StoreUnavailable if the database cannot take it.
        """
        queued = await store.accept_alert(
            self.db, alert, workflow_id, hold=HOLD if self.temporal_up else None
        )
        if queued is None:
            return None
        sent = await self._deliver_now(queued, INTAKE_BUDGET, destinations)
        return Accepted(queued.item.id, queued=not sent)

    async def submit_signal(
        self,
        *,
        workflow_id: str,
        alert_id: str | None,
        signal: Callable[..., Any],
        arg: BaseModel,
        summary: str,
    ) -> Accepted | None:
        """Queue a typed signal, then try to send it. None: `alert_id` is not in the store.

        Raises Gone / Rejected when the fast path learns the item cannot be delivered, and
        StoreUnavailable when the database cannot take it.
        """
        name = signal_name(signal)
        if name not in SIGNALS:
            raise KeyError(f"{name} is not in api.outbox._SIGNALS")
        queued = await store.queue_signal(
            self.db,
            workflow_id=workflow_id,
            alert_id=alert_id,
            signal=name,
            # The workflow dedupes on this key; one without would still be queued once.
            key=str(getattr(arg, "key", "") or f"unkeyed:{uuid.uuid4()}"),
            payload=arg.model_dump(mode="json"),
            summary=summary,
            response_url=getattr(arg, "response_url", None),
            hold=HOLD if self.temporal_up else None,
        )
        if queued is None:
            return None
        if queued.duplicate:  # already queued by an earlier delivery of the same click
            return Accepted(queued.item.id, queued=True)
        sent = await self._deliver_now(queued, CLICK_BUDGET)
        return Accepted(queued.item.id, queued=not sent)

    async def _deliver_now(
        self, queued: store.Queued, budget: float, destinations: list[Destination] | None = None
    ) -> bool:
        """The fast path: True if Temporal has the item now; False if it waits for the relay."""
        item = queued.item
        if not queued.direct:
            self.wake()
            return False
        try:
            await self.deliver(item, budget, destinations)
        except Unavailable as exc:
            self.noticed_down(exc)
            await self._quietly(store.retry_later(self.db, item.id, str(exc)))
            self.wake()
            return False
        except (Gone, Rejected):
            await self._quietly(store.finish(self.db, item.id))
            raise
        except Exception as exc:  # a bug, or the database failing mid-way: the relay retries
            log.exception("delivering outbox item %s failed", item.id)
            await self._quietly(store.retry_later(self.db, item.id, repr(exc)))
            self.wake()
            return False
        # Temporal has it; if this delete fails, the relay delivers it again after the hold,
        # which the workflow ignores (same key, or the same workflow id).
        await self._quietly(store.finish(self.db, item.id))
        self.wake()  # anything queued behind it may go now
        return True

    async def _quietly(self, write: Coroutine[Any, Any, None]) -> None:
        try:
            await write
        except StoreUnavailable as exc:
            log.warning("outbox bookkeeping failed (the relay will catch up): %s", exc)

    # ---- delivery ------------------------------------------------------------------------------

    async def deliver(
        self, item: store.OutboxItem, timeout: float, destinations: list[Destination] | None = None
    ) -> None:
        client: Client | None = self.app.state.temporal
        if client is None:
            raise Unavailable("not connected to Temporal")
        if item.kind == "start":
            call = await self._start_call(client, item, destinations)
        else:
            call = self._signal_call(client, item)
        try:
            async with asyncio.timeout(timeout):
                await call
        except WorkflowAlreadyStartedError:
            return  # the alert ran and closed: delivered long ago
        except TimeoutError as exc:
            raise Unavailable(f"Temporal did not answer within {timeout:g} s") from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND and item.kind == "signal":
                raise Gone(str(exc)) from exc
            if exc.status == RPCStatusCode.INVALID_ARGUMENT:
                raise Rejected(str(exc)) from exc
            raise Unavailable(f"Temporal: {exc}") from exc

    async def _start_call(
        self, client: Client, item: store.OutboxItem, destinations: list[Destination] | None
    ) -> Coroutine[Any, Any, Any]:
        alert = await store.alert_payload(self.db, item.alert_id or "")
        if alert is None:
            raise Rejected(f"alert {item.alert_id} is no longer in the store")
        if destinations is None:
            destinations = await repo.matching_destinations(self.db, alert)
        # Decided when the start is sent: a storm is about the alerts Temporal has by then.
        storm = await storms.plan(self.db, self.settings, alert, destinations)
        kwargs = alert_start_kwargs(self.settings, alert, destinations, storm)
        arg = kwargs.pop("arg")
        return client.start_workflow(AlertWorkflow.run, arg, id=item.workflow_id, **kwargs)

    def _signal_call(self, client: Client, item: store.OutboxItem) -> Coroutine[Any, Any, Any]:
        ref, model = SIGNALS.get(item.signal or "", (None, None))
        if ref is None or model is None:
            raise Rejected(f"unknown signal {item.signal!r}")
        try:
            arg = model.model_validate(item.payload)
        except ValidationError as exc:
            raise Rejected(f"payload no longer valid for {item.signal}: {exc}") from exc
        return client.get_workflow_handle(item.workflow_id).signal(ref, arg)

    def noticed_down(self, why: Exception) -> None:
        if not self._down:
            log.warning("Temporal unavailable (%s); queueing in the outbox until it is back", why)
        self._down = True

    def noticed_up(self) -> None:
        """A call to Temporal worked again: the fast path resumes."""
        if self._down:
            log.warning("Temporal is reachable again; delivering the outbox")
        self._down = False

    def wake(self) -> None:
        """Ask the relay for a pass now (something was queued, or may go now)."""
        self.wakeup.set()
