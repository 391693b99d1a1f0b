"""Benchmark 5, history events: what one alert's life costs its workflow history.

One High alert goes through the stack as in production, every step a real Slack interaction sent
by the stand-in's driver: post to 2 channels, assign (Set Assignee), triage (Update Status), one
Boomerang answered (modal, DM, "Yes" in the DM), resolve (Update Status -> modal with a comment).
After each step the benchmark waits until the workflow is idle (no workflow task, activity or
child start pending, history unchanged for a moment) and counts the events the step added, read
through the Temporal client: events, activities (and the most run at once), workflow tasks.

Issue 10: post to 2 channels + triage + resolve = 121 events (20 activities, run one after
another); target <= 40. The Boomerang's child workflow is counted apart.

`python -m bench.history_events` (takes about a minute; --quick changes nothing)
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

from bench.load import make_alert, new_run_id, wait_until
from bench.report import Figure, machine_note, parser_for, print_figures, run_main
from bench.stack import Stack, StackOptions
from parley.slack.ui import ids
from workflows.alert import AlertWorkflow
from workflows.alert_types import AlertState, alert_workflow_id, boomerang_workflow_id

CLOSES_ACTIVITY = {"ACTIVITY_TASK_COMPLETED", "ACTIVITY_TASK_FAILED", "ACTIVITY_TASK_TIMED_OUT"}
CLOSES_ACTIVITY |= {"ACTIVITY_TASK_CANCELED"}
CLOSES_TASK = {"WORKFLOW_TASK_COMPLETED", "WORKFLOW_TASK_FAILED", "WORKFLOW_TASK_TIMED_OUT"}
CLOSES_CHILD_START = {"CHILD_WORKFLOW_EXECUTION_STARTED", "START_CHILD_WORKFLOW_EXECUTION_FAILED"}
CLOSES_SIGNAL_OUT = {
    "EXTERNAL_WORKFLOW_EXECUTION_SIGNALED",
    "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED",
}


def kind(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def open_work(events: Sequence[HistoryEvent]) -> int:
    """Workflow tasks, activities, child starts and outgoing signals not finished yet."""
    n = Counter(kind(e) for e in events)

    def closed(names: set[str]) -> int:
        return sum(n[name] for name in names)

    return (
        n["WORKFLOW_TASK_SCHEDULED"]
        - closed(CLOSES_TASK)
        + n["ACTIVITY_TASK_SCHEDULED"]
        - closed(CLOSES_ACTIVITY)
        + n["START_CHILD_WORKFLOW_EXECUTION_INITIATED"]
        - closed(CLOSES_CHILD_START)
        + n["SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED"]
        - closed(CLOSES_SIGNAL_OUT)
    )


@dataclass
class Step:
    name: str
    events: list[HistoryEvent]

    @property
    def activities(self) -> list[str]:
        return [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in self.events
            if kind(e) == "ACTIVITY_TASK_SCHEDULED"
        ]

    @property
    def most_at_once(self) -> int:
        running = most = 0
        for e in self.events:
            if kind(e) == "ACTIVITY_TASK_SCHEDULED":
                running += 1
                most = max(most, running)
            elif kind(e) in CLOSES_ACTIVITY:
                running -= 1
        return most

    def count(self, name: str) -> int:
        return sum(1 for e in self.events if kind(e) == name)

    def explain(self) -> str:
        acts = len(self.activities)
        markers = self.count("MARKER_RECORDED")
        local = f", {markers} markers (local activities)" if markers else ""
        return (
            f"{acts} activities (at most {self.most_at_once} at once), "
            f"{self.count('WORKFLOW_TASK_COMPLETED')} workflow tasks, "
            f"{self.count('WORKFLOW_EXECUTION_SIGNALED')} signals{local}"
        )


async def idle_history(
    handle: WorkflowHandle[AlertWorkflow, AlertState],
    done: Callable[[list[HistoryEvent]], Awaitable[bool] | bool],
    what: str,
) -> list[HistoryEvent]:
    """The history once `done` holds, nothing is pending and it stopped growing."""
    seen = [-1]

    async def check() -> list[HistoryEvent] | None:
        events = list((await handle.fetch_history()).events)
        ready = done(events)
        if not isinstance(ready, bool):
            ready = await ready
        stable = len(events) == seen[0]
        seen[0] = len(events)
        return events if ready and stable and open_work(events) == 0 else None

    return await wait_until(check, timeout=120, what=what, interval=0.7)


def signals(events: Sequence[HistoryEvent]) -> int:
    return sum(1 for e in events if kind(e) == "WORKFLOW_EXECUTION_SIGNALED")


async def open_view(stack: Stack, user: str, callback_id: str) -> str:
    async def find() -> str | None:
        views = [v for v in await stack.slack.views(user) if v.get("callback_id") == callback_id]
        return views[-1]["id"] if views else None

    return await wait_until(find, timeout=30, what=f"the {callback_id} modal")


async def body(args: argparse.Namespace) -> None:
    destinations = [
        {"name": "security-alerts", "channel": "C0ALERTS"},
        {"name": "critical-alerts", "channel": "C0CRIT"},
    ]
    steps: list[Step] = []
    async with Stack(StackOptions(destinations=destinations, keep=args.keep)) as stack:
        alert = make_alert(new_run_id(), 0)
        handle = stack.client.get_workflow_handle_for(
            AlertWorkflow.run, alert_workflow_id(alert["id"])
        )
        seen = 0

        async def step(
            name: str, done: Callable[[list[HistoryEvent]], Awaitable[bool] | bool]
        ) -> None:
            nonlocal seen
            events = await idle_history(handle, done, f"step {name!r} to finish")
            steps.append(Step(name, events[seen:]))
            seen = len(events)

        async def copies_saved(_: list[HistoryEvent]) -> bool:
            return await stack.copies_saved() >= 2

        await stack.post_alerts([alert], 1)
        await step("post to 2 channels", copies_saved)
        state = await handle.query(AlertWorkflow.state)
        copy = next(c for c in state.copies if c.channel == "C0ALERTS")
        assert copy.ts

        async def click(user: str, action_id: str, **fields: str) -> None:
            assert copy.ts
            result = await stack.slack.click(user, copy.channel, copy.ts, action_id, **fields)
            if result.status != 200:
                raise RuntimeError(f"{action_id} answered {result.status}: {result.body}")

        async def signals_now() -> int:
            return signals((await handle.fetch_history()).events)

        before = await signals_now()
        await click("U0ALICE", ids.SET_ASSIGNEE, selected_user="U0CAROL")
        await step("assign", lambda ev, b=before: signals(ev) > b)

        before = await signals_now()
        await click("U0ALICE", ids.UPDATE_STATUS, selected_option="Triaged")
        await step("triage", lambda ev, b=before: signals(ev) > b)

        before = await signals_now()
        await click("U0ALICE", ids.BOOMERANG)
        view = await open_view(stack, "U0ALICE", ids.BOOMERANG_MODAL)
        await stack.slack.submit(
            "U0ALICE",
            view,
            {
                ids.BOOMERANG_RECIPIENT_BLOCK: {ids.BOOMERANG_RECIPIENT_ACTION: "U0BOB"},
                ids.BOOMERANG_QUESTION_BLOCK: {ids.BOOMERANG_QUESTION_ACTION: "Was this you?"},
                ids.BOOMERANG_SHARE_BLOCK: {
                    ids.BOOMERANG_SHARE_ACTION: [ids.BOOMERANG_SHARE_VALUE]
                },
            },
        )
        dm = (await stack.slack.web_api("conversations.open", users="U0BOB"))["channel"]["id"]

        async def dm_ts() -> str | None:
            messages = await stack.slack.messages(dm)
            return messages[-1]["ts"] if messages else None

        ts = await wait_until(dm_ts, timeout=60, what="the Boomerang DM")
        answer = await stack.slack.click("U0BOB", dm, ts, ids.BOOMERANG_YES)
        if answer.status != 200:
            raise RuntimeError(f"the answer got {answer.status}: {answer.body}")
        await step(
            "one Boomerang answered",
            lambda ev, b=before: (
                signals(ev) >= b + 3
                and any(kind(e) == "CHILD_WORKFLOW_EXECUTION_COMPLETED" for e in ev)
            ),
        )
        child_id = boomerang_workflow_id(alert["id"], 1)
        child = list((await stack.client.get_workflow_handle(child_id).fetch_history()).events)

        before = await signals_now()
        await click("U0ALICE", ids.UPDATE_STATUS, selected_option="Resolved")
        view = await open_view(stack, "U0ALICE", ids.RESOLVE_MODAL)
        await stack.slack.submit(
            "U0ALICE",
            view,
            {ids.RESOLVE_COMMENT_BLOCK: {ids.RESOLVE_COMMENT_ACTION: "Expected login."}},
        )
        await step("resolve", lambda ev, b=before: signals(ev) > b)

    target_steps = [s for s in steps if s.name in ("post to 2 channels", "triage", "resolve")]
    target = Step("target", [e for s in target_steps for e in s.events])
    every = Step("all", [e for s in steps for e in s.events])
    child_step = Step("child", child)
    figures = [Figure(f"step: {s.name}", f"{len(s.events)} events", "", s.explain()) for s in steps]
    figures += [
        Figure(
            "post to 2 + triage + resolve",
            f"{len(target.events)} events",
            "<= 40 (was 121, 20 activities)",
            target.explain(),
        ),
        Figure("whole path (5 steps)", f"{len(every.events)} events", "", every.explain()),
        Figure("Boomerang child workflow", f"{len(child)} events", "", child_step.explain()),
    ]
    notes = [
        f"{s.name}: " + ", ".join(f"{k} x{v}" for k, v in Counter(s.activities).items())
        for s in steps
    ]
    print_figures(
        "History events of one alert (2 channels), counted through the Temporal client",
        figures,
        [*notes, machine_note()],
    )


def main() -> None:
    args = parser_for(__doc__).parse_args()
    run_main("history_events", args, body, budget=600)


if __name__ == "__main__":
    main()
