"""Saved AlertWorkflow histories must replay against the current code.

A change that would break alerts already running (an activity added before existing ones, a
reordered side effect) fails here with a NondeterminismError. Guard such changes with
`workflow.patched(...)`, then refresh the histories with PARLEY_RECORD_HISTORIES=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.alert import AlertWorkflow
from workflows.boomerang import BoomerangWorkflow
from workflows.storm import StormWorkflow
from workflows.tor_refresh import TorRefreshWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_committed() -> None:
    assert len(HISTORIES) >= 3, "replay histories are missing from tests/workflows/histories"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"alert-{path.stem}", path.read_text())
    replayer = Replayer(
        workflows=[AlertWorkflow, BoomerangWorkflow, StormWorkflow, TorRefreshWorkflow],
        data_converter=pydantic_data_converter,
    )
    await replayer.replay_workflow(history)
