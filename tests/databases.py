"""Database fixtures shared by the store and API tests (a pytest plugin, see tests/conftest.py).

Every test that takes `db` runs against SQLite (a temp file) and PostgreSQL. PostgreSQL gets a
throw-away database per test session (`parley_test_<random>`), created through the admin URL in
tests/store/store_support.py and dropped afterwards, so parallel sessions never collide. Set
PARLEY_TEST_POSTGRES_URL to point elsewhere, or to "skip" to run SQLite only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from parley.domain import AlertIn, Severity
from parley.store.db import Database, migrate
from parley.store.models import (
    AlertRow,
    ApiTokenRow,
    DestinationRow,
    HistoryRow,
    PersonRow,
    SlackMessageRow,
)
from tests.store.store_support import BACKENDS, T0, fresh_pg_database


@pytest.fixture(scope="session", params=BACKENDS)
async def backend_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database URL, one per backend per session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'parley.db'}"
        migrate(url)
        yield url
    else:
        async with fresh_pg_database() as url:
            migrate(url)
            yield url


@pytest.fixture(scope="session")
async def session_db(backend_url: str) -> AsyncIterator[Database]:
    db = Database(backend_url)
    yield db
    await db.dispose()


@pytest.fixture
async def db(session_db: Database) -> Database:
    """The backend's shared Database, emptied before each test."""
    async with session_db.session() as s:
        for model in (
            SlackMessageRow,
            HistoryRow,
            AlertRow,
            DestinationRow,
            ApiTokenRow,
            PersonRow,
        ):
            await s.execute(delete(model))
    return session_db


@pytest.fixture
def make_alert() -> Callable[..., AlertIn]:
    counter = iter(range(1_000_000))

    def make(**overrides: Any) -> AlertIn:
        n = next(counter)
        data: dict[str, Any] = {
            "id": f"alert-{n}",
            "title": f"Suspicious login {n}",
            "severity": Severity.HIGH,
            "rule_id": "rule.login",
            "rule_name": "Suspicious login",
            "log_type": "AWS.CloudTrail",
            "runbook": "Check the source IP.",
            "created_at": T0 + timedelta(minutes=n),
            "summary_attributes": {"sourceIPAddress": ["203.0.113.7"], "user": ["alice"]},
        }
        data.update(overrides)
        return AlertIn.model_validate(data)

    return make
