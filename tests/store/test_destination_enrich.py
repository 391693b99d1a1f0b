"""Destinations' `enrich_on_arrival`: stored, seeded, and off for every destination that existed
before migration 0003."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from parley.domain import DestinationIn
from parley.store import repo
from parley.store.db import Database, alembic_config, migrate

WriteFile = Callable[[str, str], str]


async def test_enrich_on_arrival_round_trips(db: Database) -> None:
    on = await repo.create_destination(
        db, DestinationIn(name="intel", channel="C0INTEL", enrich_on_arrival=True)
    )
    off = await repo.create_destination(db, DestinationIn(name="plain", channel="C0PLAIN"))
    assert (on.enrich_on_arrival, off.enrich_on_arrival) == (True, False)
    stored = {d.name: d.enrich_on_arrival for d in await repo.list_destinations(db)}
    assert stored == {"intel": True, "plain": False}


async def test_seed_file_can_ask_for_it(db: Database, tmp_file: WriteFile) -> None:
    path = tmp_file(
        "d.yaml",
        "- {name: intel, channel: C0INTEL, enrich_on_arrival: true}\n"
        "- {name: plain, channel: C0PLAIN}\n",
    )
    assert await repo.seed_destinations(db, path) == 2
    stored = {d.name: d.enrich_on_arrival for d in await repo.list_destinations(db)}
    assert stored == {"intel": True, "plain": False}
    bad = tmp_file("bad.yaml", "- {name: x, channel: C0X, enrich_on_arrival: sometimes}\n")
    with pytest.raises(ValueError, match="enrich_on_arrival"):
        await repo.seed_destinations(db, bad)


def _upgrade_to(url: str, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_destinations_made_before_0003_stay_off(
    backend: str, fresh_url: Callable[[str], Any]
) -> None:
    async with fresh_url(backend) as url:
        await asyncio.to_thread(_upgrade_to, url, "0001")
        db = Database(url)
        try:
            async with db.session() as s:
                await s.execute(
                    text(
                        "INSERT INTO destinations (id, name, channel, rule_ids, log_types,"
                        " created_at) VALUES ('d0', 'old', 'C0OLD', '[]', '[]',"
                        " CURRENT_TIMESTAMP)"
                    )
                )
            migrate(url)
            (old,) = await repo.list_destinations(db)
            assert (old.name, old.enrich_on_arrival) == ("old", False)
        finally:
            await db.dispose()
