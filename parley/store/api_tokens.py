"""Machine API tokens: created by admins, kept as SHA-256 digests, scoped, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select, update

from parley.store.db import Database
from parley.store.models import ApiTokenRow, utcnow

Scope = Literal["intake", "full"]
PREFIX = "prl_"  # recognisable in logs and by secret scanners


class ApiTokenView(BaseModel):
    id: str
    name: str
    scope: Scope
    created_at: datetime
    created_by: str = ""
    revoked_at: datetime | None = None


class NewApiToken(ApiTokenView):
    token: str  # shown once, never stored


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _view(row: ApiTokenRow) -> ApiTokenView:
    return ApiTokenView(
        id=row.id,
        name=row.name,
        scope=row.scope,  # type: ignore[arg-type]
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


async def create(db: Database, name: str, scope: Scope, created_by: str) -> NewApiToken:
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        id="tok_" + secrets.token_hex(8),
        name=name,
        scope=scope,
        token_hash=digest(token),
        created_at=utcnow(),
        created_by=created_by,
        revoked_at=None,
    )
    async with db.session() as s:
        s.add(row)
    return NewApiToken(**_view(row).model_dump(), token=token)


async def listed(db: Database) -> list[ApiTokenView]:
    async with db.session() as s:
        rows = await s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at))
        return [_view(r) for r in rows]


async def revoke(db: Database, token_id: str) -> bool:
    """True if the token existed and was live; revoking twice is a no-op."""
    async with db.session() as s:
        result = await s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def lookup(db: Database, token: str) -> ApiTokenView | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not token.startswith(PREFIX):
        return None
    async with db.session() as s:
        row = await s.scalar(
            select(ApiTokenRow).where(
                ApiTokenRow.token_hash == digest(token), ApiTokenRow.revoked_at.is_(None)
            )
        )
        return _view(row) if row is not None else None
