"""Console: alert list/detail as JSON (REST API) and as HTML pages (browsers, Slack links).

The JSON endpoints need the bearer token. Browsers (Accept: text/html) get pages rendered from
api/templates/ (api/pages.py) for the signed-in person (api/console_auth.py): a sign-in page
otherwise. The alert page's timeline is live: it polls `/console/alerts/<id>/live`, the same
fragment the page was built with. Changes are form posts (api/console_changes.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, Security
from fastapi.responses import HTMLResponse

from api import errors
from api.console_auth import Role, console_user, sign_in_page
from api.deps import bearer, get_db, require_token, token_cookie
from api.pages import HTML_CONTENT, render, slack_ids, timeline
from parley.domain import Severity, Status
from parley.store import console_views, repo, storms
from parley.store import people as store_people
from parley.store.db import Database
from parley.store.views import AlertDetail, AlertPage

router = APIRouter()

# Declared, not enforced (auto_error=False): the routes check the caller themselves, and the
# HTML pages answer a sign-in page instead of a bare 401.
BEARER_OR_COOKIE = [Security(bearer), Security(token_cookie)]
HTML = HTML_CONTENT

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def _with_html(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Browsers (Accept: text/html) get these errors as HTML pages, API clients as JSON."""
    return {status: spec | {"content": HTML} for status, spec in responses.items()}


def _enum(kind: type[E], name: str, raw: str | None) -> E | None:
    """Case-insensitive enum query parameter; empty means "any"."""
    if raw is None or not raw.strip():
        return None
    for member in kind:
        if member.value.lower() == raw.strip().lower():
            return member
    allowed = ", ".join(m.value for m in kind)
    raise HTTPException(422, f"{name} must be one of {allowed} (got {raw!r})")


def _sort(raw: str | None) -> bool:
    """True for oldest first."""
    value = (raw or "newest").strip().lower()
    if value not in ("newest", "oldest"):
        raise HTTPException(422, f"sort must be newest or oldest (got {raw!r})")
    return value == "oldest"


async def _page(db: Database, f: dict[str, Any], limit: int) -> AlertPage:
    try:
        return await repo.list_alerts(
            db,
            status=_enum(Status, "status", f.get("status")),
            severity=_enum(Severity, "severity", f.get("severity")),
            assignee=(f.get("assignee") or "").strip() or None,
            rule=(f.get("rule") or "").strip() or None,
            text=(f.get("q") or "").strip() or None,
            oldest_first=_sort(f.get("sort")),
            limit=limit,
            cursor=f.get("cursor") or None,
        )
    except ValueError as exc:  # bad cursor or limit
        raise HTTPException(422, str(exc)) from exc


@router.get(
    "/alerts",
    response_model=AlertPage,
    dependencies=[Depends(require_token)],
    responses=errors.responses(401, 422),
    summary="List alerts",
)
async def list_alerts(
    status: str | None = Query(None, description="Open, Triaged, Resolved or Invalid"),
    severity: str | None = Query(None, description="Info, Low, Medium, High or Critical"),
    assignee: str | None = Query(None, max_length=255, description="Slack user id or name"),
    rule: str | None = Query(None, max_length=500, description="rule id or name"),
    q: str | None = Query(None, max_length=500, description="part of the title, or an alert id"),
    sort: str | None = Query(None, description="newest (default) or oldest first"),
    limit: int = Query(50, ge=1, le=repo.MAX_PAGE),
    cursor: str | None = Query(None, max_length=2000, description="next_cursor of a page"),
    db: Database = Depends(get_db),
) -> AlertPage:
    f = {"status": status, "severity": severity, "assignee": assignee, "rule": rule, "q": q}
    return await _page(db, f | {"sort": sort, "cursor": cursor}, limit)


def _prefers_html(accept: str) -> bool:
    """True when the Accept header ranks text/html above JSON (browsers do; API clients don't)."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))

    def q_of(*ranges: str) -> float:
        # The most specific range present decides (RFC 9110 §12.5.1).
        return next((quality[r] for r in ranges if r in quality), 0.0)

    return q_of("text/html", "text/*", "*/*") > q_of("application/json", "application/*", "*/*")


async def negotiate(request: Request, response: Response) -> tuple[bool, HTMLResponse | None]:
    """One rule for every page that is also a JSON resource: (wants HTML, an early answer).

    A browser that is not signed in gets the sign-in page; an API client needs the token."""
    response.headers["Vary"] = "Accept"
    if _prefers_html(request.headers.get("accept", "")):
        if await console_user(request) is None:
            return True, sign_in_page(request)
        return True, None
    await require_token(request)
    return False, None


def not_found(request: Request, what: str) -> HTMLResponse:
    return render(request, "message.html", {"title": "Not found", "message": what}, status_code=404)


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    summary="One alert with its history and Slack copies (HTML page for browsers)",
    dependencies=BEARER_OR_COOKIE,
    responses=_with_html(errors.responses(401, 404, e404="No such alert"))
    | {200: {"content": HTML}},
)
async def get_alert(
    alert_id: str, request: Request, response: Response, db: Database = Depends(get_db)
) -> Any:
    async def page(detail: AlertDetail) -> HTMLResponse:
        flash = request.session.pop("flash", None) if "session" in request.scope else None
        context = await _live_context(request, detail) | {
            "statuses": list(Status),
            "analyst": Role.ANALYST,
            "flash": flash,
            "in_storms": await storms.storms_of_alert(db, alert_id),
        }
        return render(request, "alert.html", context)

    return await resource(
        request, response, f"alert {alert_id}", repo.get_alert_detail(db, alert_id), page
    )


async def resource(
    request: Request,
    response: Response,
    what: str,
    load: Coroutine[Any, Any, T | None],
    page: Callable[[T], Awaitable[HTMLResponse]],
) -> Any:
    """A JSON resource that browsers see as a page: sign-in or token, 404, then JSON or HTML."""
    html, early = await negotiate(request, response)
    if early is not None:
        load.close()  # not needed: no "never awaited" warning
        return early
    found = await load
    if found is None:
        if html:
            return not_found(request, f"{what} not found")
        raise HTTPException(404, f"{what} not found")
    return await page(found) if html else found


async def _live_context(request: Request, d: AlertDetail) -> dict[str, Any]:
    # Names from the worker's people directory (one query): the API does not call Slack for them.
    people = {d.assignee_id: d.assignee_name} if d.assignee_id else {}
    people |= await store_people.names(get_db(request), slack_ids(d.history, d.assignee_id))
    events = timeline(d.history, d.slack_copies, people)
    state = [d.status.value, d.assignee_id, len(d.history), d.queued]
    state += [(c.ts, c.failed, c.permalink) for c in d.slack_copies]
    version = hashlib.sha256(repr(state).encode()).hexdigest()[:16]
    root = request.scope.get("root_path", "").rstrip("/")
    live_url = f"{root}/console/alerts/{quote(d.alert_id, safe='')}/live"
    return {"title": d.title, "d": d, "events": events, "version": version, "live_url": live_url}


@router.get("/console/alerts/{alert_id}/live", include_in_schema=False)
async def alert_live(alert_id: str, request: Request, db: Database = Depends(get_db)) -> Any:
    """The changing part of an alert page (facts, copies, timeline), polled by the page."""
    if await console_user(request) is None:
        raise HTTPException(401, "sign in first")
    detail = await repo.get_alert_detail(db, alert_id)
    if detail is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    return render(request, "alert_live.html", await _live_context(request, detail))


@router.get(
    "/console",
    response_class=HTMLResponse,
    dependencies=BEARER_OR_COOKIE,
    responses={
        401: {"description": "Not signed in: the sign-in page", "content": HTML},
        # A bad filter value is shown on the page; a malformed query (limit=ten) is JSON.
        422: {"description": "Invalid filter", "content": HTML | errors.JSON_ERROR},
    },
    summary="HTML alert list",
)
async def console(
    request: Request,
    status: str | None = None,
    severity: str | None = None,
    assignee: str | None = Query(None, max_length=255),
    mine: str | None = Query(None, max_length=10),
    rule: str | None = Query(None, max_length=500),
    q: str | None = Query(None, max_length=500),
    sort: str | None = Query(None, max_length=10),
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=repo.MAX_PAGE),
    db: Database = Depends(get_db),
) -> HTMLResponse:
    user = await console_user(request)
    if user is None:
        return sign_in_page(request)
    f: dict[str, Any] = {
        "status": status,
        "severity": severity,
        "assignee": assignee,
        "mine": mine,
        "rule": rule,
        "q": q,
        "sort": sort,
        "cursor": cursor,
    }
    if mine and user.id:
        f["assignee"] = user.id

    def link(**change: Any) -> str:
        """This list with some filters changed (a count, the next page)."""
        query = f | {"limit": limit if limit != 50 else None} | change
        root = request.scope.get("root_path", "").rstrip("/")
        return f"{root}/console?" + urlencode({k: v for k, v in query.items() if v})

    context: dict[str, Any] = {
        "title": "Alerts",
        "f": f,
        "link": link,
        "statuses": list(Status),
        "severities": list(Severity),
        "error": None,
    }
    try:
        page = await _page(db, f, limit)
        counts = await console_views.status_counts(
            db,
            severity=_enum(Severity, "severity", severity),
            assignee=(f["assignee"] or "").strip() or None,
            rule=(rule or "").strip() or None,
            text=(q or "").strip() or None,
        )
    except HTTPException as exc:
        context |= {"error": exc.detail, "counts": {}}
        return render(request, "alerts.html", context, status_code=exc.status_code)
    boomerangs = await console_views.open_boomerangs(db, [a.alert_id for a in page.items])
    context |= {"page": page, "counts": counts, "boomerangs": boomerangs}
    return render(request, "alerts.html", context)
