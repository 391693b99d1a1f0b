"""`python -m parley.store migrate|wait|current`: the store's schema, for deploy jobs.

`migrate` is the one-shot migration service in docker-compose.yml; `wait` blocks until another
job has migrated (PARLEY_SCHEMA_WAIT_SECONDS); `current` prints the revision and the head.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from parley.logs import configure_logging
from parley.settings import get_settings
from parley.store.db import (
    Database,
    SchemaNotReady,
    current_revision,
    head_revision,
    migrate,
    wait_for_schema,
)


async def _report(url: str, wait: float | None) -> str:
    db = Database(url)
    try:
        if wait is not None:
            await wait_for_schema(db, wait)
        return f"{await current_revision(db)} (head {head_revision()})"
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m parley.store", description=__doc__)
    parser.add_argument("command", choices=["migrate", "wait", "current"])
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings)
    log = logging.getLogger("parley.store")
    if args.command == "migrate":
        migrate(settings.database_url)
    try:
        wait = None if args.command == "current" else settings.parley_schema_wait_seconds
        log.info("store schema at %s", asyncio.run(_report(settings.database_url, wait)))
    except SchemaNotReady as exc:
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    main()
