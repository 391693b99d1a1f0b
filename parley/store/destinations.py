"""Slack destinations: CRUD, seeding from a YAML/JSON file, and matching alerts to them.

Re-exported by store.repo, so callers can import everything from one place.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from parley.domain import AlertIn, Destination, DestinationIn, Severity
from parley.store.db import Database, dialect_insert
from parley.store.models import DestinationRow, utcnow


class DestinationExists(ValueError):
    """A destination with this name already exists (names are unique)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"destination {name!r} already exists")
        self.name = name


def _destination(row: DestinationRow) -> Destination:
    return Destination(
        id=row.id,
        name=row.name,
        channel=row.channel,
        min_severity=Severity(row.min_severity) if row.min_severity else None,
        rule_ids=list(row.rule_ids or []),
        log_types=list(row.log_types or []),
        enrich_on_arrival=bool(row.enrich_on_arrival),
        storm_includes_high=bool(row.storm_includes_high),
        reopen_on_growth=bool(row.reopen_on_growth),
    )


def _destination_values(d: DestinationIn) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex[:12],
        "name": d.name,
        "channel": d.channel,
        "min_severity": d.min_severity.value if d.min_severity else None,
        "rule_ids": list(d.rule_ids),
        "log_types": list(d.log_types),
        "enrich_on_arrival": d.enrich_on_arrival,
        "storm_includes_high": d.storm_includes_high,
        "reopen_on_growth": d.reopen_on_growth,
        "created_at": utcnow(),
    }


async def list_destinations(db: Database) -> list[Destination]:
    async with db.session() as s:
        rows = (await s.scalars(select(DestinationRow).order_by(DestinationRow.name))).all()
    return [_destination(r) for r in rows]


async def create_destination(db: Database, d: DestinationIn) -> Destination:
    """Insert a destination; raises DestinationExists if the name is taken."""
    row = DestinationRow(**_destination_values(d))
    try:
        async with db.session() as s:
            s.add(row)
    except IntegrityError as exc:
        raise DestinationExists(d.name) from exc
    return _destination(row)


async def delete_destination(db: Database, destination_id: str) -> bool:
    """Delete by id; False if there was no such destination."""
    stmt = (
        delete(DestinationRow)
        .where(DestinationRow.id == destination_id)
        .returning(DestinationRow.id)
    )
    async with db.session() as s:
        return (await s.execute(stmt)).scalar_one_or_none() is not None


_SEED_LIST = TypeAdapter(list[DestinationIn])


def _where(loc: tuple[int | str, ...]) -> str:
    """(0, "channel") -> "destinations[0].channel"."""
    index, *fields = loc
    return f"destinations[{index}]" + "".join(f".{f}" for f in fields)


def parse_destinations_file(path: str) -> list[DestinationIn]:
    """Read a YAML or JSON seed file: a list of destinations or {"destinations": [...]}."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"destinations file {path}: cannot read it ({exc.strerror})") from exc
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"destinations file {path}: not valid JSON/YAML: {exc}") from exc
    if isinstance(data, dict) and set(data) == {"destinations"}:
        data = data["destinations"]
    if not isinstance(data, list):
        raise ValueError(
            f"destinations file {path}: expected a list of destinations or "
            f'{{"destinations": [...]}}, got {type(data).__name__}'
        )
    try:
        items = _SEED_LIST.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"destinations file {path}: {problems}") from exc
    names = [d.name for d in items]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"destinations file {path}: duplicate names {dupes}")
    return items


async def seed_destinations(db: Database, path: str) -> int:
    """Create the file's destinations whose names do not exist yet; returns how many.

    Existing names are left alone, so console edits survive restarts. Raises ValueError
    naming the file and the problem when the file is unreadable or invalid.
    """
    items = await asyncio.to_thread(parse_destinations_file, path)
    created = 0
    async with db.session() as s:
        for d in items:
            stmt = (
                dialect_insert(db, DestinationRow)
                .values(**_destination_values(d))
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(DestinationRow.id)
            )
            if (await s.execute(stmt)).scalar_one_or_none() is not None:
                created += 1
    return created


async def matching_destinations(db: Database, alert: AlertIn) -> list[Destination]:
    """Destinations whose filters accept this alert (see `Destination.matches`)."""
    return [d for d in await list_destinations(db) if d.matches(alert)]
