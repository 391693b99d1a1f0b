"""Console: storms (a rule flooding a channel, gathered in one digest), as JSON and HTML.

`/storms` lists them newest first and `/storms/<id>` shows one with its alerts; browsers get the
HTML page, API clients JSON, as for `/alerts/<id>`. The digest's "List" button links here. The
page helpers are the console's own (api/console.py): same escaping, CSP and sign-in.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse

from api import errors
from api.console import (
    BEARER_OR_COOKIE,
    HTML,
    _alert_href,
    _badge,
    _e,
    _html,
    _login_page,
    _safe_href,
    _storm_href,
    _when,
    _with_html,
)
from api.console import _prefers_html as prefers_html
from api.deps import get_db, require_token, token_ok
from parley.domain import Severity
from parley.slack.ui.storm import span_text
from parley.store import storms
from parley.store.db import Database
from parley.store.views import StormDetail, StormSummary

router = APIRouter()


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
    response.headers["Vary"] = "Accept"
    if prefers_html(request.headers.get("accept", "")):
        if not token_ok(request, allow_cookie=True):
            return _login_page(request)
        return _storms_page(request, await storms.list_storms(db, limit))
    require_token(request)
    return await storms.list_storms(db, limit)


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
    response.headers["Vary"] = "Accept"
    html = prefers_html(request.headers.get("accept", ""))
    if html and not token_ok(request, allow_cookie=True):
        return _login_page(request)
    if not html:
        require_token(request)
    detail = await storms.get_storm(db, storm_id)
    if detail is None:
        if html:
            body = f"<h1>Not found</h1><p>storm {_e(storm_id)} not found</p>"
            return _html("Not found", body, request, status_code=404)
        raise HTTPException(404, f"storm {storm_id} not found")
    return _storm_page(request, detail) if html else detail


# ---- HTML -------------------------------------------------------------------------------------


def _counts(counts: dict[str, int]) -> str:
    parts = [
        f"{_badge('sev', s)} {_e(counts[s.value])}"
        for s in reversed(Severity)
        if counts.get(s.value)
    ]
    return " ".join(parts) or '<span class="muted">—</span>'


def _state(s: StormSummary) -> str:
    if s.ended_at is None:
        return '<span class="badge sev-High">open</span>'
    return f'<span class="badge st-Resolved">ended</span> {_when(s.ended_at)}'


def _digest_link(s: StormSummary) -> str:
    href = _safe_href(s.permalink)
    if href:
        return f'<a href="{href}" rel="noopener noreferrer">Open digest in Slack</a>'
    return '<span class="muted">no link yet</span>'


def _storm_row(request: Request, s: StormSummary) -> str:
    return (
        f"<tr><td>{_when(s.started_at)}</td>"
        f'<td><a href="{_storm_href(request, s.storm_id)}">{_e(s.rule_name or s.rule_id)}</a></td>'
        f"<td>{_e(s.destination_name)} <code>{_e(s.channel)}</code></td>"
        f"<td>{_e(s.member_count)}</td><td>{_counts(s.counts)}</td>"
        f"<td>{_e(span_text((s.last_at - s.started_at).total_seconds()))}</td>"
        f"<td>{_state(s)}</td></tr>"
    )


def _storms_page(request: Request, items: list[StormSummary]) -> HTMLResponse:
    rows = "".join(_storm_row(request, s) for s in items) or (
        '<tr><td colspan="7" class="muted">No storms yet.</td></tr>'
    )
    body = (
        '<h1>Storms</h1><p class="muted">A rule flooding a channel: past the threshold its '
        "alerts go to one digest message there instead of one message each.</p>"
        "<table><thead><tr><th>Started</th><th>Rule</th><th>Channel</th><th>Alerts</th>"
        f"<th>By severity</th><th>Span</th><th>State</th></tr></thead><tbody>{rows}</tbody>"
        "</table>"
    )
    return _html("Storms", body, request)


def _storm_page(request: Request, d: StormDetail) -> HTMLResponse:
    fields = [
        ("Rule", f"{_e(d.rule_name or d.rule_id)} <code>{_e(d.rule_id)}</code>"),
        ("Channel", f"{_e(d.destination_name)} <code>{_e(d.channel)}</code>"),
        ("Alerts", _e(d.member_count)),
        ("By severity", _counts(d.counts)),
        ("Started", _when(d.started_at)),
        ("Last alert", _when(d.last_at)),
        ("State", _state(d)),
        ("Digest", _digest_link(d)),
        ("Workflow", f"<code>{_e(d.workflow_id)}</code>"),
    ]
    info = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in fields)
    members = "".join(
        f"<tr><td>{_when(m.joined_at)}</td><td>{_badge('sev', m.severity)}</td>"
        f"<td>{_badge('st', m.status)}</td>"
        f'<td><a href="{_alert_href(request, m.alert_id)}">{_e(m.title)}</a></td>'
        f"<td>{'posted on its own' if m.posted else 'in the digest'}</td></tr>"
        for m in d.members
    )
    more = ""
    if d.member_count > d.members_shown:
        more = f'<p class="muted">The newest {d.members_shown} of {d.member_count} shown.</p>'
    body = (
        f"<h1>Storm: {_e(d.rule_name or d.rule_id)}</h1><dl>{info}</dl><h2>Alerts</h2>"
        "<table><thead><tr><th>Joined</th><th>Severity</th><th>Status</th><th>Title</th>"
        f"<th>In Slack</th></tr></thead><tbody>{members}</tbody></table>{more}"
    )
    return _html(f"Storm: {d.rule_name or d.rule_id}", body, request)
