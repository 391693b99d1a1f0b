"""Intake's storm check: which destinations take a new alert in a storm digest.

One call from `create_alert`; the counting is the store's (parley/store/storms.py), the digest
the workflows' (workflows/storm.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from parley.domain import AlertIn, Destination
from parley.settings import Settings
from parley.store import storms
from parley.store.db import Database
from workflows.storm_types import StormPlan

log = logging.getLogger("parley.api")


async def plan(
    db: Database, settings: Settings, alert: AlertIn, destinations: Sequence[Destination]
) -> StormPlan | None:
    """The storm plan for this alert, or None when every destination gets a post of its own."""
    threshold, window = settings.parley_storm_threshold, settings.parley_storm_window_seconds
    if threshold <= 0 or not destinations:
        return None
    since = datetime.now(UTC) - timedelta(seconds=window)
    try:
        ids = await storms.storm_destinations(
            db, alert, destinations, threshold=threshold, since=since
        )
    except SQLAlchemyError as exc:  # a post too many beats an alert refused
        log.warning("storm check failed for %s, posting on its own: %s", alert.id, exc)
        return None
    return StormPlan(digest_destination_ids=ids, window_seconds=window) if ids else None
