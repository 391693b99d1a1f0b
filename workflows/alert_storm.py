"""The alert's side of a storm: instead of posting to a flooded channel, join its digest.

Intake names the destinations (`AlertWorkflowInput.storm`); for each, the alert starts the
channel's StormWorkflow for its rule as an abandoned child, or, when that storm is already
running, signals it to join. A storm that finished between the two is started again. The alert
keeps its workflow, its console page and its history (one row: it went to the digest); it just
has no Slack copy in that channel.

Every command here is new to AlertWorkflow, so it runs only under `workflow.patched(STORM)`,
asked only when intake planned a storm: histories recorded before storms replay unchanged.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from workflows import storm
from workflows.alert_effects import AlertEffects

with workflow.unsafe.imports_passed_through():
    from parley.domain import SYSTEM, Destination
    from workflows.alert_types import AlertWorkflowInput
    from workflows.storm_types import StormInput, StormMember, storm_workflow_id

STORM = "storm-digest"
# Start, or signal, a storm this many times before posting the alert on its own after all.
JOIN_ATTEMPTS = 3


def digest_destinations(inp: AlertWorkflowInput) -> list[Destination]:
    """The destinations whose storm digest takes this alert (none for alerts from before)."""
    plan = inp.storm
    if plan is None or not plan.digest_destination_ids or not workflow.patched(STORM):
        return []
    return [d for d in inp.destinations if d.id in plan.digest_destination_ids]


async def join_all(fx: AlertEffects, destinations: list[Destination]) -> list[Destination]:
    """Join each destination's storm; returns those joined (the others get a post after all)."""
    joined = []
    for dest in destinations:
        storm_id = await _join(fx, dest)
        if storm_id is None:
            continue
        joined.append(dest)
        await fx.history(
            "digested",
            SYSTEM,
            key=f"storm/{dest.id}",
            to_value=storm_id,
            comment=f"posted in the storm digest of {dest.name or dest.channel} instead of on "
            "its own: its rule is flooding that channel",
        )
    if joined:
        await fx.flush()
    return joined


async def _join(fx: AlertEffects, dest: Destination) -> str | None:
    alert = fx.state.alert
    plan = fx.inp.storm
    assert plan is not None
    member = StormMember(
        alert_id=alert.id, title=alert.title[:200], severity=alert.severity, at=workflow.now()
    )
    storm_id = storm_workflow_id(dest.channel, alert.rule_id)
    for _ in range(JOIN_ATTEMPTS):
        try:
            await workflow.start_child_workflow(
                storm.StormWorkflow.run,
                StormInput(
                    destination=dest,
                    rule_id=alert.rule_id,
                    rule_name=alert.rule_name,
                    window_seconds=plan.window_seconds,
                    refresh_seconds=plan.refresh_seconds,
                    console_base_url=fx.inp.console_base_url,
                    members=[member],
                ),
                id=storm_id,
                # The storm outlives the alert that started it, and its continue-as-new.
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"🌩️ storm of {alert.rule_id} in {dest.channel}"[:200],
            )
            return storm_id
        except WorkflowAlreadyStartedError:
            pass
        try:
            handle = workflow.get_external_workflow_handle_for(storm.StormWorkflow.run, storm_id)
            await handle.signal(storm.StormWorkflow.join, member)
            return storm_id
        except FailureError as err:  # it ended between the start and the signal: start again
            workflow.logger.info("storm %s ended while joining: %s", storm_id, err)
    workflow.logger.warning("could not join storm %s; posting on its own", storm_id)
    return None
