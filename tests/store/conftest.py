"""Store-only fixtures; `db` and `make_alert` come from tests/databases.py."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.store.store_support import fresh_pg_database


@pytest.fixture
def tmp_file(tmp_path: Path) -> Callable[[str, str], str]:
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def fresh_url(
    tmp_path: Path,
) -> Callable[[str], Any]:
    """`async with fresh_url(backend) as url:` an empty, unmigrated database."""

    @asynccontextmanager
    async def make(backend: str) -> AsyncIterator[str]:
        if backend == "sqlite":
            yield f"sqlite:///{tmp_path / f'fresh-{secrets.token_hex(4)}.db'}"
        else:
            async with fresh_pg_database() as url:
                yield url

    return make
