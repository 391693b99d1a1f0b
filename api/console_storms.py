"""Console: storms (a rule flooding a channel, gathered in one digest), as JSON and HTML.

`/storms` lists them newest first and `/storms/<id>` shows one with its alerts; browsers get the
HTML page, API clients JSON, as for `/alerts/<id>` (the same `negotiate` rule, templates and
sign-in). The digest's "List" button links here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from api import errors
from api.console import BEARER_OR_COOKIE, HTML, _with_html, negotiate, resource
from api.deps import get_db
from api.pages import render
from parley.domain import Severity
from parley.slack.ui.storm import span_text
from parley.store import storms
from parley.store.db import Database
from parley.store.views import StormDetail, StormSummary

router = APIRouter()


def _context(title: str, **values: Any) -> dict[str, Any]:
    return {
        "title": title,
        "severities_desc": list(reversed(Severity)),
        "span": lambda s: span_text((s.last_at - s.started_at).total_seconds()),
        **values,
    }


@router.get(
    "/storms",
    response_model=list[StormSummary],
    summary="Storms, newest first (HTML page for browsers)",
    dependencies=BEARER_OR_COOKIE,
    responses=_with_html(errors.responses(401)) | {200: {"content": HTML}},
)
async def list_storms(
    request: Request,
    response: Response,
    limit: int = Query(50, ge=1, le=storms.MAX_STORMS_LISTED),
    db: Database = Depends(get_db),
) -> Any:
    html, early = await negotiate(request, response)
    if early is not None:
        return early
    items = await storms.list_storms(db, limit)
    return render(request, "storms.html", _context("Storms", items=items)) if html else items


@router.get(
    "/storms/{storm_id}",
    response_model=StormDetail,
    summary="One storm with its alerts, newest first (HTML page for browsers)",
    dependencies=BEARER_OR_COOKIE,
    responses=_with_html(errors.responses(401, 404, e404="No such storm"))
    | {200: {"content": HTML}},
)
async def get_storm(
    storm_id: str, request: Request, response: Response, db: Database = Depends(get_db)
) -> Any:
    async def page(detail: StormDetail) -> HTMLResponse:
        title = f"Storm: {detail.rule_name or detail.rule_id}"
        return render(request, "storm.html", _context(title, d=detail))

    return await resource(
        request, response, f"storm {storm_id}", storms.get_storm(db, storm_id), page
    )
