"""Fixtures shared by every test package: the real Temporal dev server, once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from devstack import temporal_binary
from workflows import search_attributes as sa


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=list(sa.ALL),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        # Low enough that a test can reach continue-as-new with a few dozen changes.
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=300",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()
