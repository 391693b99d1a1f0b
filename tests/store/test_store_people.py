"""The people directory (Slack id -> display name) in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from parley.store import people
from parley.store.db import Database
from tests.store.store_support import T0


async def test_upsert_names_and_freshness(db: Database) -> None:
    assert await people.names(db, ["U0BOB"]) == {}
    await people.save(db, {"U0BOB": "Bob Brown", "U0CAROL": "Carol Chen", "U0NONE": ""}, T0)
    assert await people.names(db, ["U0BOB", "U0CAROL", "U0NONE", "U0ELSE", ""]) == {
        "U0BOB": "Bob Brown",
        "U0CAROL": "Carol Chen",
    }
    # Saved at T0: fresh for a check from before T0, stale for one from after it.
    assert await people.fresh_since(db, ["U0BOB", "U0CAROL", "U0ELSE"], T0) == {
        "U0BOB",
        "U0CAROL",
    }
    later = T0 + timedelta(days=2)
    assert await people.fresh_since(db, ["U0BOB"], T0 + timedelta(seconds=1)) == set()

    # The same id again: one row, the new name and time (a rename in Slack reaches the console).
    await people.save(db, {"U0BOB": "Robert Brown"}, later)
    assert await people.names(db, ["U0BOB", "U0CAROL"]) == {
        "U0BOB": "Robert Brown",
        "U0CAROL": "Carol Chen",
    }
    assert await people.fresh_since(db, ["U0BOB", "U0CAROL"], later) == {"U0BOB"}

    # An empty name never replaces a known one; an over-long one is cut to the column.
    await people.save(db, {"U0BOB": "", "U0LONG": "x" * 400}, later)
    found = await people.names(db, ["U0BOB", "U0LONG"])
    assert found["U0BOB"] == "Robert Brown"
    assert found["U0LONG"] == "x" * people.MAX_NAME
    assert await people.names(db, []) == {} and await people.fresh_since(db, [], T0) == set()
