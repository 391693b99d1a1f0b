"""REST API for Slack destinations (which channels get which alerts). Bearer token required."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response, status

from api import errors
from api.deps import get_db, require_token, storable_input
from parley.domain import Destination, DestinationIn
from parley.store import repo
from parley.store.db import Database

router = APIRouter(
    dependencies=[Depends(require_token), Depends(storable_input)],
    responses=errors.responses(
        401, 403, 422
    ),  # 403: an intake-only token; 422: a path or query value no store can hold
)


@router.get("/destinations", response_model=list[Destination], summary="List destinations")
async def list_destinations(db: Database = Depends(get_db)) -> list[Destination]:
    return await repo.list_destinations(db)


@router.post(
    "/destinations",
    response_model=Destination,
    status_code=status.HTTP_201_CREATED,
    responses=errors.responses(400, 409, 413, 415, e409="A destination with this name exists"),
    summary="Create a destination",
)
async def create_destination(body: DestinationIn, db: Database = Depends(get_db)) -> Destination:
    try:
        return await repo.create_destination(db, body)
    except repo.DestinationExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.delete(
    "/destinations/{destination_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors.responses(404, e404="No such destination"),
    summary="Delete a destination",
)
async def delete_destination(destination_id: str, db: Database = Depends(get_db)) -> Response:
    if not await repo.delete_destination(db, destination_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"destination {destination_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
