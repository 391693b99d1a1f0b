"""Machine API tokens (PARLEY_API_TOKEN stays the bootstrap admin token): create one for a
pipeline that only sends alerts (scope `intake`) or for a tool that uses the whole REST API
(scope `full`); revoke it when it leaks. The secret is shown once; only its hash is kept."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, Field

from api import errors
from api.deps import get_db, require_admin, require_token, storable_input
from parley.store import api_tokens
from parley.store.api_tokens import ApiTokenView, NewApiToken, Scope
from parley.store.db import Database

router = APIRouter(
    prefix="/api-tokens",
    tags=["api tokens"],
    dependencies=[Depends(require_token), Depends(require_admin), Depends(storable_input)],
    responses=errors.responses(400, 401, 403, 413, 415, 422),
)


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="what uses it, e.g. the SIEM")
    scope: Scope = Field(description="intake: POST /alerts only; full: the whole REST API")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NewApiToken)
async def create_token(body: TokenRequest, db: Database = Depends(get_db)) -> NewApiToken:
    return await api_tokens.create(db, body.name, body.scope, created_by="PARLEY_API_TOKEN")


@router.get("", response_model=list[ApiTokenView])
async def list_tokens(db: Database = Depends(get_db)) -> list[ApiTokenView]:
    return await api_tokens.listed(db)


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors.responses(404, e404="No such live token"),
)
async def revoke_token(token_id: str, db: Database = Depends(get_db)) -> Response:
    if not await api_tokens.revoke(db, token_id):
        raise HTTPException(404, f"no live token {token_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
