"""HTML for people: Jinja2 templates (api/templates/) with autoescaping on, so every value an
alert carries (titles, attributes, runbooks come from detection rules and logs an attacker may
influence) is escaped by default, not by habit. Links only ever get http(s) URLs.

Each page gets a CSP nonce (the only inline scripts allowed are the page's own), the signed-in
user and the session's CSRF token.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from parley.domain import Actor, HistoryItem
from parley.store.views import SlackCopyView

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)
HTML_CONTENT = {"text/html": {"schema": {"type": "string"}}}
SLACK_ID = re.compile(r"^[UWB][A-Z0-9]{2,}$")


def safe_href(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` URL in an href would run when clicked."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else ""


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


_env.filters["href"] = safe_href
_env.filters["when"] = when
_env.filters["urlpart"] = lambda v: quote(str(v), safe="")
_env.filters["pretty_json"] = pretty_json


def nonce(request: Request) -> str:
    """One CSP nonce per response."""
    if not hasattr(request.state, "csp_nonce"):
        request.state.csp_nonce = secrets.token_urlsafe(16)
    return request.state.csp_nonce


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    from api.console_auth import csrf_token

    page_nonce = nonce(request)
    ctx = {
        "root": request.scope.get("root_path", "").rstrip("/"),
        "nonce": page_nonce,
        "user": getattr(request.state, "console_user", None),
        "csrf": csrf_token(request),
        **context,
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{page_nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]


# ---- a readable timeline -------------------------------------------------------------------


class Names:
    """Slack ids shown as people and channels, resolved the same way in every row: people by
    the display names the worker keeps in the people directory (parley/store/people.py), else
    the name the row carries, else the id; channels by their destinations' names."""

    def __init__(
        self, history: Iterable[HistoryItem], copies: Iterable[SlackCopyView], extra: dict[str, str]
    ) -> None:
        self.people: dict[str, str] = {k: v for k, v in extra.items() if v}
        self.channels = {c.channel: c.destination_name for c in copies if c.destination_name}

    def person(self, value: str | None) -> str:
        if not value:
            return "nobody"
        return self.people.get(value, value)

    def actor(self, actor: Actor) -> str:
        if actor.source == "system":
            return "Parley"
        if actor.source == "slack" and actor.id in self.people:
            return self.people[actor.id]  # the display name, as for every other row
        return actor.name or self.people.get(actor.id, actor.id) or "someone"

    def channel(self, value: str | None) -> str:
        if not value:
            return "a channel"
        return f"#{self.channels[value]}" if value in self.channels else value

    def text(self, value: str | None) -> str:
        """Channel ids inside free text (Parley's own notes) become channel names."""
        out = value or ""
        for cid, name in self.channels.items():
            out = out.replace(cid, f"#{name}")
        return out


_BOOMERANG = {
    "asked": "{who} asked {to} to confirm it was them (Boomerang)",
    "answered": "{who} answered the Boomerang from {frm}",
    "reminded": "Parley reminded {to} of the Boomerang",
    "escalated": "The Boomerang to {to} is still unanswered: escalated to {frm}",
    "expired": "The Boomerang to {to} expired unanswered",
    "cancelled": "The Boomerang to {to} was cancelled",
    "undeliverable": "The Boomerang could not reach {to}",
}


def describe(h: HistoryItem, names: Names) -> str:
    """One history row in words: "Ana changed status Open → Triaged"."""
    who = names.actor(h.actor)
    frm, to = h.from_value, h.to_value
    action = h.action
    if action == "created":
        return f"{who} received the alert ({to or 'Open'})"
    if action == "status_changed":
        return f"{who} changed status {frm} → {to}"
    if action == "assignee_changed":
        if not to:
            return f"{who} unassigned {names.person(frm)}"
        if not frm:
            return f"{who} assigned it to {names.person(to)}"
        return f"{who} reassigned it from {names.person(frm)} to {names.person(to)}"
    if action.startswith("boomerang_"):
        kind = action.removeprefix("boomerang_")
        template = _BOOMERANG.get(kind, "Boomerang " + kind.replace("_", " "))
        return template.format(who=who, to=names.person(to), frm=names.person(frm))
    if action == "details_shown":
        return f"{who} showed the alert's details"
    if action == "threat_intel_viewed":
        return f"{who} looked up threat intel for {to or 'its IPs'}"
    if action == "delivery_failed":
        return f"Slack refused the message in {names.channel(to)}"
    if action == "message_reposted":
        return "The Slack message was gone; Parley posted it again"
    if action == "duplicate_deleted":
        return "Parley deleted a duplicate Slack message"
    if action == "click_refused":
        return f"{who} was refused a {to or 'change'} change in Slack"
    if action == "digested":
        return "Posted in a storm digest instead of on its own"
    return f"{who}: {action.replace('_', ' ')}"


def slack_ids(history: list[HistoryItem], assignee_id: str | None) -> set[str]:
    """Every Slack user id a timeline may show: actors, Boomerang people, the assignee."""
    found = {h.actor.id for h in history if h.actor.source == "slack"}
    found |= {
        v
        for h in history
        if h.action.startswith("boomerang_")
        for v in (h.from_value, h.to_value)
        if v
    }
    return found | ({assignee_id} if assignee_id else set())


def timeline(
    history: list[HistoryItem], copies: list[SlackCopyView], people: dict[str, str]
) -> list[dict[str, Any]]:
    names = Names(history, copies, people)
    return [
        {
            "at": h.at,
            "text": describe(h, names),
            "source": h.actor.source,
            "comment": names.text(h.comment),
        }
        for h in history
    ]
