"""The API tests' Slack: one stand-in per module, signing secret unused (these tests post to
the API directly, not through the stand-in's signed clicks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.slack_standin import StandIn


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    with StandIn(signing_secret="unused-here", bot_token="xoxb-harden-token") as s:
        yield s
