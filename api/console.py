"""Console: alert list/detail as JSON (REST API) and as HTML pages (browsers, Slack links).

The JSON endpoints need the bearer token. A browser following Slack's "View in console" link
cannot send one, so when PARLEY_API_TOKEN is set the HTML pages ask for it once and keep it in a
SameSite=Strict cookie. That is a shared secret, not per-person sign-in: in production the console
belongs behind the company's SSO proxy, which authenticates people before Parley sees a request.

HTML is built with f-strings; every alert-derived value goes through `_e` (html.escape), and
links only ever get http(s) URLs, because alert titles, attributes and runbooks come from
detection rules and logs that an attacker may influence.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, Security
from fastapi.responses import HTMLResponse

from api import errors
from api.deps import TOKEN_COOKIE, bearer, get_db, require_token, token_cookie, token_ok
from parley.domain import Actor, Severity, Status
from parley.store import repo, storms
from parley.store.db import Database
from parley.store.views import AlertDetail, AlertPage, AlertSummary, SlackCopyView

router = APIRouter()

# Declared, not enforced (auto_error=False): the routes check `token_ok` themselves, and the HTML
# pages answer a sign-in page instead of a bare 401.
BEARER_OR_COOKIE = [Security(bearer), Security(token_cookie)]
HTML = {"text/html": {"schema": {"type": "string"}}}

E = TypeVar("E", bound=StrEnum)

# A hook for the status/assignee change form (owned by the app, not this module): set
# `app.state.console_change_form = fn(detail, nonce) -> str`; it returns trusted HTML and may use
# `<script nonce="{nonce}">`, the only inline script the page's CSP allows.
ChangeFormRenderer = Callable[[AlertDetail, str], str]


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


async def _page(
    db: Database,
    status: str | None,
    severity: str | None,
    assignee: str | None,
    limit: int,
    cursor: str | None,
) -> AlertPage:
    try:
        return await repo.list_alerts(
            db,
            status=_enum(Status, "status", status),
            severity=_enum(Severity, "severity", severity),
            assignee=(assignee or "").strip() or None,
            limit=limit,
            cursor=cursor or None,
        )
    except ValueError as exc:  # bad cursor or limit
        raise HTTPException(422, str(exc)) from exc


@router.get(
    "/alerts",
    response_model=AlertPage,
    dependencies=[Depends(require_token)],
    responses=errors.responses(401, 422),
    summary="List alerts, newest first",
)
async def list_alerts(
    status: str | None = Query(None, description="Open, Triaged, Resolved or Invalid"),
    severity: str | None = Query(None, description="Info, Low, Medium, High or Critical"),
    assignee: str | None = Query(None, max_length=255, description="Slack user id or name"),
    limit: int = Query(50, ge=1, le=repo.MAX_PAGE),
    cursor: str | None = Query(None, max_length=2000, description="next_cursor of a page"),
    db: Database = Depends(get_db),
) -> AlertPage:
    return await _page(db, status, severity, assignee, limit, cursor)


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
    response.headers["Vary"] = "Accept"
    if _prefers_html(request.headers.get("accept", "")):
        if not token_ok(request, allow_cookie=True):
            return _login_page(request)
        return await _alert_page(request, db, alert_id)
    require_token(request)
    detail = await repo.get_alert_detail(db, alert_id)
    if detail is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    return detail


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
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=repo.MAX_PAGE),
    db: Database = Depends(get_db),
) -> HTMLResponse:
    if not token_ok(request, allow_cookie=True):
        return _login_page(request)
    try:
        page = await _page(db, status, severity, assignee, limit, cursor)
    except HTTPException as exc:
        body = _filters(status, severity, assignee) + f'<p class="error">{_e(exc.detail)}</p>'
        return _html("Alerts", body, request, status_code=exc.status_code)
    rows = "".join(_alert_row(request, a) for a in page.items) or (
        '<tr><td colspan="6" class="muted">No alerts match.</td></tr>'
    )
    more = ""
    if page.next_cursor:
        query = {"status": status, "severity": severity, "assignee": assignee, "limit": limit}
        query = {k: v for k, v in query.items() if v} | {"cursor": page.next_cursor}
        more = (
            f'<p><a href="{_root(request)}/console?{_e(urlencode(query))}">Older alerts →</a></p>'
        )
    body = (
        _filters(status, severity, assignee)
        + "<table><thead><tr><th>Created</th><th>Severity</th><th>Status</th><th>Title</th>"
        + f"<th>Assignee</th><th>Rule</th></tr></thead><tbody>{rows}</tbody></table>{more}"
    )
    return _html("Alerts", body, request)


# ---- HTML rendering ----------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem;border-radius:4px}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;background:#eee;font-size:12px}
.sev-Critical,.sev-High{background:#fdd}.sev-Medium{background:#ffe9c6}
.st-Resolved,.st-Invalid{background:#dfd}.queued{background:#e3ecff}.muted{color:#777}.error{color:#b00020}
form.filters{display:flex;gap:.75rem;align-items:end;flex-wrap:wrap}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _root(request: Request) -> str:
    return _e(request.scope.get("root_path", "").rstrip("/"))


def _when(at: datetime) -> str:
    return (
        f'<time datetime="{_e(at.isoformat())}">{_e(at.strftime("%Y-%m-%d %H:%M:%S UTC"))}</time>'
    )


def _safe_href(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` URL in an href would run when clicked."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return _e(url)
    return None


def _badge(kind: str, value: StrEnum) -> str:
    return f'<span class="badge {kind}-{_e(value.value)}">{_e(value.value)}</span>'


def _assignee(a: AlertSummary) -> str:
    if not a.assignee_id and not a.assignee_name:
        return '<span class="muted">Unassigned</span>'
    return _e(a.assignee_name or a.assignee_id)


def _actor(actor: Actor) -> str:
    return (
        f'{_e(actor.name or actor.id or "Parley")} <span class="muted">({_e(actor.source)})</span>'
    )


def _nonce(request: Request) -> str:
    """One CSP nonce per response, shared by the page header and the change-form hook."""
    if not hasattr(request.state, "csp_nonce"):
        request.state.csp_nonce = secrets.token_urlsafe(16)
    return request.state.csp_nonce


def _html(title: str, body: str, request: Request, status_code: int = 200) -> HTMLResponse:
    nonce = _nonce(request)
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)} · Parley</title><style>{_CSS}</style></head><body>"
        f'<nav><a href="{_root(request)}/console">All alerts</a> · '
        f'<a href="{_root(request)}/storms">Storms</a></nav>{body}</body></html>'
    )
    return _security_headers(HTMLResponse(page, status_code=status_code), nonce)


def _login_page(request: Request) -> HTMLResponse:
    """PARLEY_API_TOKEN is set: ask for it once; a SameSite=Strict cookie keeps it."""
    nonce = _nonce(request)
    body = (
        "<h1>Parley console</h1><p>Enter the API token (PARLEY_API_TOKEN).</p>"
        '<form id="login"><input type="password" id="token" autocomplete="current-password" '
        "required> <button>Open</button></form>"
        f'<script nonce="{nonce}">document.getElementById("login").addEventListener("submit",'
        "(e)=>{e.preventDefault();const v=encodeURIComponent(document.getElementById('token')"
        f".value);document.cookie='{TOKEN_COOKIE}='+v+'; path=/; SameSite=Strict'"
        "+(location.protocol==='https:'?'; Secure':'');location.reload();});</script>"
    )
    return _html("Sign in", body, request, status_code=401)


def _security_headers(response: HTMLResponse, nonce: str) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline';"
        " img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Vary"] = "Accept"
    return response


def _filters(status: str | None, severity: str | None, assignee: str | None) -> str:
    def select(name: str, kind: type[StrEnum], current: str | None) -> str:
        options = '<option value="">any</option>' + "".join(
            f"<option{' selected' if (current or '').lower() == m.value.lower() else ''}>"
            f"{_e(m.value)}</option>"
            for m in kind
        )
        return f'<label>{name.title()}<br><select name="{name}">{options}</select></label>'

    return (
        '<h1>Alerts</h1><form class="filters" method="get">'
        + select("status", Status, status)
        + select("severity", Severity, severity)
        + f'<label>Assignee<br><input name="assignee" value="{_e(assignee or "")}"'
        ' placeholder="Slack id or name"></label><button>Filter</button></form>'
    )


def _alert_href(request: Request, alert_id: str) -> str:
    return f"{_root(request)}/alerts/{_e(quote(alert_id, safe=''))}"


def _storm_href(request: Request, storm_id: str) -> str:
    return f"{_root(request)}/storms/{_e(quote(storm_id, safe=''))}"


def _queued_badge(count: int) -> str:
    """Accepted but not yet with the workflow engine (the outbox): shown until it is."""
    if not count:
        return ""
    return (
        f' <span class="badge queued" title="waiting for the workflow engine">{count} queued</span>'
    )


def _alert_row(request: Request, a: AlertSummary) -> str:
    return (
        f"<tr><td>{_when(a.created_at)}</td><td>{_badge('sev', a.severity)}</td>"
        f"<td>{_badge('st', a.status)}{_queued_badge(a.queued)}</td>"
        f'<td><a href="{_alert_href(request, a.alert_id)}">{_e(a.title)}</a></td>'
        f"<td>{_assignee(a)}</td><td>{_e(a.rule_name or a.rule_id)}</td></tr>"
    )


async def _alert_page(request: Request, db: Database, alert_id: str) -> HTMLResponse:
    detail = await repo.get_alert_detail(db, alert_id)
    if detail is None:
        body = f"<h1>Not found</h1><p>alert {_e(alert_id)} not found</p>"
        return _html("Not found", body, request, status_code=404)
    d = detail
    rule = _e(d.rule_name or d.rule_id) + (
        f' <span class="muted">({_e(d.rule_id)})</span>' if d.rule_name else ""
    )
    fields = [
        ("Alert id", f"<code>{_e(d.alert_id)}</code>"),
        ("Severity", _badge("sev", d.severity)),
        ("Status", _badge("st", d.status) + _queued_badge(d.queued)),
        ("Assignee", _assignee(d)),
        ("Rule", rule),
        ("Log type", _e(d.log_type) or '<span class="muted">—</span>'),
        ("Created", _when(d.created_at)),
        ("Updated", _when(d.updated_at)),
        ("Events", _e(d.event_count)),
    ]
    if d.source:
        link = _safe_href(d.source_url)
        shown = f'<a href="{link}">View in {_e(d.source)}</a>' if link else _e(d.source)
        fields.append(("Source", shown))
    if d.tags:
        fields.append(("Tags", " ".join(f"<code>{_e(t)}</code>" for t in d.tags)))
    if d.resolution_comment:
        fields.append(("Resolution", _e(d.resolution_comment)))
    info = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in fields)

    # ---- CHANGE FORM SPOT: status/assignee changes go through Temporal (app's POST endpoints).
    renderer: ChangeFormRenderer | None = getattr(request.app.state, "console_change_form", None)
    change = renderer(d, _nonce(request)) if renderer else ""
    attrs = "".join(
        f"<tr><th>{_e(name)}</th><td>{'<br>'.join(_e(v) for v in values)}</td></tr>"
        for name, values in d.summary_attributes.items()
    )
    copies = "".join(_copy_row(c.destination_name or c.destination_id, c) for c in d.slack_copies)
    history = "".join(
        f"<tr><td>{_when(h.at)}</td><td>{_actor(h.actor)}</td><td>{_e(h.action)}</td>"
        f"<td>{_e(h.from_value or '')}{' → ' if h.from_value or h.to_value else ''}"
        f"{_e(h.to_value or '')}</td><td>{_e(h.comment or '')}</td></tr>"
        for h in d.history
    )
    none = '<p class="muted">None.</p>'
    # A storm's digest took this alert in a channel: link the storm (api/console_storms.py).
    in_storms = "".join(
        f'<li><a href="{_storm_href(request, s.storm_id)}">Storm of {_e(s.rule_name or s.rule_id)}'
        f"</a> in <code>{_e(s.channel)}</code> ({_e(s.member_count)} alerts)</li>"
        for s in await storms.storms_of_alert(db, alert_id)
    )
    body = (
        f"<h1>{_e(d.title)}</h1><dl>{info}</dl>"
        + _queued_section(d)
        + f'<section id="change">{change}</section>'
        + (
            f'<h2>Description</h2><p id="description">{_e(d.description)}</p>'
            if d.description
            else ""
        )
        + (f"<h2>Runbook</h2><pre>{_e(d.runbook)}</pre>" if d.runbook else "")
        + "<h2>Summary attributes</h2>"
        + (f"<table><tbody>{attrs}</tbody></table>" if attrs else none)
        + "<h2>Slack messages</h2>"
        + (
            "<table><thead><tr><th>Destination</th><th>Channel</th><th>Message</th></tr></thead>"
            f"<tbody>{copies}</tbody></table>"
            if copies
            else none
        )
        + (f'<h2>Storms</h2><ul id="storms">{in_storms}</ul>' if in_storms else "")
        + (
            f'<h2>As {_e(d.source or "the source")} sent it</h2><pre id="raw">'
            f"{_e(json.dumps(d.raw, indent=2, ensure_ascii=False))}</pre>"
            if d.raw is not None
            else ""
        )
        + "<h2>Activity</h2>"
        + (
            "<table><thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>From → to</th>"
            f"<th>Comment</th></tr></thead><tbody>{history}</tbody></table>"
            if history
            else none
        )
    )
    return _html(d.title, body, request)


def _queued_section(d: AlertDetail) -> str:
    if not d.queued_items:
        return ""
    rows = "".join(
        f"<tr><td>{_when(q.accepted_at)}</td><td>{_e(q.summary)}</td><td>{q.attempts}</td>"
        f'<td class="muted">{_e(q.last_error or "")}</td></tr>'
        for q in d.queued_items
    )
    return (
        '<section id="queued"><h2>Queued</h2><p>Accepted, and waiting for the workflow engine;'
        " applied in this order as soon as it is back.</p><table><thead><tr><th>Accepted</th>"
        "<th>Change</th><th>Tries</th><th>Last error</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _copy_row(name: str, c: SlackCopyView) -> str:
    href = _safe_href(c.permalink)
    if c.failed:
        link = f'<span class="error">not delivered: {_e(c.failed)}</span>'
    elif href:
        link = f'<a href="{href}" rel="noopener noreferrer">Open in Slack</a>'
    else:
        link = '<span class="muted">posted, no link yet</span>' if c.ts else "pending"
    return f"<tr><td>{_e(name)}</td><td><code>{_e(c.channel)}</code></td><td>{link}</td></tr>"
